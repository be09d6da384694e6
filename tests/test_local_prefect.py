"""The warm path: `notices prefect start` once, then every `notices publish` uses that server.

Real processes throughout: the command starts ``prefect server start`` on 127.0.0.1, a publish
(with no $PREFECT_API_URL) records its flow run there rather than in a temporary server, and
`notices prefect stop` ends exactly the process it started.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

NOTICES = str(Path(sys.executable).parent / "notices")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NOTICES, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _flow_runs(api_url: str) -> list[dict[str, object]]:
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter", data=b"{}", headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return list(json.load(resp))


@pytest.fixture
def warm_env(tree: Path, embedded_state: dict[str, str]) -> dict[str, str]:
    """The module's embedded S3, no $PREFECT_API_URL, and a Prefect port of this test's own."""
    env = {k: v for k, v in embedded_state.items() if not k.startswith("PREFECT_API")}
    return dict(
        env,
        NOTICES_PREFECT_PORT=str(_free_port()),
        NOTICES_S3_PREFIX="warm-" + re.sub(r"[^a-z0-9]+", "-", tree.name.lower()),
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )


def test_publish_uses_the_running_local_server_and_stop_ends_exactly_it(tree: Path, warm_env: dict[str, str]) -> None:
    state = Path(warm_env["NOTICES_STATE_DIR"]) / "prefect"
    started = _run(["prefect", "start"], warm_env, tree)
    assert started.returncode == 0, started.stderr
    info = json.loads((state / "state.json").read_text())
    try:
        port = int(warm_env["NOTICES_PREFECT_PORT"])
        assert info["api_url"] == f"http://127.0.0.1:{port}/api" and info["api_url"] in started.stdout
        assert f"its UI: http://127.0.0.1:{port}/" in started.stdout
        again = _run(["prefect", "start"], warm_env, tree)  # already running: the same process, reused
        assert again.returncode == 0 and f"(pid {info['pid']})" in again.stdout
        status = json.loads(_run(["prefect", "status", "--json"], warm_env, tree).stdout)
        assert status["running"] is True and status["pid"] == info["pid"]

        published = _run(["publish", "--school", "oakfield-primary"], warm_env, tree)
        assert published.returncode == 0, published.stderr
        runs = _flow_runs(info["api_url"])  # the run went to the warm server, not a temporary one
        assert len(runs) == 1 and runs[0]["state_type"] == "COMPLETED"
    finally:
        stopped = _run(["prefect", "stop"], warm_env, tree)
    assert stopped.stdout.strip() == "Prefect server stopped", stopped.stderr
    assert not Path(f"/proc/{info['pid']}").exists() or b"server" not in Path(f"/proc/{info['pid']}/cmdline").read_bytes()
    gone = _run(["prefect", "status"], warm_env, tree)
    assert gone.returncode == 1 and "not running" in gone.stdout
    assert _run(["prefect", "stop"], warm_env, tree).stdout.strip() == "Prefect server was not running"


def test_a_taken_port_is_said_at_once_and_nothing_is_left_running(tree: Path, warm_env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = dict(warm_env, NOTICES_PREFECT_PORT=str(taken.getsockname()[1]))
        refused = _run(["prefect", "start"], env, tree)
    assert refused.returncode == 1
    assert f"port {env['NOTICES_PREFECT_PORT']} on 127.0.0.1 is already in use" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (Path(env["NOTICES_STATE_DIR"]) / "prefect" / "state.json").exists()


def test_a_recorded_pid_that_is_not_our_server_is_never_stopped(tree: Path, warm_env: dict[str, str]) -> None:
    # A state file left by a crash, whose PID now belongs to another program: status says not
    # running, and stop sends that program nothing.
    stranger = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        state = Path(warm_env["NOTICES_STATE_DIR"]) / "prefect"
        state.mkdir(parents=True, exist_ok=True)
        record = {"api_url": "http://127.0.0.1:9/api", "ui_url": "http://127.0.0.1:9/", "pid": stranger.pid}
        (state / "state.json").write_text(json.dumps({**record, "port": 9, "state_dir": str(state)}))
        assert _run(["prefect", "status"], warm_env, tree).returncode == 1
        assert _run(["prefect", "stop"], warm_env, tree).stdout.strip() == "Prefect server was not running"
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
