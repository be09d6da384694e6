"""A school's entries in the trust's transparency log, derived from its manifest (pure).

Every entry is a pure function of ``manifest.json``, so a run can always tell which of a
school's records the log is missing (a run killed after the school but before the log), and
any run makes the same bytes for them. Two kinds (the format is in README "The public log"):

* ``edition``: edition N, the SHA-256 of every file of ``v<N>/``, who approved it, and the
  leaf hash of the same school's previous edition entry (``previous``), which chains a school's
  editions: an entry removed from the log breaks the chain of the next;
* ``latest``: what the short-cached latest files held after a new edition or a presentation
  update, pointing at its edition's entry, so a live latest file can always be matched.

A school is its URN: the chain follows the URN across renames and moves.
"""

from __future__ import annotations

import json
from typing import Any

from flows.editions.records import Edition, LatestRecord, Manifest
from flows.tlog.merkle import leaf_hash

ENTRY_FORMAT = "trust-notices/log-entry/1"


def canonical(record: dict[str, Any]) -> bytes:
    """The entry's bytes: sorted keys, no spaces, UTF-8 (the same on every machine)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_id(entry: bytes) -> str:
    """An entry's RFC 9162 leaf hash, in hex: how entries refer to each other."""
    return leaf_hash(entry).hex()


def school_entries(trust_id: str, manifest: Manifest) -> list[bytes]:
    """Every entry the log must hold for this manifest, oldest first.

    The latest record of each presentation update and the current latest record are both
    listed; a latest record replaced before any run logged it was live only between a crash
    and the next run, and is not in the manifest any more.
    """
    entries: list[bytes] = []
    previous: str | None = None
    ids: dict[int, str] = {}
    skipped = sorted(manifest.skipped)
    last_number = 0
    for edition in manifest.editions:
        gap = [n for n in skipped if last_number < n < edition.number]
        entry = canonical(_edition_record(trust_id, manifest, edition, previous, gap))
        previous = ids[edition.number] = entry_id(entry)
        last_number = edition.number
        entries.append(entry)
    for record in [*manifest.presentation_updates, *([manifest.latest] if manifest.latest else [])]:
        if record.edition in ids and record.files:
            entry = canonical(_latest_record(trust_id, manifest, record, ids[record.edition]))
            if entry not in entries:  # the current record is often the last presentation update
                entries.append(entry)
    return entries


def logged(trust_id: str, manifest: Manifest | None) -> tuple[str, ...]:
    """``school_entries`` as text, for a ``SchoolResult`` (empty for no manifest)."""
    return tuple(e.decode("utf-8") for e in school_entries(trust_id, manifest)) if manifest is not None else ()


def latest_entry_id(trust_id: str, manifest: Manifest) -> str | None:
    """The entry of the latest files as the manifest records them now (None: none recorded)."""
    entries = school_entries(trust_id, manifest)
    if manifest.latest is None or not entries or json.loads(entries[-1])["kind"] != "latest":
        return None
    return entry_id(entries[-1])  # the current latest record is listed last


def _edition_record(trust_id: str, manifest: Manifest, edition: Edition, previous: str | None, gap: list[int]) -> dict[str, Any]:
    return {
        "format": ENTRY_FORMAT,
        "kind": "edition",
        "trust": trust_id,
        "urn": manifest.urn,
        "slug": manifest.slug,
        "edition": edition.number,
        "published_at": edition.published_at,
        "change_class": edition.change_class,
        "files": {name: record.sha256 for name, record in sorted(edition.files.items())},
        "previous": previous,
        "skipped": gap,
        "dataset_edition": edition.dataset_edition,
        "renderer": edition.template_version,
        "approved_by": edition.approved_by,
        "approval_note": edition.approval_note,
        "published_without_approval": edition.published_without_approval,
    }


def _latest_record(trust_id: str, manifest: Manifest, record: LatestRecord, edition_entry: str) -> dict[str, Any]:
    return {
        "format": ENTRY_FORMAT,
        "kind": "latest",
        "trust": trust_id,
        "urn": manifest.urn,
        "slug": manifest.slug,
        "edition": record.edition,
        "updated_at": record.updated_at,
        "files": {name: file.sha256 for name, file in sorted(record.files.items())},
        "edition_entry": edition_entry,
        "dataset_edition": record.dataset_edition,
        "renderer": record.template_version,
    }
