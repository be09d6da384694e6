"""A school's new edition: described against the last one, held without its approval, else
written in the safe order (``flows.publish.school``'s steps 1-3)."""

from __future__ import annotations

from markupsafe import Markup

from flows.config.models import Notice
from flows.editions.approval import needs_approval
from flows.editions.records import Edition, Manifest, next_number
from flows.publish import layout
from flows.publish.base import Publisher
from flows.publish.context import Approval, RunContext, Upload
from flows.publish.describe import describe_edition
from flows.publish.latest_files import latest_record, latest_uploads, manifest_bytes
from flows.publish.log_entries import logged
from flows.publish.moves import Home, copy_history
from flows.publish.pages import mint_feed_id, record_uploads
from flows.publish.results import SchoolResult, Status
from flows.publish.slots import Draft, changes_page, with_pdfs, write_edition
from flows.publish.writer import write_if_changed, write_manifest

NO_APPROVER_NOTE = "published without an approver: the trust's approval.approve_first_editions is false (onboarding)"


def new_edition(
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
    redlined = _describe(pub, ctx, notice, manifest, draft, result, source)
    held, approval = approval_for(ctx, notice.slug, result)
    if held:
        result.status = Status.HELD
        result.planned = preview(ctx, notice, draft, result, redlined)
        result.log_entries = logged(ctx.trust_id, manifest)  # its earlier editions stay logged, or get logged
        return result
    result.status = Status.PUBLISHED
    result.approved_by = approval.approver if approval else None
    if result.change_class == "first" and approval is None:
        result.notes = (*result.notes, NO_APPROVER_NOTE)
    if ctx.dry_run:  # what would be written, without the slow PDF
        result.uploads = _planned_keys(ctx, notice.slug, result.edition or 0)
        return result
    return _write(pub, ctx, notice, manifest, etag, draft, result, redlined, approval, final=final, source=source)


def _write(
    pub: Publisher,
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    etag: str | None,
    draft: Draft,
    result: SchoolResult,
    redlined: Markup | None,
    approval: Approval | None,
    *,
    final: bool,
    source: Home | None,
) -> SchoolResult:
    """The edition's files, then the manifest that records it, then the latest files."""
    copied = copy_history(pub, ctx, source, manifest, notice.slug) if source is not None and manifest is not None else []
    edition, uploads, written, skipped = write_edition(pub, ctx, notice, manifest, draft, result, redlined, approval, final=final)
    latest = latest_uploads(ctx, notice, edition.number, edition.published_at)
    latest = with_pdfs(latest, {n: next(u.body for u in uploads if u.key.endswith(f"/{n}")) for n in layout.PDF_FILES})
    new_manifest = _recorded(ctx, notice, manifest, draft, edition, latest, skipped)
    # The manifest before the latest files: a run killed in between leaves latest files that
    # show an edition the manifest lists (the previous one), and the next run finishes the job.
    manifest_key = layout.record_key(ctx.target.prefix, notice.slug, "manifest.json")
    write_manifest(pub, manifest_key, manifest_bytes(new_manifest), etag)
    result.uploads = [*copied, *written, manifest_key]
    result.uploads += write_if_changed(pub, latest + record_uploads(ctx, new_manifest, notice.branding.colour), force=True)
    result.edition = edition.number
    result.log_entries = logged(ctx.trust_id, new_manifest)
    if skipped:
        result.notes = (
            *result.notes,
            f"edition number(s) {', '.join(map(str, skipped))} skipped: an interrupted run left other files there, kept untouched",
        )
    return result


def _describe(
    pub: Publisher,
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    draft: Draft,
    result: SchoolResult,
    source: Home | None,
) -> Markup | None:
    """Class the change against the last edition (at the old home, for a move) into ``result``;
    the redline, if there was a last edition."""
    previous = manifest.last_edition() if manifest else None
    result.edition = next_number(manifest)
    if previous is None:
        result.change_class = "first"
        return None
    old = (source.prefix, source.slug) if source else (ctx.target.prefix, notice.slug)
    described = describe_edition(pub, ctx, draft.files, previous, old, next_number(manifest))
    result.changes, result.change_class, result.diff = described.changes, described.change_class, described.diff
    return described.redlined


def _planned_keys(ctx: RunContext, slug: str, number: int) -> list[str]:
    """The keys a new edition would write (a dry run's report)."""
    prefix = ctx.target.prefix
    keys = [layout.edition_key(prefix, slug, number, n) for n in layout.EDITION_FILES]
    keys += [layout.latest_key(prefix, slug, n) for n in layout.LATEST_FILES]
    return keys + [layout.record_key(prefix, slug, n) for n in ("history.html", "feed.xml", "latest.json", "manifest.json")]


def _recorded(
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    draft: Draft,
    edition: Edition,
    latest: list[Upload],
    skipped: list[int],
) -> Manifest:
    """The manifest with the new edition, its latest files and any skipped numbers recorded."""
    base = manifest or Manifest(slug=notice.slug, urn=notice.school.urn, name=notice.school.name)
    first_published = (base.editions or (edition,))[0].published_at
    return base.model_copy(
        update={
            "editions": (*base.editions, edition),
            "latest": latest_record(ctx, notice, draft, edition.number, latest),
            "name": notice.school.name,
            "urn": notice.school.urn,
            "skipped": (*base.skipped, *skipped),
            "feed_id": base.feed_id or mint_feed_id(ctx.trust_website, notice.slug, first_published),
        }
    )


def approval_for(ctx: RunContext, slug: str, result: SchoolResult) -> tuple[bool, Approval | None]:
    """(held?, the approval to record): held when approval is needed and none applies to these words."""
    if not needs_approval(result.change_class, ctx.policy):
        return False, None
    if ctx.approval is None:
        return True, None
    if ctx.expected is not None and ctx.expected.get(slug) != result.content_hash:
        result.notes = (*result.notes, "the notice changed again after the approval request: approve the new change")
        return True, None
    return False, ctx.approval


def preview(ctx: RunContext, notice: Notice, draft: Draft, result: SchoolResult, redlined: Markup | None) -> list[Upload]:
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
    changes = changes_page(ctx, notice, edition, redlined, preview=True)
    return [Upload("index.html", draft.files["index.html"], "no-store"), Upload("changes.html", changes, "no-store")]
