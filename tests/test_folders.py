"""Where the configuration is looked for: the flag, then the current directory, then the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config.paths import ConfigNotFound, find_folder, templates_dir


def test_the_flag_then_the_current_directory_then_the_variable(tmp_path: Path) -> None:
    here, there, flagged = tmp_path / "here", tmp_path / "there", tmp_path / "flagged"
    for folder in (here / "schools", there / "schools", flagged):
        folder.mkdir(parents=True)
    configured = str(there / "schools")  # $NOTICES_SCHOOLS, as flows.settings reads it
    assert find_folder(flagged, "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=here, configured=configured) == flagged
    assert find_folder(None, "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=here, configured=configured) == here / "schools"
    assert (
        find_folder(None, "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=tmp_path, configured=configured)
        == there / "schools"
    )


def test_nothing_found_says_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(ConfigNotFound, match=r"no schools/ folder in .* and \$NOTICES_SCHOOLS is not set.*--schools DIR"):
        find_folder(None, "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=tmp_path, configured=None)
    with pytest.raises(ConfigNotFound, match="--schools .*: no such folder"):
        find_folder(tmp_path / "missing", "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=tmp_path, configured=None)
    with pytest.raises(ConfigNotFound, match=r"\$NOTICES_SCHOOLS is .*, which is not a folder"):
        find_folder(None, "schools", "NOTICES_SCHOOLS", flag="--schools", cwd=tmp_path, configured=str(tmp_path / "x"))


def test_templates_and_fonts_are_found() -> None:
    folder = templates_dir()
    assert (folder / "notice.html.j2").is_file() and (folder / "fonts" / "AtkinsonHyperlegibleNext-Regular.ttf").is_file()
