"""The import contract ([tool.importlinter] in pyproject.toml, `lint-imports` in `make test`) is
kept by flows/, and breaks when a stage imports one above it or two sibling modules import each
other: checked on a copy of flows/ in a temporary folder, so the checkout is never touched."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import REPO

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _contract_section() -> str:
    """pyproject.toml's [tool.importlinter] tables, as text (comments kept)."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    start = re.search(r"^\[tool\.importlinter\]", text, re.MULTILINE)
    assert start, "pyproject.toml has no [tool.importlinter]"
    end = re.compile(r"^\[(?!\[?tool\.importlinter[.\]])", re.MULTILINE).search(text, start.end())
    section = text[start.start() : end.start() if end else len(text)]
    assert tomllib.loads(section)["tool"]["importlinter"] == tomllib.loads(text)["tool"]["importlinter"]
    return section


def _all_but_python(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or not (n.endswith(".py") or (Path(folder) / n).is_dir())]


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """flows/ (its Python files) and the contract, in ``tmp_path``."""
    if not LINT_IMPORTS.exists():
        pytest.fail(f"no {LINT_IMPORTS}: import-linter is a dev dependency (pip install -e '.[dev]')")
    shutil.copytree(REPO / "flows", tmp_path / "flows", ignore=_all_but_python)
    (tmp_path / "pyproject.toml").write_text(_contract_section(), encoding="utf-8")
    return tmp_path


def _lint(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the copy in ``root``: it comes first on the path, before any installed flows."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), *filter(None, [os.environ.get("PYTHONPATH")])]))
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


def test_flows_keeps_the_contract(copy: Path) -> None:
    clean = _lint(copy)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "stages import downwards only KEPT" in clean.stdout
    assert "no import cycles between the modules of a package KEPT" in clean.stdout
    assert (
        str(copy / "flows")
        in subprocess.run(  # the copy, not the checkout, was analysed
            [sys.executable, "-c", "import flows; print(flows.__file__)"],
            cwd=copy,
            env=dict(os.environ, PYTHONPATH=str(copy)),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
    )


def test_an_upward_import_breaks_the_layers(copy: Path) -> None:
    _append(copy / "flows" / "config" / "errors.py", "import flows.cli  # upward")
    broken = _lint(copy)
    assert broken.returncode != 0, broken.stdout
    assert "stages import downwards only BROKEN" in broken.stdout
    assert "flows.config is not allowed to import flows.cli" in broken.stdout
    assert "flows.config.errors -> flows.cli" in broken.stdout


def test_a_cycle_between_sibling_modules_is_caught(copy: Path) -> None:
    render = (copy / "flows" / "notice" / "render.py").read_text(encoding="utf-8")
    assert re.search(r"^from flows\.notice\.typography import", render, re.MULTILINE)  # render -> typography already
    _append(copy / "flows" / "notice" / "typography.py", "import flows.notice.render  # cycle")
    broken = _lint(copy)
    assert broken.returncode != 0, broken.stdout
    assert "stages import downwards only KEPT" in broken.stdout  # one layer: only the cycle is wrong
    assert "no import cycles between the modules of a package BROKEN" in broken.stdout
    assert "No cycles are allowed in flows.notice." in broken.stdout
    assert ".typography -> .render" in broken.stdout
