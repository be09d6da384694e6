"""A school's latest files and the manifest's record of them: shared by a new edition and a
presentation update (``flows.publish.school``, ``flows.publish.new_edition``)."""

from __future__ import annotations

from flows.config.models import Notice
from flows.editions.records import LatestRecord, Manifest
from flows.notice.render import EditionStamp
from flows.publish import layout
from flows.publish.context import RunContext, Upload
from flows.publish.slots import Draft, render_files
from flows.publish.writer import file_record


def latest_uploads(ctx: RunContext, notice: Notice, number: int, published_at: str) -> list[Upload]:
    """The latest files stamped with their edition (the PDFs are filled in by the caller: ``with_pdfs``)."""
    stamp = EditionStamp(number, published_at, "latest")
    files = render_files(ctx, notice, stamp)
    prefix = ctx.target.prefix
    return [
        Upload(layout.latest_key(prefix, notice.slug, n), files.get(n, b""), layout.LATEST_CACHE) for n in layout.LATEST_FILES
    ]


def latest_record(ctx: RunContext, notice: Notice, draft: Draft, number: int, latest: list[Upload]) -> LatestRecord:
    """The manifest's record of the latest files just rendered for edition ``number``."""
    return LatestRecord(
        edition=number,
        presentation_hash=draft.presentation_hash,
        template_version=ctx.template_version,
        dataset_edition=notice.dataset.id,
        updated_at=ctx.timestamp(),
        files={u.key.rsplit("/", 1)[1]: file_record(u) for u in latest},
    )


def manifest_bytes(manifest: Manifest) -> bytes:
    """``manifest.json`` as written: indented, one trailing newline."""
    return (manifest.model_dump_json(indent=2) + "\n").encode("utf-8")
