"""The Prefect flow: a thin sequence of tasks over the library (``flows.publish``, ``flows.runs``).

1. load and validate the inputs; select schools by slug or URN;
2. publish them in batches under the trust lock (at most ``max_task_runs()`` task runs);
   a change that needs approval and has no approver is *held*, never published;
3. if any are held: private previews, a saved plan, the approval request, and the run waits
   holding nothing — suspended (the process ends) when it runs from a deployment, paused in
   process otherwise; the answer publishes exactly the approved words, under the lock again;
4. the report: the results table, each school's changes, the full report (private link).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import get_run_context
from prefect.states import Failed, State
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote
from pydantic import BaseModel

from flows.config.models import Notice
from flows.publish import private
from flows.publish.base import Publisher, PublishError
from flows.publish.context import Approval
from flows.publish.results import INDEX_NOT_UPDATED, RunResult, SchoolResult, SchoolState, Status
from flows.publish.lease import TrustLease
from flows.publish.moves import Home, read_homes
from flows.publish.root import RETRY_DELAYS_S, publish_batch, publish_root
from flows.publish.spec import RunSpec, context_for, publisher_for
from flows.publish.state import Known, confirm, read_state, save_state
from flows.publish.connect import connect
from flows.publish.transport import any_circuit_open
from flows.runs import flowrun
from flows.runs.parameters import PublishParameters, approval_form
from flows.runs.runners import THREADS, make_task_runner, parallelism
from flows.runs.selection import prepare_selected
from flows.config.paths import find_config
from flows.settings import read_settings
from flows.notice.prepare import TEMPLATES_DIR, Prepared

FLOW_NAME = "publish-notices"
BATCHES_PER_WORKER = 4  # enough to balance uneven schools (a PDF, a new edition) across workers

# Set by the `notices` command to print progress on long runs; None in deployments.
progress: Callable[[str], None] | None = None


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


def max_task_runs() -> int:
    """Task runs a flow run may make ($NOTICES_MAX_TASK_RUNS, default 250: SQLite servers drop more)."""
    return read_settings().max_task_runs


def batch_size(count: int, parallel: int | None = None) -> int:
    """Schools per task: at most ``max_task_runs()`` task runs, and no more than
    ``BATCHES_PER_WORKER`` per worker that can run them (each task run costs ~50 ms of API calls).

    ``parallel``: how many tasks run at once (None: unknown, e.g. a remote Dask scheduler).
    """
    runs = max_task_runs() if parallel is None else min(max_task_runs(), BATCHES_PER_WORKER * parallel)
    return max(1, math.ceil(count / runs))


def batches(notices: Sequence[Notice], parallel: int | None = None) -> list[list[Notice]]:
    """Split notices into batches of ``batch_size``, keeping their order."""
    size = batch_size(len(notices), parallel)
    return [list(notices[i : i + size]) for i in range(0, len(notices), size)]


def retry_delays() -> tuple[float, ...]:
    """Seconds before each retry of a batch's transiently failed schools ($NOTICES_RETRY_DELAYS,
    e.g. ``5,30``; empty or ``0`` retries: ``none``). At most 5 retries, each at most 300 s, so the
    worst case in README's *Retries and failures* holds."""
    raw = (read_settings().retry_delays or "").strip()
    if not raw:
        return RETRY_DELAYS_S
    if raw == "none":
        return ()
    delays = tuple(float(x) for x in raw.split(",") if x.strip())
    if len(delays) > 5 or any(not 0 <= d <= 300 for d in delays):
        raise ValueError(f"$NOTICES_RETRY_DELAYS: at most 5 delays of 0-300 seconds each, got {raw!r}")
    return delays


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
    pub = publisher_for(spec)
    return publish_batch(pub, context_for(spec), notices, retry_delays(), known, homes), pub.counts.as_dict()


INDEX_RETRY_S = 5.0  # one more try of the trust's index after a transient failure


@task(name="publish-trust-index", cache_policy=NO_CACHE, persist_result=False)
def publish_index(spec: RunSpec, results: list[SchoolResult]) -> tuple[list[str], dict[str, int], str | None]:
    """The trust's index of schools, its error page and ``schools.json``; with the requests made,
    and why they could not be written (None: they were).

    A failure is returned, not raised: the schools are live whatever happens here, and a raised
    error would print its traceback into the run's log. One more try follows a transient
    failure, unless an endpoint's circuit is open (another try would be refused at once).
    """
    pub, ctx = publisher_for(spec), context_for(spec)
    for delay in (0.0, INDEX_RETRY_S):
        time.sleep(delay)
        try:
            return publish_root(pub, ctx, results), pub.counts.as_dict(), None
        except PublishError as exc:
            error = exc
            if not exc.transient or any_circuit_open():
                break
    return [], pub.counts.as_dict(), str(error)


def _run_batches(
    spec: RunSpec, notices: Sequence[Notice], runner: str, known: dict[str, SchoolState], homes: dict[str, Home]
) -> tuple[list[SchoolResult], dict[str, int]]:
    groups = batches(notices, parallelism(runner))
    # quote(): in threads, Prefect would otherwise walk every field of every model looking for
    # futures. On Dask the task received the quote as a plain tuple, so there values go as they are.
    wrap: Callable[[Any], Any] = quote if runner == THREADS else (lambda value: value)
    with make_task_runner(runner) as task_runner:
        futures = [
            task_runner.submit(
                publish_schools,
                parameters={
                    "spec": wrap(spec),
                    "notices": wrap(group),
                    "label": group[0].slug if len(group) == 1 else f"{group[0].slug}-and-{len(group) - 1}-more",
                    "known": wrap({n.slug: known[n.slug] for n in group if n.slug in known}),
                    "homes": wrap({n.school.urn: homes[n.school.urn] for n in group if n.school.urn in homes}),
                },
            )
            for group in groups
        ]
        return _collect(futures, groups, len(notices))


def _collect(futures: list[Any], groups: list[list[Notice]], total: int) -> tuple[list[SchoolResult], dict[str, int]]:
    results: list[SchoolResult] = []
    counts: dict[str, int] = {}
    for index, (future, group) in enumerate(zip(futures, groups, strict=True), start=1):
        try:
            batch_results, batch_counts = future.result()
        except Exception as exc:  # the task itself crashed: every school of the batch failed, and says why
            batch_results = [SchoolResult.failure(n, f"{type(exc).__name__}: {exc}") for n in group]
            batch_counts = {}
        results.extend(batch_results)
        counts = flowrun.add_counts(counts, batch_counts)
        if progress and total >= 50:
            progress(
                f"batch {index}/{len(groups)}: {sum(1 for r in results if r.status is not Status.FAILED)}/{total} schools done"
            )
    return results, counts


def _publish(spec: RunSpec, notices: Sequence[Notice], runner: str, run_id: str) -> tuple[list[SchoolResult], dict[str, int]]:
    """Publish under the trust lock: the state read, the batches, the trust's index, the state saved.

    A dry run writes nothing, so it takes no lock. If the lock cannot be taken (the endpoint is
    down, or another run held it for an hour), every school fails and says why.
    """
    pub, lock_pub = publisher_for(spec), publisher_for(spec)  # the lock's requests are counted apart
    lease = None if spec.dry_run else TrustLease(lock_pub, spec.target.prefix, run_id, notify=_log_info)
    try:
        if lease is not None:
            lease.acquire()
            spec = dataclasses.replace(spec, exclusive=True)
    except PublishError as exc:
        error = f"not published: could not take the trust lock: {exc}"
        return [SchoolResult.failure(n, error) for n in notices], _lock_counts(lock_pub)
    try:
        try:  # unread, a renamed or moved school could start a second history: publish nothing
            homes = read_homes(pub, _registries(spec))
        except PublishError as exc:
            error = f"not published: could not read the URN registry: {exc}"
            return [SchoolResult.failure(n, error) for n in notices], pub.counts.as_dict()
        known, trusted, counts = _read_known(spec, pub, notices)
        results, batch_counts = _run_batches(spec, notices, runner, trusted, homes)
        counts = flowrun.add_counts(counts, batch_counts)
        if not spec.dry_run and _index_stale(results, trusted):
            _, root_counts, index_error = publish_index(quote(spec), quote(results))  # type: ignore[call-overload]  # quote() is unwrapped by Prefect
            counts = flowrun.add_counts(counts, root_counts)
            if index_error is not None:  # the schools are published; the state is not saved, so the next run retries the index
                _note_index_failed(results, index_error)
                return results, flowrun.add_counts(flowrun.add_counts(counts, pub.counts.as_dict()), _lock_counts(lock_pub))
        if not spec.dry_run:
            _save_known(pub, spec, known, results)
    finally:
        if lease is not None:
            lease.release()
    if lease is not None and lease.lost:
        get_run_logger().error(lease.lost)
    return results, flowrun.add_counts(flowrun.add_counts(counts, pub.counts.as_dict()), _lock_counts(lock_pub))


def _registries(spec: RunSpec) -> list[str]:
    """The prefixes whose URN registries a run reads: its own, the trust file's and --move-from's."""
    named = [p for p in (spec.trust.publishing.prefix, spec.move_from) if p is not None]
    return [spec.target.prefix, *named]


def _read_known(spec: RunSpec, pub: Publisher, notices: Sequence[Notice]) -> tuple[Known, dict[str, SchoolState], dict[str, int]]:
    """The publish state, and its entries the server's ETags confirm. Unreadable, it only makes
    the run slower: every school takes the full path, which reports its own errors."""
    try:
        known = Known() if spec.force else read_state(pub, spec.target.prefix)
        trusted, counts = confirm(lambda: publisher_for(spec), spec.target.prefix, known, [n.slug for n in notices])
        return known, trusted, counts
    except PublishError as exc:
        get_run_logger().warning("could not read the publish state (every school takes the full path): %s", exc)
        return Known(), {}, {}


def _save_known(pub: Publisher, spec: RunSpec, known: Known, results: list[SchoolResult]) -> None:
    try:
        save_state(pub, spec.target.prefix, known, results)
    except PublishError as exc:  # the next run is slower, not wrong
        get_run_logger().warning("could not save the publish state (the next run checks every school): %s", exc)


def _note_index_failed(results: list[SchoolResult], exc: str) -> None:
    get_run_logger().error("the trust's index was not updated: %s", exc)
    for result in results:
        if result.status.wrote:
            result.notes = (*result.notes, f"{INDEX_NOT_UPDATED} ({exc}); the next run updates them")


def _lock_counts(lock_pub: Publisher) -> dict[str, int]:
    """The trust lock's requests (take, renew, check, release) as one ``lock`` count."""
    return {"lock": sum(lock_pub.counts.as_dict().values())}


def _index_stale(results: Sequence[SchoolResult], trusted: dict[str, SchoolState]) -> bool:
    """True if the trust's pages may be out of date: something was published, a school's
    edition differs from the last run that saved the state (a run killed after a school's
    manifest but before the index), or a school's fingerprint moved (templates, trust or site
    changed: the index or ``fragment.css`` may have other bytes though no notice did)."""
    return any(
        r.status.wrote
        or (r.edition is not None and (r.slug not in trusted or trusted[r.slug].edition != r.edition))
        or (r.state is not None and r.slug in trusted and trusted[r.slug].fingerprint != r.state.fingerprint)
        for r in results
        if r.status.live
    )


def _log_info(message: str) -> None:
    get_run_logger().info(message)
    if progress:
        progress(message)


@flow(name=FLOW_NAME, flow_run_name=run_name, task_runner=ThreadPoolTaskRunner(max_workers=4), log_prints=False)  # type: ignore[arg-type]
def publish_notices(params: PublishParameters = PublishParameters()) -> State[Any]:  # noqa: B008
    """Publish the trust's privacy notices: every school, or the ones named.

    Returns the final state; its data is the summary `notices publish --json` prints.
    """
    logger = get_run_logger()
    prepared = load_and_validate(params)
    if prepared.valid is None:
        return Failed(message="inputs are invalid (dataset or trust file): nothing published; see the logs")
    trust, dataset = prepared.valid.trust, prepared.valid.dataset
    conn = connect(trust, params.target.as_flags())
    for note in conn.notes:
        logger.info(note)
    inline = params.approval.approved_by
    if inline:
        try:  # a person the trust listed, recorded as listed
            inline = flowrun.approver(inline, trust.approval)
        except ValueError as exc:
            return Failed(message=f"Approved by (inline): {exc}; nothing published")
    spec = RunSpec(
        conn.target,
        trust,
        dataset,
        str(TEMPLATES_DIR),
        conn.credentials,
        dry_run=params.dry_run,
        force=params.force,
        approval=Approval(inline, params.approval.approval_note) if inline else None,
        expected=dict(params.approval.content_hashes) if inline and params.approval.content_hashes is not None else None,
        move_from=None if params.move_from is None else params.move_from.strip("/"),
        started_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),  # as editions are stamped
    )
    ctx = context_for(spec)
    run_id = str(get_run_context().flow_run.id)  # type: ignore[union-attr]
    pub, prefix = conn.fresh(), conn.target.prefix
    try:
        saved = None if params.dry_run else private.load_plan(pub, prefix, run_id)
    except PublishError as exc:  # resumed or new? Unknown: acting either way could publish twice
        return Failed(message=f"could not read this run's saved plan, so nothing was published: {exc}")
    timeout = flowrun.approval_timeout(params.approval.timeout_minutes or trust.approval.timeout_minutes)
    form = approval_form(trust.approval)  # the same form on every start of this run
    if saved is None:  # a new run (not one resumed after its approval request)
        flowrun.sweep(pub, prefix, logger)
        results, counts = _publish(spec, prepared.notices, params.task_runner or THREADS, run_id)
        results += [
            SchoolResult.failure(slug, "configuration is invalid, or no such school (see the logs)") for slug in prepared.broken
        ]
        run = RunResult(conn.target, sorted(results, key=lambda r: r.slug), counts)
        if not run.held or params.dry_run or not params.approval.wait:
            return flowrun.finish(conn, ctx, run, run_id, params.dry_run)
        attempt = 1
        flowrun.request_approval(conn, ctx, run, run_id, timeout, attempt=attempt)
        answer = flowrun.wait_for_answer(form, timeout, flowrun.approval_key(attempt))
    else:  # started again after a suspension: the saved plan says which request was answered
        schools, extra = saved
        run = RunResult(conn.target, schools, dict(extra.get("requests", {})))
        attempt = int(extra.get("attempt", 1))
        answer = flowrun.wait_for_answer(form, None, flowrun.approval_key(attempt))  # Prefect hands the input back

    def ask(waiting: RunResult, number: int, why: str) -> Any:
        flowrun.request_approval(conn, ctx, waiting, run_id, timeout, attempt=number, why=why)
        return flowrun.wait_for_answer(form, timeout, flowrun.approval_key(number))

    def publish(approval: Approval, expected: dict[str, str], ns: Sequence[Notice]) -> tuple[list[SchoolResult], dict[str, int]]:
        return _publish(spec.approved(approval, expected), ns, params.task_runner or THREADS, run_id)

    return flowrun.settle(conn, ctx, run, run_id, answer, attempt, ask, publish, prepared.notices)
