"""Diffs show only what changed: never the edition or draft note that every edition carries.

The approver of a changed notice reads its diff and redline; `notices diff` shows the same. A
stamped edition says "Edition 1, published …" where the draft says "Draft: this notice has not
been published": that line is not the notice's words, and a diff that showed it as a change
would teach the approver to skip the first change they see.
"""

from __future__ import annotations

from tests.support.web import read_object

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flows.editions.diff import redline, unified_diff
from flows.publish import layout
from flows.publish.context import Approval
from flows.publish.results import RunResult
from flows.publish.s3 import make_client
from flows.notice.render import EditionStamp, render_notice
from flows.notice.prepare import load_and_compose

from .conftest import REPO
from .support.publishing import _only
from .support.publishing import _publish as publish_run

SLUG = "riverside-infant"
OLD, NEW = "Mrs Rowan Example", "Mr Rowan Example"  # one word: Mrs → Mr
_CHANGE = re.compile(r"<(ins|del)\b[^>]*>(.*?)</\1>", re.S)


def _changed_lines(diff: str) -> list[str]:
    """The - and + lines of a unified diff, without its two file headers."""
    return [line for line in diff.splitlines() if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]


def _marks(html: str) -> list[tuple[str, str]]:
    """Every <ins>/<del> in a redline, as (tag, text)."""
    return [(tag, re.sub(r"<[^>]+>", "", text).strip()) for tag, text in _CHANGE.findall(html)]


def _page_redline(page: str) -> str:
    """The redline part of a changes page (the legend above it shows an <ins> and a <del> too)."""
    return page.split('<div class="redline">', 1)[1]


def _edit_one_word(tree: Path) -> None:
    path = tree / "schools" / f"{SLUG}.yaml"
    text = path.read_text(encoding="utf-8")
    assert OLD in text
    path.write_text(text.replace(OLD, NEW), encoding="utf-8")


def _assert_only_the_one_word(diff: str, marked: str) -> None:
    assert _changed_lines(diff) == [f"-- Headteacher: {OLD}", f"+- Headteacher: {NEW}"], diff
    # Not even as context: the edition and draft lines are not compared at all.
    assert "this notice has not been published" not in diff and not re.search(r"^[-+ ]Edition \d+, published", diff, re.M), diff
    assert _marks(marked) == [("del", "Mrs"), ("ins", "Mr")], _marks(marked)


# --- The pure functions: an edition against its own draft is no change ------------------


@pytest.mark.parametrize("location", ["latest", "edition"])
def test_an_edition_against_its_own_draft_has_an_empty_diff_and_redline(sample, env, dataset_text, location: str) -> None:
    stamp = EditionStamp(3, "2026-07-01T16:30:00Z", location)
    for notice in sample.notices:
        draft = render_notice(env, notice, dataset_text, pdf=False).files
        stamped = render_notice(env, notice, dataset_text, pdf=False, stamp=stamp).files
        md = unified_diff(stamped["notice.md"].decode(), draft["notice.md"].decode(), "v3/notice.md", "draft/notice.md")
        assert md == "", (notice.slug, md)
        marked = redline(stamped["fragment.html"].decode(), draft["fragment.html"].decode())
        assert _marks(marked) == [], (notice.slug, _marks(marked))
    # Only the template's line between the lede and the first heading is furniture: a notice's
    # own words that look like one are compared like any others.
    md_draft = draft["notice.md"].decode()
    lookalike = md_draft.replace("## In brief\n\n", "## In brief\n\nEdition 9, published yesterday.\n\n", 1)
    assert lookalike != md_draft
    assert sorted(_changed_lines(unified_diff(md_draft, lookalike, "a", "b"))) == ["+", "+Edition 9, published yesterday."]


def test_an_edition_published_before_the_furniture_marker_compares_clean_too(sample, env, dataset_text) -> None:
    # Editions already on a target were stamped by templates whose edition note had its class only.
    notice = sample.notices[0]
    draft = render_notice(env, notice, dataset_text, pdf=False).files["fragment.html"].decode()
    stamped = render_notice(env, notice, dataset_text, pdf=False, stamp=EditionStamp(1, "2026-07-01T16:30:00Z", "edition")).files
    old = stamped["fragment.html"].decode().replace(" data-tn-furniture", "")
    assert 'class="tn-edition-note">' in old
    assert _marks(redline(old, draft)) == []


# --- The production path: SeaweedFS, the approval request, v2/changes.html ---------------


def _publish(seaweed, prefix: str, tree: Path, approval: Approval | None) -> RunResult:
    prepared = _only(load_and_compose(tree / "schools", tree / "shared_data"), SLUG)
    return publish_run(seaweed, prepared, prefix, approval=approval)  # run_trust, as the flow runs it


def test_the_approval_request_and_changes_page_show_only_the_changed_word(seaweed, tree: Path, prefix: str) -> None:
    path = tree / "schools" / "_trust.yaml"  # a minor change waits for an approver too
    path.write_text(
        path.read_text(encoding="utf-8").replace("\napproval:\n", "\napproval:\n  minor_changes: true\n"), encoding="utf-8"
    )
    first = _publish(seaweed, prefix, tree, approval=None)
    assert [(r.status, r.edition) for r in first.schools] == [("published", 1)]
    _edit_one_word(tree)

    held = _publish(seaweed, prefix, tree, approval=None).schools[0]  # the approval request
    assert (held.status, held.edition, held.change_class) == ("held", 2, "minor")
    preview = {u.key: u.body.decode() for u in held.planned}["changes.html"]
    _assert_only_the_one_word(held.diff, _page_redline(preview))

    published = _publish(seaweed, prefix, tree, approval=Approval("Test Example (DPO)")).schools[0]
    assert (published.status, published.edition) == ("published", 2)
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    page = read_object(client, Bucket=seaweed.bucket, Key=layout.edition_key(prefix, SLUG, 2, "changes.html")).decode()
    _assert_only_the_one_word(published.diff, _page_redline(page))
    assert "edition-note" not in _page_redline(page)


# --- `notices diff` agrees with `notices publish --dry-run` ------------------------------


@pytest.fixture
def cli_env(prefect_api: str, seaweed, tree: Path) -> dict[str, str]:
    """`notices` in a process of its own, on this tree's code, the session's SeaweedFS and Prefect."""
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),  # this checkout's flows, whatever the virtualenv's editable install points at
        PREFECT_API_URL=prefect_api,
        NOTICES_STATE_DIR=str(Path(seaweed.state_dir).parent),
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX="clean-" + re.sub(r"[^a-z0-9]+", "-", tree.name.lower()),
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )


def _notices(args: list[str], tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flows.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=300)


def test_notices_diff_says_unchanged_when_dry_run_does_and_shows_only_a_change(tree: Path, cli_env: dict[str, str]) -> None:
    published = _notices(["publish", "--school", SLUG], tree, cli_env)
    assert published.returncode == 0, published.stderr

    dry = _notices(["publish", "--dry-run", "--school", SLUG], tree, cli_env)
    assert re.search(rf"^unchanged\s+{SLUG} v1 ", dry.stdout, re.M), dry.stdout
    same = _notices(["diff", SLUG, "--redline", "same.html"], tree, cli_env)
    assert same.returncode == dry.returncode == 0, same.stderr
    assert same.stdout == f"{SLUG}: v1 → draft: unchanged\n"
    assert _marks(_page_redline((tree / "same.html").read_text(encoding="utf-8"))) == []

    _edit_one_word(tree)
    dry = _notices(["publish", "--dry-run", "--school", SLUG], tree, cli_env)
    assert re.search(rf"^would publish\s+{SLUG} v2 \(minor: School headteacher changed: {OLD} → {NEW}\)", dry.stdout, re.M), (
        dry.stdout
    )
    changed = _notices(["diff", SLUG, "--redline", "changed.html"], tree, cli_env)
    assert changed.returncode == dry.returncode == 0, changed.stderr
    assert f"{SLUG}: v1 → draft: minor change\n  - School headteacher changed: {OLD} → {NEW}\n" in changed.stdout
    _assert_only_the_one_word(changed.stdout, _page_redline((tree / "changed.html").read_text(encoding="utf-8")))
