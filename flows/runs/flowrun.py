"""Prefect's side of a run: artifacts, waiting for a person, acting on the answer.

The trust lock (``flows.publish.lease``) is held only while publishing, never while a run
waits for a person: a waiting run from a deployment is *suspended* (its process ends; Prefect
starts it again from the top when the DPO answers, and the saved plan tells it what was
already done); a run without a deployment (a script, a test) pauses in its process instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact
from prefect.context import get_run_context
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.states import Cancelled, Completed, Failed, State

from flows.config.models import ApprovalPolicy, Notice
from flows.publish import private
from flows.publish.context import Approval, RunContext
from flows.publish.results import RunResult, SchoolResult, Status
from flows.publish.connect import Connection
from flows.publish.trust_run import add_counts
from flows.runs import report
from flows.editions.approval import check_approver
from flows.settings import read_settings

REPORT_CAP = 20  # markdown artifacts per run; the full report has every school
APPROVAL_KEY = "approval"
MAX_REQUESTS = 5  # approval requests per run: after the 5th refused answer the run ends Failed

# Publishes the held schools under a named approval of exactly the words previewed.
Publish = Callable[[Approval, dict[str, str], Sequence[Notice]], tuple[list[SchoolResult], dict[str, int]]]


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
    return read_settings().approval_timeout_seconds or minutes * 60


def approval_key(attempt: int) -> str:
    """The Prefect input key of a run's ``attempt``-th approval request (1: ``approval``)."""
    return APPROVAL_KEY if attempt <= 1 else f"{APPROVAL_KEY}-{attempt}"


def approver(name: str | None, policy: ApprovalPolicy) -> str:
    """The approver's name, tidied, if ``policy`` (the trust's) lets this person approve;
    raises ValueError saying why not. Every approval the flow records is checked here."""
    return check_approver(name, policy.approvers)


@dataclass(frozen=True)
class Unreadable:
    """An answer that could not be read into the form (it is refused, and asked again)."""

    why: str


@dataclass(frozen=True)
class AskAgain:
    """The answer was refused, or some approved words changed: ask again, saying why."""

    run: RunResult
    why: str


def request_approval(
    conn: Connection, ctx: RunContext, run: RunResult, run_id: str, timeout: int, *, attempt: int = 1, why: str = ""
) -> None:
    """Private previews, the saved plan, the results so far and the approval request.

    ``attempt``: which request this is (the saved plan keeps it, so a run started again after
    its suspension knows which answer it waits for); ``why``: why the last answer was refused.
    """
    pub, prefix, held = conn.fresh(), conn.target.prefix, run.held
    links = private.stage_previews(pub, prefix, run_id, held)
    extra = {"requests": add_counts(run.requests, pub.counts.as_dict()), "attempt": attempt, "refused": why}
    private.save_plan(pub, prefix, run_id, run.schools, extra)
    _table(run, "waiting for approval: " if not why else "waiting for approval again: ")
    text = report.approval_request(held, links, timeout // 60)
    if why:
        said = report.escape_markdown(why[:1].upper() + why[1:])
        text = f"**Asked again (request {attempt} of {MAX_REQUESTS}): {said}.**\n\n" + text
    create_markdown_artifact(text, key="approval-request", description="Changes waiting for approval")
    get_run_logger_safe().warning("waiting for approval%s: %s", f" again ({why})" if why else "", ", ".join(r.slug for r in held))


def wait_for_answer(model: Any, timeout: int | None, key: str = APPROVAL_KEY) -> Any:
    """The person's answer to the request ``key``; None if none came in time (a paused run);
    ``Unreadable`` if it does not fit the form. Holds no lock."""
    from pydantic import ValidationError

    flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    try:
        if flow_run is not None and flow_run.deployment_id is not None:
            # Ends this process now; when resumed, the flow starts again and this returns the input.
            return suspend_flow_run(wait_for_input=model, timeout=timeout, key=key)
        return pause_flow_run(wait_for_input=model, timeout=timeout or 3600, poll_interval=read_settings().pause_poll, key=key)
    except ValidationError as exc:
        return Unreadable(
            f"the last answer was refused: it does not fit the form ({exc.error_count()} error(s): {exc.errors()[0]['msg']})"
        )
    except FlowPauseTimeout as exc:
        get_run_logger_safe().error("no answer to the approval request: %s", exc)
        return None


def settle(
    conn: Connection,
    ctx: RunContext,
    run: RunResult,
    run_id: str,
    answer: Any,
    attempt: int,
    ask: Callable[[RunResult, int, str], Any],
    publish: Publish,
    notices: Sequence[Notice],
) -> State[Any]:
    """Act on answers until one settles the run: a refused answer (or approved words that changed
    since the request) asks again, with a fresh request saying why, at most ``MAX_REQUESTS`` times.

    ``ask(run, attempt, why)`` posts request ``attempt`` and waits for its answer (a suspended run
    stops there and, once resumed, comes back here through its saved plan).
    """
    while True:
        outcome = decide(conn, ctx, run, run_id, answer, publish, notices)
        if isinstance(outcome, State):
            return outcome
        run = outcome.run
        if attempt >= MAX_REQUESTS:
            names = ", ".join(r.slug for r in run.held)
            _mark(
                run.held,
                f"not published: {MAX_REQUESTS} approval requests were not answered with an approval that could be recorded",
            )
            return finish(
                conn, ctx, run, run_id, False, decided=f"asked {MAX_REQUESTS} times, {outcome.why}; {names} not published"
            )
        attempt += 1
        answer = ask(run, attempt, outcome.why)


def decide(
    conn: Connection, ctx: RunContext, run: RunResult, run_id: str, answer: Any, publish: Publish, notices: Sequence[Notice]
) -> State[Any] | AskAgain:
    """Act on the answer: publish exactly the approved words, or nothing more; then report.

    A refused answer (no person's name, a name the trust does not accept, an unreadable form)
    or approved words that changed since the request return ``AskAgain``: nothing more is
    published for those schools, and the run asks again.
    """
    held = run.held
    names = ", ".join(r.slug for r in held)
    if answer is None:
        _mark(held, "no answer to the approval request in time: not published")
        return finish(conn, ctx, run, run_id, False, decided=f"approval timed out: {names} not published")
    if isinstance(answer, Unreadable):
        return AskAgain(run, answer.why)
    try:
        name = approver(answer.approver, ctx.policy)
    except ValueError as exc:
        return AskAgain(run, f"the last answer was refused: {exc}")
    if not answer.approved:
        note = f": {answer.note}" if answer.note else ""
        _mark(held, f"rejected by {name}{note}")
        return finish(conn, ctx, run, run_id, False, decided=f"rejected by {name}{note}; {names} not published", cancelled=True)
    expected = {r.slug: r.content_hash for r in held}
    fresh, counts = publish(Approval(name, answer.note or None), expected, [n for n in notices if n.slug in expected])
    by_slug = {r.slug: r for r in fresh}
    run = RunResult(run.target, [by_slug.get(r.slug, r) for r in run.schools], add_counts(run.requests, counts))
    changed = [r.slug for r in run.held if r.slug in expected and r.content_hash != expected[r.slug]]
    if changed:  # edited again since the request: approve the new words
        return AskAgain(run, f"{', '.join(changed)} changed after the approval request: review the new change")
    return finish(conn, ctx, run, run_id, False, decided=f"approved by {name}")


def _mark(held: list[SchoolResult], note: str) -> None:
    for result in held:
        result.notes = (*result.notes, note)


def finish(
    conn: Connection, ctx: RunContext, run: RunResult, run_id: str, dry_run: bool, *, decided: str = "", cancelled: bool = False
) -> State[Any]:
    """The report (table, each school's changes, full report) and the run's final state."""
    pub, prefix = conn.fresh(), conn.target.prefix
    report_url = None
    changed = [r for r in run.schools if r.status in (Status.PUBLISHED, Status.HELD)]
    try:
        if changed and not dry_run:
            report_url = private.write_report(pub, prefix, run_id, report.full_report(run, f"Run {run_id}"))
        if decided:
            private.remove_run_files(pub, prefix, run_id)  # previews and the saved plan: the decision is made
    except Exception as exc:  # the report must never hide what was published
        get_run_logger_safe().error("could not write the private report or remove previews: %s", exc)
    _table(run, f"{decided}; " if decided else "")
    _change_artifacts(changed, report_url)
    summary = run.as_dict() | {"dry_run": dry_run, "report_url": report_url, "decision": decided or None}
    return _final_state(run, summary, dry_run, decided, cancelled)


def _change_artifacts(changed: list[SchoolResult], report_url: str | None) -> None:
    """Each changed school's changes and latest edition, and the link to the full report."""
    for r in changed[:REPORT_CAP]:
        create_markdown_artifact(
            report.school_changes(r),
            key=f"changes-{r.slug}"[:100],
            description=report.escape_markdown(f"What changed for {r.slug}"),
        )
        if r.url and r.status is Status.PUBLISHED:
            create_link_artifact(
                r.url, link_text=report.escape_markdown(f"{r.slug} edition {r.edition}"), key=f"latest-{r.slug}"[:100]
            )
    if report_url:
        create_link_artifact(
            report_url, link_text=f"Full report: {len(changed)} changed school(s) (private link, 7 days)", key="full-report"
        )


def _final_state(run: RunResult, summary: dict[str, Any], dry_run: bool, decided: str, cancelled: bool) -> State[Any]:
    """Completed, or why not (Failed, Cancelled), with the summary `notices publish` prints."""
    line = report.summary_line(run.schools)
    # A deployment's runner asks Prefect for the run's result, which for a Failed or Cancelled
    # state means an exception made from its data: a dict cannot be one ("TypeError:
    # Unexpected result for failed state"). There the artifacts carry the summary; only
    # `notices publish` (no deployment, return_state=True) reads it from the state.
    failure = None if _from_deployment() else summary
    if run.failed:
        names = ", ".join(f"{r.slug} ({r.error})" for r in run.failed)
        return Failed(message=f"{len(run.failed)} school(s) failed: {names}", data=failure)
    if run.index_error and not dry_run:
        return Failed(message=f"{f'{decided}: ' if decided else ''}{line}; but {run.index_error}", data=failure)
    if cancelled:
        return Cancelled(message=f"{decided} ({line})", data=failure)
    if run.held and not dry_run:  # a dry run only says what would need approval
        names = ", ".join(r.slug for r in run.held)
        why = decided or "no approver named"
        return Failed(
            message=f"{len(run.held)} school(s) need a named approver and were not published ({why}): {names}", data=failure
        )
    return Completed(message=f"{decided}: {line}" if decided else line, data=summary)


def _from_deployment() -> bool:
    """True in a run of a deployment (served, or on a worker)."""
    try:
        flow_run = get_run_context().flow_run  # type: ignore[union-attr]
    except Exception:  # outside a run
        return False
    return flow_run is not None and flow_run.deployment_id is not None


def _table(run: RunResult, prefix: str) -> None:
    create_table_artifact(
        report.table_rows(run),
        key="publish-results",
        description=report.escape_markdown(f"{prefix}{report.summary_line(run.schools)}; requests {run.requests}"),
    )


def get_run_logger_safe() -> logging.Logger | logging.LoggerAdapter[Any]:
    """The run's logger inside a run, the module's outside one."""
    from prefect import get_run_logger
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)
