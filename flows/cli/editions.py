"""The commands of ``notices`` that read published editions: ``history`` and ``diff``.

They never start the embedded S3 (``connect(..., start_embedded=False)``): they say how to.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from typing import Any

from flows import embedded_s3 as local_s3
from flows.cli.output import EXIT_FAILED, EXIT_OK, err, flags, json_for_terminal, show
from flows.config.models import DEFAULT_COLOUR
from flows.publish import layout


def _write_redline(
    path: Any, env: Any, names: tuple[str, str], from_label: str, to_label: str, notes: Any, change_class: str, old: str, new: str
) -> None:
    from flows.editions.diff import redline
    from flows.publish.pages import render_changes_page

    page = render_changes_page(
        env,
        trust_name=names[0],
        colour=DEFAULT_COLOUR,
        school_name=names[1],
        redline=redline(old, new),
        changes=tuple(notes),
        change_class=change_class,
        from_label=from_label,
        to_label=to_label,
    )
    path.write_bytes(page)


def _manifest(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from flows.publish.writer import read_manifest
    from flows.publish.connect import connect
    from flows.runs.selection import prepare_selected

    prepared = prepare_selected(args.schools, args.shared_data, (args.slug,), dataset_edition=args.dataset_edition)
    # A URN is looked up in the target's registry below, so a school published under it is
    # found even when no school file has it any more: "no valid school has URN" waits till then.
    by_urn = args.slug.isdigit()
    err(*(e for e in prepared.errors if not (by_urn and e.field == "--school")))
    if prepared.valid is None:
        return None, None, prepared
    try:  # reading never starts the embedded S3: it says how to
        conn = connect(prepared.valid.trust, flags(args), start_embedded=False)
    except local_s3.LocalS3Error as exc:
        err(f"notices {args.command}: {exc}")
        return None, None, prepared
    if by_urn and not _resolve_urn(args, conn, prepared):
        return None, None, prepared
    manifest, _ = read_manifest(conn.publisher, layout.record_key(conn.target.prefix, args.slug, "manifest.json"))
    return conn, manifest, prepared


def _resolve_urn(args: argparse.Namespace, conn: Any, prepared: Any) -> bool:
    """Set ``args.slug`` to the URN's school: where its history lives, else its school file's slug."""
    from flows.publish.moves import read_homes
    from flows.publish.base import PublishError

    urn, prefix = args.slug, conn.target.prefix
    try:
        home = read_homes(conn.publisher, [prefix]).get(urn)
    except PublishError as exc:
        err(f"notices {args.command}: {exc}")
        return False
    configured = [n.slug for n in prepared.notices if n.school.urn == urn]
    if home is not None and home.prefix == prefix:
        args.slug = home.slug
    elif configured:
        args.slug = configured[0]
    else:
        err(*(e for e in prepared.errors if e.field == "--school"))
        err(f"{urn}: no school with this URN is published under prefix {prefix!r} or has a school file")
        return False
    return True


def history(args: argparse.Namespace) -> int:
    """`notices history SLUG`."""
    conn, manifest, _ = _manifest(args)
    if conn is None:
        return EXIT_FAILED
    if manifest is None:
        err(f"{args.slug}: no editions published yet")
        return EXIT_FAILED
    if args.json:
        print(json_for_terminal([e.model_dump(mode="json", exclude={"files"}) for e in manifest.editions]))
        return EXIT_OK
    for edition in manifest.editions:
        approver = f", approved by {edition.approved_by}" if edition.approved_by else ""
        show(f"v{edition.number}  {edition.published_at}  {edition.change_class}{approver}  dataset {edition.dataset_edition}")
        if edition.approval_note:
            show(f"      note: {edition.approval_note}")
        for change in edition.changes:
            show(f"      - {change}")
    if manifest.skipped:
        show(
            f"edition number(s) {', '.join(map(str, manifest.skipped))} never published (an interrupted run left other files there)"
        )
    return EXIT_OK


def diff(args: argparse.Namespace) -> int:
    """`notices diff SLUG [--from N] [--to N|draft]`, or `notices diff --all` (``flows.cli.trustwide``).

    Says "unchanged" exactly when ``notices publish --dry-run`` does for the words: the content
    hashes match. The diff and redline leave out the edition and draft notes (``flows.editions.diff``).
    """
    if getattr(args, "all", False) or args.slug is None:
        if args.slug is not None or not getattr(args, "all", False):
            err("notices diff: name one school (its slug) or --all, not both")
            return EXIT_FAILED
        from flows.cli.trustwide import diff_all

        return diff_all(args)
    return _diff_one(args)


@dataclass(frozen=True)
class _Side:
    """One side of a diff: an edition's (or the draft's) files, its label and its content hash."""

    md: str
    json: str
    fragment: str
    label: str
    content_hash: str


def _diff_one(args: argparse.Namespace) -> int:
    from flows.notice.render import build_environment
    from flows.notice.prepare import TEMPLATES_DIR

    conn, manifest, prepared = _manifest(args)
    if conn is None:
        return EXIT_FAILED
    if manifest is None or not manifest.editions:
        err(f"{args.slug}: no editions published yet; `notices render --school {args.slug}` shows the draft")
        return EXIT_FAILED
    start = args.from_ or manifest.editions[-1].number
    env = build_environment(TEMPLATES_DIR)
    try:
        old = _edition_side(conn, manifest, args.slug, start)
        new = (
            _draft_side(env, prepared, args.slug)
            if args.to == "draft"
            else _edition_side(conn, manifest, args.slug, int(args.to), f"v{args.to}")
        )
    except (KeyError, ValueError) as exc:
        err(str(exc).strip("'\""))
        return EXIT_FAILED
    if new is None:
        err(f"{args.slug}: the draft cannot be rendered (see the errors above)")
        return EXIT_FAILED
    # The words decide, as they decide what a publish does (``editions.decide_outcome``): the
    # same content hash is "unchanged" whatever the edition stamp says.
    same_words = old.content_hash == new.content_hash
    notes, change_class = _classify(args, manifest, prepared, start, old, new) if not same_words else ((), "presentation")
    if args.redline:
        trust_name = prepared.valid.trust.name if prepared.valid else ""
        names = (trust_name, manifest.name)
        _write_redline(args.redline, env, names, old.label, new.label, notes, change_class, old.fragment, new.fragment)
        err(f"redline written to {args.redline}")
    _print_diff(args.slug, old, new, same_words, notes, change_class)
    return EXIT_OK


def _edition_side(conn: Any, manifest: Any, slug: str, number: int, label: str | None = None) -> _Side:
    """A published edition's files; raises KeyError saying which is missing."""
    numbers = [e.number for e in manifest.editions]
    if number not in numbers:
        raise KeyError(f"{slug}: no edition {number}; editions are {numbers[0]} to {numbers[-1]}")
    prefix = conn.target.prefix
    found = [
        conn.publisher.get(layout.edition_key(prefix, slug, number, n)) for n in ("notice.md", "notice.json", "fragment.html")
    ]
    if any(f is None for f in found):
        raise KeyError(f"{slug}: edition {number}'s files are missing from the target")
    md, data, fragment = (f.body.decode() for f in found)
    return _Side(md, data, fragment, label or f"v{number}", manifest.edition(number).content_hash)


def _draft_side(env: Any, prepared: Any, slug: str) -> _Side | None:
    """The draft rendered from the configuration now (None: it cannot be rendered)."""
    from flows.editions.records import content_hash
    from flows.notice.dataset_text import render_dataset_text
    from flows.notice.render import render_notice
    from flows.notice.words import words_hash

    notices = [n for n in prepared.notices if n.slug == slug]
    if not notices:
        return None
    files = render_notice(env, notices[0], render_dataset_text(notices[0].dataset), pdf=False).files
    md, data, fragment = (files[n].decode() for n in ("notice.md", "notice.json", "fragment.html"))
    return _Side(md, data, fragment, "draft", content_hash(json.loads(data), words_hash(dict(files))))


def _classify(
    args: argparse.Namespace, manifest: Any, prepared: Any, start: int, old: _Side, new: _Side
) -> tuple[tuple[str, ...], str]:
    """The change notes and class of words that differ: as the edition recorded them, or for the
    draft as a publish would class them now (default deny, the trust's minor fields)."""
    from flows.editions.diff import describe_changes
    from flows.publish.context import current_template_version
    from flows.notice.prepare import TEMPLATES_DIR

    if args.to != "draft":
        recorded = manifest.edition(int(args.to))
        return recorded.changes, recorded.change_class
    policy = prepared.valid.trust.approval if prepared.valid else None
    notes, change_class = describe_changes(
        json.loads(old.json),
        json.loads(new.json),
        minor_fields=policy.minor_fields if policy else (),
        same_wording_source=manifest.edition(start).template_version == current_template_version(TEMPLATES_DIR),
    )
    return notes or ("Wording outside the settings changed (templates or fixed text): see the diff",), change_class


def _print_diff(slug: str, old: _Side, new: _Side, same_words: bool, notes: tuple[str, ...], change_class: str) -> None:
    from flows.editions.diff import unified_diff

    text_diff = unified_diff(old.md, new.md, f"{old.label}/notice.md", f"{new.label}/notice.md")
    if same_words and not text_diff:
        show(f"{slug}: {old.label} → {new.label}: unchanged")
        return
    if same_words:  # a template, or only the dataset's edition label: no new edition
        show(f"{slug}: {old.label} → {new.label}: presentation change (the words are unchanged)")
    else:
        show(f"{slug}: {old.label} → {new.label}: {change_class} change")
    for note in notes:
        show(f"  - {note}")
    show()
    show(text_diff, end="")
