"""The trust's publish state: how a run that changes nothing costs a handful of requests.

Each school's ``manifest.json`` stays the record of its editions. This is a cache beside
them, one object per trust (``_private/<prefix>/publish-state.json``): for each school, the
ETag of its manifest, the hashes of its current words and layout, and the ETag of every
latest file and record. A run reads it once, LISTs the trust's objects (one request per
1,000), and trusts an entry only where the server still holds exactly those ETags. For such
a school, a draft whose hashes match means there is nothing to do: no request at all.
Anything else (no entry, an object replaced or deleted, other words, another template,
``--force``) takes the full path, which reads the manifest, checks each object and repairs.

The state is written after the batches, only when it changed (conditionally: concurrent
runs merge), or when it is older than ``REFRESH_DAYS`` so that the private prefix's
8-day lifecycle rule never expires a trust's state between weekly runs.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from flows.models import Notice
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher
from flows.publish.context import RunContext, SchoolResult

STATE_FORMAT = "trust-notices/publish-state/1"
REFRESH_DAYS = 3
OBJECTS_PER_SCHOOL = 20  # an estimate (9 latest and record files, 6 per edition) to choose how to LIST
TRACKED = (*layout.LATEST_FILES, "history.html", "feed.xml", "latest.json")
"""Per school, besides the manifest: the objects a rerun that changes nothing would rewrite."""

log = logging.getLogger(__name__)


class SchoolState(BaseModel):
    """What a school's objects held when a run last wrote or checked them."""

    model_config = ConfigDict(frozen=True)

    edition: int
    manifest_etag: str
    content_hash: str
    presentation_hash: str
    fingerprint: str
    etags: dict[str, str]

    def matches(self, content_hash: str, presentation_hash: str, fingerprint: str) -> bool:
        """True if a draft with these hashes, in this run's context, needs nothing written."""
        return (self.content_hash, self.presentation_hash, self.fingerprint) == (content_hash, presentation_hash, fingerprint)


class PublishState(BaseModel):
    """Every school's entry, by slug."""

    model_config = ConfigDict(frozen=True)

    format: str = STATE_FORMAT
    schools: dict[str, SchoolState] = {}


@dataclass
class Known:
    """The state read at the start of a run, and the entries the server's ETags still confirm."""

    state: PublishState = field(default_factory=PublishState)
    etag: str | None = None
    age_s: float = 0.0
    trusted: dict[str, SchoolState] = field(default_factory=dict)


def state_key(prefix: str) -> str:
    """Where a trust's publish state lives (private: never served)."""
    return layout.private_key(prefix, "publish-state.json")


def fingerprint(ctx: RunContext, notice: Notice) -> str:
    """What the records around a notice depend on besides its manifest (trust, templates, site)."""
    parts = (ctx.template_version, ctx.renderer, ctx.trust_name, ctx.trust_website, ctx.target.public_base_url, notice.branding.colour)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def read_known(pub: Publisher, prefix: str, slugs: Sequence[str]) -> Known:
    """Read the state, then confirm each selected school's entry against the server's ETags."""
    stored = pub.get(state_key(prefix))
    if stored is None:
        return Known()
    try:
        state = PublishState.model_validate_json(stored.body)
    except ValueError:
        log.warning("%s is unreadable: every school takes the full path, and the state is written again", state_key(prefix))
        return Known(etag=stored.etag)
    known = Known(state, stored.etag, time.time() - stored.last_modified_epoch)
    wanted = [s for s in slugs if s in state.schools]
    if not wanted or state.format != STATE_FORMAT:
        return known
    # One LIST page holds 1,000 keys: a rerun of a few schools lists their folders, a big run the trust's.
    trust_pages = math.ceil(len(state.schools) * OBJECTS_PER_SCHOOL / 1000)
    folders = [layout.school_dir(prefix, s) + "/" for s in wanted] if len(wanted) < trust_pages else [_trust_folder(prefix)]
    etags = {head.key: head.etag for folder in folders for head in pub.list(folder)}
    for slug in wanted:
        entry = state.schools[slug]
        if etags.get(layout.record_key(prefix, slug, "manifest.json")) == entry.manifest_etag and all(
            etags.get(layout.latest_key(prefix, slug, name)) == etag for name, etag in entry.etags.items()
        ) and set(entry.etags) == set(TRACKED):
            known.trusted[slug] = entry
    return known


def _trust_folder(prefix: str) -> str:
    return prefix + "/" if prefix else ""


def school_state(pub: Publisher, ctx: RunContext, notice: Notice, result: SchoolResult, presentation_hash: str) -> SchoolState | None:
    """The entry for a school just published or checked, from the ETags this publisher saw."""
    prefix, slug = ctx.target.prefix, notice.slug
    manifest_etag = pub.etags.get(layout.record_key(prefix, slug, "manifest.json"))
    etags = {name: pub.etags.get(layout.latest_key(prefix, slug, name)) for name in TRACKED}
    if manifest_etag is None or result.edition is None or any(e is None for e in etags.values()):
        return None  # not every object was seen: the next run takes the full path for this school
    return SchoolState(
        edition=result.edition, manifest_etag=manifest_etag, content_hash=result.content_hash,
        presentation_hash=presentation_hash, fingerprint=fingerprint(ctx, notice),
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
            elif result.status != "held":  # its objects changed and were not all seen: no entry
                schools.pop(result.slug, None)
        if schools == current.state.schools and current.etag and current.age_s < REFRESH_DAYS * 86400:
            return False
        body = PublishState(schools=schools).model_dump_json().encode()
        try:
            pub.put(
                state_key(prefix), body, content_type="application/json; charset=utf-8", cache_control="no-store",
                if_match=current.etag, if_none_match=current.etag is None,
            )
            return True
        except PreconditionFailed:
            current = read_known(pub, prefix, [])  # another run wrote it: merge over theirs
        except Exception as exc:  # best effort, as the docstring says
            log.warning("publish state not saved (%s): the next run checks every school in full", exc)
            return False
    return False
