"""The trust's publish state: how a run that changes nothing costs a handful of requests.

Each school's ``manifest.json`` stays the record of its editions. This is a cache beside
them, one object per trust (``_private/<prefix>/publish-state.json``): for each school, the
ETag of its manifest, the hashes of its current words and layout, and the ETag of every
latest file and record. A run reads it once, LISTs the trust's objects (one request per
1,000, in a few ranges at once) and trusts an entry only where the server still holds exactly
those ETags. For such a school, the same inputs (or a draft with the same hashes) mean there is
nothing to do: no other request at all.
Anything else (no entry, an object replaced or deleted, other words, another template,
``--force``) takes the full path, which reads the manifest, checks each object and repairs.

The state is written after the batches, only when it changed (conditionally: concurrent
runs merge), or when it is older than ``REFRESH_DAYS`` so that the private prefix's
8-day lifecycle rule never expires a trust's state between weekly runs.
"""

from __future__ import annotations

import functools

import hashlib
import logging
import math
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from flows.editions.records import code_version
from flows.config.models import Notice
from flows.publish import layout
from flows.publish.base import ObjectHead, PreconditionFailed, Publisher, PublishError
from flows.publish.context import RunContext
from flows.publish.results import SchoolResult, SchoolState, Status

STATE_FORMAT = "trust-notices/publish-state/2"  # 2: saved only once the trust's log holds every entry
REFRESH_DAYS = 3
OBJECTS_PER_SCHOOL = 30  # an estimate (13 latest and record files, 10 per edition) to choose how to LIST
TRACKED = (*layout.LATEST_FILES, "history.html", "feed.xml", "latest.json")
"""Per school, besides the manifest: the objects a rerun that changes nothing would rewrite."""

log = logging.getLogger(__name__)


class PublishState(BaseModel):
    """Every school's entry, by slug."""

    model_config = ConfigDict(frozen=True)

    format: str = STATE_FORMAT
    schools: dict[str, SchoolState] = {}


@dataclass
class Known:
    """The state as read at the start of a run (one GET), with its ETag and age."""

    state: PublishState = field(default_factory=PublishState)
    etag: str | None = None
    age_s: float = 0.0


def state_key(prefix: str) -> str:
    """Where a trust's publish state lives (private: never served)."""
    return layout.private_key(prefix, "publish-state.json")


def fingerprint(ctx: RunContext, notice: Notice) -> str:
    """What the records around a notice depend on besides its manifest (trust, templates, site)."""
    parts = (
        ctx.template_version,
        ctx.renderer,
        ctx.trust_name,
        ctx.trust_website,
        ctx.target.public_base_url,
        notice.branding.colour,
        "gzip" if ctx.target.compress else "plain",  # a change rewrites the latest files (writer)
    )
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def input_hash(ctx: RunContext, notice: Notice) -> str:
    """Of the notice's inputs (school, trust defaults, dataset: all in the model), templates and code.

    Rendering is a pure function of these, so an equal hash means an identical draft.
    """
    digest = hashlib.sha256("\0".join((ctx.template_version, ctx.renderer, code_version())).encode())
    digest.update(notice.model_dump_json().encode())
    return digest.hexdigest()


def read_state(pub: Publisher, prefix: str) -> Known:
    """The trust's publish state (one GET); its entries are confirmed per batch by ``confirm``."""
    stored = pub.get(state_key(prefix))
    if stored is None:
        return Known()
    try:
        state = PublishState.model_validate_json(stored.body)
    except ValueError:
        log.warning("%s is unreadable: every school takes the full path, and the state is written again", state_key(prefix))
        return Known(etag=stored.etag)
    if state.format != STATE_FORMAT:
        return Known(etag=stored.etag)
    return Known(state, stored.etag, time.time() - stored.last_modified_epoch)


def confirm(
    publishers: Callable[[], Publisher], prefix: str, known: Known, slugs: Sequence[str], workers: int = 8
) -> tuple[dict[str, SchoolState], dict[str, int]]:
    """The selected schools' entries whose manifest and tracked objects still have their ETags.

    One LIST page holds 1,000 keys. A run over most of the trust splits the trust's keys into
    up to ``workers`` ranges listed at once (about one request per 1,000 objects); a rerun of
    a few schools lists just their folders. Returns the entries and the requests made.
    """
    entries = {s: known.state.schools[s] for s in slugs if s in known.state.schools}
    if not entries:
        return {}, {}
    slugs_in_order = sorted(entries, key=lambda s: layout.school_dir(prefix, s) + "/")  # key order
    pages = math.ceil(len(known.state.schools) * OBJECTS_PER_SCHOOL / 1000)
    per_school = len(entries) < pages
    if per_school:
        ranges = [(slug, slug) for slug in slugs_in_order]
    else:
        size = math.ceil(len(slugs_in_order) / max(1, min(workers, pages)))
        ranges = [(chunk[0], chunk[-1]) for chunk in (slugs_in_order[i : i + size] for i in range(0, len(slugs_in_order), size))]
    list_range = functools.partial(_list_range, publishers, prefix)
    with ThreadPoolExecutor(min(workers, len(ranges))) as pool:
        listed = list(pool.map(list_range, ranges))
        etags = {head.key: head.etag for heads, _ in listed for head in heads}
        # SeaweedFS lists a folder's entries by name, so "school" comes before "school-2" there
        # but after it in key order: a school a range missed altogether gets its own LIST.
        missed = (
            [] if per_school else [(s, s) for s in slugs_in_order if layout.record_key(prefix, s, "manifest.json") not in etags]
        )
        again = list(pool.map(list_range, missed))
    etags.update({head.key: head.etag for heads, _ in again for head in heads})
    trusted = {slug: entry for slug, entry in entries.items() if _still_there(prefix, slug, entry, etags)}
    return trusted, {"list": sum(count for _, count in [*listed, *again])}


def _list_range(publishers: Callable[[], Publisher], prefix: str, bounds: tuple[str, str]) -> tuple[list[ObjectHead], int]:
    """The keys of the schools from ``bounds[0]`` to ``bounds[1]``, and the LISTs it took."""
    first, last = bounds
    pub = publishers()
    try:
        if first == last:
            return pub.list(layout.school_dir(prefix, first) + "/"), pub.counts.listed
        # Keys sort as strings; "0" is the character after "/", so the range ends right after
        # the last school's keys. It starts just before the first school's folder: SeaweedFS
        # reads StartAfter as a path and skips everything inside a folder it names.
        start = layout.join(prefix, first[:-1] + chr(ord(first[-1]) - 1) + "~")
        return pub.list(
            prefix + "/" if prefix else "", start_after=start, until=layout.school_dir(prefix, last) + "0"
        ), pub.counts.listed
    except PublishError:  # those schools take the full path, which reports a real fault
        return [], pub.counts.listed


def _still_there(prefix: str, slug: str, entry: SchoolState, etags: dict[str, str]) -> bool:
    """True if the school's manifest and every tracked latest file have the entry's ETags."""
    return (
        set(entry.etags) == set(TRACKED)
        and etags.get(layout.record_key(prefix, slug, "manifest.json")) == entry.manifest_etag
        and all(etags.get(layout.latest_key(prefix, slug, name)) == etag for name, etag in entry.etags.items())
    )


def school_state(
    pub: Publisher, ctx: RunContext, notice: Notice, result: SchoolResult, presentation_hash: str, inputs: str
) -> SchoolState | None:
    """The entry for a school just published or checked, from the ETags this publisher saw."""
    prefix, slug = ctx.target.prefix, notice.slug
    manifest_etag = pub.etags.get(layout.record_key(prefix, slug, "manifest.json"))
    etags = {name: pub.etags.get(layout.latest_key(prefix, slug, name)) for name in TRACKED}
    if manifest_etag is None or result.edition is None or any(e is None for e in etags.values()):
        return None  # not every object was seen: the next run takes the full path for this school
    return SchoolState(
        edition=result.edition,
        input_hash=inputs,
        manifest_etag=manifest_etag,
        content_hash=result.content_hash,
        presentation_hash=presentation_hash,
        fingerprint=fingerprint(ctx, notice),
        etags={k: v for k, v in etags.items() if v is not None},
    )


def save_state(pub: Publisher, prefix: str, known: Known, results: Sequence[SchoolResult]) -> bool:
    """Merge this run's entries into the state and write it if it changed (or is getting old).

    Returns True if written. Never raises: without a state the next run is only slower.
    """
    current = known
    for _ in range(3):
        schools = dict(current.state.schools)
        for result in results:
            if result.state is not None:
                schools[result.slug] = result.state
            elif result.status is not Status.HELD:  # its objects changed and were not all seen: no entry
                schools.pop(result.slug, None)
        if schools == current.state.schools and current.etag and current.age_s < REFRESH_DAYS * 86400:
            return False
        body = PublishState(schools=schools).model_dump_json().encode()
        try:
            pub.put(
                state_key(prefix),
                body,
                content_type="application/json; charset=utf-8",
                cache_control="no-store",
                if_match=current.etag,
                if_none_match=current.etag is None,
            )
            return True
        except PreconditionFailed:
            current = read_state(pub, prefix)  # another run wrote it: merge over theirs
        except Exception as exc:  # best effort, as the docstring says
            log.warning("publish state not saved (%s): the next run checks every school in full", exc)
            return False
    return False
