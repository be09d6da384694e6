"""How `notices publish` gets an approval bound to the exact words a person saw.

A run first publishes what needs no approver and *holds* the rest, each with the content
hash of its new edition's words. The approval then names those hashes, whichever way it
is given:

* on a terminal, the held changes are shown, grouped by distinct change (one diff each), and
  the person types one name, recorded by every school's edition;
* ``--approved-by NAME`` shows every held change it approves before publishing it;
* ``--review FILE`` writes the held changes to a file; ``--approve FILE --approved-by NAME``
  publishes exactly the words that file shows, nothing else.

The second run re-reads the configuration and publishes a school only if its words still
hash as shown: an edit made while the approver was reading holds that school again.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.cli.output import err
from flows.runs.grouping import group_changes, summary_text

if TYPE_CHECKING:  # boto3 comes with it: imported where a run's results are read
    from flows.publish.results import SchoolResult

REVIEW_FORMAT = "trust-notices/approval-request/1"
# Runs the flow for these schools under this approver and note, bound to these hashes.
RunFlow = Callable[[argparse.Namespace, list[str], "str | None", "str | None", "dict[str, str] | None"], "dict[str, Any] | None"]


def show_held(held: list[SchoolResult]) -> None:
    """Every held change, grouped: each school and how it changes, then each distinct change once
    (its notes and one representative's diff), so a trust-wide change reads as one decision."""
    err("", f"{len(held)} change(s) need a named approver before they are published:", "")
    err(summary_text(held), "")


def write_review(path: Path, held: list[SchoolResult]) -> None:
    """The held changes as a file an approver reads and then names with ``--approve``.

    ``summary`` is the grouped summary the approver reads (one diff per distinct change);
    ``schools`` still binds every school's own content hash, with its own diff.
    """
    data = {
        "format": REVIEW_FORMAT,
        "summary": summary_text(held).splitlines(),
        "groups": [[s.slug for s in group.schools] for group in group_changes(held)],
        "schools": [
            {k: school[k] for k in ("slug", "urn", "name", "edition", "change_class", "changes", "diff", "content_hash")}
            for school in (result.as_dict() for result in held)
        ],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_review(path: Path) -> dict[str, str]:
    """Slug → content hash from a ``--review`` file; raises ValueError saying what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path}: cannot read it ({exc.strerror})") from None
    except ValueError as exc:
        raise ValueError(f"{path}: not a file written by `notices publish --review` ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != REVIEW_FORMAT or not isinstance(data.get("schools"), list):
        raise ValueError(f"{path}: not a file written by `notices publish --review` (format {REVIEW_FORMAT!r} expected)")
    hashes: dict[str, str] = {}
    for index, school in enumerate(data["schools"], start=1):
        if (
            not isinstance(school, dict)
            or not isinstance(school.get("slug"), str)
            or not str(school.get("content_hash", "")).startswith("sha256:")
        ):
            raise ValueError(f"{path}: school {index}: a slug and a content_hash (sha256:…) are expected")
        hashes[school["slug"]] = school["content_hash"]
    return hashes


def ask_name(check: Callable[[str], str]) -> tuple[str, str | None] | None:
    """On a terminal: the approver's name (checked by ``check``) and an optional note."""
    while True:
        try:
            name = input("Your full name to approve and publish exactly these changes (Enter to leave them unpublished): ")
        except EOFError:
            return None
        if not name.strip():
            return None
        try:
            approver = check(name)
        except ValueError as exc:
            err(str(exc))
            continue
        try:
            note = input("A note to record with the approval (optional): ").strip()
        except EOFError:
            note = ""
        return approver, note or None


def bind(held: list[SchoolResult], approved: dict[str, str] | None) -> tuple[dict[str, str], list[str]]:
    """The hashes to publish under the approval, and a note for each held school left out.

    ``approved`` None: the approval covers what was just shown (every held school's hash).
    Otherwise only the schools the file names, and only with the words it shows.
    """
    shown = {s.slug: s.content_hash for s in held}
    if approved is None:
        return shown, []
    notes = []
    for slug, chash in shown.items():
        if slug not in approved:
            notes.append(f"{slug}: not in the approval file, so not approved")
        elif approved[slug] != chash:
            notes.append(f"{slug}: its words changed after the approval file was written; review them again (--review)")
    return {slug: chash for slug, chash in shown.items() if approved.get(slug) == chash}, notes


def publish_approved(
    args: argparse.Namespace,
    data: dict[str, Any],
    held: list[SchoolResult],
    approver: str | None,
    approved_file: dict[str, str] | None,
    check: Callable[[str], str],
    run_flow: RunFlow,
) -> bool:
    """Publish the held schools under an approval of the words shown (or in the file), merging
    the second run's results into ``data``; False if that run failed."""
    note = args.approval_note
    if approved_file is not None:
        err(f"approving, as {approver}, the changes in {args.approve} whose words are still the same:")
    elif approver is not None:
        show_held(held)  # --approved-by approves these words, so they are shown first
        err(f"approved by {approver}: publishing exactly the changes shown above")
    elif not args.json and sys.stdin.isatty():
        show_held(held)
        answer = ask_name(check)
        if answer is None:
            return True
        approver, note = answer
    else:
        return True
    hashes, left_out = bind(held, approved_file)
    err(*left_out)
    if not hashes:
        return True
    again = run_flow(args, list(hashes), approver, note, hashes)
    if again is None:
        return False
    by_slug = {s["slug"]: s for s in again["schools"]}
    data["schools"] = [by_slug.get(s["slug"], s) for s in data["schools"]]
    data["requests"] = {
        k: data["requests"].get(k, 0) + again["requests"].get(k, 0) for k in {*data["requests"], *again["requests"]}
    }
    return True
