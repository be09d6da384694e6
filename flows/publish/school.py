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

from markupsafe import Markup

from flows.editions.records import Edition, LatestRecord, Manifest, decide_outcome, next_number
from flows.config.models import Notice
from flows.pdf.weasy import PdfWorkerDied
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.describe import describe_edition
from flows.publish.context import Approval, RunContext, Upload
from flows.publish.results import SchoolResult, Status
from flows.publish.moves import Home, copy_history, mark_moved, record_home, refuse_move, source_manifest
from flows.publish.pages import mint_feed_id, record_uploads, render_changes_page
from flows.publish.state import fingerprint, input_hash, school_state
from flows.publish.results import SchoolState
from flows.publish.slots import Draft, edition_pdf, lazy_pdfs, render_draft, render_files, with_pdfs, write_edition
from flows.publish.writer import file_record, read_manifest, write_if_changed, write_manifest
from flows.notice.render import EditionStamp
from flows.editions.approval import needs_approval

NO_APPROVER_NOTE = "published without an approver: the trust's approval.approve_first_editions is false (onboarding)"

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
    """Unchanged, on the publish state's word (confirmed by the server's ETags): no request."""
    result = _result(pub, ctx, notice, known.content_hash, Status.UNCHANGED)
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
        return _new_edition(pub, ctx, notice, manifest, etag, draft, result, final=final, source=source if moved else None)
    assert manifest is not None and manifest.editions
    last = manifest.editions[-1]
    result.edition = last.number
    latest = _latest_uploads(ctx, notice, last.number, last.published_at)
    if outcome == "unchanged":
        lazy = lazy_pdfs(ctx, notice, manifest, last)
        uploads = latest + record_uploads(ctx, manifest, notice.branding.colour)
        result.uploads = write_if_changed(pub, uploads, force=ctx.force, dry_run=ctx.dry_run, lazy=lazy)
        if result.uploads and _made_by_this_run(ctx, last):  # an earlier attempt wrote it; its answer was lost
            _report_edition(result, last)
        elif result.uploads:  # drifted or missing objects were repaired
            result.status, result.change_class = Status.PRESENTATION, "presentation"
        return result
    # Same words, new layout (or a new address): the latest files again, no new number.
    if moved is not None and source is not None and not ctx.dry_run:
        result.uploads += copy_history(pub, ctx, source, moved, notice.slug)
    latest = with_pdfs(
        latest,
        {n: edition_pdf(ctx, notice, last.number, last.published_at, n) if not ctx.dry_run else b"" for n in layout.PDF_FILES},
    )
    record = _latest_record(ctx, notice, draft, last.number, latest)
    updated = manifest.model_copy(update={"latest": record, "presentation_updates": (*manifest.presentation_updates, record)})
    write_manifest(pub, manifest_key, _manifest_bytes(updated), etag, dry_run=ctx.dry_run)
    result.uploads += [
        manifest_key,
        *write_if_changed(pub, latest + record_uploads(ctx, updated, notice.branding.colour), force=True, dry_run=ctx.dry_run),
    ]
    result.status, result.change_class = Status.PRESENTATION, "presentation"
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


def _latest_uploads(ctx: RunContext, notice: Notice, number: int, published_at: str) -> list[Upload]:
    """The latest files stamped with their edition (the PDFs are filled in by the caller: ``with_pdfs``)."""
    stamp = EditionStamp(number, published_at, "latest")
    files = render_files(ctx, notice, stamp)
    prefix = ctx.target.prefix
    return [
        Upload(layout.latest_key(prefix, notice.slug, n), files.get(n, b""), layout.LATEST_CACHE) for n in layout.LATEST_FILES
    ]


def _latest_record(ctx: RunContext, notice: Notice, draft: Draft, number: int, latest: list[Upload]) -> LatestRecord:
    return LatestRecord(
        edition=number,
        presentation_hash=draft.presentation_hash,
        template_version=ctx.template_version,
        dataset_edition=notice.dataset.id,
        updated_at=ctx.timestamp(),
        files={u.key.rsplit("/", 1)[1]: file_record(u) for u in latest},
    )


def _manifest_bytes(manifest: Manifest) -> bytes:
    return (manifest.model_dump_json(indent=2) + "\n").encode("utf-8")


def _continued(pub: Publisher, notice: Notice, source: Home) -> Manifest | None:
    """The history at the URN's previous home, as this school's (None: nothing there to continue)."""
    old, _ = source_manifest(pub, source)
    if old is None or not old.editions or old.urn != notice.school.urn:
        return None
    return old.model_copy(
        update={"slug": notice.slug, "moved_from": (*old.moved_from, layout.join(source.prefix, source.slug)), "moved_to": None}
    )


def _new_edition(
    pub: Publisher,
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    etag: str | None,
    draft: Draft,
    result: SchoolResult,
    *,
    final: bool,
    source: Home | None = None,
) -> SchoolResult:
    """A new edition; ``source``: the previous edition's files are still at the URN's old home."""
    previous = manifest.last_edition() if manifest else None
    old_prefix, old_slug = (source.prefix, source.slug) if source else (ctx.target.prefix, notice.slug)
    redlined: Markup | None = None
    if previous is None:
        result.change_class = "first"
    else:
        described = describe_edition(pub, ctx, draft.files, previous, (old_prefix, old_slug), next_number(manifest))
        result.changes, result.change_class, result.diff = described.changes, described.change_class, described.diff
        redlined = described.redlined
    result.edition = next_number(manifest)
    held, approval = _approval_for(ctx, notice.slug, result)
    if held:
        result.status = Status.HELD
        result.planned = _preview(ctx, notice, draft, result, redlined)
        return result
    result.status = Status.PUBLISHED
    result.approved_by = approval.approver if approval else None
    if result.change_class == "first" and approval is None:
        result.notes = (*result.notes, NO_APPROVER_NOTE)
    if ctx.dry_run:  # what would be written, without the slow PDF
        prefix, number = ctx.target.prefix, result.edition
        result.uploads = [layout.edition_key(prefix, notice.slug, number, n) for n in layout.EDITION_FILES]
        result.uploads += [layout.latest_key(prefix, notice.slug, n) for n in layout.LATEST_FILES]
        result.uploads += [
            layout.record_key(prefix, notice.slug, n) for n in ("history.html", "feed.xml", "latest.json", "manifest.json")
        ]
        return result
    copied = copy_history(pub, ctx, source, manifest, notice.slug) if source is not None and manifest is not None else []
    edition, uploads, written, skipped = write_edition(pub, ctx, notice, manifest, draft, result, redlined, approval, final=final)
    latest = _latest_uploads(ctx, notice, edition.number, edition.published_at)
    latest = with_pdfs(latest, {n: next(u.body for u in uploads if u.key.endswith(f"/{n}")) for n in layout.PDF_FILES})
    base = manifest or Manifest(slug=notice.slug, urn=notice.school.urn, name=notice.school.name)
    new_manifest = base.model_copy(
        update={
            "editions": (*base.editions, edition),
            "latest": _latest_record(ctx, notice, draft, edition.number, latest),
            "name": notice.school.name,
            "urn": notice.school.urn,
            "skipped": (*base.skipped, *skipped),
            "feed_id": base.feed_id
            or mint_feed_id(ctx.trust_website, notice.slug, (base.editions or (edition,))[0].published_at),
        }
    )
    # The manifest before the latest files: a run killed in between leaves latest files that
    # show an edition the manifest lists (the previous one), and the next run finishes the job.
    manifest_key = layout.record_key(ctx.target.prefix, notice.slug, "manifest.json")
    write_manifest(pub, manifest_key, _manifest_bytes(new_manifest), etag)
    result.uploads = [*copied, *written, manifest_key]
    result.uploads += write_if_changed(pub, latest + record_uploads(ctx, new_manifest, notice.branding.colour), force=True)
    result.edition = edition.number
    if skipped:
        result.notes = (
            *result.notes,
            f"edition number(s) {', '.join(map(str, skipped))} skipped: an interrupted run left other files there, kept untouched",
        )
    return result


def _approval_for(ctx: RunContext, slug: str, result: SchoolResult) -> tuple[bool, Approval | None]:
    """(held?, the approval to record): held when approval is needed and none applies to these words."""
    if not needs_approval(result.change_class, ctx.policy):
        return False, None
    if ctx.approval is None:
        return True, None
    if ctx.expected is not None and ctx.expected.get(slug) != result.content_hash:
        result.notes = (*result.notes, "the notice changed again after the approval request: approve the new change")
        return True, None
    return False, ctx.approval


def _preview(ctx: RunContext, notice: Notice, draft: Draft, result: SchoolResult, redlined: Markup | None) -> list[Upload]:
    """The held edition's page and redline, for a private preview (not published)."""
    edition = Edition(
        number=result.edition or 0,
        content_hash=draft.content_hash,
        presentation_hash=draft.presentation_hash,
        dataset_edition=notice.dataset.id,
        template_version=ctx.template_version,
        published_at=ctx.timestamp(),
        change_class=result.change_class or "minor",
        changes=result.changes,
    )
    changes = render_changes_page(
        ctx.env,
        trust_name=ctx.trust_name,
        colour=notice.branding.colour,
        school_name=notice.school.name,
        redline=redlined,
        changes=edition.changes,
        change_class=edition.change_class,
        edition=edition,
        preview=True,
    )
    return [Upload("index.html", draft.files["index.html"], "no-store"), Upload("changes.html", changes, "no-store")]
