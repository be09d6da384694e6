"""`make run`'s first step on a fresh Debian machine: .ci/debian-packages.sh, with the packages reported missing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .conftest import REPO

SCRIPT = REPO / ".ci" / "debian-packages.sh"


def _fake_bin(folder: Path, *, uid: int, installed: set[str]) -> dict[str, str]:
    """dpkg-query, id and apt-get stand-ins on PATH: apt-get records its arguments, changes nothing."""
    folder.mkdir()
    known = " ".join(sorted(installed))
    scripts = {
        "dpkg-query": f'for p in {known or "NONE"}; do [ "$p" = "${{@: -1}}" ] && {{ printf installed; exit 0; }}; done; printf not-installed',
        "id": f"echo {uid}",
        "apt-get": f'echo "$@" >> {folder / "apt.log"}',
    }
    for name, body in scripts.items():
        (folder / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (folder / name).chmod(0o755)
    return dict(os.environ, PATH=f"{folder}:{os.environ['PATH']}")


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=30)


def test_a_user_without_the_packages_gets_the_one_apt_get_line_and_exit_1(tmp_path: Path) -> None:
    env = _fake_bin(tmp_path / "bin", uid=1000, installed={"python3-venv", "fonts-dejavu-core"})
    result = _run(env)
    assert result.returncode == 1
    assert (
        "  sudo apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0\n"
        in result.stderr
    )
    assert not (tmp_path / "bin" / "apt.log").exists()


def test_root_installs_exactly_the_missing_packages(tmp_path: Path) -> None:
    env = _fake_bin(
        tmp_path / "bin", uid=0, installed={"python3-venv", "libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"}
    )
    result = _run(env)
    assert result.returncode == 0, result.stderr
    log = (tmp_path / "bin" / "apt.log").read_text().splitlines()
    assert log == ["update -q", "install -y -q --no-install-recommends libharfbuzz-subset0"]


def test_nothing_happens_when_everything_is_installed(tmp_path: Path) -> None:
    every = {"python3-venv", "libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"}
    result = _run(_fake_bin(tmp_path / "bin", uid=0, installed=every))
    assert result.returncode == 0 and result.stderr == ""
    assert not (tmp_path / "bin" / "apt.log").exists()


def test_make_run_checks_the_packages_before_pip() -> None:
    # --no-print-directory: under `make test` this make is a sub-make, which would print "Entering directory" first.
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", "STAMP=/nonexistent/.installed"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    lines = plan.stdout.splitlines()
    assert lines and "debian-packages.sh" in lines[0], plan.stdout + plan.stderr
