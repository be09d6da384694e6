"""How a run splits its schools into batches, one task run each.

A task run costs ~50 ms of API calls on the Prefect server, and SQLite servers drop a flow
run with too many of them, so the number of batches is capped (``max_task_runs``); within the
cap, a few batches a worker balance uneven schools (a PDF, a new edition) across workers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from flows.config.models import Notice
from flows.publish.moves import Home
from flows.publish.results import SchoolState
from flows.settings import read_settings

BATCHES_PER_WORKER = 4  # enough to balance uneven schools (a PDF, a new edition) across workers


def max_task_runs() -> int:
    """Task runs a flow run may make ($NOTICES_MAX_TASK_RUNS, default 250: SQLite servers drop more)."""
    return read_settings().max_task_runs


def batch_size(count: int, parallel: int | None = None) -> int:
    """Schools per task: at most ``max_task_runs()`` task runs, and no more than
    ``BATCHES_PER_WORKER`` per worker that can run them (each task run costs ~50 ms of API calls).

    ``parallel``: how many tasks run at once (None: unknown, e.g. a remote Dask scheduler).
    """
    runs = max_task_runs() if parallel is None else min(max_task_runs(), BATCHES_PER_WORKER * parallel)
    return max(1, math.ceil(count / runs))


def batches(notices: Sequence[Notice], parallel: int | None = None) -> list[list[Notice]]:
    """Split notices into batches of ``batch_size``, keeping their order."""
    size = batch_size(len(notices), parallel)
    return [list(notices[i : i + size]) for i in range(0, len(notices), size)]


@dataclass(frozen=True)
class Batch:
    """One task's schools, with their confirmed publish-state entries and URN registry entries."""

    notices: list[Notice]
    known: dict[str, SchoolState]
    homes: dict[str, Home] | None
    """None: the URN registry is not consulted (a run always reads it: ``flows.publish.trust_run``)."""

    @property
    def label(self) -> str:
        """``oakfield-primary`` or ``oakfield-primary-and-31-more``: the task run's name."""
        first = self.notices[0].slug
        return first if len(self.notices) == 1 else f"{first}-and-{len(self.notices) - 1}-more"


def plan_batches(
    notices: Sequence[Notice],
    parallel: int | None,
    known: Mapping[str, SchoolState],
    homes: Mapping[str, Home],
) -> list[Batch]:
    """The run's batches, each carrying only its own schools' state and registry entries
    (a task's inputs are sent to its worker, so they stay small)."""
    return [
        Batch(
            group,
            {n.slug: known[n.slug] for n in group if n.slug in known},
            {n.school.urn: homes[n.school.urn] for n in group if n.school.urn in homes},
        )
        for group in batches(notices, parallel)
    ]
