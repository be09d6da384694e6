"""The warm path measured: `notices prefect start` once, then publishes that use that server."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from publish_timing import notices_cmd


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def local_prefect(env: dict[str, str], found: dict[str, Any]) -> Iterator[dict[str, str]]:
    """``env`` for commands that use a running local Prefect server; started here, stopped (by
    `notices prefect stop`, which ends the process it recorded) on the way out. ``found`` gets
    the start's wall time."""
    warm = dict(env, NOTICES_PREFECT_PORT=str(free_port()))
    started = time.perf_counter()
    subprocess.run(notices_cmd("prefect", "start", stub=False), env=warm, check=True, capture_output=True, timeout=300)
    found["prefect_server_start_s"] = round(time.perf_counter() - started, 2)
    try:
        yield warm
    finally:
        subprocess.run(notices_cmd("prefect", "stop", stub=False), env=warm, check=False, capture_output=True, timeout=120)
