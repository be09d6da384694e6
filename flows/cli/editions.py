"""The commands of ``notices`` that read published editions: ``history`` and ``diff``.

They never start the embedded S3 (``connect(..., start_embedded=False)``): they say how to.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flows import embedded_s3 as local_s3
from flows.cli.output import EXIT_FAILED, EXIT_OK, err, flags, json_for_terminal, show
from flows.publish import layout


def _write_redline(
    path: Any, env: Any, names: tuple[str, str], from_label: str, to_label: str, notes: Any, change_class: str, old: str, new: str
) -> None:
    from flows.editions.diff import redline
    from flows.publish.pages import render_changes_page

    page = render_changes_page(
        env,
        trust_name=names[0],
        colour="#1d4f91",
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
    from flows.publish.target import connect
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
    from flows.notice.dataset_text import render_dataset_text
    from flows.editions.diff import describe_changes, unified_diff
    from flows.editions.records import content_hash
    from flows.publish.context import current_template_version
    from flows.notice.words import words_hash
    from flows.notice.render import build_environment, render_notice
    from flows.notice.prepare import TEMPLATES_DIR

    conn, manifest, prepared = _manifest(args)
    if conn is None:
        return EXIT_FAILED
    if manifest is None or not manifest.editions:
        err(f"{args.slug}: no editions published yet; `notices render --school {args.slug}` shows the draft")
        return EXIT_FAILED
    numbers = [e.number for e in manifest.editions]
    start = args.from_ or numbers[-1]

    def edition_files(number: int) -> tuple[str, str, str]:
        if number not in numbers:
            raise KeyError(f"{args.slug}: no edition {number}; editions are {numbers[0]} to {numbers[-1]}")
        prefix = conn.target.prefix
        found = [
            conn.publisher.get(layout.edition_key(prefix, args.slug, number, n))
            for n in ("notice.md", "notice.json", "fragment.html")
        ]
        if any(f is None for f in found):
            raise KeyError(f"{args.slug}: edition {number}'s files are missing from the target")
        return found[0].body.decode(), found[1].body.decode(), found[2].body.decode()

    env = build_environment(TEMPLATES_DIR)
    try:
        old_md, old_json, old_fragment = edition_files(start)
        if args.to == "draft":
            notices = [n for n in prepared.notices if n.slug == args.slug]
            if not notices:
                err(f"{args.slug}: the draft cannot be rendered (see the errors above)")
                return EXIT_FAILED
            files = render_notice(env, notices[0], render_dataset_text(notices[0].dataset), pdf=False).files
            new_md, new_json, new_fragment = (files[n].decode() for n in ("notice.md", "notice.json", "fragment.html"))
            label, new_hash = "draft", content_hash(json.loads(new_json), words_hash(dict(files)))
        else:
            new_md, new_json, new_fragment = edition_files(int(args.to))
            label, new_hash = f"v{args.to}", manifest.edition(int(args.to)).content_hash
    except (KeyError, ValueError) as exc:
        err(str(exc).strip("'\""))
        return EXIT_FAILED
    # The words decide, as they decide what a publish does (``editions.decide_outcome``): the
    # same content hash is "unchanged" whatever the edition stamp says.
    same_words = manifest.edition(start).content_hash == new_hash
    notes: tuple[str, ...] = ()
    change_class = "presentation"
    if not same_words and args.to != "draft":  # as that edition recorded it
        recorded = manifest.edition(int(args.to))
        notes, change_class = recorded.changes, recorded.change_class
    elif not same_words:  # as a publish would class it now (default deny, the trust's minor fields)
        policy = prepared.valid.trust.approval if prepared.valid else None
        notes, change_class = describe_changes(
            json.loads(old_json),
            json.loads(new_json),
            minor_fields=policy.minor_fields if policy else (),
            same_wording_source=manifest.edition(start).template_version == current_template_version(TEMPLATES_DIR),
        )
        notes = notes or ("Wording outside the settings changed (templates or fixed text): see the diff",)
    if args.redline:
        trust_name = prepared.valid.trust.name if prepared.valid else ""
        _write_redline(
            args.redline, env, (trust_name, manifest.name), f"v{start}", label, notes, change_class, old_fragment, new_fragment
        )
        err(f"redline written to {args.redline}")
    text_diff = unified_diff(old_md, new_md, f"v{start}/notice.md", f"{label}/notice.md")
    if same_words and not text_diff:
        show(f"{args.slug}: v{start} → {label}: unchanged")
        return EXIT_OK
    if same_words:  # a template, or only the dataset's edition label: no new edition
        show(f"{args.slug}: v{start} → {label}: presentation change (the words are unchanged)")
    else:
        show(f"{args.slug}: v{start} → {label}: {change_class} change")
    for note in notes:
        show(f"  - {note}")
    show()
    show(text_diff, end="")
    return EXIT_OK
