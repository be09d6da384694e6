"""Shared fixtures: the sample trust, a real temporary copy of it, and one render environment."""

from __future__ import annotations

import json
import os
import tempfile

# Before anything imports prefect: quiet logs, no telemetry, and a Prefect home of this run's
# own so tests never touch a developer's ~/.prefect.
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
# The embedded S3's default state folder is per user (~/.local/state/trust-notices): tests
# that start none of their own must never find, or start, the developer's store.
os.environ["NOTICES_STATE_DIR"] = tempfile.mkdtemp(prefix="notices-state-")
os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = tempfile.mkdtemp(prefix="prefect-results-")
# The trust's log key, as `notices log keygen` makes it: every run signs its log with it, and
# subprocesses (which may get another $NOTICES_STATE_DIR) inherit the file's path.
_LOG_KEY = os.path.join(os.environ["NOTICES_STATE_DIR"], "log-key")
if "NOTICES_LOG_KEY_FILE" not in os.environ:
    from flows.tlog.note import generate_key

    with open(_LOG_KEY, "w", encoding="utf-8") as _out:
        _out.write(generate_key("trust.example.org/privacy-notices")[0] + "\n")
    os.environ["NOTICES_LOG_KEY_FILE"] = _LOG_KEY

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.notice.dataset_text import DatasetText, render_dataset_text

from flows.notice.render import build_environment
from flows.publish.folder import render_all
from flows.notice.prepare import Prepared, load_and_compose

from .support.browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

REPO = Path(__file__).resolve().parent.parent
SCHOOLS = REPO / "schools"
SHARED = REPO / "shared_data"
TEMPLATES = REPO / "templates"
FIXTURES = Path(__file__).resolve().parent / "fixtures"

SAMPLE_SLUGS = (
    "brookside-special",
    "hillcrest-middle",
    "northgate-academy",
    "oakfield-primary",
    "riverside-infant",
    "st-aidans-all-through",
)


@pytest.fixture(scope="session")
def sample() -> Prepared:
    """The repository's sample trust, loaded and composed once."""
    prepared = load_and_compose(SCHOOLS, SHARED)
    assert not prepared.errors, [str(e) for e in prepared.errors]
    return prepared


@pytest.fixture(scope="session")
def env():
    return build_environment(TEMPLATES)


@pytest.fixture(scope="session")
def dataset_text(sample: Prepared) -> DatasetText:
    return render_dataset_text(sample.notices[0].dataset)


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A real copy of schools/ and shared_data/ in a temp folder, which is also the cwd.

    Errors then name files as a DPO sees them: ``schools/x.yaml:3: …``.
    """
    shutil.copytree(SCHOOLS, tmp_path / "schools")
    shutil.copytree(SHARED, tmp_path / "shared_data")
    monkeypatch.chdir(tmp_path)
    yield tmp_path


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix of its own for each test, so tests share one bucket without meeting."""
    return "t/" + re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")


# --- A real S3 server for the whole run --------------------------------------------------


def _free_base_port() -> int:
    """A port P with P..P+4 and their gRPC twins (P+10000..) free on 127.0.0.1 (``local_s3.listening_ports``)."""
    import random
    import socket

    for _ in range(200):
        base = random.randint(20000, 29000)
        ports = [base + i for i in range(5)] + [base + 10000 + i for i in range(5)]
        ok = True
        for port in ports:
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return base
    raise RuntimeError("no free ports for SeaweedFS")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory):
    """SeaweedFS (`weed mini`) in its own process on loopback, stopped by its PID at the end.

    Its state folder is ``<base>/s3``, so ``NOTICES_STATE_DIR=<base>`` (``info.state_dir``'s
    parent) points `notices` and the flow at it as their embedded S3.
    """
    from flows import embedded_s3 as local_s3
    from flows.publish.s3 import make_client, setup_bucket

    state = tmp_path_factory.mktemp("notices-state") / "s3"
    info = local_s3.start(state, port=_free_base_port(), bucket="test-notices")
    try:
        client = make_client(info.endpoint_url, "us-east-1", info.access_key, info.secret_key)
        setup_bucket(client, info.bucket)
        yield info
    finally:
        local_s3.stop(state)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """One Prefect test harness (a temporary API server) for the whole pytest run."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


# --- The embedded S3 as `notices s3 start` runs it, for tests of the command ----------------

NOTICES = str(Path(sys.executable).parent / "notices")


@pytest.fixture(scope="module")
def embedded_state(tmp_path_factory: pytest.TempPathFactory):
    """`notices s3 start` in a state folder of this module's own; `notices s3 stop` at the end."""
    state = tmp_path_factory.mktemp("notices-state")
    env = dict(os.environ, NOTICES_STATE_DIR=str(state), NOTICES_S3_PORT=str(_free_base_port()))
    started = subprocess.run([NOTICES, "s3", "start"], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    pid = json.loads((state / "s3" / "state.json").read_text())["pid"]
    assert (state / "s3" / "credentials.json").stat().st_mode & 0o777 == 0o600
    yield env
    stopped = subprocess.run([NOTICES, "s3", "stop"], env=env, capture_output=True, text=True, timeout=120)
    assert stopped.stdout.strip() == "embedded S3 stopped"
    assert not Path(f"/proc/{pid}").exists() or b"weed" not in Path(f"/proc/{pid}/cmdline").read_bytes()


@pytest.fixture
def embedded_env(tree: Path, embedded_state: dict[str, str], prefect_api: str) -> dict[str, str]:
    """The module's embedded S3 and the session's Prefect API, with a key prefix of this test's own."""
    return dict(
        embedded_state,
        PREFECT_API_URL=prefect_api,
        NOTICES_S3_PREFIX="cli-" + re.sub(r"[^a-z0-9]+", "-", tree.name.lower()),
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )


# --- The flow pointed at the session's SeaweedFS --------------------------------------------


@pytest.fixture
def flow_env(prefect_api: str, seaweed, tree: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the flow at the session's SeaweedFS, this test's tree and a prefix of its own."""
    values = {
        "NOTICES_STATE_DIR": str(Path(seaweed.state_dir).parent),
        "NOTICES_S3_BUCKET": seaweed.bucket,
        "NOTICES_S3_PREFIX": "flow-" + tree.name.lower().replace("_", "-"),
        "NOTICES_SCHOOLS": str(tree / "schools"),
        "NOTICES_SHARED_DATA": str(tree / "shared_data"),
        "NOTICES_PAUSE_POLL": "1",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


# The fault tests' settings (tests/test_faults.py, test_error_bodies.py, test_error_body_runs.py).
READ_TIMEOUT = 1.0  # short, so a stall (just past it) costs little test time


@pytest.fixture
def fresh_circuits(monkeypatch: pytest.MonkeyPatch) -> None:
    """No circuit state from an earlier test (a later proxy may get a closed one's port)."""
    from flows.publish import transport

    monkeypatch.setattr(transport, "_breakers", {})


@pytest.fixture
def fault_env(
    tree: Path, seaweed, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest, fresh_circuits: None
) -> dict[str, str]:
    """Short timeouts and retry delays for this test; the rest of the settings are the defaults."""
    values = {
        "AWS_ACCESS_KEY_ID": seaweed.access_key,
        "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
        "NOTICES_S3_BUCKET": seaweed.bucket,
        "NOTICES_S3_PREFIX": "faults-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-"),
        "NOTICES_SCHOOLS": str(tree / "schools"),
        "NOTICES_SHARED_DATA": str(tree / "shared_data"),
        "NOTICES_S3_READ_TIMEOUT": str(READ_TIMEOUT),
        "NOTICES_S3_CONNECT_TIMEOUT": "1",
        "NOTICES_RETRY_DELAYS": "0.5,1,2",  # the total outage test uses the defaults
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


# --- Browser checks (tests/support/browser.py) ----------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def site(sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    render_all(sample.notices, out, pdf=False)
    for slug in SAMPLE_SLUGS:  # the fragment as a school website would embed it
        fragment = (out / slug / "fragment.html").read_text(encoding="utf-8")
        (out / slug / "host.html").write_text(
            '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>School website</title></head>'
            f"<body><main>{fragment}</main></body></html>",
            encoding="utf-8",
        )
    return out
