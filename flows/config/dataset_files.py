"""The DfE dataset's edition files (``shared_data/dfe-recipients/<edition>.yaml``) → checked models.

Every edition is read and checked in full; which one a run uses is the trust file's pin,
a flag's, or the latest (``flows.config.loading.load_inputs`` decides between them).
"""

from __future__ import annotations

import re
from pathlib import Path

from flows.config.discovery import Skipped, display_path, scan_folder
from flows.config.documents import load_document, locate_error
from flows.config.errors import ConfigError
from flows.config.models import DatasetEdition
from flows.config.yaml_source import YamlDocument

DATASET_SUBDIR = "dfe-recipients"


def load_dataset(
    shared_dir: Path,
    wanted: str | None,
    errors: list[ConfigError],
    skipped: list[Skipped] | None = None,
    *,
    docs: dict[str, YamlDocument] | None = None,
) -> tuple[tuple[DatasetEdition, ...], DatasetEdition | None]:
    """Read every dataset edition; return them oldest first and the one to use (``docs``: id → its document)."""
    folder = shared_dir / DATASET_SUBDIR
    files, passed = scan_folder(folder)
    if skipped is not None:
        skipped.extend(passed)
    if not files:
        errors.append(
            ConfigError(
                display_path(folder), None, "", "no dataset edition found: expected one or more <edition>.yaml files here"
            )
        )
        return (), None
    editions = _read_editions(files, errors, docs)
    editions.sort(key=lambda e: (e.effective_date, e.id))
    if len(editions) != len(files):
        return tuple(editions), None  # a broken edition file could be the latest: do not guess
    if wanted is None:
        return tuple(editions), editions[-1]
    for edition in editions:
        if edition.id == wanted:
            return tuple(editions), edition
    available = ", ".join(e.id for e in editions)
    errors.append(ConfigError(display_path(folder), None, "dataset_edition", f"no edition {wanted!r}; available: {available}"))
    return tuple(editions), None


def _read_editions(files: list[Path], errors: list[ConfigError], docs: dict[str, YamlDocument] | None) -> list[DatasetEdition]:
    """Each edition file that is valid, its id used once (``docs``: id → its document)."""
    editions: list[DatasetEdition] = []
    seen: dict[str, str] = {}
    for path in files:
        shown = display_path(path)
        loaded = load_document(path, DatasetEdition, errors)
        if loaded is None:
            continue
        edition, doc = loaded
        before = len(errors)
        errors.extend(_check_dataset(edition, doc))
        if edition.id in seen:
            errors.append(ConfigError(shown, None, "id", f"edition id {edition.id!r} is also used by {seen[edition.id]}"))
        seen[edition.id] = shown
        if len(errors) == before:
            editions.append(edition)
            if docs is not None:
                docs[edition.id] = doc
    return editions


_REFERENCE = re.compile(r"\[([^\]]+)\]\[([^\]]*)\]")
# Raw HTML is never rendered from the dataset (the renderer escapes it), so a tag here is
# a mistake that would show as literal "<b>" to parents: refuse it with its place.
_TAG = re.compile(r"</?[A-Za-z!][^>]*>")


def _check_dataset(edition: DatasetEdition, doc: YamlDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    ids = [r.id for r in edition.recipients]
    known = [*ids, *(k for k in edition.links if k not in ids)]
    for index, recipient in enumerate(edition.recipients):
        where: tuple[str | int, ...] = ("recipients", index)
        if ids.index(recipient.id) != index:
            problems.append(locate_error(doc, (*where, "id"), f"recipient id {recipient.id!r} is used twice"))
        rule = recipient.applies_to
        if rule.max_age <= rule.min_age:
            problems.append(
                locate_error(doc, (*where, "applies_to", "max_age"), f"must be greater than min_age ({rule.min_age})")
            )
        for text in (*recipient.paragraphs, *recipient.list_items, *recipient.paragraphs_after_list, recipient.opt_out or ""):
            for _, ref in _REFERENCE.findall(text):
                if ref not in known:
                    problems.append(
                        locate_error(
                            doc, where, f"link reference [{ref}] names no recipient or link; expected one of: {', '.join(known)}"
                        )
                    )
            if "](" in text:
                problems.append(locate_error(doc, where, "write links as [text][recipient-id] so the recipient's link is used"))
        for field in ("paragraphs", "list_items", "paragraphs_after_list"):
            for number, text in enumerate(getattr(recipient, field)):
                problems.extend(_html_problems(doc, (*where, field, number), text))
        problems.extend(_html_problems(doc, (*where, "opt_out"), recipient.opt_out or ""))
    problems.extend(_html_problems(doc, ("introduction",), edition.introduction))
    if "](" in edition.introduction:
        problems.append(
            locate_error(doc, ("introduction",), "write links as [text][recipient-id] so the recipient's link is used")
        )
    return problems


def _html_problems(doc: YamlDocument, where: tuple[str | int, ...], text: str) -> list[ConfigError]:
    tag = _TAG.search(text)
    if tag is None:
        return []
    shown = tag.group(0) if len(tag.group(0)) <= 40 else tag.group(0)[:39] + "…"
    return [
        locate_error(
            doc,
            where,
            f"contains HTML or an <autolink> ({shown!r}); the text is Markdown: write plain words, and links as [text][recipient-id]",
        )
    ]
