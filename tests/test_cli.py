"""The `notices` command: exit codes, messages, schema, help, and the README's commands."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from flows.cli import _parser, main

from .conftest import FIXTURES, REPO, SCHOOLS


def test_validate_sample_trust_is_clean(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 0
    out, err = capsys.readouterr()
    # No error: only the facts the edition asks a DPO to check (flows.config.models.Check), each with where.
    assert all(
        line.startswith("dataset edition 2026-2 asks you to check: ") and "(https://" in line for line in err.splitlines()
    ), err
    assert out.strip() == "6 school(s) valid, 0 broken; dataset edition 2026-2"


def test_validate_reports_every_error_on_stderr_and_exits_1(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("bad-urn", "many-errors"):
        shutil.copy(FIXTURES / "invalid" / f"{name}.yaml", tree / "schools")
    code = main(["validate", "--schools", "schools", "--shared-data", "shared_data"])
    out, err = capsys.readouterr()
    assert code == 1
    expected = (FIXTURES / "invalid" / "bad-urn.expected").read_text().splitlines()
    expected += (FIXTURES / "invalid" / "many-errors.expected").read_text().splitlines()
    assert err.splitlines() == expected
    assert "6 school(s) valid, 2 broken" in out


def test_validate_json(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "invalid" / "bad-urn.yaml", tree / "schools")
    assert main(["validate", "--schools", "schools", "--shared-data", "shared_data", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["broken"] == ["bad-urn"]
    assert data["errors"] == [
        {"path": "schools/bad-urn.yaml", "line": 2, "field": "urn", "message": "expected a 6-digit URN, e.g. 990001, got 99001"}
    ]


def test_render_renders_valid_schools_and_names_the_broken(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "invalid" / "bad-urn.yaml", tree / "schools")
    code = main(["render", "--schools", "schools", "--shared-data", "shared_data", "--out", "out", "--no-pdf"])
    out, err = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in (tree / "out").iterdir()) == sorted(
        [
            "brookside-special",
            "hillcrest-middle",
            "northgate-academy",
            "oakfield-primary",
            "riverside-infant",
            "st-aidans-all-through",
        ]
    )
    assert "not rendered bad-urn: see the errors above" in err
    assert "schools/bad-urn.yaml:2: urn:" in err
    assert re.search(r"^rendered oakfield-primary: out/oakfield-primary/index.html \(\d+ ms\)$", out, re.M)
    assert "6 rendered, 1 broken" in out


def test_render_selected_school(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["render", "--schools", "schools", "--shared-data", "shared_data", "--school", "riverside-infant", "--out", "out"]
    )
    assert code == 0
    assert [p.name for p in (tree / "out").iterdir()] == ["riverside-infant"]
    assert (tree / "out" / "riverside-infant" / "notice.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("kind", ["school", "trust"])
def test_schema_validates_the_sample_files_and_rejects_typos(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"] + (["--trust"] if kind == "trust" else [])) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    files = [SCHOOLS / "_trust.yaml"] if kind == "trust" else [p for p in SCHOOLS.glob("*.yaml") if p.name != "_trust.yaml"]
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(data)) == [], path
        data["postocde"] = "EX1 1AA"
        assert any("postocde" in e.message for e in validator.iter_errors(data))


def test_every_command_has_help_with_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    parser = _parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert set(commands) >= {"validate", "render", "schema"}
    for name, sub in commands.items():
        assert "Example:" in sub.format_help(), name
        assert f"notices {name}" in sub.format_help(), name


def test_readme_commands_exist() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    commands = set(_parser()._subparsers._group_actions[0].choices)  # type: ignore[union-attr]
    used = re.findall(r"^\s*(?:\$ )?notices ([a-z0-9-]+)", readme, re.M)
    assert used, "the README shows no notices command"
    assert sorted(set(used) - commands) == []
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.M))
    assert sorted(set(re.findall(r"(?:^|`)make ([a-z-]+)", readme, re.M)) - targets) == []


def test_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "notices"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, check=True)
    assert "validate" in result.stdout and "Example:" in result.stdout


def test_an_unknown_school_is_named_with_the_nearest_ones_and_render_exits_1(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["render", "--school", "990099", "--out", str(tree / "site"), "--no-pdf"]) == 1
    err = capsys.readouterr().err
    assert "--school: no valid school has URN 990099; did you mean 990" in err and "not rendered 990099" in err
    assert main(["render", "--school", "oakfeld-primary", "--out", str(tree / "site"), "--no-pdf"]) == 1
    assert (
        "no school file for 'oakfeld-primary' (oakfeld-primary.yaml); did you mean 'oakfield-primary'?" in capsys.readouterr().err
    )
    assert not (tree / "site").exists() or not any((tree / "site").iterdir())


def test_validate_takes_a_school_and_no_option_is_abbreviated(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # argparse's prefix matching once read `--school 990099` as `--schools 990099` ("no such folder").
    assert main(["validate", "--school", "990002"]) == 0
    assert capsys.readouterr().out.startswith("1 school(s) valid, 0 broken")
    assert main(["validate", "--school", "990099"]) == 1
    assert "no valid school has URN 990099" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["validate", "--schoo", "schools"])
    assert exited.value.code == 2
    with pytest.raises(SystemExit):
        main(["publish", "--dry", "--school", "990002"])


def test_progress_lines_are_printed_while_a_run_lasts_and_only_then(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from flows.cli.output import progress_to_stderr

    progress = logging.getLogger("flows.progress")
    handlers = list(progress.handlers)
    with progress_to_stderr():
        progress.info("120 of 400 schools done")
    progress.info("after the run")
    assert capsys.readouterr().err == "120 of 400 schools done\n"
    assert progress.handlers == handlers
