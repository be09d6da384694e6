"""The run guard (``flows.runs.guard``): what ends a run's processes, and what keeps them.

A small script runs under ``guarded()`` and starts two ``sleep`` processes (one in a session
of its own, as ``weed`` is started); it then returns, raises, or is SIGKILLed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

SCRIPT = """
import subprocess, sys, time
from flows.runs.guard import guarded
with guarded():
    subprocess.Popen(["sleep", "120"])
    subprocess.Popen(["sleep", "121"], start_new_session=True)
    print("started", flush=True)
    if sys.argv[1] == "raise":
        raise RuntimeError("an uncaught error")
    if sys.argv[1] == "hang":
        time.sleep(120)
"""


def _marked(marker: str) -> dict[int, bytes]:
    """The live processes carrying ``marker`` in their environment, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and f"GUARD_TEST={marker}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
    return found


def _after(how: str) -> list[bytes]:
    """The command lines of the run's processes left once the script ended ``how``."""
    marker = uuid.uuid4().hex
    env = dict(os.environ, GUARD_TEST=marker, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    run = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, how], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert run.stdout is not None and run.stdout.readline() == "started\n"
    if how == "hang":
        run.send_signal(signal.SIGKILL)
    run.wait(timeout=30)
    # Gone within 10 s, or (a finished run) still there 1.5 s after the guard was released.
    deadline = time.monotonic() + (1.5 if how == "return" else 10)
    while (left := _marked(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:
        os.kill(pid, signal.SIGKILL)  # ours: they carry our marker
    return sorted(left.values())


@pytest.mark.parametrize("how", ["hang", "raise"])
def test_a_run_that_dies_or_raises_leaves_nothing(how: str) -> None:
    assert _after(how) == []


def test_a_run_that_returns_keeps_what_it_started() -> None:
    # What a finished command leaves on purpose (its store) stays; its guard has gone.
    assert _after("return") == [b"sleep\x00120\x00", b"sleep\x00121\x00"]
