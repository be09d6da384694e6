"""The conditional writer: how objects reach the target without ever exposing half a state.

* edition files are created, never replaced (``If-None-Match: *``); a slot that already
  holds the same bytes is adopted, a slot holding other bytes is reported, never touched;
* the latest files and records are written only where a HEAD shows other bytes or headers
  (which also repairs header drift, and compresses or decompresses them when the trust's
  ``publishing.compress`` changes; edition files keep the bytes they were first served as);
* ``manifest.json`` is written conditionally on the ETag the caller read, after the edition
  files and before the latest files (``flows.publish.school``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flows.editions.records import FileRecord, Manifest, sha256_hex
from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError, StoredObject
from flows.publish.context import Upload


def file_record(upload: Upload) -> FileRecord:
    """The manifest's record of one object as we wrote it."""
    return FileRecord(
        sha256=sha256_hex(upload.body),
        size=len(upload.body),
        content_type=upload.content_type,
        cache_control=upload.cache_control,
    )


@dataclass(frozen=True)
class SlotTaken(Exception):
    """An edition file exists with other bytes: that edition number cannot be ours."""

    key: str
    existing: StoredObject

    def __str__(self) -> str:
        return f"{self.key}: holds other bytes (left by an interrupted run or another publisher)"


def create_only(pub: Publisher, upload: Upload, *, dry_run: bool = False) -> bool:
    """Create an immutable object. True if written; False if the same bytes were already there.

    Raises ``SlotTaken`` when different bytes are there: they were served as immutable, so
    they are never replaced.
    """
    if dry_run:
        return True
    try:
        pub.put(upload.key, upload.body, content_type=upload.content_type, cache_control=upload.cache_control, if_none_match=True)
        return True
    except PreconditionFailed:
        pass
    existing = pub.get(upload.key)
    if existing is None:  # deleted between our PUT and GET: never expected; let the caller retry
        raise PreconditionFailed(upload.key)
    if existing.body == upload.body:
        return False
    raise SlotTaken(upload.key, existing)


def write_if_changed(
    pub: Publisher,
    uploads: list[Upload],
    *,
    force: bool = False,
    dry_run: bool = False,
    lazy: dict[str, tuple[FileRecord | None, Callable[[], bytes]]] | None = None,
) -> list[str]:
    """Write each short-cached object whose bytes or headers differ; returns the keys written.

    ``lazy`` maps a key to the record we expect there and a function that makes its bytes:
    the PDF is rendered only when the stored one is missing or has drifted.
    """
    written: list[str] = []
    for upload in uploads:
        head = None if force else pub.head(upload.key)
        expected = (lazy or {}).get(upload.key)
        sha = expected[0].sha256 if expected and expected[0] else (None if expected else sha256_hex(upload.body))
        if (
            head is not None
            and sha
            and head.sha256 == sha
            and head.content_type == upload.content_type
            and head.cache_control == upload.cache_control
            and head.content_encoding == pub.encoding_for(upload.key, upload.content_type)
        ):
            continue
        if not dry_run:
            body = expected[1]() if expected else upload.body
            pub.put(upload.key, body, content_type=upload.content_type, cache_control=upload.cache_control)
        written.append(upload.key)
    return written


def write_manifest(pub: Publisher, key: str, body: bytes, etag: str | None, *, dry_run: bool = False) -> None:
    """Record a school's editions: only if nobody wrote the manifest since we read it."""
    if dry_run:
        return
    pub.put(
        key,
        body,
        content_type=layout.content_type(key),
        cache_control=layout.RECORD_CACHE,
        if_match=etag,
        if_none_match=etag is None,
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
