"""The Prefect flow, run through Prefect (one test harness for the whole run) against SeaweedFS."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from uuid import UUID

import pytest

from flows.editions.records import Manifest
from flows.publish import layout
from flows.publish.s3 import make_client

from .conftest import SAMPLE_SLUGS
from .support.flows import _artifacts, _params, _run_in_thread, _wait_paused
from .support.web import read_body, read_object


def _manifest(seaweed, prefix: str, slug: str) -> Manifest:
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    body = read_object(client, Bucket=seaweed.bucket, Key=layout.record_key(prefix, slug, "manifest.json"))
    return Manifest.model_validate_json(body)


def _task_runs(flow_run_id: UUID) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))


def test_trust_wide_run_publishes_every_school_with_a_task_each_and_reports(flow_env, seaweed) -> None:
    from flows.runs.flow import publish_notices

    state = publish_notices(_params(), return_state=True)
    assert state.is_completed(), state.message
    data = state.result()
    assert {s["slug"]: (s["status"], s["edition"]) for s in data["schools"]} == {s: ("published", 1) for s in SAMPLE_SLUGS}
    # every school's objects, plus the trust index, error page, schools.json, fragment.css, the public log (its
    # 12 entries' bundle and hash tile, key.txt, witnesses.json, the checkpoint and its cache) and the publish state
    assert data["requests"]["put"] == 6 * (23 + 1) + 4 + 6 + 1  # and one URN registry entry a school (23: the pupils' files too)
    flow_run_id = state.state_details.flow_run_id
    names = sorted(t.name for t in _task_runs(flow_run_id))
    assert len([n for n in names if n.startswith("publish-") and not n.startswith("publish-trust-index")]) == 6  # one per school
    assert "load-and-validate" in " ".join(names) and any(n.startswith("publish-trust-index") for n in names)
    artifacts = {a.key: a for a in _artifacts(flow_run_id) if a.key}
    table = artifacts["publish-results"]
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    assert sorted(r["school"] for r in rows) == sorted(SAMPLE_SLUGS)
    assert {r["status"] for r in rows} == {"published"} and all(r["url"].startswith("http://127.0.0.1:") for r in rows)
    assert {f"changes-{s}" for s in SAMPLE_SLUGS} <= set(artifacts)
    assert {f"latest-{s}" for s in SAMPLE_SLUGS} <= set(artifacts)
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
    assert run.name.startswith("trust-wide-")

    again = publish_notices(_params(), return_state=True)
    assert {s["status"] for s in again.result()["schools"]} == {"unchanged"}
    # Nothing written, nothing checked one by one: the publish state and one LIST of the trust's
    # objects, one LIST of each URN registry read (this prefix's and the trust file's); and no
    # trust lock: a run that would change nothing finds it out before taking one.
    assert again.result()["requests"] == {"get": 1, "head": 0, "put": 0, "list": 3, "delete": 0, "lock": 0}


def test_rerun_by_slug_or_urn_and_failure_names_the_school(flow_env, seaweed, tree: Path) -> None:
    from flows.runs.flow import publish_notices

    state = publish_notices(_params(schools=["oakfield-primary", "990001"]), return_state=True)
    assert state.is_completed()
    assert sorted(s["slug"] for s in state.result()["schools"]) == ["oakfield-primary", "riverside-infant"]
    (tree / "schools" / "hillcrest-middle.yaml").write_text("name: Broken\n", encoding="utf-8")
    failed = publish_notices(_params(schools=["hillcrest-middle", "riverside-infant", "no-such-school"]), return_state=True)
    assert failed.is_failed()
    assert "2 school(s) failed" in failed.message and "hillcrest-middle" in failed.message and "no-such-school" in failed.message
    statuses = {s["slug"]: s["status"] for s in failed.result(raise_on_failure=False)["schools"]}
    assert statuses == {"hillcrest-middle": "failed", "no-such-school": "failed", "riverside-infant": "unchanged"}


def test_batches_keep_task_runs_bounded_and_few_per_worker() -> None:
    from flows.publish.batches import BATCHES_PER_WORKER, batch_size
    from flows.settings import Settings

    MAX_TASK_RUNS = Settings.model_fields["max_task_runs"].default
    assert MAX_TASK_RUNS == 250

    assert batch_size(6, parallel=8) == 1  # a small trust shows one task per school
    assert batch_size(1000, parallel=8) == 32  # 32 schools a task: 32 task runs, 4 per thread
    for schools in (251, 1000, 21600, 30000):
        for parallel in (None, 2, 8, 64, 1000):
            tasks = -(-schools // batch_size(schools, parallel))
            assert tasks <= min(MAX_TASK_RUNS, BATCHES_PER_WORKER * (parallel or MAX_TASK_RUNS)), (schools, parallel)
    assert -(-1000 // batch_size(1000)) == 250  # a remote scheduler of unknown size: as many as allowed
    assert -(-21600 // batch_size(21600)) == 249


def _add_local_recipient(tree: Path, slug: str) -> None:
    path = tree / "schools" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    if "local_recipients:" not in text:
        text += "local_recipients:\n"
    text += "  - name: Example Tutoring Ltd\n    purpose: catch-up tutoring\n    lawful_basis: public_task\n"
    path.write_text(text, encoding="utf-8")


def _rows(run_id: UUID) -> dict[str, dict]:
    """The newest results table of a run (a waiting run posts one before the final one)."""
    table = max((a for a in _artifacts(run_id) if a.key == "publish-results"), key=lambda a: a.created)
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    return {r["school"]: r for r in rows}


@pytest.mark.parametrize("answer", ["approve", "reject", "timeout"])
def test_a_manual_run_waits_for_approval_holding_no_lock(flow_env, seaweed, tree: Path, monkeypatch, answer: str) -> None:
    """A run started like a Quick run (default parameters, nobody named) never publishes a material
    change unapproved: it waits, without the trust lock, so an urgent rerun of another school
    goes through; every outcome ends with a table of exactly what was published."""
    from prefect.flow_runs import resume_flow_run

    from flows.runs.flow import publish_notices
    from flows.runs.parameters import ApprovalOptions

    schools = ["oakfield-primary", "riverside-infant", "northgate-academy"]
    assert publish_notices(_params(schools=schools), return_state=True).is_completed()  # first editions need no approval
    _add_local_recipient(tree, "oakfield-primary")  # material
    path = tree / "schools" / "riverside-infant.yaml"
    path.write_text(path.read_text().replace("Mrs Rowan Example", "Mr Rowan Example"), encoding="utf-8")  # minor
    if answer == "timeout":
        monkeypatch.setenv("NOTICES_APPROVAL_TIMEOUT_SECONDS", "3")
    thread, box = _run_in_thread(_params(schools=["oakfield-primary", "riverside-infant"]))
    run_id = _wait_paused("rerun-oakfield-primary")
    prefix = flow_env["NOTICES_S3_PREFIX"]
    # While it waits: the minor change is out, the material one only previewed, privately.
    assert [e.number for e in _manifest(seaweed, prefix, "riverside-infant").editions] == [1, 2]
    assert [e.number for e in _manifest(seaweed, prefix, "oakfield-primary").editions] == [1]
    request = {a.key: a for a in _artifacts(run_id) if a.key}["approval-request"].data
    assert "Local recipient added: Example Tutoring Ltd" in request and "+| Example Tutoring Ltd" in request
    link = re.search(r"\[What changed \(redline\)\]\(([^)]+)\)", request).group(1)
    assert "X-Amz-Signature=" in link and b"Example Tutoring Ltd" in read_body(link, timeout=10)
    with pytest.raises(urllib.error.HTTPError):  # the preview is not public
        urllib.request.urlopen(link.split("?")[0], timeout=10)
    assert _rows(run_id)["oakfield-primary"]["status"] == "held"
    # The lock is not held while a person decides: an urgent, inline-approved rerun completes.
    _add_local_recipient(tree, "northgate-academy")
    urgent = publish_notices(
        _params(
            schools=["northgate-academy"], approval=ApprovalOptions(approved_by="Alex Example (DPO)", approval_note="urgent fix")
        ),
        return_state=True,
    )
    assert urgent.is_completed(), urgent.message
    if answer == "approve":
        resume_flow_run(run_id, run_input={"approved": True, "approver": "Alex Example (DPO)", "note": "checked with the head"})
    elif answer == "reject":
        resume_flow_run(run_id, run_input={"approved": False, "approver": "Alex Example (DPO)", "note": "wrong school"})
    thread.join(timeout=120)
    state = box["state"]
    editions = _manifest(seaweed, prefix, "oakfield-primary").editions
    rows = _rows(run_id)
    assert rows["riverside-infant"]["status"] == "published" and rows["riverside-infant"]["edition"] == 2
    if answer == "approve":
        assert state.is_completed(), state.message
        assert [e.number for e in editions] == [1, 2]
        assert (editions[1].change_class, editions[1].approved_by, editions[1].approval_note) == (
            "material",
            "Alex Example (DPO)",
            "checked with the head",
        )
        assert (rows["oakfield-primary"]["status"], rows["oakfield-primary"]["approved_by"]) == (
            "published",
            "Alex Example (DPO)",
        )
    elif answer == "reject":
        assert state.is_cancelled() and state.message.startswith("rejected by Alex Example (DPO): wrong school")
        assert [e.number for e in editions] == [1] and rows["oakfield-primary"]["status"] == "held"
    else:
        # Prefect fails an unanswered pause itself ("never resumed"); the table still says exactly what went out.
        assert state.is_failed() and ("approval timed out" in state.message or "never resumed" in state.message)
        assert [e.number for e in editions] == [1] and rows["oakfield-primary"]["status"] == "held"
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    left = client.list_objects_v2(Bucket=seaweed.bucket, Prefix=f"_private/{prefix}/runs/{run_id}/").get("Contents", [])
    assert [o["Key"].rsplit("/", 1)[1] for o in left] in (["report.md"], [])  # previews and plan removed


def test_inline_approval_publishes_without_pausing(flow_env, seaweed, tree: Path) -> None:
    from flows.runs.flow import publish_notices
    from flows.runs.parameters import ApprovalOptions

    assert publish_notices(_params(schools=["northgate-academy"]), return_state=True).is_completed()
    _add_local_recipient(tree, "northgate-academy")
    params = _params(
        schools=["northgate-academy"], approval=ApprovalOptions(approved_by="Alex Example (DPO)", approval_note="urgent fix")
    )
    state = publish_notices(params, return_state=True)
    assert state.is_completed()
    edition = _manifest(seaweed, flow_env["NOTICES_S3_PREFIX"], "northgate-academy").editions[-1]
    assert (edition.number, edition.approved_by, edition.approval_note) == (2, "Alex Example (DPO)", "urgent fix")


def test_an_inline_approver_must_be_a_person() -> None:
    from pydantic import ValidationError

    from flows.runs.parameters import ApprovalOptions

    with pytest.raises(ValidationError, match="system account"):
        ApprovalOptions(approved_by="root")


def test_retries_retry_only_the_failed_school_and_the_report_is_exact(flow_env, seaweed, monkeypatch) -> None:
    """A batch of three where one school's edition file fails (503) past botocore's own retries:
    the batch retries that school alone, and the table says six first editions."""
    from flows.runs.flow import publish_notices

    from .faults import FaultProxy

    with FaultProxy(seaweed.endpoint_url, fail="/hillcrest-middle/privacy-notice/v1/notice.json", times=5) as proxy:
        for key, value in {
            "NOTICES_S3_ENDPOINT": proxy.url,
            "AWS_ACCESS_KEY_ID": seaweed.access_key,
            "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
            "NOTICES_MAX_TASK_RUNS": "2",
            "NOTICES_RETRY_DELAYS": "0.5",
        }.items():
            monkeypatch.setenv(key, value)
        state = publish_notices(_params(), return_state=True)
        assert proxy.failed == 5
    assert state.is_completed(), state.message
    data = state.result()
    assert {s["slug"]: (s["status"], s["edition"]) for s in data["schools"]} == {s: ("published", 1) for s in SAMPLE_SLUGS}
    run_id = state.state_details.flow_run_id
    assert len([t for t in _task_runs(run_id) if t.name.startswith("publish-") and "trust-index" not in t.name]) == 2
    assert {r["status"] for r in _rows(run_id).values()} == {"published"}
    assert state.message.startswith("6 published, 0 presentation, 0 unchanged, 0 held, 0 failed")


def test_two_flow_runs_at_once_lose_no_edition(flow_env, seaweed, tree: Path, tmp_path: Path) -> None:
    import shutil

    from flows.runs.flow import publish_notices

    assert publish_notices(_params(schools=["st-aidans-all-through"]), return_state=True).is_completed()
    other = tmp_path / "other"
    shutil.copytree(tree / "schools", other / "schools")
    for folder, head in ((tree / "schools", "Mrs A Scheduled"), (other / "schools", "Mr B Rerun")):
        path = folder / "st-aidans-all-through.yaml"
        path.write_text(path.read_text().replace("Mrs Morgan Example", head), encoding="utf-8")
    runs = [
        _run_in_thread(_params()),  # the scheduled trust-wide run
        _run_in_thread(_params(schools=["st-aidans-all-through"], schools_dir=str(other / "schools"))),
    ]
    for thread, _ in runs:
        thread.join(timeout=180)
    assert all(box["state"].is_completed() for _, box in runs)
    manifest = _manifest(seaweed, flow_env["NOTICES_S3_PREFIX"], "st-aidans-all-through")
    assert [e.number for e in manifest.editions] == [1, 2, 3]
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    heads = set()
    for number in (2, 3):
        key = layout.edition_key(flow_env["NOTICES_S3_PREFIX"], "st-aidans-all-through", number, "notice.json")
        heads.add(json.loads(read_object(client, Bucket=seaweed.bucket, Key=key))["school"]["headteacher"])
    assert heads == {"Mrs A Scheduled", "Mr B Rerun"}


def test_task_inputs_are_plain_data_that_any_worker_can_unpickle(sample) -> None:
    """What a publishing task receives crosses process boundaries (Dask workers): no live client or
    template environment, and a worker rebuilds the same context from it."""
    import pickle

    from flows.publish.context import Approval
    from flows.publish.spec import RunSpec, context_for
    from flows.publish.target import Target
    from flows.notice.prepare import TEMPLATES_DIR

    target = Target("b", "notices", "https://notices.example.org/", "http://127.0.0.1:9", None, True)
    spec = RunSpec(
        target, sample.valid.trust, sample.valid.dataset, str(TEMPLATES_DIR), ("k", "s"), approval=Approval("Alex Example")
    )
    copy, notices = pickle.loads(pickle.dumps((spec, list(sample.notices))))
    assert copy.key() == spec.key() and [n.slug for n in notices] == [n.slug for n in sample.notices]
    ctx = context_for(copy)
    assert ctx.approval == Approval("Alex Example") and ctx.target == target and ctx.trust_name == sample.valid.trust.name
