"""Publishing tasks on a Dask cluster of worker processes (on loopback), through the real flow."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import SAMPLE_SLUGS
from .support.flows import _params


def test_a_dask_cluster_of_two_worker_processes_publishes_the_sample_trust(flow_env, seaweed, tree: Path) -> None:  # noqa: F811
    distributed = pytest.importorskip("distributed")
    from flows.runs.flow import publish_notices

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            state = publish_notices(_params(task_runner=cluster.scheduler_address), return_state=True)
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert state.is_completed(), state.message
    assert {s["slug"]: s["status"] for s in state.result()["schools"]} == {s: "published" for s in SAMPLE_SLUGS}
    assert sorted(executed.values())[0] >= 1 and sum(executed.values()) >= 6  # both worker processes took schools


def test_the_local_cluster_reports_to_the_temporary_server_of_the_run(
    tree: Path, embedded_env: dict[str, str], tmp_path: Path
) -> None:
    """`notices publish --task-runner dask` with no Prefect server configured (Prefect's temporary
    server, a new home): the workers report to the run's own server. They used to be told to
    start their own, several threads at once, and most schools failed ("Failed to reach API")."""
    pytest.importorskip("distributed")
    env = {k: v for k, v in embedded_env.items() if k != "PREFECT_API_URL"}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect"), "NOTICES_DASK_WORKERS": "2"}
    notices = str(Path(sys.executable).parent / "notices")
    run = subprocess.run(
        [notices, "publish", "--task-runner", "dask"], cwd=tree, env=env, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-4000:])
    assert re.search(r"6 published, 0 presentation updates, 0 unchanged, 0 held, 0 failed", run.stdout), run.stdout[-2000:]
    assert "Server process did not start" not in run.stderr and "Failed to reach API" not in run.stderr


def test_an_unknown_task_runner_is_refused_before_the_run() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected threads"):
        _params(task_runner="kubernetes")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:  # the child keeps its own copy of the file descriptor
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End a process we started, and the worker process its nanny started in its session, by its PID."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # its own session (start_new_session): only what it started
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def test_a_scheduler_and_two_workers_started_as_their_own_commands_publish(
    flow_env, seaweed, tree: Path, tmp_path: Path, prefect_api: str
) -> None:
    """As on several machines: `dask scheduler` and two `dask worker`s, each its own command, in
    a folder with no trust files and an environment with none of the run's settings; the schools
    reach the workers only as the tasks' inputs."""
    distributed = pytest.importorskip("distributed")
    from flows.runs.flow import publish_notices

    dask, port = str(Path(sys.executable).parent / "dask"), _free_port()
    address = f"tcp://127.0.0.1:{port}"
    elsewhere = tmp_path / "another-machine"
    elsewhere.mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(elsewhere),
        "PREFECT_API_URL": prefect_api,
        "PREFECT_HOME": str(elsewhere / ".prefect"),
        "NOTICES_PDF_WORKERS": "0",  # each worker process makes its PDFs itself
    }
    started = [
        _start(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            elsewhere,
            env,
            tmp_path / "scheduler.log",
        )
    ]
    try:
        for name in ("one", "two"):
            command = [dask, "worker", address, "--host", "127.0.0.1", "--nthreads", "2", "--name", name, "--no-dashboard"]
            started.append(_start(command, elsewhere, env, tmp_path / f"worker-{name}.log"))
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=90)
            state = publish_notices(_params(task_runner=address), return_state=True)
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    finally:
        for process in reversed(started):
            _stop(process)
    assert state.is_completed(), state.message
    assert {s["slug"]: s["status"] for s in state.result()["schools"]} == {s: "published" for s in SAMPLE_SLUGS}
    assert len(executed) == 2 and min(executed.values()) >= 1, executed  # both machines' workers took schools
    logs = "".join((tmp_path / f"worker-{n}.log").read_text() for n in ("one", "two"))
    assert "Traceback" not in logs, logs[-3000:]
