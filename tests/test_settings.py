"""One settings object: every $NOTICES_* variable is read, checked and reported by ``flows.settings``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from flows.cli import main
from flows.settings import Settings, SettingsError, read_settings, run_token

FLOWS = Path(__file__).resolve().parent.parent / "flows"

# A value each checked variable refuses, and the field it fills.
BAD_VALUES = {
    "NOTICES_S3_CONNECT_TIMEOUT": ("s3_connect_timeout", "soon"),
    "NOTICES_S3_READ_TIMEOUT": ("s3_read_timeout", "0"),
    "NOTICES_S3_ATTEMPTS": ("s3_attempts", "many"),
    "NOTICES_S3_CIRCUIT_FAILURES": ("s3_circuit_failures", "-1"),
    "NOTICES_S3_CIRCUIT_COOLDOWN": ("s3_circuit_cooldown", "a while"),
    "NOTICES_S3_PORT": ("s3_port", "70000"),
    "NOTICES_MAX_TASK_RUNS": ("max_task_runs", "0"),
    "NOTICES_DASK_WORKERS": ("dask_workers", "0"),
    "NOTICES_PDF_WORKERS": ("pdf_workers", "-1"),
    "NOTICES_APPROVAL_TIMEOUT_SECONDS": ("approval_timeout_seconds", "0"),
    "NOTICES_PAUSE_POLL": ("pause_poll", "fast"),
}

# Modules that may write os.environ (never read it): what they set is for child processes.
WRITERS = {
    "flows/runs/guard.py",  # the run token, inherited by every process the run starts
    "flows/cli/publishing.py",  # Prefect's own logging and analytics defaults for the flow run
    "flows/cli/prefect_server.py",  # PREFECT_API_URL of the local server, before Prefect loads
}


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in BAD_VALUES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_a_bad_value_is_one_line_naming_its_variable(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _, value = BAD_VALUES[variable]
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        read_settings()
    message = str(caught.value)
    assert message.startswith(f"${variable}: ") and message.endswith(f"got {value!r}") and "\n" not in message


@pytest.mark.parametrize("variable", sorted(BAD_VALUES))
def test_an_empty_value_is_the_default(variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    field, _ = BAD_VALUES[variable]
    monkeypatch.setenv(variable, "")
    assert getattr(read_settings(), field) == Settings.model_fields[field].default


def test_the_command_reports_a_bad_variable_as_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTICES_S3_READ_TIMEOUT", "soon")
    assert main(["s3", "status"]) == 1
    assert capsys.readouterr().err.splitlines() == ["notices s3: $NOTICES_S3_READ_TIMEOUT: a number, got 'soon'"]


def test_the_run_token_is_read_even_when_another_variable_is_bad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NOTICES_S3_PORT", "none")
    monkeypatch.setenv("NOTICES_RUN_TOKEN", "abc123")
    assert run_token() == "abc123"  # the guard must still stop the run's processes


def _environment_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """Each read of the environment in ``tree`` (line, what), and each write as ``write``."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os":
            found += [(node.lineno, "read") for alias in node.names if alias.name in ("environ", "getenv", "environb")]
        if isinstance(node, ast.Attribute) and node.attr in ("getenv", "environb"):
            found.append((node.lineno, "read"))
        if not (isinstance(node, ast.Attribute) and node.attr == "environ"):
            continue
        parent = parents.get(node)
        stored = isinstance(parent, ast.Subscript) and isinstance(parent.ctx, ast.Store)
        setdefault = isinstance(parent, ast.Attribute) and parent.attr == "setdefault"
        found.append((node.lineno, "write" if stored or setdefault else "read"))
    return found


def test_only_the_settings_module_reads_the_environment() -> None:
    reads, writes = [], []
    for path in sorted(FLOWS.rglob("*.py")):
        name = path.relative_to(FLOWS.parent).as_posix()
        if name == "flows/settings.py":
            continue
        for line, kind in _environment_uses(ast.parse(path.read_text(), str(path))):
            (writes if kind == "write" else reads).append(f"{name}:{line}")
    assert reads == []
    assert {w.split(":")[0] for w in writes} <= WRITERS, writes


def test_the_checker_sees_reads_and_writes() -> None:
    source = "import os\nos.environ.get('A')\nos.environ['B'] = '1'\nos.environ.setdefault('C', '2')\nos.getenv('D')\n"
    assert sorted(_environment_uses(ast.parse(source))) == [(2, "read"), (3, "write"), (4, "write"), (5, "read")]
