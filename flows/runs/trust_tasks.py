"""The trust run (``flows.publish.trust_run``) on the flow's tasks: its batches submitted as
``publish-schools`` task runs to the task runner, its index step as ``publish-trust-index``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prefect import get_run_logger
from prefect.utilities.annotations import quote

from flows.config.models import Notice
from flows.publish.batches import Batch
from flows.publish.results import RunResult, SchoolResult
from flows.publish.spec import RunSpec
from flows.publish.trust_run import BatchOutcome, RunBatches, outcome_of, run_trust
from flows.runs.runners import THREADS, api_for_workers, make_task_runner, parallelism


def submit_batches(batch_task: Any, runner: str) -> RunBatches:
    """Runs a trust run's batches as ``batch_task`` runs on the task runner ``runner``."""

    def run_batches(spec: RunSpec, planned: list[Batch]) -> Iterator[BatchOutcome]:
        # quote(): in threads, Prefect would otherwise walk every field of every model looking for
        # futures. On Dask the task received the quote as a plain tuple, so there values go as they are.
        wrap: Callable[[Any], Any] = quote if runner == THREADS else (lambda value: value)
        with api_for_workers(runner), make_task_runner(runner) as task_runner:
            futures = [
                task_runner.submit(
                    batch_task,
                    parameters={
                        "spec": wrap(spec),
                        "notices": wrap(batch.notices),
                        "label": batch.label,
                        "known": wrap(batch.known),
                        "homes": wrap(batch.homes),
                    },
                )
                for batch in planned
            ]
            for future, batch in zip(futures, planned, strict=True):
                yield outcome_of(batch, future.result)

    return run_batches


def publish_on_tasks(
    spec: RunSpec, notices: Sequence[Notice], run_id: str, runner: str, *, batch_task: Any, index_task: Any
) -> RunResult:
    """Publish under the trust lock, the batches and the index as the flow's task runs; its
    warnings and errors go to the run's log."""
    return run_trust(
        spec,
        notices,
        run_id,
        run_batches=submit_batches(batch_task, runner),
        publish_index=lambda s, results: index_task(quote(s), quote(results)),  # quote() is unwrapped by Prefect
        parallel=parallelism(runner),
        log=get_run_logger(),
    )


def with_broken(run: RunResult, broken: Sequence[str]) -> RunResult:
    """The run's results with a failure for each school that could not be prepared, by slug."""
    failed = [SchoolResult.failure(slug, "configuration is invalid, or no such school (see the logs)") for slug in broken]
    return RunResult(run.target, sorted([*run.schools, *failed], key=lambda r: r.slug), run.requests)
