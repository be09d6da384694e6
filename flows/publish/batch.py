"""A batch of schools: what one ``publish-schools`` task of a run does.

``publish_batch`` publishes each school of a batch and retries only the schools whose
failure was transient, keeping what earlier attempts published, so a report of the batch
says exactly what happened to each school. It never retries while the endpoint's circuit is
open: the endpoint is down, and waiting out the delays would only make the run slower.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from flows.config.models import Notice
from flows.publish.base import Publisher
from flows.publish.context import RunContext
from flows.publish.results import SchoolResult, SchoolState, Status
from flows.publish.moves import Home
from flows.publish.school import publish_school
from flows.settings import read_settings

RETRY_DELAYS_S: tuple[float, ...] = (2.0, 10.0, 30.0)  # a school's retries (never while the circuit is open)


def retry_delays() -> tuple[float, ...]:
    """Seconds before each retry of a batch's transiently failed schools ($NOTICES_RETRY_DELAYS,
    e.g. ``5,30``; empty or ``0`` retries: ``none``). At most 5 retries, each at most 300 s, so the
    worst case in README's *Retries and failures* holds."""
    raw = (read_settings().retry_delays or "").strip()
    if not raw:
        return RETRY_DELAYS_S
    if raw == "none":
        return ()
    delays = tuple(float(x) for x in raw.split(",") if x.strip())
    if len(delays) > 5 or any(not 0 <= d <= 300 for d in delays):
        raise ValueError(f"$NOTICES_RETRY_DELAYS: at most 5 delays of 0-300 seconds each, got {raw!r}")
    return delays


def publish_batch(
    pub: Publisher,
    ctx: RunContext,
    notices: Sequence[Notice],
    delays: Sequence[float] = RETRY_DELAYS_S,
    known: Mapping[str, SchoolState] | None = None,
    homes: Mapping[str, Home] | None = None,
) -> list[SchoolResult]:
    """Publish every school; retry transient failures only, after each delay, unless the
    endpoint's circuit is open (``pub.blocked()``); one result per school.

    ``known``: publish-state entries that the server's ETags confirm (``flows.publish.state``).
    ``homes``: the bucket's URN registry (``flows.publish.moves``), read under the trust lock.
    """
    known = known or {}
    results: dict[str, SchoolResult] = {}
    pending = list(notices)
    for delay in (0.0, *delays):
        if not pending or (delay and pub.blocked()):
            break
        time.sleep(delay)
        for notice in pending:
            try:
                results[notice.slug] = publish_school(pub, ctx, notice, known.get(notice.slug), homes)
            except Exception as exc:  # a bug or an unexpected answer: report it, carry on with the others
                results[notice.slug] = SchoolResult.failure(notice, f"{type(exc).__name__}: {exc}", retryable=False)
        pending = [n for n in pending if results[n.slug].status is Status.FAILED and results[n.slug].retryable]
    return [results[n.slug] for n in notices]
