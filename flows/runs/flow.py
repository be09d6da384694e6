"""The Prefect flow: a numbered sequence of tasks over the library; it decides nothing itself.

1. load and validate the inputs; select schools by slug or URN (``load-and-validate``);
2. connect to the target; build the run's ``RunSpec`` (``flows.runs.run_spec``);
3. a run started again after its approval request finds its saved plan;
4. a new run publishes under the trust lock (``flows.publish.trust_run``: lease, URN registry,
   publish state, batches as ``publish-schools`` tasks, ``publish-trust-index``, state saved);
   a change that needs approval and has no approver is *held*, never published;
5. if any are held: the approval request, and the run waits holding nothing — suspended (the
   process ends) from a deployment, paused in process otherwise (``flows.runs.approval_wait``);
   the answer publishes exactly the approved words, under the lock again; then the report
   (``flows.runs.flowrun``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from pydantic import BaseModel

from flows.config.models import Notice
from flows.config.paths import find_config
from flows.notice.prepare import Prepared
from flows.publish import private
from flows.publish.base import PublishError
from flows.publish.batches import Batch
from flows.publish.context import Approval
from flows.publish.moves import Home
from flows.publish.results import SchoolResult, SchoolState, Status
from flows.publish.spec import PACKAGE_TEMPLATES, RunSpec, context_for, publisher_for
from flows.publish.connect import connect
from flows.publish.trust_run import BatchOutcome, IndexOutcome, index_outcome, run_batch
from flows.runs import flowrun
from flows.runs.approval_wait import ApprovalWait
from flows.runs.parameters import PublishParameters, approval_form
from flows.runs.run_spec import spec_for
from flows.runs.runners import THREADS
from flows.runs.trust_tasks import publish_on_tasks, with_broken
from flows.runs.selection import prepare_selected

FLOW_NAME = "publish-notices"

# The templates the run names: PACKAGE_TEMPLATES (""), each worker's own installed package's
# (on another machine, another path); the default-deny tests point it at an edited copy.
TEMPLATES_DIR: str | Path = PACKAGE_TEMPLATES


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


@task(name="load-and-validate", cache_policy=NO_CACHE, persist_result=False)
def load_and_validate(params: PublishParameters) -> Prepared:
    """Read and check every input; log each problem as ``file:line: field: message``."""
    logger = get_run_logger()
    schools, shared = find_config(params.schools_dir, params.shared_data_dir)  # raises with where it looked
    prepared = prepare_selected(schools, shared, params.schools, dataset_edition=params.dataset_edition)
    for error in prepared.errors:  # the `notices` command has printed them already
        logger.warning(str(error))
    return prepared


@task(name="publish-schools", cache_policy=NO_CACHE, persist_result=False, task_run_name="publish-{label}")
def publish_schools(
    spec: RunSpec,
    notices: list[Notice],
    label: str,
    known: dict[str, SchoolState] | None = None,
    homes: dict[str, Home] | None = None,
) -> tuple[list[SchoolResult], dict[str, int]]:
    """Publish a batch; transient failures are retried for those schools only, inside the task.

    Its inputs are plain data (no client, no template environment), so it runs on any worker.
    ``known``: the batch's publish-state entries that the server's ETags confirm; ``homes``: its
    schools' entries in the URN registry (None: the registry is not consulted).
    """
    batch = Batch(notices, known or {}, homes)
    return run_batch(publisher_for(spec), context_for(spec), batch)


@task(name="publish-trust-index", cache_policy=NO_CACHE, persist_result=False)
def publish_index(spec: RunSpec, results: list[SchoolResult]) -> IndexOutcome:
    """The trust's index of schools, its error page and ``schools.json``, with its one retry
    (``flows.publish.trust_pages``); the keys written, the requests made, and why they could
    not be written (None: they were)."""
    return index_outcome(publisher_for(spec), context_for(spec), results)


@flow(name=FLOW_NAME, flow_run_name=run_name, task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=False)  # type: ignore[arg-type]
def publish_notices(params: PublishParameters = PublishParameters()) -> State[Any]:  # noqa: B008
    """Publish the trust's privacy notices: every school, or the ones named.

    Returns the final state; its data is the summary `notices publish --json` prints.
    """
    logger, prepared = get_run_logger(), load_and_validate(params)  # 1. the inputs
    if prepared.valid is None:
        return Failed(message="inputs are invalid (dataset or trust file): nothing published; see the logs")
    trust = prepared.valid.trust
    conn = connect(trust, params.target.as_flags())  # 2. where to publish (the CLI's flags, typed)
    for note in conn.notes:
        logger.info(note)
    try:  # the inline approver: a person the trust listed, recorded as listed
        spec = spec_for(params, conn, prepared.valid, str(TEMPLATES_DIR))
    except ValueError as exc:
        return Failed(message=f"Approved by (inline): {exc}; nothing published")
    ctx, runner = context_for(spec), params.task_runner or THREADS
    publish_under_lock = functools.partial(publish_on_tasks, batch_task=publish_schools, index_task=publish_index)
    run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    try:  # 3. resumed or new? Unknown: acting either way could publish twice
        saved = None if params.dry_run else private.load_plan(conn.fresh(), conn.target.prefix, run_id)
    except PublishError as exc:
        return Failed(message=f"could not read this run's saved plan, so nothing was published: {exc}")
    minutes = params.approval.timeout_minutes or trust.approval.timeout_minutes
    wait = ApprovalWait(conn, ctx, run_id, flowrun.approval_timeout(minutes), approval_form(trust.approval))
    if saved is None:  # 4. a new run: publish under the trust lock
        run = with_broken(publish_under_lock(spec, prepared.notices, run_id, runner), prepared.broken)
        if any(r.status.wrote or r.status is Status.HELD for r in run.schools) and not params.dry_run:
            flowrun.sweep(conn.fresh(), conn.target.prefix, logger)  # a run that changes nothing writes nothing
        if not run.held or params.dry_run or not params.approval.wait:
            return flowrun.finish(conn, ctx, run, run_id, params.dry_run)
        run, attempt, answer = wait.first(run)
    else:  # started again after a suspension
        run, attempt, answer = wait.resumed(saved)

    def publish(approval: Approval, expected: dict[str, str], ns: Sequence[Notice]) -> BatchOutcome:
        approved = publish_under_lock(spec.approved(approval, expected), ns, run_id, runner)
        return approved.schools, approved.requests

    # 5. the answers: exactly the approved words published, under the lock again; the report
    return flowrun.settle(conn, ctx, run, run_id, answer, attempt, wait.ask, publish, prepared.notices)
