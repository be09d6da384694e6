"""The trust's own pages: ``schools.json``, the index of schools and the error page.

``publish_root`` merges the run's schools into ``schools.json`` (conditionally, merging
again if another run wrote it meanwhile) and writes the trust's index and error pages;
``publish_trust_index`` is the run's step around it, with its one retry.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.context import RunContext
from flows.publish.pages import root_pages
from flows.publish.results import SchoolResult
from flows.publish.school import MAX_ATTEMPTS
from flows.publish.transport import any_circuit_open
from flows.publish.writer import write_if_changed

INDEX_RETRY_S = 5.0  # one more try of the trust's index after a transient failure


def publish_trust_index(pub: Publisher, ctx: RunContext, results: Sequence[SchoolResult]) -> tuple[list[str], str | None]:
    """The trust's index of schools, its error page and ``schools.json``: the keys written, and
    why they could not be written (None: they were).

    A failure is returned, not raised: the schools are live whatever happens here, and a raised
    error would print its traceback into the run's log. One more try follows a transient
    failure, unless an endpoint's circuit is open (another try would be refused at once).
    """
    error: PublishError | None = None
    for delay in (0.0, INDEX_RETRY_S):
        time.sleep(delay)
        try:
            return publish_root(pub, ctx, results), None
        except PublishError as exc:
            error = exc
            if not exc.transient or any_circuit_open():
                break
    return [], str(error)


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
