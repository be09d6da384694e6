"""The publish stage: one school's notice → editions and objects on the target.

For each school the run reads ``manifest.json`` back from the target (the only state), works
out the outcome (new edition, presentation update, unchanged), and writes in an order that
never exposes a half-published state:

1. the new edition's immutable ``v<N>/`` files, create-only (``If-None-Match: *``);
2. the latest files, history, feed and ``latest.json`` — each only if its bytes or headers
   differ from what is there (a HEAD tells), which also repairs header drift;
3. ``manifest.json`` last, conditional on the ETag read at the start (``If-Match``), or
   create-only for a first edition.

A writer that loses a condition re-reads the manifest and starts again; nothing is ever
overwritten blindly, and no edition is ever replaced or deleted.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment
from markupsafe import Markup

from flows import __version__
from flows.diff import describe_changes, redline, unified_diff
from flows.editions import (
    Edition,
    FileRecord,
    LatestRecord,
    Manifest,
    content_hash,
    decide_outcome,
    next_number,
    presentation_hash,
    sha256_hex,
    template_version,
)
from flows.models import Notice, PublishingTarget, TrustFile
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.render import DatasetText, page_style, render_notice, render_pdf

Status = Literal["published", "unchanged", "presentation", "failed"]
MAX_ATTEMPTS = 5
ORPHAN_AGE_S = 600  # an edition file this old that no manifest names was left by a crashed run

CHANGE_LABELS = {
    "first": "First edition.",
    "material": "Material change: who receives pupil information, why, or who is responsible changed.",
    "minor": "Wording change.",
    "presentation": "Layout change only.",
}


@dataclass(frozen=True)
class Target:
    """Where a run publishes, after trust file, environment and command-line flags."""

    bucket: str
    prefix: str
    public_base_url: str
    endpoint_url: str | None
    region: str | None
    embedded: bool

    def describe(self) -> str:
        """One line for the person running it."""
        where = "the embedded S3" if self.embedded else (self.endpoint_url or "AWS S3")
        return f"publishing to {where}, bucket {self.bucket}, prefix {self.prefix or '(root)'}: {self.public_base_url}"


def resolve_target(configured: PublishingTarget, flags: dict[str, str | None], embedded_endpoint: str | None) -> Target:
    """Merge the trust file's publishing section with $NOTICES_* variables and flags (flags win)."""

    def pick(name: str, env: str) -> str | None:
        return flags.get(name) or os.environ.get(env) or getattr(configured, name)

    endpoint = pick("endpoint_url", "NOTICES_S3_ENDPOINT")
    bucket = pick("bucket", "NOTICES_S3_BUCKET") or "trust-notices"
    prefix = (pick("prefix", "NOTICES_S3_PREFIX") or "").strip("/")
    region = pick("region", "NOTICES_S3_REGION")
    embedded = endpoint is None
    if embedded:
        endpoint = embedded_endpoint
    base = pick("public_base_url", "NOTICES_PUBLIC_BASE_URL")
    if not base:
        base = f"{endpoint}/{bucket}/" if endpoint else f"https://{bucket}.s3.amazonaws.com/"
    return Target(bucket, prefix, base.rstrip("/") + "/", endpoint, region, embedded)


@dataclass
class RunContext:
    """What every school of a run shares: templates, dataset text, versions, clock, options."""

    env: Environment
    text: DatasetText
    target: Target
    trust_name: str
    template_version: str
    renderer: str
    dry_run: bool = False
    force: bool = False
    approved_by: str | None = None
    approval_note: str | None = None
    trust_colour: str = "#1d4f91"
    now: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    def timestamp(self) -> str:
        """Now, as an RFC 3339 UTC time to the second."""
        return self.now().astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def make_context(env: Environment, text: DatasetText, target: Target, trust: TrustFile, templates_dir: Path, **options: Any) -> RunContext:
    """Build the run context once per run."""
    import weasyprint

    return RunContext(
        env=env,
        text=text,
        target=target,
        trust_name=trust.name,
        template_version=template_version(templates_dir, __version__),
        renderer=f"weasyprint {weasyprint.__version__}",
        trust_colour=trust.defaults.branding.colour if trust.defaults.branding else "#1d4f91",
        **options,
    )


def default_approver() -> str:
    """The person running the command, as the OS knows them."""
    try:
        return getpass.getuser()
    except Exception:  # no user database entry (containers)
        return os.environ.get("USER", "unknown")


@dataclass
class SchoolResult:
    """What happened to one school."""

    slug: str
    status: Status
    edition: int | None = None
    url: str | None = None
    change_class: str | None = None
    changes: tuple[str, ...] = ()
    error: str | None = None
    uploads: list[str] = field(default_factory=list)
    name: str = ""
    urn: str = ""
    diff: str = ""
    retryable: bool = True
    planned: list[Upload] = field(default_factory=list, repr=False)
    """On a dry run: the edition files that would be written (bodies included), for previews."""

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `notices publish --json`."""
        return {
            "slug": self.slug,
            "status": self.status,
            "edition": self.edition,
            "url": self.url,
            "change_class": self.change_class,
            "changes": list(self.changes),
            "error": self.error,
            "uploads": len(self.uploads),
        }


@dataclass(frozen=True)
class Upload:
    """One object to write."""

    key: str
    body: bytes
    cache_control: str

    @property
    def content_type(self) -> str:
        return layout.content_type(self.key)


def publish_school(pub: Publisher, ctx: RunContext, notice: Notice) -> SchoolResult:
    """Publish one school; a conflicting writer makes it re-read and retry, never overwrite."""
    last_conflict = ""
    for attempt in range(MAX_ATTEMPTS):
        try:
            return _publish_once(pub, ctx, notice)
        except PreconditionFailed as conflict:
            last_conflict = conflict.key
            pub.counts.retried += 1
            time.sleep(min(0.2 * 2**attempt, 2.0))
        except PublishError as exc:
            return SchoolResult(
                notice.slug, "failed", error=str(exc), name=notice.school.name, urn=notice.school.urn, retryable=exc.transient
            )
    return SchoolResult(
        notice.slug,
        "failed",
        error=f"gave up after {MAX_ATTEMPTS} attempts: {last_conflict} kept changing under us (another publisher running?)",
        name=notice.school.name,
        urn=notice.school.urn,
    )


def read_manifest(pub: Publisher, key: str) -> tuple[Manifest | None, str | None]:
    """A school's manifest and its ETag, or (None, None) before its first edition."""
    stored = pub.get(key)
    if stored is None:
        return None, None
    try:
        return Manifest.model_validate_json(stored.body), stored.etag
    except ValueError as exc:
        # Never overwrite a manifest we cannot read: it is the record of every edition.
        raise PublishError(
            f"{key}: cannot read the manifest ({str(exc).splitlines()[0]}); fix or restore it from a previous version",
            transient=False,
        ) from exc


def _publish_once(pub: Publisher, ctx: RunContext, notice: Notice) -> SchoolResult:
    prefix, slug = ctx.target.prefix, notice.slug
    manifest_key = layout.record_key(prefix, slug, "manifest.json")
    manifest, etag = read_manifest(pub, manifest_key)
    files = dict(render_notice(ctx.env, notice, ctx.text, pdf=False).files)
    data = json.loads(files["notice.json"])
    chash = content_hash(data)
    phash = presentation_hash(files, ctx.renderer)
    outcome = decide_outcome(manifest, chash, phash)
    now = ctx.timestamp()
    result = SchoolResult(slug, "unchanged", name=notice.school.name, urn=notice.school.urn)
    uploads: list[Upload] = []
    new_manifest = manifest
    if outcome == "unchanged" and manifest is not None and manifest.latest is not None:
        edition = manifest.last_edition()
        result.edition = edition.number if edition else None
        latest_files = _latest_uploads(prefix, slug, files, manifest.latest.files.get("notice.pdf"), ctx)
    else:
        # A dry run never uploads, so it skips the slow PDF (an empty placeholder stands in).
        files["notice.pdf"] = b"" if ctx.dry_run else render_pdf(files["index.html"].decode("utf-8"))
        latest_files = [Upload(layout.latest_key(prefix, slug, n), files[n], layout.LATEST_CACHE) for n in layout.LATEST_FILES]
        latest = LatestRecord(
            edition=0,
            presentation_hash=phash,
            template_version=ctx.template_version,
            dataset_edition=notice.dataset.id,
            updated_at=now,
            files={u.key.rsplit("/", 1)[1]: _record(u) for u in latest_files},
        )
        base = manifest or Manifest(slug=slug, urn=notice.school.urn, name=notice.school.name)
        if outcome == "new":
            edition, edition_uploads, diff_text = _new_edition(pub, ctx, notice, manifest, files, chash, phash, now)
            uploads += edition_uploads
            new_manifest = base.model_copy(
                update={
                    "editions": (*base.editions, edition),
                    "latest": latest.model_copy(update={"edition": edition.number}),
                    "name": notice.school.name,
                    "urn": notice.school.urn,
                }
            )
            result.status, result.change_class, result.changes, result.diff = "published", edition.change_class, edition.changes, diff_text
        else:  # same words, new presentation (or --force on an unchanged notice)
            edition = base.last_edition()
            assert edition is not None
            record = latest.model_copy(update={"edition": edition.number})
            new_manifest = base.model_copy(
                update={"latest": record, "presentation_updates": (*base.presentation_updates, record)}
            )
            result.status, result.change_class = "presentation", "presentation"
        result.edition = edition.number
    uploads += latest_files
    assert new_manifest is not None
    uploads += _record_uploads(ctx, new_manifest, notice.branding.colour)
    result.url = pub.url(layout.latest_key(prefix, slug, "index.html"))
    written = _write(pub, ctx, uploads, force=ctx.force)
    if ctx.dry_run:
        result.planned = [u for u in uploads if u.cache_control == layout.IMMUTABLE_CACHE]
    if new_manifest is not manifest:
        body = (new_manifest.model_dump_json(indent=2) + "\n").encode("utf-8")
        if not ctx.dry_run:
            pub.put(
                manifest_key,
                body,
                content_type=layout.content_type(manifest_key),
                cache_control=layout.RECORD_CACHE,
                if_match=etag,
                if_none_match=etag is None,
            )
        written.append(manifest_key)
    result.uploads = written
    if outcome == "unchanged" and written and result.status == "unchanged":
        result.status = "presentation"  # drifted or missing objects were repaired
        result.change_class = "presentation"
    return result


def _record(upload: Upload) -> FileRecord:
    return FileRecord(
        sha256=sha256_hex(upload.body),
        size=len(upload.body),
        content_type=upload.content_type,
        cache_control=upload.cache_control,
    )


def _latest_uploads(prefix: str, slug: str, files: dict[str, bytes], pdf: FileRecord | None, ctx: RunContext) -> list[Upload]:
    # Unchanged notice: the PDF is only rendered again if the stored one is missing or drifted.
    uploads = [Upload(layout.latest_key(prefix, slug, n), files[n], layout.LATEST_CACHE) for n in layout.LATEST_FILES if n != "notice.pdf"]
    uploads.append(_LazyPdf(layout.latest_key(prefix, slug, "notice.pdf"), b"", layout.LATEST_CACHE, files["index.html"], pdf))
    return uploads


@dataclass(frozen=True)
class _LazyPdf(Upload):
    """The latest PDF, rendered only when the stored copy does not match the expected one."""

    html: bytes = b""
    expected: FileRecord | None = None

    def render(self) -> Upload:
        return Upload(self.key, render_pdf(self.html.decode("utf-8")), self.cache_control)


def _new_edition(
    pub: Publisher,
    ctx: RunContext,
    notice: Notice,
    manifest: Manifest | None,
    files: dict[str, bytes],
    chash: str,
    phash: str,
    now: str,
) -> tuple[Edition, list[Upload], str]:
    prefix, slug = ctx.target.prefix, notice.slug
    number = next_number(manifest)
    previous = manifest.last_edition() if manifest else None
    if previous is None:
        changes: tuple[str, ...] = ()
        change_class = "first"
        diff_text = ""
        redlined: Markup | None = None
    else:
        old = {n: _get_required(pub, layout.edition_key(prefix, slug, previous.number, n)) for n in ("notice.json", "notice.md", "fragment.html")}
        changes, change_class = describe_changes(json.loads(old["notice.json"]), json.loads(files["notice.json"]))
        if not changes:
            changes = ("Wording changed",)  # content hash differs in a field no note covers
        diff_text = unified_diff(
            old["notice.md"].decode("utf-8"), files["notice.md"].decode("utf-8"), f"v{previous.number}/notice.md", f"v{number}/notice.md"
        )
        redlined = redline(old["fragment.html"].decode("utf-8"), files["fragment.html"].decode("utf-8"))
    needs_approval = change_class == "material"
    edition = Edition(
        number=number,
        content_hash=chash,
        presentation_hash=phash,
        dataset_edition=notice.dataset.id,
        template_version=ctx.template_version,
        published_at=now,
        change_class=change_class,
        changes=changes,
        approved_by=ctx.approved_by if needs_approval else None,
        approval_note=ctx.approval_note if needs_approval else None,
    )
    files = dict(files)
    files["changes.html"] = render_page(
        ctx,
        "changes.html.j2",
        notice.branding.colour,
        edition=edition,
        school_name=notice.school.name,
        redline=redlined,
    )
    uploads = [Upload(layout.edition_key(prefix, slug, number, n), files[n], layout.IMMUTABLE_CACHE) for n in layout.EDITION_FILES]
    edition = edition.model_copy(update={"files": {n: _record(u) for n, u in zip(layout.EDITION_FILES, uploads, strict=True)}})
    return edition, uploads, diff_text


def _get_required(pub: Publisher, key: str) -> bytes:
    stored = pub.get(key)
    if stored is None:
        raise PublishError(
            f"{key}: the previous edition's file is missing from the target; it is needed to describe the changes",
            transient=False,
        )
    return stored.body


def render_page(ctx: RunContext, template: str, colour: str, **values: Any) -> bytes:
    """Render one of the pages around a notice (history, changes, index, error)."""
    style, csp = page_style(ctx.env, colour)
    html = ctx.env.get_template(template).render(
        style=Markup(style), csp=csp, trust_name=ctx.trust_name, change_label=CHANGE_LABELS, **values
    )
    return html.encode("utf-8")


def _record_uploads(ctx: RunContext, manifest: Manifest, colour: str) -> list[Upload]:
    prefix, slug = ctx.target.prefix, manifest.slug
    if not manifest.editions:
        return []
    base_url = ctx.target.public_base_url + layout.school_dir(prefix, slug) + "/"
    history = render_page(ctx, "history.html.j2", colour, manifest=manifest)
    feed = ctx.env.get_template("feed.xml.j2").render(
        manifest=manifest, base_url=base_url, trust_name=ctx.trust_name, change_label=CHANGE_LABELS
    )
    last = manifest.editions[-1]
    latest = {
        "slug": slug,
        "name": manifest.name,
        "urn": manifest.urn,
        "edition": last.number,
        "content_hash": last.content_hash,
        "change_class": last.change_class,
        "published_at": last.published_at,
        "dataset_edition": last.dataset_edition,
        "urls": {
            "page": base_url + "index.html",
            "fragment": base_url + "fragment.html",
            "json": base_url + "notice.json",
            "markdown": base_url + "notice.md",
            "pdf": base_url + "notice.pdf",
            "edition": base_url + f"v{last.number}/index.html",
            "changes": base_url + f"v{last.number}/changes.html",
            "history": base_url + "history.html",
            "feed": base_url + "feed.xml",
        },
    }
    return [
        Upload(layout.record_key(prefix, slug, "history.html"), history, layout.LATEST_CACHE),
        Upload(layout.record_key(prefix, slug, "feed.xml"), feed.encode("utf-8"), layout.LATEST_CACHE),
        Upload(layout.record_key(prefix, slug, "latest.json"), (json.dumps(latest, indent=2) + "\n").encode(), layout.RECORD_CACHE),
    ]


def _write(pub: Publisher, ctx: RunContext, uploads: list[Upload], *, force: bool) -> list[str]:
    """Write what differs from the target; returns the keys written (or, on a dry run, to write)."""
    written: list[str] = []
    for upload in uploads:
        immutable = upload.cache_control == layout.IMMUTABLE_CACHE
        if immutable:
            if _write_immutable(pub, ctx, upload):
                written.append(upload.key)
            continue
        head = pub.head(upload.key)
        if isinstance(upload, _LazyPdf):
            expected = upload.expected
            if (
                not force
                and head is not None
                and expected is not None
                and head.sha256 == expected.sha256
                and head.content_type == expected.content_type
                and head.cache_control == upload.cache_control
            ):
                continue
            if ctx.dry_run:
                written.append(upload.key)
                continue
            upload = upload.render()
        elif (
            not force
            and head is not None
            and head.sha256 == sha256_hex(upload.body)
            and head.content_type == upload.content_type
            and head.cache_control == upload.cache_control
        ):
            continue
        if not ctx.dry_run:
            pub.put(upload.key, upload.body, content_type=upload.content_type, cache_control=upload.cache_control)
        written.append(upload.key)
    return written


def _write_immutable(pub: Publisher, ctx: RunContext, upload: Upload) -> bool:
    """Create an edition file; never replace one. Returns True if it was (or would be) written."""
    if ctx.dry_run:
        return True
    try:
        pub.put(upload.key, upload.body, content_type=upload.content_type, cache_control=upload.cache_control, if_none_match=True)
        return True
    except PreconditionFailed:
        pass
    existing = pub.get(upload.key)
    if existing is not None and existing.body == upload.body:
        return False  # written by an earlier, interrupted run (or a twin writer): same bytes
    head = pub.head(upload.key)
    if head is None:
        raise PreconditionFailed(upload.key)
    if time.time() - head.last_modified_epoch < ORPHAN_AGE_S:
        # Another publisher is mid-way through this edition number: re-read and retry.
        raise PreconditionFailed(upload.key)
    # Old, and no manifest names it (we read the manifest this attempt and it ends before
    # this number): left by a crashed run. Replace it only if it is still that object;
    # bucket versioning keeps its bytes.
    pub.put(upload.key, upload.body, content_type=upload.content_type, cache_control=upload.cache_control, if_match=head.etag)
    return True


@dataclass
class RunResult:
    """A whole run: one result per school plus the requests it cost."""

    target: Target
    schools: list[SchoolResult]
    requests: dict[str, int]
    root_uploads: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[SchoolResult]:
        """The schools that failed (the run exits 1 if any)."""
        return [s for s in self.schools if s.status == "failed"]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document `notices publish --json` prints."""
        return {
            "target": {"bucket": self.target.bucket, "prefix": self.target.prefix, "base_url": self.target.public_base_url},
            "schools": [s.as_dict() for s in self.schools],
            "requests": self.requests,
        }


def publish_trust(pub: Publisher, ctx: RunContext, notices: tuple[Notice, ...], broken: tuple[str, ...] = ()) -> RunResult:
    """Publish every notice (one failure never stops the others), then the trust's pages."""
    results: list[SchoolResult] = []
    for notice in notices:
        try:
            results.append(publish_school(pub, ctx, notice))
        except Exception as exc:  # a bug or an unexpected server answer: report, carry on
            results.append(SchoolResult(notice.slug, "failed", error=f"{type(exc).__name__}: {exc}", name=notice.school.name))
    for slug in broken:
        results.append(SchoolResult(slug, "failed", error="configuration is invalid (see the errors above)"))
    root: list[str] = []
    try:
        root = publish_root(pub, ctx, [r for r in results if r.status != "failed" and r.edition])
    except (PublishError, PreconditionFailed) as exc:
        results.append(SchoolResult("(trust index)", "failed", error=str(exc)))
    return RunResult(ctx.target, sorted(results, key=lambda r: r.slug), pub.counts.as_dict(), root)


def stage_preview(pub: Publisher, ctx: RunContext, result: SchoolResult, run_id: str) -> str:
    """Upload a dry run's new edition under ``_staging/<run-id>/`` for a DPO to look at first.

    Returns the URL of the staged redline (``changes.html``). Nothing under the school's
    public folder is touched.
    """
    folder = layout.join(ctx.target.prefix, "_staging", run_id, result.slug, layout.NOTICE_DIR)
    for upload in result.planned:
        if not upload.body:  # the PDF placeholder of a dry run
            continue
        key = layout.join(folder, upload.key.rsplit("/", 1)[1])
        pub.put(key, upload.body, content_type=upload.content_type, cache_control="no-cache")
    return pub.url(layout.join(folder, "changes.html"))


def publish_root(pub: Publisher, ctx: RunContext, results: list[SchoolResult]) -> list[str]:
    """Update ``schools.json`` (conditionally) and the trust's index and error pages."""
    prefix = ctx.target.prefix
    key = layout.root_key(prefix, "schools.json")
    for _ in range(MAX_ATTEMPTS):
        stored = pub.get(key)
        listing: dict[str, dict[str, Any]] = {}
        if stored is not None:
            listing = {s["slug"]: s for s in json.loads(stored.body).get("schools", [])}
        before = dict(listing)
        for result in results:
            listing[result.slug] = {"slug": result.slug, "name": result.name, "urn": result.urn, "edition": result.edition, "url": result.url}
        schools = sorted(listing.values(), key=lambda s: s["name"].casefold())
        written: list[str] = []
        if listing != before:
            body = (json.dumps({"schools": schools}, indent=2, ensure_ascii=False) + "\n").encode()
            if not ctx.dry_run:
                try:
                    pub.put(
                        key, body, content_type=layout.content_type(key), cache_control=layout.RECORD_CACHE,
                        if_match=stored.etag if stored else None, if_none_match=stored is None,
                    )
                except PreconditionFailed:
                    continue  # another run updated the listing: merge again
            written.append(key)
        colour = ctx.trust_colour
        # The error page is served for any missing path, so it links to the index absolutely.
        index_href = ctx.target.public_base_url + layout.root_key(prefix, "index.html")
        pages = [
            Upload(layout.root_key(prefix, "index.html"), render_page(ctx, "trust_index.html.j2", colour, schools=schools), layout.LATEST_CACHE),
            Upload(layout.root_key(prefix, "error.html"), render_page(ctx, "error.html.j2", colour, index_href=index_href), layout.LATEST_CACHE),
        ]
        return written + _write(pub, ctx, pages, force=ctx.force)
    raise PreconditionFailed(key)
