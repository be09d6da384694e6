"""A local Prefect server started once and reused, as the embedded S3 is: the warm path.

With no ``PREFECT_API_URL``, every `notices publish` started Prefect's temporary server and
waited for it: about 7 of the 9-10 s a `publish --school X` that changes nothing took. `notices
prefect start` (and `make run`) starts ``prefect server start`` once, on 127.0.0.1, with its
database and log in ``<state folder>/prefect``; `notices publish` and `notices serve` use it
when it answers (``api_url_to_use``) and fall back to the temporary server otherwise. Its UI
shows every run.

The server is its own session leader (``start_new_session``), so `notices prefect stop` ends
exactly the process group we started, after checking its leader is our server (its command
line and its ``PREFECT_HOME``), never a stranger on the same port.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from flows.embedded_s3.process import pid_alive, port_free, reap
from flows.settings import environment_with, read_settings

READY_TIMEOUT_S = 120.0  # a first start migrates a new database: ~13 s here, more under load
STOP_TIMEOUT_S = 20.0
HEALTH_TIMEOUT_S = 1.0  # a server that cannot answer /health in a second is not worth waiting for


class LocalPrefectError(RuntimeError):
    """The local Prefect server could not be started or stopped; the message says why."""


@dataclass(frozen=True)
class LocalPrefect:
    """A running local Prefect server."""

    api_url: str
    ui_url: str
    pid: int
    port: int
    state_dir: str


def default_state_dir() -> Path:
    """``<state folder>/prefect``: beside the embedded S3's ``s3`` folder."""
    return read_settings().state_base() / "prefect"


def status(state_dir: Path | None = None) -> LocalPrefect | None:
    """The local server started from ``state_dir`` if its process is ours and alive, else None."""
    state = (state_dir or default_state_dir()).resolve()
    try:
        info = LocalPrefect(**json.loads((state / "state.json").read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    return info if _is_our_server(info.pid, state) else None


def api_url_to_use(state_dir: Path | None = None) -> str | None:
    """The local server's API URL if it runs and answers now, else None (use the temporary one)."""
    info = status(state_dir)
    return info.api_url if info is not None and healthy(info.api_url) else None


def healthy(api_url: str, timeout: float = HEALTH_TIMEOUT_S) -> bool:
    """True if ``GET {api_url}/health`` answers ``true``."""
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as resp:  # noqa: S310 - our loopback URL
            return bool(json.load(resp))
    except (OSError, ValueError):
        return False


def start(state_dir: Path | None = None, *, port: int | None = None) -> LocalPrefect:
    """Start the local Prefect server unless it runs; return once its API answers."""
    state = (state_dir or default_state_dir()).resolve()
    running = status(state)
    if running is not None:
        return running
    port = port or read_settings().prefect_port
    if not port_free(port):
        raise LocalPrefectError(
            f"cannot start the local Prefect server: port {port} on 127.0.0.1 is already in use; "
            "choose another with --port or $NOTICES_PREFECT_PORT (or point $PREFECT_API_URL at that server)"
        )
    (state / "home").mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    info = _launch(state, port)
    try:
        _wait_ready(info, state)
    except LocalPrefectError:
        stop(state)
        raise
    return info


def _launch(state: Path, port: int) -> LocalPrefect:
    api_url = f"http://127.0.0.1:{port}/api"
    env = environment_with(
        PREFECT_HOME=str(state / "home"),
        PREFECT_API_URL=api_url,  # the UI learns its API address from the server's environment
        PREFECT_UI_API_URL=api_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    command = [str(Path(sys.executable).parent / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with open(state / "server.log", "ab") as log:  # the child has its own copy of the fd
        process = subprocess.Popen(  # noqa: S603 - our prefect, our flags
            command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=state, start_new_session=True
        )
    info = LocalPrefect(api_url=api_url, ui_url=f"http://127.0.0.1:{port}/", pid=process.pid, port=port, state_dir=str(state))
    (state / "state.json").write_text(json.dumps(asdict(info)), encoding="utf-8")
    return info


def _wait_ready(info: LocalPrefect, state: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if not _alive(info.pid):
            raise LocalPrefectError(f"the local Prefect server exited during start-up; {_log_tail(state)}")
        if healthy(info.api_url):
            return
        time.sleep(0.25)
    raise LocalPrefectError(f"the local Prefect server did not answer within {READY_TIMEOUT_S:.0f} s; {_log_tail(state)}")


def stop(state_dir: Path | None = None) -> bool:
    """Stop the local server we started (its process group, by its recorded PID); False if none ran."""
    state = (state_dir or default_state_dir()).resolve()
    info = status(state)
    (state / "state.json").unlink(missing_ok=True)
    if info is None:
        return False
    os.killpg(info.pid, signal.SIGTERM)  # its own session: the group is exactly what we started
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and _alive(info.pid):
        time.sleep(0.1)
    if _alive(info.pid):
        os.killpg(info.pid, signal.SIGKILL)
    reap(info.pid)
    return True


def _is_our_server(pid: int, state: Path) -> bool:
    """True if ``pid`` is a ``prefect server start`` whose PREFECT_HOME is this state folder's."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return False
    home = f"PREFECT_HOME={state / 'home'}".encode()
    return b"server" in cmdline and b"start" in cmdline and home in environ and _alive(pid)


def _alive(pid: int) -> bool:
    reap(pid)
    if not pid_alive(pid):
        return False
    try:  # a zombie (exited, not yet collected by its parent) is not a server
        return b") Z " not in Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return False


def _log_tail(state: Path, lines: int = 15) -> str:
    path = state / "server.log"
    try:
        tail = path.read_bytes()[-32_000:].decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"no log at {path}"
    return f"the last {len(tail)} lines of {path}:\n" + "\n".join(f"    {line}" for line in tail)
