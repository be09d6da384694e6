"""A batch of schools, and the trust's own pages: what one task of a run does.

``publish_batch`` publishes each school of a batch and retries only the schools whose
failure was transient, keeping what earlier attempts published, so a report of the batch
says exactly what happened to each school. It never retries while the endpoint's circuit is
open: the endpoint is down, and waiting out the delays would only make the run slower. ``publish_root`` merges the run's schools into
``schools.json`` (conditionally) and writes the trust's index and error pages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from flows.config.models import Notice
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher
from flows.publish.context import RunContext
from flows.publish.results import SchoolResult, SchoolState, Status
from flows.publish.moves import Home
from flows.publish.pages import root_pages
from flows.publish.school import MAX_ATTEMPTS, publish_school
from flows.publish.writer import write_if_changed

RETRY_DELAYS_S: tuple[float, ...] = (2.0, 10.0, 30.0)  # a school's retries (never while the circuit is open)


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


def publish_root(pub: Publisher, ctx: RunContext, results: Sequence[SchoolResult]) -> list[str]:
    """Update ``schools.json`` (conditionally) and the trust's index and error pages."""
    key = layout.root_key(ctx.target.prefix, "schools.json")
    listed = [r for r in results if r.status.live and r.edition]
    for _ in range(MAX_ATTEMPTS):
        stored = pub.get(key)
        listing: dict[str, dict[str, Any]] = {}
        if stored is not None:
            listing = {s["slug"]: s for s in json.loads(stored.body).get("schools", [])}
        before = dict(listing)
        for result in listed:
            # A school is its URN: a renamed school's old entry goes, so the index lists it once.
            listing = {slug: s for slug, s in listing.items() if slug == result.slug or s.get("urn") != result.urn}
            listing[result.slug] = {
                "slug": result.slug,
                "name": result.name,
                "urn": result.urn,
                "edition": result.edition,
                "url": result.url,
            }
        schools = sorted(listing.values(), key=lambda s: s["name"].casefold())
        written: list[str] = []
        if listing != before:
            body = (json.dumps({"schools": schools}, indent=2, ensure_ascii=False) + "\n").encode()
            if not ctx.dry_run:
                try:
                    pub.put(
                        key,
                        body,
                        content_type=layout.content_type(key),
                        cache_control=layout.RECORD_CACHE,
                        if_match=stored.etag if stored else None,
                        if_none_match=stored is None,
                    )
                except PreconditionFailed:
                    continue  # another run updated the listing: merge again
            written.append(key)
        return written + write_if_changed(pub, root_pages(ctx, schools), force=ctx.force, dry_run=ctx.dry_run)
    raise PreconditionFailed(key)
