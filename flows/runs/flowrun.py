"""Prefect's side of a run: artifacts, waiting for a person, acting on the answer.

The trust lock (``flows.publish.lease``) is held only while publishing, never while a run
waits for a person: a waiting run from a deployment is *suspended* (its process ends; Prefect
starts it again from the top when the DPO answers, and the saved plan tells it what was
already done); a run without a deployment (a script, a test) pauses in its process instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.context import get_run_context
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.states import Cancelled, Completed, Failed, State

from flows.models import Notice
from flows.publish import private
from flows.publish.context import Approval, RunContext, RunResult, SchoolResult
from flows.publish.target import Connection
from flows.runs import report
from flows.runs.approval import check_approver

REPORT_CAP = 20  # markdown artifacts per run; the full report has every school
APPROVAL_KEY = "approval"

# Publishes the held schools under a named approval of exactly the words previewed.
Publish = Callable[[Approval, dict[str, str], Sequence[Notice]], tuple[list[SchoolResult], dict[str, int]]]


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Request counts added up by method."""
    return {k: total.get(k, 0) + more.get(k, 0) for k in {*total, *more}}


def sweep(pub: Any, prefix: str, logger: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    """Remove expired private run files; a failure here never stops publishing."""
    try:
        removed = private.sweep_expired(pub, prefix)
        if removed:
            logger.info("removed %s expired private run file(s)", removed)
    except Exception as exc:  # best effort: the lifecycle rule or the next run will do it
        logger.warning("could not remove expired private run files: %s", exc)


def approval_timeout(minutes: int) -> int:
    """Seconds to wait for an answer ($NOTICES_APPROVAL_TIMEOUT_SECONDS overrides, for tests)."""
    return int(os.environ.get("NOTICES_APPROVAL_TIMEOUT_SECONDS") or minutes * 60)


def request_approval(conn: Connection, ctx: RunContext, run: RunResult, run_id: str, timeout: int) -> None:
    """Private previews, the saved plan, the results so far and the approval request."""
    pub, prefix, held = conn.fresh(), conn.target.prefix, run.held
    links = private.stage_previews(pub, prefix, run_id, held)
    private.save_plan(pub, prefix, run_id, run.schools, {"requests": add_counts(run.requests, pub.counts.as_dict())})
    _table(run, "waiting for approval: ")
    create_markdown_artifact(report.approval_request(held, links, timeout // 60), key="approval-request", description="Changes waiting for approval")
    get_run_logger_safe().warning("waiting for approval: %s", ", ".join(r.slug for r in held))


def wait_for_answer(model: Any, timeout: int | None) -> Any:
    """The person's answer; None if none came in time (a paused run). Holds no lock."""
    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    if flow_run is not None and flow_run.deployment_id is not None:
        # Ends this process now; when resumed, the flow starts again and this returns the input.
        return suspend_flow_run(wait_for_input=model, timeout=timeout, key=APPROVAL_KEY)
    try:
        return pause_flow_run(
            wait_for_input=model, timeout=timeout or 3600, poll_interval=int(os.environ.get("NOTICES_PAUSE_POLL", "10")), key=APPROVAL_KEY
        )
    except Exception as exc:  # prefect.exceptions.FlowPauseTimeout
        get_run_logger_safe().error("no answer to the approval request: %s", exc)
        return None


def decide(
    conn: Connection, ctx: RunContext, run: RunResult, run_id: str, answer: Any, publish: Publish, notices: Sequence[Notice]
) -> State[Any]:
    """Act on the answer: publish exactly the approved words, or nothing more; then report."""
    held = run.held
    names = ", ".join(r.slug for r in held)
    if answer is None:
        _mark(held, "no answer to the approval request in time: not published")
        return finish(conn, ctx, run, run_id, False, decided=f"approval timed out: {names} not published")
    try:
        approver = check_approver(answer.approver)
    except ValueError as exc:
        _mark(held, f"approval not recorded ({exc}): not published")
        return finish(conn, ctx, run, run_id, False, decided=f"approval not recorded: {exc}; {names} not published")
    if not answer.approved:
        note = f": {answer.note}" if answer.note else ""
        _mark(held, f"rejected by {approver}{note}")
        return finish(conn, ctx, run, run_id, False, decided=f"rejected by {approver}{note}; {names} not published", cancelled=True)
    expected = {r.slug: r.content_hash for r in held}
    fresh, counts = publish(Approval(approver, answer.note or None), expected, [n for n in notices if n.slug in expected])
    by_slug = {r.slug: r for r in fresh}
    run = RunResult(run.target, [by_slug.get(r.slug, r) for r in run.schools], add_counts(run.requests, counts))
    return finish(conn, ctx, run, run_id, False, decided=f"approved by {approver}")


def _mark(held: list[SchoolResult], note: str) -> None:
    for result in held:
        result.notes = (*result.notes, note)


def finish(conn: Connection, ctx: RunContext, run: RunResult, run_id: str, dry_run: bool, *, decided: str = "", cancelled: bool = False) -> State[Any]:
    """The report (table, each school's changes, full report) and the run's final state."""
    pub, prefix = conn.fresh(), conn.target.prefix
    report_url = None
    changed = [r for r in run.schools if r.status in ("published", "held")]
    try:
        if changed and not dry_run:
            report_url = private.write_report(pub, prefix, run_id, report.full_report(run, f"Run {run_id}"))
        if decided:
            private.remove_run_files(pub, prefix, run_id)  # previews and the saved plan: the decision is made
    except Exception as exc:  # the report must never hide what was published
        get_run_logger_safe().error("could not write the private report or remove previews: %s", exc)
    _table(run, f"{decided}; " if decided else "")
    for r in changed[:REPORT_CAP]:
        create_markdown_artifact(report.school_changes(r), key=f"changes-{r.slug}"[:100], description=report.escape_markdown(f"What changed for {r.slug}"))
        if r.url and r.status == "published":
            create_link_artifact(r.url, link_text=report.escape_markdown(f"{r.slug} edition {r.edition}"), key=f"latest-{r.slug}"[:100])
    if report_url:
        create_link_artifact(report_url, link_text=f"Full report: {len(changed)} changed school(s) (private link, 7 days)", key="full-report")
    summary = run.as_dict() | {"dry_run": dry_run, "report_url": report_url, "decision": decided or None}
    line = report.summary_line(run.schools)
    if run.failed:
        names = ", ".join(f"{r.slug} ({r.error})" for r in run.failed)
        return Failed(message=f"{len(run.failed)} school(s) failed: {names}", data=summary)
    if cancelled:
        return Cancelled(message=f"{decided} ({line})", data=summary)
    if run.held and not dry_run:  # a dry run only says what would need approval
        names = ", ".join(r.slug for r in run.held)
        why = decided or "no approver named"
        return Failed(message=f"{len(run.held)} school(s) need a named approver and were not published ({why}): {names}", data=summary)
    return Completed(message=f"{decided}: {line}" if decided else line, data=summary)


def _table(run: RunResult, prefix: str) -> None:
    create_table_artifact(
        report.table_rows(run), key="publish-results", description=report.escape_markdown(f"{prefix}{report.summary_line(run.schools)}; requests {run.requests}")
    )


def get_run_logger_safe() -> logging.Logger | logging.LoggerAdapter[Any]:
    """The run's logger inside a run, the module's outside one."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)
