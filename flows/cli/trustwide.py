"""`notices diff --all`: what the next publish would change in every school, as one summary.

A trust-wide change (a new dataset edition, a trust default) is one decision: this prints
every school that would get a new edition, grouped by distinct change, with the diff of one
representative school per group (``flows.runs.grouping``). It publishes nothing and never
starts the embedded S3. Like ``notices diff SLUG``, the words decide: a school whose content
hash matches its latest edition is unchanged.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flows import embedded_s3 as local_s3
from flows.cli.output import EXIT_FAILED, EXIT_OK, err, flags, show
from flows.cli.publishing import prepare
from flows.config.models import Notice
from flows.publish import layout


def diff_all(args: argparse.Namespace) -> int:
    """`notices diff --all [--dataset-edition ID]`: the grouped summary of every pending change."""
    from flows.publish.connect import connect
    from flows.runs.grouping import summary_text

    prepared = prepare(args)
    if prepared.valid is None:
        return EXIT_FAILED
    try:  # reading never starts the embedded S3: it says how to
        conn = connect(prepared.valid.trust, flags(args), start_embedded=False)
    except local_s3.LocalS3Error as exc:
        err(f"notices diff: {exc}")
        return EXIT_FAILED
    changes, first, unchanged = _survey(conn, prepared.notices, prepared.valid.trust.approval.minor_fields)
    if args.json:
        _print_json(changes, first, unchanged)
        return EXIT_OK
    if changes:
        show(summary_text(changes))
    else:
        show("no school's words would change")
    show(
        "", f"{unchanged} school(s) unchanged" + (f"; first edition (nothing published yet): {', '.join(first)}" if first else "")
    )
    return EXIT_OK


def _survey(conn: Any, notices: Any, minor_fields: Any) -> tuple[list[dict[str, Any]], list[str], int]:
    """Every school's pending change, the schools with nothing published yet, and how many are unchanged."""
    from flows.notice.prepare import TEMPLATES_DIR
    from flows.notice.render import build_environment
    from flows.publish.writer import read_manifest

    env = build_environment(TEMPLATES_DIR)
    changes: list[dict[str, Any]] = []
    first: list[str] = []
    unchanged = 0
    for notice in notices:
        manifest, _ = read_manifest(conn.publisher, layout.record_key(conn.target.prefix, notice.slug, "manifest.json"))
        if manifest is None or not manifest.editions:
            first.append(notice.slug)
            continue
        change = _pending(conn, env, notice, manifest, minor_fields)
        if change is None:
            unchanged += 1
        else:
            changes.append(change)
    return changes, first, unchanged


def _print_json(changes: list[dict[str, Any]], first: list[str], unchanged: int) -> None:
    from flows.runs.grouping import group_changes

    groups = [{"schools": [s.slug for s in g.schools], "changes": list(g.representative.changes)} for g in group_changes(changes)]
    document = {"groups": groups, "schools": changes, "first_editions": first, "unchanged": unchanged}
    show(json.dumps(document, indent=2, ensure_ascii=False))


def _pending(conn: Any, env: Any, notice: Notice, manifest: Any, minor_fields: Any) -> dict[str, Any] | None:
    """The school's draft against its latest edition, as a held school carries it (None: same words)."""
    from flows.notice.dataset_text import render_dataset_text
    from flows.editions.diff import describe_changes, unified_diff
    from flows.editions.records import content_hash, next_number
    from flows.publish.context import current_template_version
    from flows.notice.render import render_notice
    from flows.notice.prepare import TEMPLATES_DIR
    from flows.notice.words import words_hash

    last = manifest.editions[-1]
    files = render_notice(env, notice, render_dataset_text(notice.dataset), pdf=False).files
    new_hash = content_hash(json.loads(files["notice.json"]), words_hash(dict(files)))
    if new_hash == last.content_hash:
        return None
    old = {
        n: conn.publisher.get(layout.edition_key(conn.target.prefix, notice.slug, last.number, n))
        for n in ("notice.md", "notice.json")
    }
    if any(f is None for f in old.values()):
        raise SystemExit(f"{notice.slug}: edition {last.number}'s files are missing from the target")
    notes, change_class = describe_changes(
        json.loads(old["notice.json"].body),
        json.loads(files["notice.json"]),
        minor_fields=minor_fields,
        same_wording_source=last.template_version == current_template_version(TEMPLATES_DIR),
    )
    number = next_number(manifest)
    return {
        "slug": notice.slug,
        "urn": notice.school.urn,
        "name": notice.school.name,
        "edition": number,
        "change_class": change_class,
        "changes": list(notes or ("Wording outside the settings changed (templates or fixed text): see the diff",)),
        "diff": unified_diff(
            old["notice.md"].body.decode(), files["notice.md"].decode(), f"v{last.number}/notice.md", f"v{number}/notice.md"
        ),
        "content_hash": new_hash,
    }
