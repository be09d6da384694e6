"""Deployments: served by `notices serve` (its own process) and registered by `prefect deploy`."""

from __future__ import annotations

from tests.support.web import read_object

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.editions.records import Manifest
from flows.publish import layout
from flows.publish.s3 import make_client

from .conftest import REPO

BIN = Path(sys.executable).parent


def _wait_for_deployment(name: str, timeout: float = 90) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            try:
                client.read_deployment_by_name(name)
                return
            except ObjectNotFound:
                time.sleep(0.5)
    raise AssertionError(f"deployment {name} never appeared")


@pytest.fixture
def served(prefect_api: str, seaweed, tree: Path):
    """`notices serve` as a real process against the session's Prefect API; stopped by PID."""
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        NOTICES_STATE_DIR=str(Path(seaweed.state_dir).parent),
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX="served",
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )
    log = open(tree / "serve.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([str(BIN / "notices"), "serve"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tree)
    try:
        _wait_for_deployment("publish-notices/rerun")
        _wait_for_deployment("publish-notices/trust-wide")
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_served_rerun_deployment_publishes_the_chosen_school(served, seaweed, tree: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    run = run_deployment(
        "publish-notices/rerun", parameters={"params": {"schools": ["oakfield-primary"]}}, timeout=240, poll_interval=1
    )
    assert run.state.is_completed(), (run.state, (tree / "serve.log").read_text()[-3000:])
    assert run.name == "rerun-oakfield-primary"
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    body = read_object(client, Bucket=seaweed.bucket, Key=layout.record_key("served", "oakfield-primary", "manifest.json"))
    assert [e.number for e in Manifest.model_validate_json(body).editions] == [1]
    with get_client(sync_client=True) as api:
        trust_wide = api.read_deployment_by_name("publish-notices/trust-wide")
    (schedule,) = trust_wide.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Europe/London")
    limit = trust_wide.global_concurrency_limit  # how Prefect 3 stores a deployment's concurrency_limit
    assert limit is not None and limit.limit == 1
    schema = trust_wide.parameter_openapi_schema
    for model in ("PublishParameters", "ApprovalOptions"):
        fields = schema["definitions"][model]["properties"]
        assert [name for name, f in fields.items() if not f.get("description")] == [], model


def test_unknown_parameters_are_refused_before_the_run(served) -> None:
    from prefect.deployments import run_deployment

    with pytest.raises(Exception, match="schoools|extra|parameter"):
        run_deployment("publish-notices/rerun", parameters={"params": {"schoools": ["x"]}}, timeout=0)


def test_prefect_deploy_all_registers_both_deployments(prefect_api: str, tmp_path: Path) -> None:
    env = dict(os.environ, PREFECT_API_URL=prefect_api, NOTICES_REPO_DIR=str(REPO))
    pool = subprocess.run(
        [str(BIN / "prefect"), "work-pool", "create", "trust-notices", "--type", "process", "--overwrite"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deployed = subprocess.run(
        [str(BIN / "prefect"), "--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=REPO,
    )
    assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        trust_wide = client.read_deployment_by_name("publish-notices/trust-wide")
        rerun = client.read_deployment_by_name("publish-notices/rerun")
        # Leave the shared harness as we found it: served deployments of the same name come and go.
        for deployment in (trust_wide, rerun):
            client.delete_deployment(deployment.id)
    assert trust_wide.work_pool_name == rerun.work_pool_name == "trust-notices"
    assert trust_wide.schedules[0].schedule.timezone == "Europe/London"
    assert not rerun.schedules


def _children_running_flows(pid: int) -> list[int]:
    """Processes started by `notices serve` that are running a flow (Prefect's engine)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        # Its run guard (flows.runs.guard) is a Python child too, waiting for serve, not for a person.
        if ppid == pid and b"python" in cmdline and b"flows.runs.guard" not in cmdline:
            found.append(int(stat.parent.name))
    return found


def _wait_state(run_id, done, timeout: float = 180):
    from prefect.client.orchestration import get_client

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            run = client.read_flow_run(run_id)
            if done(run.state):
                return run
            time.sleep(0.5)
    raise AssertionError(f"flow run {run_id} stayed {run.state}")


def test_a_quick_run_with_a_material_change_is_suspended_holding_nothing(served, seaweed, tree: Path) -> None:
    """From the UI (a deployment, nobody named): the run suspends (its process ends, no lock is
    held), an urgent inline-approved rerun goes through meanwhile, and the DPO's Resume publishes."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)

    def editions(slug: str) -> list:
        body = read_object(client, Bucket=seaweed.bucket, Key=layout.record_key("served", slug, "manifest.json"))
        return list(Manifest.model_validate_json(body).editions)

    first = run_deployment(
        "publish-notices/rerun",
        parameters={"params": {"schools": ["hillcrest-middle", "northgate-academy"]}},
        timeout=240,
        poll_interval=1,
    )
    assert first.state.is_completed(), first.state
    before = {slug: len(editions(slug)) for slug in ("hillcrest-middle", "northgate-academy")}
    for slug in ("hillcrest-middle", "northgate-academy"):
        path = tree / "schools" / f"{slug}.yaml"
        text = path.read_text(encoding="utf-8")
        text += "" if "local_recipients:" in text else "local_recipients:\n"
        path.write_text(
            text + "  - name: Example Counselling Ltd\n    purpose: counselling\n    lawful_basis: public_task\n",
            encoding="utf-8",
        )
    waiting = run_deployment("publish-notices/rerun", parameters={"params": {"schools": ["hillcrest-middle"]}}, timeout=0)
    run = _wait_state(waiting.id, lambda s: s.is_paused())
    assert run.state.name == "Suspended"
    deadline = time.monotonic() + 30
    while _children_running_flows(served.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _children_running_flows(served.pid) == []  # no process waits for the person
    urgent = run_deployment(
        "publish-notices/rerun",
        parameters={
            "params": {
                "schools": ["northgate-academy"],
                "approval": {"approved_by": "Alex Example (DPO)", "approval_note": "urgent"},
            }
        },
        timeout=240,
        poll_interval=1,
    )
    assert urgent.state.is_completed(), (urgent.state, (tree / "serve.log").read_text()[-3000:])
    assert len(editions("northgate-academy")) == before["northgate-academy"] + 1
    assert len(editions("hillcrest-middle")) == before["hillcrest-middle"]  # still waiting
    resume_flow_run(waiting.id, run_input={"approved": True, "approver": "Alex Example (DPO)", "note": "ok"})
    done = _wait_state(waiting.id, lambda s: s.is_final())
    assert done.state.is_completed(), (done.state, (tree / "serve.log").read_text()[-3000:])
    latest = editions("hillcrest-middle")[-1]
    assert (len(editions("hillcrest-middle")), latest.approved_by, latest.approval_note) == (
        before["hillcrest-middle"] + 1,
        "Alex Example (DPO)",
        "ok",
    )


def _approval_requests(run_id) -> list:
    """Every version of a run's approval request, oldest first."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]), key=ArtifactFilterKey(any_=["approval-request"])
            )
        )
    return sorted(found, key=lambda a: a.created)


def test_a_refused_answer_asks_again_and_a_person_then_approves(served, seaweed, tree: Path) -> None:
    """Resume with a system account ('root'): the run is not Failed, it is Suspended again with a
    fresh approval request saying why; a person's name then publishes, recorded in the edition."""
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)

    def editions(slug: str) -> list:
        body = read_object(client, Bucket=seaweed.bucket, Key=layout.record_key("served", slug, "manifest.json"))
        return list(Manifest.model_validate_json(body).editions)

    slug = "brookside-special"  # no other served test publishes it (they share the "served" prefix)
    first = run_deployment("publish-notices/rerun", parameters={"params": {"schools": [slug]}}, timeout=240, poll_interval=1)
    assert first.state.is_completed(), (first.state, [a.data for a in _approval_requests(first.id)])
    before = len(editions(slug))
    path = tree / "schools" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    text += "" if "local_recipients:" in text else "local_recipients:\n"
    path.write_text(
        text + "  - name: Example Speech Therapy Ltd\n    purpose: speech therapy\n    lawful_basis: public_task\n",
        encoding="utf-8",
    )
    waiting = run_deployment("publish-notices/rerun", parameters={"params": {"schools": [slug]}}, timeout=0)
    _wait_state(waiting.id, lambda s: s.is_paused())
    assert len(_approval_requests(waiting.id)) == 1
    resume_flow_run(waiting.id, run_input={"approved": True, "approver": "root", "note": ""})
    again = _wait_state(waiting.id, lambda s: s.is_final() or (s.is_paused() and len(_approval_requests(waiting.id)) > 1))
    assert again.state.is_paused() and again.state.name == "Suspended", (again.state, (tree / "serve.log").read_text()[-3000:])
    request = _approval_requests(waiting.id)[-1].data
    assert "The last answer was refused" in request and "'root' is a system account" in request, request
    assert "Example Speech Therapy Ltd" in request and "X-Amz-Signature=" in request  # the change and fresh preview links
    assert len(editions(slug)) == before  # nothing published on a refused answer
    resume_flow_run(waiting.id, run_input={"approved": True, "approver": "Alex Example (DPO)", "note": "second try"})
    done = _wait_state(waiting.id, lambda s: s.is_final())
    assert done.state.is_completed(), (done.state, (tree / "serve.log").read_text()[-3000:])
    latest = editions(slug)[-1]
    assert (len(editions(slug)), latest.approved_by, latest.approval_note) == (before + 1, "Alex Example (DPO)", "second try")
    assert "TypeError" not in (tree / "serve.log").read_text()
