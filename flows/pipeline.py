"""The Prefect flow: a trust-wide publish, or a rerun of a few schools, with approval.

Tasks are thin wrappers over the library (``site.prepare``, ``publishing.publish_school``).
Schools are grouped into batches so one flow run makes at most ``MAX_TASK_RUNS`` task runs at
any trust size (Prefect's SQLite server drops task-run records past a few thousand), while a
small trust still shows one task per school.

Approval: when the trust asks for it (by default for scheduled runs), schools whose change is
*material* are previewed under ``_staging/<run-id>/``, a report is posted, and the run pauses
for a person's answer. Minor and presentation changes, and first editions, go straight out.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.flow_runs import pause_flow_run
from prefect.input import RunInput
from prefect.states import Cancelled, Completed, Failed
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel, ConfigDict, Field

from flows.connect import Connection, connect
from flows.models import Notice
from flows.publish import layout
from flows.publish.s3 import S3Publisher
from flows.publishing import (
    RunContext,
    RunResult,
    SchoolResult,
    make_context,
    publish_root,
    publish_school,
    stage_preview,
)
from flows.render import build_environment, render_dataset_text
from flows.site import DEFAULT_SCHOOLS, DEFAULT_SHARED_DATA, TEMPLATES_DIR, Prepared, prepare

MAX_TASK_RUNS = 250
REPORT_CAP = 20  # markdown artifacts per run; the full report goes to the bucket
FLOW_NAME = "publish-notices"

# Set by the `notices` command to print progress on long runs; None in deployments.
progress: Callable[[str], None] | None = None


class ApprovalOptions(BaseModel):
    """How material changes are approved in this run."""

    model_config = ConfigDict(extra="forbid")

    require_approval: bool | None = Field(
        default=None,
        title="Pause for approval",
        description="Pause until a person approves material changes. Leave empty to follow the trust file "
        "(on for scheduled runs, off for manual reruns unless the trust says otherwise).",
    )
    approved_by: str | None = Field(
        default=None,
        title="Approved by (inline)",
        description="For urgent fixes: the name of the person approving this run's material changes now. "
        "Recorded in each new edition; the run then does not pause.",
    )
    approval_note: str | None = Field(default=None, title="Approval note", description="Why, recorded with the approval.")
    timeout_minutes: int | None = Field(
        default=None, ge=1, le=10080, title="Approval timeout (minutes)", description="Empty: the trust file's setting."
    )


class PublishParameters(BaseModel):
    """What to publish. Every field has a description: the Prefect UI shows them as a form."""

    model_config = ConfigDict(extra="forbid")

    schools: list[str] = Field(
        default_factory=list,
        title="Schools",
        description="School slugs (e.g. oakfield-primary) or 6-digit URNs to publish. Empty: every school.",
    )
    dry_run: bool = Field(default=False, title="Dry run", description="Render and compare only; upload nothing.")
    force: bool = Field(default=False, title="Force", description="Re-upload the latest files even where they match.")
    dataset_edition: str | None = Field(
        default=None, title="DfE dataset edition", description="Use this dataset edition instead of the latest (e.g. 2026-1)."
    )
    approval: ApprovalOptions = Field(
        default_factory=ApprovalOptions,
        title="Approval",
        description="Whether material changes wait for a person's approval, or are approved now.",
    )
    schools_dir: str | None = Field(
        default=None,
        title="Schools folder",
        description="Folder with _trust.yaml and the school files, on the worker. Empty: $NOTICES_SCHOOLS or the repository's schools/.",
    )
    shared_data_dir: str | None = Field(
        default=None,
        title="Shared data folder",
        description="Folder with the DfE dataset, on the worker. Empty: $NOTICES_SHARED_DATA or the repository's shared_data/.",
    )


class ApprovalInput(RunInput):
    """The form a DPO fills in to resume a paused run."""

    approved: bool = Field(description="Publish the material changes shown in the report?")
    approver: str = Field(description="Your name, recorded with each new edition.")
    note: str = Field(default="", description="Optional note, recorded with the approval.")


def run_name() -> str:
    """``trust-wide-2026-11-28`` or ``rerun-oakfield-primary`` (from the run's parameters)."""
    from prefect.runtime import flow_run

    params = flow_run.parameters.get("params") or {}
    if isinstance(params, BaseModel):
        params = params.model_dump()
    schools = list(params.get("schools") or [])
    today = dt.datetime.now(dt.UTC).date().isoformat()
    if not schools:
        name = f"trust-wide-{today}"
    else:
        name = "rerun-" + "-".join(schools[:3]) + (f"-and-{len(schools) - 3}-more" if len(schools) > 3 else "")
    return name + ("-dry-run" if params.get("dry_run") else "")


def batch_size(count: int) -> int:
    """Schools per task so that a run makes at most ``MAX_TASK_RUNS`` task runs."""
    return max(1, math.ceil(count / MAX_TASK_RUNS))


def batches(notices: list[Notice]) -> list[list[Notice]]:
    """Split notices into batches of ``batch_size``, keeping their order."""
    size = batch_size(len(notices))
    return [notices[i : i + size] for i in range(0, len(notices), size)]


def _folders(params: PublishParameters) -> tuple[Path, Path]:
    schools = params.schools_dir or os.environ.get("NOTICES_SCHOOLS") or str(DEFAULT_SCHOOLS)
    shared = params.shared_data_dir or os.environ.get("NOTICES_SHARED_DATA") or str(DEFAULT_SHARED_DATA)
    return Path(schools), Path(shared)


@task(name="load-and-validate", cache_policy=NO_CACHE, persist_result=False)
def load_and_validate(params: PublishParameters) -> Prepared:
    """Read and check every input; log each problem as ``file:line: field: message``."""
    logger = get_run_logger()
    schools_dir, shared_dir = _folders(params)
    prepared = prepare(schools_dir, shared_dir, dataset_edition=params.dataset_edition)
    for error in prepared.errors:  # the `notices` command has printed them already
        logger.warning(str(error))
    return select_schools(prepared, params.schools)


def select_schools(prepared: Prepared, selectors: list[str]) -> Prepared:
    """Keep the schools named by slug or URN (all when none are named); unknown names are broken."""
    if not selectors:
        return prepared
    wanted = {s.strip() for s in selectors if s.strip()}
    notices = tuple(n for n in prepared.notices if n.slug in wanted or n.school.urn in wanted)
    found = {n.slug for n in notices} | {n.school.urn for n in notices}
    broken_selected = tuple(b for b in prepared.broken if b in wanted)
    unknown = tuple(sorted(w for w in wanted if w not in found and w not in broken_selected))
    return Prepared(prepared.inputs, notices, prepared.errors, broken_selected + unknown)


@task(
    name="publish-schools",
    cache_policy=NO_CACHE,
    persist_result=False,
    retries=2,
    retry_delay_seconds=[5, 30],
    task_run_name="publish-{label}",
)
def publish_batch(conn: Connection, ctx: RunContext, notices: list[Notice], label: str) -> tuple[list[SchoolResult], dict[str, int]]:
    """Publish a batch of schools; S3 failures are retried with backoff, then reported."""
    from prefect.runtime import task_run

    pub = S3Publisher(conn.publisher.client, conn.target.bucket, conn.target.public_base_url)
    results = [publish_school(pub, ctx, notice) for notice in notices]
    failed = [r for r in results if r.status == "failed" and r.retryable]
    if failed and task_run.run_count <= 2:  # let Prefect retry; published schools come back "unchanged"
        raise RuntimeError("; ".join(f"{r.slug}: {r.error}" for r in failed))
    return results, pub.counts.as_dict()


@task(name="publish-trust-index", cache_policy=NO_CACHE, persist_result=False, retries=2, retry_delay_seconds=5)
def publish_index(conn: Connection, ctx: RunContext, results: list[SchoolResult]) -> tuple[list[str], dict[str, int]]:
    """The trust's index of schools, its error page and ``schools.json``; with the requests made."""
    pub = S3Publisher(conn.publisher.client, conn.target.bucket, conn.target.public_base_url)
    return publish_root(pub, ctx, [r for r in results if r.status != "failed" and r.edition]), pub.counts.as_dict()


def _run_batches(conn: Connection, ctx: RunContext, notices: list[Notice]) -> tuple[list[SchoolResult], dict[str, int]]:
    groups = batches(notices)
    futures = [
        publish_batch.submit(conn, ctx, group, group[0].slug if len(group) == 1 else f"{group[0].slug}-and-{len(group) - 1}-more")
        for group in groups
    ]
    results: list[SchoolResult] = []
    counts: dict[str, int] = {"get": 0, "head": 0, "put": 0, "delete": 0}
    for index, (future, group) in enumerate(zip(futures, groups, strict=True), start=1):
        try:
            batch_results, batch_counts = future.result()
        except Exception as exc:  # retries exhausted: every school of the batch failed
            batch_results = [SchoolResult(n.slug, "failed", error=str(exc), name=n.school.name, urn=n.school.urn) for n in group]
            batch_counts = {}
        results.extend(batch_results)
        for key, value in batch_counts.items():
            counts[key] = counts.get(key, 0) + value
        if progress and len(notices) >= 50:
            progress(f"batch {index}/{len(groups)}: {sum(1 for r in results if r.status != 'failed')}/{len(notices)} schools done")
    return results, counts


def _needs_approval(params: PublishParameters, prepared: Prepared) -> bool:
    if params.dry_run or params.approval.approved_by:
        return False
    if params.approval.require_approval is not None:
        return params.approval.require_approval
    policy = prepared.inputs.trust.approval
    flow_run = get_run_context().flow_run
    return policy.scheduled_runs if getattr(flow_run, "auto_scheduled", False) else policy.manual_runs


@flow(name=FLOW_NAME, flow_run_name=run_name, task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=False)
def publish_notices(params: PublishParameters = PublishParameters()) -> dict[str, Any]:  # noqa: B008
    """Publish the trust's privacy notices: every school, or the ones named."""
    logger = get_run_logger()
    prepared = load_and_validate(params)
    if prepared.inputs.trust is None or prepared.inputs.dataset is None:
        return Failed(message="inputs are invalid (dataset or trust file): nothing published; see the logs")  # type: ignore[return-value]
    conn = connect(prepared.inputs.trust, {})
    for note in conn.notes:
        logger.info(note)
    run_id = str(get_run_context().flow_run.id)
    ctx = make_context(
        build_environment(TEMPLATES_DIR),
        render_dataset_text(prepared.inputs.dataset),
        conn.target,
        prepared.inputs.trust,
        TEMPLATES_DIR,
        dry_run=params.dry_run,
        force=params.force,
        approved_by=params.approval.approved_by,
        approval_note=params.approval.approval_note,
    )
    notices = list(prepared.notices)
    with _trust_lock(conn):
        if _needs_approval(params, prepared):
            results, counts = _publish_with_approval(conn, ctx, prepared, params, run_id)
        else:
            results, counts = _run_batches(conn, ctx, notices)
        if results is None:  # rejected (Cancelled) or timed out (Failed): material changes not published
            state = Cancelled if counts["state"] == "cancelled" else Failed
            return state(message=counts["message"])  # type: ignore[return-value]
        for slug in prepared.broken:
            results.append(SchoolResult(slug, "failed", error="configuration is invalid, or no such school (see the logs)"))
        root: list[str] = []
        if any(r.edition for r in results):
            root, root_counts = publish_index(conn, ctx, results)
            counts = {key: counts.get(key, 0) + value for key, value in root_counts.items()}
    run = RunResult(conn.target, sorted(results, key=lambda r: r.slug), counts, root)
    report_url = _report(conn, ctx, run, run_id)
    summary = run.as_dict() | {"dry_run": params.dry_run, "report_url": report_url}
    if run.failed:
        names = ", ".join(f"{r.slug} ({r.error})" for r in run.failed)
        return Failed(message=f"{len(run.failed)} school(s) failed: {names}", data=summary)  # type: ignore[return-value]
    return Completed(message=_summary_line(run), data=summary)  # type: ignore[return-value]


def _summary_line(run: RunResult) -> str:
    counts = {s: sum(1 for r in run.schools if r.status == s) for s in ("published", "presentation", "unchanged", "failed")}
    return ", ".join(f"{v} {k}" for k, v in counts.items())


class _trust_lock:
    """A Prefect global concurrency limit of 1 per bucket and prefix: runs publish one at a time.

    The manifest's conditional write already keeps racing runs from losing editions; the
    lock also keeps a scheduled run and a rerun from interleaving their latest files.
    """

    def __init__(self, conn: Connection) -> None:
        self.name = f"trust-notices-{conn.target.bucket}-{conn.target.prefix or 'root'}".replace("/", "-")[:100]
        self._cm: Any = None

    def __enter__(self) -> None:
        from prefect.client.orchestration import get_client
        from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
        from prefect.concurrency.sync import concurrency
        from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

        with get_client(sync_client=True) as client:
            try:
                client.read_global_concurrency_limit_by_name(self.name)
            except ObjectNotFound:
                try:
                    client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=self.name, limit=1))
                except ObjectAlreadyExists:
                    pass
        self._cm = concurrency(self.name, occupy=1, timeout_seconds=3600, strict=True)
        self._cm.__enter__()

    def __exit__(self, *exc: Any) -> None:
        self._cm.__exit__(*exc)


def _publish_with_approval(
    conn: Connection, ctx: RunContext, prepared: Prepared, params: PublishParameters, run_id: str
) -> tuple[list[SchoolResult] | None, dict[str, Any]]:
    """Publish what needs no approval, preview the material changes, pause, then act on the answer."""
    logger = get_run_logger()
    planning = dataclasses.replace(ctx, dry_run=True)
    plan, _ = _run_batches(conn, planning, list(prepared.notices))
    material = {r.slug for r in plan if r.status == "published" and r.change_class == "material"}
    free = [n for n in prepared.notices if n.slug not in material]
    results, counts = _run_batches(conn, ctx, free) if free else ([], {"get": 0, "head": 0, "put": 0, "delete": 0})
    if not material:
        return results, counts
    pub = S3Publisher(conn.publisher.client, conn.target.bucket, conn.target.public_base_url)
    previews = {r.slug: stage_preview(pub, ctx, r, run_id) for r in plan if r.slug in material}
    lines = [f"# Approval needed: {len(material)} school(s) with material changes", ""]
    for r in (r for r in plan if r.slug in material):
        lines += [f"## {r.name or r.slug} → edition {r.edition}", "", *[f"- {c}" for c in r.changes], "", f"[Preview the changes]({previews[r.slug]})", ""]
        lines += ["```diff", (r.diff or "")[:3000], "```", ""]
    create_markdown_artifact("\n".join(lines), key="approval-request", description="Material changes waiting for approval")
    minutes = params.approval.timeout_minutes or prepared.inputs.trust.approval.timeout_minutes
    timeout = int(os.environ.get("NOTICES_APPROVAL_TIMEOUT_SECONDS") or minutes * 60)  # the variable: for tests
    logger.warning("waiting for approval of material changes: %s", ", ".join(sorted(material)))
    try:
        answer = pause_flow_run(wait_for_input=ApprovalInput, timeout=timeout, poll_interval=int(os.environ.get("NOTICES_PAUSE_POLL", "10")))
    except Exception as exc:  # prefect.exceptions.FlowPauseTimeout
        logger.error("approval timed out after %s s: material changes for %s were not published", timeout, ", ".join(sorted(material)))
        return None, {"state": "failed", "message": f"approval timed out ({type(exc).__name__}): material changes for {', '.join(sorted(material))} were not published"}
    if not answer.approved:
        note = f": {answer.note}" if answer.note else ""
        return None, {"state": "cancelled", "message": f"rejected by {answer.approver}{note}; material changes for {', '.join(sorted(material))} were not published"}
    approved = dataclasses.replace(ctx, approved_by=answer.approver, approval_note=answer.note or None)
    logger.info("approved by %s: publishing %s", answer.approver, ", ".join(sorted(material)))
    more, more_counts = _run_batches(conn, approved, [n for n in prepared.notices if n.slug in material])
    for key, value in more_counts.items():
        counts[key] = counts.get(key, 0) + value
    return results + more, counts


def _report(conn: Connection, ctx: RunContext, run: RunResult, run_id: str) -> str | None:
    """Table, markdown and link artifacts; the full report as an object under ``_runs/``."""
    rows = [
        {"school": r.slug, "status": r.status, "edition": r.edition, "change": r.change_class or "", "url": r.url or "", "error": r.error or ""}
        for r in run.schools
    ]
    create_table_artifact(rows, key="publish-results", description=f"{_summary_line(run)}; requests {run.requests}")
    changed = [r for r in run.schools if r.status == "published"]
    full = ["# Changes in this run", ""]
    for r in changed:
        full += [f"## {r.slug}: edition {r.edition} ({r.change_class})", "", *[f"- {c}" for c in r.changes], "", "```diff", r.diff or "(first edition)", "```", ""]
    report_url = None
    if changed and not ctx.dry_run:
        pub = S3Publisher(conn.publisher.client, conn.target.bucket, conn.target.public_base_url)
        key = layout.join(ctx.target.prefix, "_runs", run_id, "report.md")
        pub.put(key, "\n".join(full).encode(), content_type="text/markdown; charset=utf-8", cache_control="no-cache")
        report_url = pub.url(key)
    for r in changed[:REPORT_CAP]:
        diff = (r.diff or "(first edition)")[:4000]
        body = [f"# {r.slug}: edition {r.edition} ({r.change_class})", "", *[f"- {c}" for c in r.changes], "", "```diff", diff, "```"]
        create_markdown_artifact("\n".join(body), key=f"changes-{r.slug}"[:100], description=f"What changed for {r.slug}")
        if r.url:
            create_link_artifact(r.url, link_text=f"{r.slug} edition {r.edition}", key=f"latest-{r.slug}"[:100])
    if len(changed) > REPORT_CAP and report_url:
        create_link_artifact(report_url, link_text=f"Full report: {len(changed)} changed schools", key="full-report")
    return report_url
