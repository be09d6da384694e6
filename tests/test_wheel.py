"""The wheel works where the repository is not: built, installed into a clean venv, and run from
a trust's own folder (the steps deploy/Dockerfile runs, without a container engine)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REPO, SHARED, SCHOOLS, _free_base_port

CONSTRAINTS = REPO / ".ci" / "constraints.txt"


def _without_pythonpath(env: dict[str, str]) -> dict[str, str]:
    """``env`` without PYTHONPATH: set to a checkout, it would make the installed wheel import that tree."""
    return {k: v for k, v in env.items() if k != "PYTHONPATH"}


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_without_pythonpath(env), capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean venv with only the built wheel (and its dependencies) installed; returns its bin/."""
    base = tmp_path_factory.mktemp("wheel")
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(base / "dist"), str(REPO)], base, dict(os.environ)
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (base / "dist").glob("trust_notices-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, env=_without_pythonpath(dict(os.environ)))
    pip = _run([str(base / "venv/bin/pip"), "install", "-q", "-c", str(CONSTRAINTS), str(wheel)], base, dict(os.environ))
    assert pip.returncode == 0, pip.stderr[-3000:]
    return base / "venv" / "bin"


def test_the_installed_wheel_renders_and_publishes_from_a_trusts_own_folder(installed: Path, tmp_path: Path) -> None:
    trust = tmp_path / "my-trust"
    shutil.copytree(SCHOOLS, trust / "schools")
    shutil.copytree(SHARED, trust / "shared_data")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "PREFECT_"))}
    # The embedded S3's state is per user ($XDG_STATE_HOME/trust-notices), never the developer's here.
    xdg = tmp_path / "xdg-state"
    env |= {
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "NOTICES_S3_PORT": str(_free_base_port()),
        "XDG_STATE_HOME": str(xdg),
    }
    notices = str(installed / "notices")
    assert str(REPO) not in _run([str(installed / "python"), "-c", "import flows; print(flows.__file__)"], trust, env).stdout
    validated = _run([notices, "validate"], trust, env)
    assert validated.returncode == 0 and "6 school(s) valid" in validated.stdout, validated.stderr
    rendered = _run([notices, "render", "--school", "990002", "--out", "site"], trust, env)
    assert rendered.returncode == 0, rendered.stderr
    pdf = (trust / "site" / "oakfield-primary" / "notice.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"Draft" in (trust / "site" / "oakfield-primary" / "index.html").read_bytes()
    assert _run([notices, "s3", "start"], trust, env).returncode == 0
    try:
        refused = _run([notices, "publish"], trust, env)  # no log key yet: nothing is published
        assert refused.returncode == 1 and "notices log keygen" in refused.stdout + refused.stderr
        keygen = _run([notices, "log", "keygen"], trust, env)
        assert keygen.returncode == 0 and keygen.stdout.startswith("trust.example.org/privacy-notices+"), keygen.stderr
        assert (xdg / "trust-notices" / "log-key").stat().st_mode & 0o777 == 0o600
        published = _run([notices, "publish"], trust, env)
        assert published.returncode == 0, published.stdout + published.stderr
        assert "6 published" in published.stdout
        verified = _run([notices, "verify"], trust, env)  # the root this trust publishes to, from its own folder
        assert verified.returncode == 0 and verified.stdout.startswith("verified: 6 school(s)"), verified.stderr
        history = _run([notices, "history", "oakfield-primary"], trust, env)
        assert history.returncode == 0 and history.stdout.startswith("v1 ")
        assert (xdg / "trust-notices" / "s3" / "state.json").exists()
        # From another folder the same store is found, and a URN names the school as its slug does.
        away = _run(
            [notices, "history", "990002", "--schools", str(trust / "schools"), "--shared-data", str(trust / "shared_data")],
            tmp_path,
            env,
        )
        assert away.returncode == 0 and away.stdout == history.stdout, away.stderr
    finally:
        assert _run([notices, "s3", "stop"], trust, env).stdout.strip() == "embedded S3 stopped"
    stopped = _run([notices, "history", "oakfield-primary"], trust, env)  # reading never starts it again
    assert stopped.returncode == 1 and "notices s3 start" in stopped.stderr
    assert not (xdg / "trust-notices" / "s3" / "state.json").exists() and not (trust / ".notices").exists()
    elsewhere = _run([notices, "validate"], tmp_path, env)
    assert elsewhere.returncode == 1 and "no schools/ folder in" in elsewhere.stderr and "--schools DIR" in elsewhere.stderr
    flow = _run(
        [
            str(installed / "python"),
            "-c",
            "from prefect.flows import load_flow_from_entrypoint as load; print(load('flows.runs.flow:publish_notices').name)",
        ],
        trust,
        env,
    )
    assert flow.stdout.strip() == "publish-notices", flow.stderr[-2000:]  # the worker image's entrypoint
