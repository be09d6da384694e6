"""One school's notice → editions and objects on the target, in the safe order.

The draft is rendered once. A school the publish state vouches for (``flows.publish.state``)
and whose draft matches it needs nothing more. Otherwise each attempt reads ``manifest.json``
back (the record of editions), decides what to do (``editions.decide_outcome``), then:

1. a new edition's ``v<N>/`` files, create-only; a number whose slot holds other bytes is
   skipped and recorded, never overwritten; a crashed run's identical edition is adopted;
2. ``manifest.json``, conditional on the ETag read at the start: this records the edition;
3. the latest files, history, feed and ``latest.json``, where they differ. They never show
   an edition the manifest does not list; a run killed before them is finished by the next.

A material change (or a minor one, where the trust asks) without a named approver is *held*:
nothing is written, and the result carries a preview for the person who must approve it.
A writer that loses a condition re-reads the manifest and starts again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from flows.config.models import Notice
from flows.editions.records import Edition, Manifest, decide_outcome
from flows.pdf.weasy import PdfWorkerDied
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.context import RunContext
from flows.publish.latest_files import latest_record, latest_uploads, manifest_bytes
from flows.publish.log_entries import logged
from flows.publish.moves import Home, copy_history, mark_moved, record_home, refuse_move, source_manifest
from flows.publish.new_edition import NO_APPROVER_NOTE, new_edition
from flows.publish.pages import record_uploads
from flows.publish.results import SchoolResult, SchoolState, Status
from flows.publish.slots import Draft, edition_pdf, lazy_pdfs, render_draft, with_pdfs
from flows.publish.state import fingerprint, input_hash, school_state
from flows.publish.writer import read_manifest, write_if_changed, write_manifest

MAX_ATTEMPTS = 5


def publish_school(
    pub: Publisher, ctx: RunContext, notice: Notice, known: SchoolState | None = None, homes: Mapping[str, Home] | None = None
) -> SchoolResult:
    """Publish one school; a conflicting writer makes it re-read and retry, never overwrite.

    ``known`` is the school's publish-state entry, already confirmed against the server's
    ETags (``flows.publish.state``): if the draft matches it, nothing is read or written.
    ``homes``: the bucket's URN registry (``flows.publish.moves``; None: not consulted). A
    school whose URN lives at another slug continues that history here; under another
    prefix, only when the run names the move.
    """
    home = homes.get(notice.school.urn) if homes is not None else None
    source = home if home is not None and not home.at(ctx.target.prefix, notice.slug) else None
    if source is not None:
        refused = refuse_move(ctx, notice.school.urn, source)
        if refused:
            return SchoolResult.failure(notice, refused, retryable=False)
        known = None  # a move takes the full path
    result = _publish_school(pub, ctx, notice, known, source)
    if homes is not None and not ctx.dry_run and result.status.live:
        try:
            _settle_home(pub, ctx, notice, result, home, source)
        except (PublishError, PreconditionFailed) as exc:  # published here; the next run finishes the move
            result.notes = (*result.notes, f"the URN registry or the old address was not updated ({exc}); the next run does it")
    return result


def _settle_home(
    pub: Publisher, ctx: RunContext, notice: Notice, result: SchoolResult, home: Home | None, source: Home | None
) -> None:
    """After the new location is complete: the old one says where it went, then the registry moves."""
    if source is not None and result.url:
        result.uploads += mark_moved(pub, ctx, source, notice.school.name, result.url)
        result.notes = (
            *result.notes,
            f"history continued from {layout.join(source.prefix, source.slug) or source.slug}: its editions are here now, and the old address says where the notice went",
        )
    record_home(pub, notice.school.urn, ctx.target.prefix, notice.slug, home)


def _publish_school(
    pub: Publisher, ctx: RunContext, notice: Notice, known: SchoolState | None, source: Home | None
) -> SchoolResult:
    inputs = input_hash(ctx, notice)
    trusted = known is not None and not ctx.force and known.fingerprint == fingerprint(ctx, notice)
    if known is not None and trusted and known.input_hash == inputs:  # the same inputs: the same draft
        return _vouched(pub, ctx, notice, known)
    draft = render_draft(ctx, notice)
    if known is not None and trusted and known.matches(draft.content_hash, draft.presentation_hash, known.fingerprint):
        return _vouched(pub, ctx, notice, known.model_copy(update={"input_hash": inputs}))
    last_conflict = ""
    for attempt in range(MAX_ATTEMPTS):
        try:
            result = _publish_once(pub, ctx, notice, draft, source, final=attempt == MAX_ATTEMPTS - 1)
            if not ctx.dry_run and result.status.live:
                result.state = school_state(pub, ctx, notice, result, draft.presentation_hash, inputs)
            return result
        except PreconditionFailed as conflict:
            last_conflict = conflict.key
            pub.counts.retried += 1
            time.sleep(min(0.2 * 2**attempt, 2.0))
        except PublishError as exc:
            return SchoolResult.failure(notice, str(exc), retryable=exc.transient)
        except PdfWorkerDied as exc:  # nothing of the edition was written yet: another attempt may work
            return SchoolResult.failure(notice, str(exc))
    return SchoolResult.failure(
        notice, f"gave up after {MAX_ATTEMPTS} attempts: {last_conflict} kept changing under us (another publisher running?)"
    )


def _vouched(pub: Publisher, ctx: RunContext, notice: Notice, known: SchoolState) -> SchoolResult:
    return vouched_result(ctx, notice, known)


def vouched_result(ctx: RunContext, notice: Notice, known: SchoolState) -> SchoolResult:
    """Unchanged, on the publish state's word (confirmed by the server's ETags): no request."""
    result = SchoolResult(notice.slug, Status.UNCHANGED, name=notice.school.name, urn=notice.school.urn)
    result.content_hash = known.content_hash
    result.url = layout.school_url(ctx.target.public_base_url, ctx.target.prefix, notice.slug, "index.html")
    result.edition, result.state = known.edition, known
    return result


def _result(pub: Publisher, ctx: RunContext, notice: Notice, chash: str, status: Status) -> SchoolResult:
    result = SchoolResult(notice.slug, status, name=notice.school.name, urn=notice.school.urn, content_hash=chash)
    result.url = layout.school_url(ctx.target.public_base_url, ctx.target.prefix, notice.slug, "index.html")
    return result


def _publish_once(
    pub: Publisher, ctx: RunContext, notice: Notice, draft: Draft, source: Home | None, *, final: bool
) -> SchoolResult:
    manifest_key = layout.record_key(ctx.target.prefix, notice.slug, "manifest.json")
    manifest, etag = read_manifest(pub, manifest_key)
    if manifest is not None and manifest.urn != notice.school.urn:  # a school is its URN: never mix two histories
        raise PublishError(
            f"{manifest_key}: this address holds the history of URN {manifest.urn}, but the school file {notice.slug}.yaml says URN "
            f"{notice.school.urn}: give this school's file another name",
            transient=False,
        )
    result = _result(pub, ctx, notice, draft.content_hash, Status.UNCHANGED)
    moved = _continued(pub, notice, source) if manifest is None and source is not None else None
    manifest = moved or manifest
    outcome = decide_outcome(manifest, draft.content_hash, draft.presentation_hash)
    if moved is not None and outcome == "unchanged":
        outcome = "presentation"  # the same words at the new address: its latest files are still to write
    if outcome == "new":
        return new_edition(pub, ctx, notice, manifest, etag, draft, result, final=final, source=source if moved else None)
    assert manifest is not None and manifest.editions
    result.edition = manifest.editions[-1].number
    if outcome == "unchanged":
        return _checked(pub, ctx, notice, manifest, result)
    if moved is not None and source is not None and not ctx.dry_run:
        result.uploads += copy_history(pub, ctx, source, moved, notice.slug)
    return _presentation(pub, ctx, notice, draft, manifest, etag, result)


def _checked(pub: Publisher, ctx: RunContext, notice: Notice, manifest: Manifest, result: SchoolResult) -> SchoolResult:
    """The same words and layout: the latest files and records rewritten only where they differ."""
    last = manifest.editions[-1]
    latest = latest_uploads(ctx, notice, last.number, last.published_at)
    lazy = lazy_pdfs(ctx, notice, manifest, last)
    uploads = latest + record_uploads(ctx, manifest, notice.branding.colour)
    result.uploads = write_if_changed(pub, uploads, force=ctx.force, dry_run=ctx.dry_run, lazy=lazy)
    result.log_entries = logged(ctx.trust_id, manifest)
    if result.uploads and _made_by_this_run(ctx, last):  # an earlier attempt wrote it; its answer was lost
        _report_edition(result, last)
    elif result.uploads:  # drifted or missing objects were repaired
        result.status, result.change_class = Status.PRESENTATION, "presentation"
    return result


def _presentation(
    pub: Publisher, ctx: RunContext, notice: Notice, draft: Draft, manifest: Manifest, etag: str | None, result: SchoolResult
) -> SchoolResult:
    """Same words, new layout (or a new address): the latest files again, no new number."""
    last = manifest.editions[-1]
    latest = with_pdfs(
        latest_uploads(ctx, notice, last.number, last.published_at),
        {n: edition_pdf(ctx, notice, last.number, last.published_at, n) if not ctx.dry_run else b"" for n in layout.PDF_FILES},
    )
    record = latest_record(ctx, notice, draft, last.number, latest)
    updated = manifest.model_copy(update={"latest": record, "presentation_updates": (*manifest.presentation_updates, record)})
    manifest_key = layout.record_key(ctx.target.prefix, notice.slug, "manifest.json")
    write_manifest(pub, manifest_key, manifest_bytes(updated), etag, dry_run=ctx.dry_run)
    result.uploads += [
        manifest_key,
        *write_if_changed(pub, latest + record_uploads(ctx, updated, notice.branding.colour), force=True, dry_run=ctx.dry_run),
    ]
    result.status, result.change_class = Status.PRESENTATION, "presentation"
    result.log_entries = logged(ctx.trust_id, updated)
    return result


def _made_by_this_run(ctx: RunContext, edition: Edition) -> bool:
    """True if ``edition`` was stamped since this run started: an earlier attempt of this run
    made it (a request whose answer was lost), and this attempt finished its latest files."""
    return bool(ctx.started_at) and edition.published_at >= ctx.started_at


def _report_edition(result: SchoolResult, edition: Edition) -> None:
    """Report the edition this run published, as the attempt that made it would have."""
    result.status, result.change_class, result.changes = Status.PUBLISHED, edition.change_class, edition.changes
    result.approved_by = edition.approved_by
    if edition.published_without_approval:
        result.notes = (*result.notes, NO_APPROVER_NOTE)


def _continued(pub: Publisher, notice: Notice, source: Home) -> Manifest | None:
    """The history at the URN's previous home, as this school's (None: nothing there to continue)."""
    old, _ = source_manifest(pub, source)
    if old is None or not old.editions or old.urn != notice.school.urn:
        return None
    return old.model_copy(
        update={"slug": notice.slug, "moved_from": (*old.moved_from, layout.join(source.prefix, source.slug)), "moved_to": None}
    )
