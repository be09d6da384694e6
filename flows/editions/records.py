"""Editions (pure): canonical content, hashes, numbering and what a run must do.

An *edition* is what a school's notice says at one point. Its identity is the hash of the
canonical content: the words and facts of the notice, not how they are laid out and not
when they were rendered. So:

* same content, same presentation → ``unchanged``: nothing is uploaded;
* same content, different presentation (a template or stylesheet changed, or only the
  dataset's edition label moved) → ``presentation``: the latest files are re-uploaded,
  no new edition number;
* different content → ``new``: edition N+1, with change notes against N.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_FORMAT = "trust-notices/manifest/1"
Outcome = Literal["new", "unchanged", "presentation"]
ChangeClass = Literal["first", "material", "minor", "presentation"]


class Record(BaseModel):
    """Base for manifest records: immutable; unknown fields kept for forward compatibility."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class FileRecord(Record):
    """One published object as we wrote it."""

    sha256: str
    size: int
    content_type: str
    cache_control: str


class Edition(Record):
    """One numbered edition of a school's notice."""

    number: int
    content_hash: str
    presentation_hash: str
    dataset_edition: str
    template_version: str
    published_at: str
    change_class: ChangeClass
    changes: tuple[str, ...] = ()
    approved_by: str | None = None
    approval_note: str | None = None
    published_without_approval: str | None = None
    """Why an edition that would need an approver had none (a first edition, onboarding)."""
    files: dict[str, FileRecord] = Field(default_factory=dict)


class LatestRecord(Record):
    """What the short-cached "latest" objects hold now."""

    edition: int
    presentation_hash: str
    template_version: str
    dataset_edition: str
    updated_at: str
    files: dict[str, FileRecord] = Field(default_factory=dict)


class Manifest(Record):
    """The record of a school's editions, stored beside them as ``manifest.json``.

    The pipeline keeps no other state: every run reads this back from the target.
    """

    format: str = MANIFEST_FORMAT
    slug: str
    urn: str
    name: str
    feed_id: str | None = None
    """The Atom feed's ``tag:`` id, minted with the first edition and never changed."""
    editions: tuple[Edition, ...] = ()
    skipped: tuple[int, ...] = ()
    """Edition numbers never used: a crashed run left other bytes there, which stay untouched."""
    latest: LatestRecord | None = None
    presentation_updates: tuple[LatestRecord, ...] = ()
    moved_from: tuple[str, ...] = ()
    """Earlier homes of this history (``<prefix>/<slug>``): a renamed file or a moved prefix."""
    moved_to: str | None = None
    """Set at an old home: the address the notice moved to (its latest files say so)."""

    def last_edition(self) -> Edition | None:
        """The newest edition, or None before the first publish."""
        return self.editions[-1] if self.editions else None

    def edition(self, number: int) -> Edition:
        """Edition ``number``; raises KeyError naming the editions that exist."""
        for edition in self.editions:
            if edition.number == number:
                return edition
        raise KeyError(f"no edition {number}; editions are 1 to {len(self.editions)}")


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def canonical_content(notice_data: dict[str, Any]) -> dict[str, Any]:
    """The part of ``notice.json`` that is the notice's content.

    Left out: the format label, the edition stamp (which edition and when: known only once
    the content is), and the wording of rule-made reasons (explanations, not notice text).
    Override reasons stay: the DPO wrote them and the page shows them. The dataset's edition
    label and date stay too: "About this notice" states them, so a parent reads them.
    """
    data = copy.deepcopy(notice_data)
    data.pop("format", None)
    data.pop("edition", None)
    for recipient in data.get("dfe_recipients", []):
        if recipient.get("decided_by") == "rule":
            recipient.pop("reason", None)
    return data


def content_hash(notice_data: dict[str, Any], words: str) -> str:
    """``sha256:<hex>`` of the canonical content and the words of every rendered form.

    ``words`` is ``flows.notice.words.words_hash`` of the draft: a template's or the code's fixed
    wording is content too, so changing it makes a new edition through the approval gate.
    """
    canonical = json.dumps(
        {"notice": canonical_content(notice_data), "words": words}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return "sha256:" + sha256_hex(canonical.encode("utf-8"))


def presentation_hash(files: dict[str, bytes], renderer: str) -> str:
    """Hash of the rendered text files plus the PDF renderer's version.

    The PDF is made from the HTML deterministically, so it is covered by the HTML and the
    renderer version; that lets an unchanged run skip the (slow) PDF altogether.
    """
    digest = hashlib.sha256(renderer.encode())
    for name in sorted(n for n in files if n != "notice.pdf"):
        digest.update(name.encode() + b"\0" + sha256_hex(files[name]).encode() + b"\n")
    return "sha256:" + digest.hexdigest()


def decide_outcome(manifest: Manifest | None, content: str, presentation: str) -> Outcome:
    """What a run must do for one school, from the manifest read back from the target."""
    last = manifest.last_edition() if manifest else None
    if last is None or last.content_hash != content:
        return "new"
    current = manifest.latest.presentation_hash if manifest and manifest.latest else last.presentation_hash
    return "unchanged" if current == presentation else "presentation"


def next_number(manifest: Manifest | None) -> int:
    """The number the next edition gets: 1, 2, 3 … per school."""
    last = manifest.last_edition() if manifest else None
    return 1 if last is None else last.number + 1


def template_version(templates_dir: Path, package_version: str) -> str:
    """A short hash of every template file and the package version."""
    digest = hashlib.sha256(package_version.encode())
    for path in sorted(templates_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(templates_dir).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


@functools.cache
def code_version() -> str:
    """A digest of the package's Python source: a change to how notices are rendered changes it."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent  # flows/
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
