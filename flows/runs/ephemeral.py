"""Prefect's temporary API server for `notices publish`, stopped even when the command is killed.

With no ``PREFECT_API_URL``, Prefect starts a temporary server in a child process and stops
it at exit. A SIGKILLed command never reaches its exit handlers, so the server ran on for
ever (35 orphans after 42 kills). We start that same server ourselves, earlier and with a
longer start-up allowance (a first start on a busy machine migrates a new database), and
start beside it a small guard process: when the command's process ends, the guard stops the
server it was given, by PID, after checking that the PID is still that server.

Run as ``python -m flows.runs.ephemeral PARENT_PID SERVER_PID`` (the guard itself).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from flows.local_s3 import pid_alive

STARTUP_S = 120  # Prefect's default is 20 s: too short for a first start under load
POLL_S = 0.5
STOP_WAIT_S = 5.0
SERVER_MARK = b"prefect.server.api.server:create_app"


def start_ephemeral_server() -> str | None:
    """Start Prefect's temporary server and its guard, if this process would use one.

    Returns the server's API URL, or None when a Prefect server is configured.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's clients use later in this process
    try:
        server.start(timeout=STARTUP_S)
    except RuntimeError as exc:
        raise RuntimeError(
            f"Prefect's temporary API server did not start within {STARTUP_S} s ({exc}); "
            "set PREFECT_API_URL to use a running `prefect server start` instead"
        ) from exc
    if server.server_process is not None:
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "flows.runs.ephemeral", str(os.getpid()), str(server.server_process.pid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C in the terminal is the command's to handle, not the guard's
        )
    return server.api_url


def _is_server(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return SERVER_MARK in handle.read()
    except OSError:
        return False


def guard(parent: int, server: int) -> None:
    """Wait while ``parent`` lives; then stop ``server`` if it still runs (TERM, then KILL)."""
    while pid_alive(parent) and os.getppid() == parent:
        if not _is_server(server):
            return  # stopped normally by the command
        time.sleep(POLL_S)
    if not _is_server(server):
        return
    os.kill(server, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_S
    while time.monotonic() < deadline and _is_server(server):
        time.sleep(0.1)
    if _is_server(server):
        os.kill(server, signal.SIGKILL)


if __name__ == "__main__":
    guard(int(sys.argv[1]), int(sys.argv[2]))
