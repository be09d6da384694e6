"""A trust-wide change is one decision: one grouped summary, one approval every edition records.

A change to the trust file (here its retention statement, which every school inherits) gives
six schools a new edition. The approver reads each distinct change once, with one school's
diff, the schools of each group listed; a school that also changed in its own way is a group
of its own. Real processes, the session's SeaweedFS and Prefect test harness.
"""

from __future__ import annotations

from tests.support.web import read_object

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from flows.editions.records import Manifest
from flows.publish import layout
from flows.publish.s3 import make_client

from .conftest import REPO, SAMPLE_SLUGS

OLD_RETENTION = "then delete it securely."
NEW_RETENTION = "then delete it securely and keep a record that we did."
APPROVER, NOTE = "Alex Example (DPO)", "trust-wide retention wording agreed with the heads"
ODD_ONE = "oakfield-primary"


def _trust_wide_change(tree: Path) -> None:
    """Every school: the trust's retention statement. One school also gains a local recipient."""
    trust = tree / "schools" / "_trust.yaml"
    text = trust.read_text(encoding="utf-8")
    assert OLD_RETENTION in text
    trust.write_text(text.replace(OLD_RETENTION, NEW_RETENTION), encoding="utf-8")
    path = tree / "schools" / f"{ODD_ONE}.yaml"
    text = path.read_text(encoding="utf-8")
    text += "" if "local_recipients:" in text else "local_recipients:\n"
    path.write_text(
        text + "  - name: Example Tutoring Ltd\n    purpose: catch-up tutoring\n    lawful_basis: public_task\n", encoding="utf-8"
    )


def _client(seaweed):
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _latest(seaweed, prefix: str, slug: str) -> tuple[Manifest, dict]:
    """A school's manifest and its latest notice.json, as the public reads them from the bucket."""
    client = _client(seaweed)
    manifest = read_object(client, Bucket=seaweed.bucket, Key=layout.record_key(prefix, slug, "manifest.json"))
    notice = read_object(client, Bucket=seaweed.bucket, Key=layout.latest_key(prefix, slug, "notice.json"))
    return Manifest.model_validate_json(manifest), json.loads(notice)


def _assert_grouped(summary: str) -> None:
    assert summary.startswith("6 school(s) change, in 2 distinct change(s):"), summary[:400]
    # Five schools share the retention change; the odd one out is a change of its own.
    others = ", ".join(s for s in SAMPLE_SLUGS if s != ODD_ONE)
    assert f"== change 1: 5 school(s), material: {others}" in summary, summary
    assert f"== change 2: 1 school(s), material: {ODD_ONE}" in summary, summary
    assert re.search(rf"^  {ODD_ONE} \(URN \d+\) v2 material, recipients: 1 added: change 2$", summary, re.M), summary
    assert summary.count("Diff of ") == 2 and summary.count(f"+{NEW_RETENTION[-20:]}") <= 2, summary
    assert "  - Retention statement reworded" in summary and "  - Local recipient added: Example Tutoring Ltd" in summary


@pytest.fixture
def cli_env(prefect_api: str, seaweed, tree: Path) -> dict[str, str]:
    """`notices` in a process of its own, on this tree's code, the session's SeaweedFS and Prefect."""
    return dict(
        os.environ,
        PYTHONPATH=str(REPO),
        PREFECT_API_URL=prefect_api,
        NOTICES_STATE_DIR=str(Path(seaweed.state_dir).parent),
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX="trustwide-" + re.sub(r"[^a-z0-9]+", "-", tree.name.lower()),
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )


def _notices(args: list[str], tree: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    code = "import sys; from flows.cli import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=tree, env=env, capture_output=True, text=True, timeout=600)


def test_diff_all_and_the_review_file_show_one_grouped_summary_and_one_approval_covers_every_school(
    tree: Path, cli_env: dict[str, str], seaweed
) -> None:
    assert _notices(["publish"], tree, cli_env).returncode == 0  # first editions: the sample trust onboards
    _trust_wide_change(tree)

    pending = _notices(["diff", "--all"], tree, cli_env)
    assert pending.returncode == 0, pending.stderr
    _assert_grouped(pending.stdout)
    review = tree / "review.json"
    dry = _notices(["publish", "--dry-run", "--review", str(review)], tree, cli_env)
    assert dry.returncode == 0, dry.stderr
    data = json.loads(review.read_text(encoding="utf-8"))
    _assert_grouped("\n".join(data["summary"]))
    assert data["groups"] == [[s for s in SAMPLE_SLUGS if s != ODD_ONE], [ODD_ONE]]
    assert {s["slug"] for s in data["schools"]} == set(SAMPLE_SLUGS) and all(
        s["content_hash"].startswith("sha256:") for s in data["schools"]
    )
    concatenated = "\n".join("\n".join([s["slug"], *s["changes"], s["diff"]]) for s in data["schools"])
    summary = "\n".join(data["summary"])
    print(
        f"\nsummary: {len(summary.splitlines())} lines, {len(summary)} chars; per-school diffs: "
        f"{len(concatenated.splitlines())} lines, {len(concatenated)} chars"
    )
    assert len(summary) < len(concatenated)

    approved = _notices(
        ["publish", "--approve", str(review), "--approved-by", "alex example", "--approval-note", NOTE], tree, cli_env
    )
    assert approved.returncode == 0, approved.stderr
    for slug in SAMPLE_SLUGS:  # one approval, recorded by every school's edition
        manifest, notice = _latest(seaweed, cli_env["NOTICES_S3_PREFIX"], slug)
        last = manifest.editions[-1]
        assert (last.number, last.approved_by, last.approval_note) == (2, APPROVER, NOTE), slug
        assert notice["edition"]["number"] == 2, slug
    again = _notices(["diff", "--all"], tree, cli_env)
    assert again.returncode == 0 and again.stdout.startswith("no school's words would change"), again.stdout


def test_the_prefect_approval_request_is_the_grouped_summary(flow_env, seaweed, tree: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    from flows.runs.flow import publish_notices

    from .support.flows import _artifacts, _params, _run_in_thread, _wait_paused

    assert publish_notices(_params(), return_state=True).is_completed()
    _trust_wide_change(tree)
    thread, box = _run_in_thread(_params())
    run_id = _wait_paused("trust-wide-")
    request = {a.key: a for a in _artifacts(run_id) if a.key}["approval-request"].data
    assert "6 school(s) change, in **2 distinct change(s)**." in request, request[:1000]
    assert request.count("Diff of notice.md") == 2 and request.count("[What changed (redline)](") == 2, request
    assert "Change 1: 5 school(s), material:" in request and f"Change 2: 1 school(s), material: {ODD_ONE}" in request.replace(
        "\\", ""
    )
    resume_flow_run(run_id, run_input={"approved": True, "approver": APPROVER, "note": NOTE})
    thread.join(timeout=300)
    assert box["state"].is_completed(), box["state"].message
    for slug in SAMPLE_SLUGS:
        last = _latest(seaweed, flow_env["NOTICES_S3_PREFIX"], slug)[0].editions[-1]
        assert (last.number, last.approved_by, last.approval_note) == (2, APPROVER, NOTE), slug


def test_schools_are_grouped_by_their_change_not_by_their_own_names() -> None:
    from flows.runs.grouping import group_changes, summary_text

    def held(slug: str, name: str, line: str, notes: tuple[str, ...] = ("Retention statement reworded",)) -> dict:
        diff = f"--- v1/notice.md\n+++ v2/notice.md\n@@ -1 +1 @@\n {name} context\n-old\n+{line}\n"
        return {
            "slug": slug,
            "name": name,
            "urn": "99000" + str(len(slug) % 10),
            "edition": 2,
            "change_class": "material",
            "changes": list(notes),
            "diff": diff,
        }

    schools = [
        held("oakfield-primary", "Oakfield Primary", "Oakfield Primary keeps it until the 25th birthday."),
        held("riverside-infant", "Riverside Infant", "Riverside Infant keeps it until the 25th birthday."),
        held("northgate-academy", "Northgate Academy", "Northgate Academy keeps it until the 30th birthday."),
        held(
            "hillcrest-middle",
            "Hillcrest Middle",
            "Hillcrest Middle keeps it until the 25th birthday.",
            ("Retention statement reworded", "DfE recipient removed: Example Body (EB)"),
        ),
    ]
    groups = group_changes(schools)
    assert [[s.slug for s in g.schools] for g in groups] == [
        ["oakfield-primary", "riverside-infant"],
        ["hillcrest-middle"],
        ["northgate-academy"],
    ]
    text = summary_text(schools)
    assert text.count("Diff of ") == 3 and "Diff of oakfield-primary v2 (the same change in riverside-infant):" in text
    assert re.search(r"^  hillcrest-middle \(URN \d+\) v2 material, recipients: 1 removed: change 2$", text, re.M), text


def test_moving_the_trust_to_another_dataset_edition_is_one_grouped_summary(tree: Path, cli_env: dict[str, str]) -> None:
    """From the seed text (2026-1, every stale body acknowledged) to the current edition: one summary."""
    trust = tree / "schools" / "_trust.yaml"
    current = trust.read_text(encoding="utf-8")
    stale = (
        "department-of-health",
        "primary-care-trusts",
        "skills-funding-agency",
        "miap",
        "qualifications-and-credit-framework",
        "qcda",
    )
    trust.write_text(
        current.replace('dataset_edition: "2026-2"', 'dataset_edition: "2026-1"')
        + "dataset_acknowledgements:\n"
        + "".join(f"  - body: {b}\n    reason: our DPO is checking the DfE's current wording\n" for b in stale),
        encoding="utf-8",
    )
    school = tree / "schools" / "brookside-special.yaml"
    moved = school.read_text(encoding="utf-8")
    school.write_text(moved.replace("national-child-measurement-programme:", "department-of-health:"), encoding="utf-8")
    assert _notices(["publish"], tree, cli_env).returncode == 0  # first editions, on the seed text
    trust.write_text(current, encoding="utf-8")  # the trust moves to 2026-2
    school.write_text(moved, encoding="utf-8")
    pending = _notices(["diff", "--all"], tree, cli_env)
    assert pending.returncode == 0, pending.stderr
    summary = pending.stdout
    assert summary.startswith("6 school(s) change, in "), summary[:300]
    for slug in SAMPLE_SLUGS:  # how each school's recipients change, on its own line
        assert re.search(rf"^  {slug} \(URN \d+\) v2 material, recipients: \d+ added, \d+ removed: change \d$", summary, re.M), (
            summary
        )
    # The three primary-age schools change the same way: one group, one diff.
    primaries = ("hillcrest-middle", "oakfield-primary", "riverside-infant")
    assert re.search(rf"^== change \d: 3 school\(s\), material: {', '.join(primaries)}$", summary, re.M), summary
    assert "  - DfE recipient removed: Qualifications and Curriculum Development Authority (QCDA)" in summary, summary
    # The DfE's three sections are told apart by their topics; the 13+ schools gain youth support services.
    assert "  - DfE recipient added: Department for Education (DfE): Asking the DfE what it holds" in summary, summary
    assert summary.count("  - DfE recipient added: Youth support services") == 3, summary
    assert "  - DfE section introduction reworded" in summary, summary
