"""Nothing left running: every process a command starts ends when the command dies.

A command that starts processes (Prefect's temporary API server, PDF workers, the embedded
S3's ``weed``, a Dask cluster, the flow runs of ``notices serve``) first puts a random run
token in its environment, which every process it starts inherits, and starts this guard
*before* any other process, so no moment of start-up is unguarded. The guard waits for the
command's process to end. If it ended without releasing the guard (killed by any signal,
SIGKILL included, or stopped by an uncaught exception or Ctrl-C), the guard stops every
process whose environment (``/proc/PID/environ``) carries that exact token: TERM, up to
``TERM_WAIT_S`` for them to exit, then KILL. The token is random, so no other process has it.

A command that finishes, whatever its exit status, releases the guard as the last thing it
does at exit (after Prefect has stopped its server), so what it leaves running on purpose
stays: the ``weed`` that `notices s3 start` (or a first `publish`) starts.

Run as ``python -m flows.runs.guard PARENT_PID``, the token in its environment and the
release pipe on stdin.
"""

from __future__ import annotations

import atexit
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flows.settings import run_token

TOKEN_VAR = "NOTICES_RUN_TOKEN"
RELEASE = b"release\n"
TERM_WAIT_S = 5.0
POLL_S = 1.0  # how often the guard also checks that it still has its parent

_release_fd: int | None = None
_finished = False


@contextmanager
def guarded() -> Iterator[None]:
    """Run the body under a guard; only a body that returns releases it (see the module).

    In one process (tests call ``cli.main`` in theirs) the first call starts the guard and later
    ones reuse it; the last one to end decides whether the guard is released at exit.
    """
    global _finished
    start_guard()
    _finished = False
    yield
    _finished = True  # not reached on an exception: the guard then stops what the run started


def start_guard() -> None:
    """Give this process a fresh run token and start its guard (once per process)."""
    global _release_fd
    if _release_fd is not None:
        return
    # Always a new token: a command run from another guarded command (a flow run of `serve`)
    # has its own guard for its own processes; the outer guard stops the inner command itself.
    # A write, not a read: children inherit the token, which is how the guard finds them.
    os.environ[TOKEN_VAR] = secrets.token_hex(16)
    read_end, write_end = os.pipe()  # both close-on-exec: no other child inherits the write end
    subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "flows.runs.guard", str(os.getpid())],
        stdin=read_end,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal is the command's; the guard acts on its end
    )
    os.close(read_end)
    _release_fd = write_end
    # Registered before Prefect's own exit handler, so it runs after it (atexit is last in, first out).
    atexit.register(_release_at_exit)


def _release_at_exit() -> None:
    if _finished and _release_fd is not None:
        os.write(_release_fd, RELEASE)
        os.close(_release_fd)


def _parent_released(parent: int) -> bool:
    """Block until ``parent`` ends or releases the guard; True if it released it."""
    try:
        pidfd: int | None = os.pidfd_open(parent)
    except (ProcessLookupError, AttributeError, OSError):
        pidfd = None  # already gone, or no pidfds: the adoption check below still notices
    received = b""
    # Once adopted (our parent PID changed) the parent is dead even if a PID was reused.
    while os.getppid() == parent:
        watched = [0] if pidfd is None else [0, pidfd]
        ready, _, _ = select.select(watched, [], [], POLL_S)
        if 0 in ready:
            chunk = os.read(0, 64)
            received += chunk
            if RELEASE in received:
                return True
            if not chunk:
                return False  # the pipe closed without a release: the parent died
        if pidfd is not None and pidfd in ready:
            break
    os.set_blocking(0, False)
    try:  # a release written just before the parent exited
        received += os.read(0, 64)
    except (BlockingIOError, OSError):
        pass
    return RELEASE in received


def _carries(pid: int, needle: bytes) -> bool:
    try:
        with open(f"/proc/{pid}/environ", "rb") as handle:
            return needle in handle.read().split(b"\0")
    except OSError:  # gone, a zombie's is empty, or another user's process
        return False


def signal_run(token: str, signum: int) -> list[int]:
    """Send ``signum`` to every live process (but this one) carrying ``token``; their PIDs."""
    needle = f"{TOKEN_VAR}={token}".encode()
    names = (n for n in os.listdir("/proc") if n.isdigit() and int(n) != os.getpid())
    return [int(n) for n in names if _signal_if_carries(int(n), needle, signum)]


def _signal_if_carries(pid: int, needle: bytes, signum: int) -> bool:
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    except OSError:  # no pidfds (Linux < 5.3): a PID reused between check and signal is the risk left
        if not _carries(pid, needle):
            return False
        try:
            os.kill(pid, signum)
        except OSError:
            return False
        return True
    try:
        # Checked with the process pinned by its pidfd: a PID reused meanwhile is never signalled.
        if _carries(pid, needle):
            signal.pidfd_send_signal(pidfd, signum)
            return True
        return False
    except OSError:
        return False
    finally:
        os.close(pidfd)


def stop_run(token: str) -> int:
    """Stop every process of the run (TERM, a wait, then KILL); how many there were."""
    stopped = set(signal_run(token, signal.SIGTERM))
    deadline = time.monotonic() + TERM_WAIT_S
    while time.monotonic() < deadline and signal_run(token, 0):
        time.sleep(0.1)
    for _ in range(3):  # one started while the others stopped is caught here too
        killed = signal_run(token, signal.SIGKILL)
        if not killed:
            break
        stopped.update(killed)
        time.sleep(0.2)
    return len(stopped)


def main(parent: int) -> None:
    """The guard: wait for ``parent``; unless it released us, stop its run's processes."""
    token = run_token()
    if token and not _parent_released(parent):
        stop_run(token)


if __name__ == "__main__":
    main(int(sys.argv[1]))
