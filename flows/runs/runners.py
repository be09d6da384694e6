"""Where a run's publishing tasks execute: threads in the flow's process (the default), a local
Dask cluster of worker processes (every core), or an existing Dask scheduler on other machines.

Tasks take plain data (``flows.publish.spec``), so the same tasks run on any of them.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
from contextlib import AbstractContextManager
from typing import Any

from flows.settings import read_settings

THREADS = "threads"
DASK_LOCAL = "dask"
_ADDRESS = re.compile(r"^(tcp|tls)://[A-Za-z0-9.\-\[\]:]+:\d+$")
CHOICES_HELP = (
    "threads (default), dask (a local cluster, one worker process per core) or a Dask scheduler address (tcp://host:8786)"
)


def check_task_runner(choice: str) -> str:
    """The choice, or ValueError saying what is accepted."""
    if choice in (THREADS, DASK_LOCAL) or _ADDRESS.match(choice):
        return choice
    raise ValueError(f"task runner {choice!r}: expected {CHOICES_HELP}")


def thread_count() -> int:
    """Publishing threads: more than cores, so that while one waits on S3 or a PDF worker, another renders."""
    return max(8, 2 * (os.cpu_count() or 1))


def dask_workers() -> int:
    """Worker processes of a local Dask cluster ($NOTICES_DASK_WORKERS, else one per core)."""
    return read_settings().dask_workers or os.cpu_count() or 1


def parallelism(choice: str) -> int | None:
    """How many tasks run at once on ``choice``; None for a scheduler we cannot size."""
    if choice == THREADS:
        return thread_count()
    return dask_workers() * dask_threads() if choice == DASK_LOCAL else None


def dask_threads() -> int:
    """Threads in each worker process of a local Dask cluster: the threads' count shared out, so
    the cluster waits on as many S3 requests at once as threads do. With one thread a worker a
    stubbed-PDF first publish was 1.2× slower than threads; shared out, and with the run's own
    API named (``api_for_workers``), 1.02× at N = 1,000 (make bench, 2026-12-04)."""
    return max(1, math.ceil(thread_count() / dask_workers()))


def running_api_url() -> str:
    """The API this flow run reports to (its temporary server's, when nothing is configured)."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.api_url)


def api_for_workers(choice: str) -> AbstractContextManager[Any]:
    """The flow's API named in the settings its tasks carry to a local cluster's workers.

    With Prefect's temporary server (no ``PREFECT_API_URL``) the settings a task carries say
    "start your own": each worker thread then started a temporary server, several at once on
    one database, and 904 of 1,000 schools failed ("Server process did not start", "Failed to
    reach API"). Named, every worker reports to the flow's own server.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if choice != DASK_LOCAL or PREFECT_API_URL.value():
        return contextlib.nullcontext()
    return temporary_settings(updates={PREFECT_API_URL: running_api_url()})


def make_task_runner(choice: str) -> Any:
    """A Prefect task runner for ``choice`` (entered with ``with``)."""
    from prefect.task_runners import ThreadPoolTaskRunner

    if check_task_runner(choice) == THREADS:
        return ThreadPoolTaskRunner(max_workers=thread_count())
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:  # an optional extra: pip install 'trust-notices[dask]'
        raise RuntimeError(f"task runner {choice!r} needs prefect-dask: pip install 'trust-notices[dask]'") from exc
    if choice == DASK_LOCAL:
        workers = dask_workers()
        # Loopback only, no dashboard: a worker process a core for the PDFs (WeasyPrint holds the
        # GIL, so a process's threads make one at a time), several threads each for S3's waits.
        cluster = {
            "n_workers": workers,
            "threads_per_worker": dask_threads(),
            "processes": True,
            "host": "127.0.0.1",
            "dashboard_address": None,
        }
        # Each worker process makes its PDFs itself: the cluster already has one per core.
        return DaskTaskRunner(cluster_kwargs={**cluster, "env": {"NOTICES_PDF_WORKERS": "0"}})
    return DaskTaskRunner(address=choice)
