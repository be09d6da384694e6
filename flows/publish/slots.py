"""A new edition's ``v<N>/`` files: rendered with their stamp, created once, never replaced.

A slot that already holds files no manifest names was left by a run that died (or, without
the trust lock, by a publisher still at work): an orphan with the same words and number is
*adopted* with its original publication time, so this run completes it byte for byte; one
with other bytes is left exactly as it is and the edition takes the next number.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

from markupsafe import Markup

from flows.editions.records import Edition, FileRecord, Manifest, canonical_content, content_hash, next_number, presentation_hash
from flows.config.models import Notice
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.context import Approval, RunContext, Upload
from flows.publish.results import SchoolResult
from flows.publish.office import fragment_css_url
from flows.publish.pages import render_changes_page
from flows.publish.writer import SlotTaken, create_only, file_record
from flows.notice.render import PDF_SOURCES, EditionStamp, print_pdf, print_pdfs, render_notice
from flows.notice.words import words_hash

MAX_SKIPS = 5
ONBOARDING = "first edition published at once: the trust's approval.approve_first_editions is false (onboarding)"
# Without the trust lock, an edition slot filled this recently may belong to a publisher still
# at work; a run holding the lock knows any filled slot was left by a dead run.
YOUNG_S = 30


@dataclass
class Draft:
    """The notice rendered without a stamp: what decides the outcome, and the change notes."""

    files: dict[str, bytes]
    content_hash: str
    presentation_hash: str


def render_files(ctx: RunContext, notice: Notice, stamp: EditionStamp | None = None) -> dict[str, bytes]:
    """The notice's files without the PDF, as published on this target.

    The fragment links the trust's stylesheet at its absolute address on this target, so its
    bytes (and the presentation hash) follow the public base URL, as the state's fingerprint does.
    """
    css = fragment_css_url(ctx.target.public_base_url, ctx.target.prefix)
    return dict(render_notice(ctx.env, notice, ctx.text, pdf=False, stamp=stamp, fragment_css=css).files)


def edition_pdf(ctx: RunContext, notice: Notice, number: int, published_at: str, name: str) -> bytes:
    """One PDF of an edition (``notice.pdf``, ``for-pupils.pdf``): made from its ``v<N>/`` page,
    so a printed copy says it may be replaced; the latest PDFs are copies of these."""
    page = render_files(ctx, notice, EditionStamp(number, published_at, "edition"))[PDF_SOURCES[name]]
    return print_pdf(page.decode("utf-8"), layout.edition_url(ctx.target.public_base_url, ctx.target.prefix, notice.slug, number))


def with_pdfs(uploads: list[Upload], pdfs: dict[str, bytes]) -> list[Upload]:
    """``uploads`` with each PDF's body filled in from ``pdfs`` (by file name)."""
    return [Upload(u.key, pdfs[n], u.cache_control) if (n := u.key.rsplit("/", 1)[1]) in pdfs else u for u in uploads]


def lazy_pdfs(
    ctx: RunContext, notice: Notice, manifest: Manifest, last: Edition
) -> dict[str, tuple[FileRecord | None, Callable[[], bytes]]]:
    """Each latest PDF's key → the record we expect there and how to make it (``write_if_changed``'s
    ``lazy``): a rerun renders a PDF only where the stored one is missing or has drifted."""
    lazy: dict[str, tuple[FileRecord | None, Callable[[], bytes]]] = {}
    for name in layout.PDF_FILES:
        record = manifest.latest.files.get(name) if manifest.latest else None
        make = functools.partial(edition_pdf, ctx, notice, last.number, last.published_at, name)
        lazy[layout.latest_key(ctx.target.prefix, notice.slug, name)] = (record, make)
    return lazy


def render_draft(ctx: RunContext, notice: Notice) -> Draft:
    """Render the notice once, unstamped: its files and the hashes that decide the outcome."""
    files = render_files(ctx, notice)
    chash = content_hash(json.loads(files["notice.json"]), words_hash(files))
    return Draft(files, chash, presentation_hash(files, ctx.renderer))


def write_edition(
    pub: Publisher,
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    draft: Draft,
    result: SchoolResult,
    redlined: Markup | None,
    approval: Approval | None,
    *,
    final: bool,
) -> tuple[Edition, list[Upload], list[str], list[int]]:
    """Create ``v<N>/``; adopt a crashed run's identical edition; skip a slot holding other bytes.

    Returns the edition, its uploads, the keys written and the numbers skipped.
    """
    number, published_at = next_number(manifest), ctx.timestamp()
    skipped: list[int] = []
    for _ in range(MAX_SKIPS * 2):
        edition, uploads = _edition_files(ctx, notice, draft, result, redlined, approval, number, published_at)
        try:
            written = [u.key for u in uploads if create_only(pub, u)]
            return edition, uploads, written, skipped
        except SlotTaken as taken:
            adopt = _adoptable(taken, draft, number)
            if adopt and adopt != published_at:
                published_at = adopt  # the same words, stamped by a run that died: finish its edition
                continue
            if not final and not ctx.exclusive and _young(taken, ctx):
                raise PreconditionFailed(taken.key) from None  # perhaps a publisher still at work: re-read
            skipped.append(number)
            number += 1
            if len(skipped) > MAX_SKIPS:
                break
    raise PublishError(
        f"{notice.slug}: edition numbers {skipped} are all taken by other bytes; inspect v{skipped[0]}/", transient=False
    )


def _adoptable(taken: SlotTaken, draft: Draft, number: int) -> str | None:
    """The publication time of an orphan edition with our content and number, if it is one.

    Only ``notice.json`` is compared here; the slot's other files must then match byte for
    byte (``create_only``), so an orphan with other words elsewhere is never adopted.
    """
    if not taken.key.endswith("/notice.json"):
        return None
    try:
        data = json.loads(taken.existing.body)
        stamp = data.get("edition") or {}
        if canonical_content(data) == canonical_content(json.loads(draft.files["notice.json"])) and stamp.get("number") == number:
            return str(stamp["published_at"])
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return None


def _young(taken: SlotTaken, ctx: RunContext) -> bool:
    """True if the slot's edition was stamped moments ago (its writer may still be at work)."""
    try:
        stamp = json.loads(taken.existing.body).get("edition") or {}
        stamped = dt.datetime.fromisoformat(str(stamp["published_at"]).replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    return (ctx.now() - stamped).total_seconds() < YOUNG_S


def _edition_files(
    ctx: RunContext,
    notice: Notice,
    draft: Draft,
    result: SchoolResult,
    redlined: Markup | None,
    approval: Approval | None,
    number: int,
    published_at: str,
) -> tuple[Edition, list[Upload]]:
    stamp = EditionStamp(number, published_at, "edition")
    files = render_files(ctx, notice, stamp)
    base_url = layout.edition_url(ctx.target.public_base_url, ctx.target.prefix, notice.slug, number)
    files.update(print_pdfs(files, base_url))
    edition = _edition_record(ctx, notice, draft, result, approval, number, published_at)
    files["changes.html"] = changes_page(ctx, notice, edition, redlined)
    # notice.json first: it says which edition a slot holds, so a rival or an orphan is recognised at once.
    order = ("notice.json", *(n for n in layout.EDITION_FILES if n != "notice.json"))
    uploads = [
        Upload(layout.edition_key(ctx.target.prefix, notice.slug, number, n), files[n], layout.IMMUTABLE_CACHE) for n in order
    ]
    edition = edition.model_copy(update={"files": {u.key.rsplit("/", 1)[1]: file_record(u) for u in uploads}})
    return edition, uploads


def changes_page(ctx: RunContext, notice: Notice, edition: Edition, redlined: Markup | None, *, preview: bool = False) -> bytes:
    """An edition's ``changes.html`` (the draft's, for a private preview, with ``preview``)."""
    return render_changes_page(
        ctx.env,
        trust_name=ctx.trust_name,
        colour=notice.branding.colour,
        school_name=notice.school.name,
        redline=redlined,
        changes=edition.changes,
        change_class=edition.change_class,
        edition=edition,
        preview=preview,
    )


def _edition_record(
    ctx: RunContext,
    notice: Notice,
    draft: Draft,
    result: SchoolResult,
    approval: Approval | None,
    number: int,
    published_at: str,
) -> Edition:
    """The manifest's record of edition ``number``, before its files are listed."""
    return Edition(
        number=number,
        content_hash=draft.content_hash,
        presentation_hash=draft.presentation_hash,
        dataset_edition=notice.dataset.id,
        template_version=ctx.template_version,
        published_at=published_at,
        change_class=result.change_class or "first",
        changes=result.changes,
        approved_by=approval.approver if approval else None,
        approval_note=approval.note if approval else None,
        published_without_approval=ONBOARDING if result.change_class == "first" and approval is None else None,
    )
