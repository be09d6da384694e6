"""A trust run's publishing, in order, free of Prefect: what the flow runs and tests drive.

0. the trust's log key (``flows.publish.log_key``): without it nothing is published;
1. the trust lock (``flows.publish.lease``), unless it is a dry run (which writes nothing) or
   a lock-free read shows that nothing would change (``flows.publish.quiet``: then it ends here);
2. the URN registries: unread, a renamed or moved school could start a second history, so
   nothing is published;
3. the publish state, and its entries the server's ETags confirm;
4. the batches (``run_batches``: the flow submits its tasks, ``InProcess`` runs them here);
5. the trust's index, if it may be stale, with its one retry (``publish_index``);
6. the trust's public log: every entry the schools' manifests hold that it does not, and a
   new signed checkpoint (``flows.publish.log``);
7. the publish state saved (not if the index or the log failed: the next run retries them);
8. the lock released, whatever happened.

Progress lines (each batch done, waiting for the lock) go to the ``flows.progress`` logger
at INFO, for the ``notices`` command to print; the run's own log gets warnings and errors.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flows.config.models import Notice
from flows.publish.base import Publisher, PublishError
from flows.publish.batch import publish_batch, retry_delays
from flows.publish.batches import Batch, plan_batches
from flows.publish.context import RunContext
from flows.publish.lease import TrustLease
from flows.publish.log import Witness, append_log
from flows.publish.log_key import LogKeyError, LogKeys, load_log_keys, public_key
from flows.publish.moves import read_homes
from flows.publish.quiet import quiet_run, registries
from flows.publish.results import INDEX_NOT_UPDATED, LOG_NOT_UPDATED, RunResult, SchoolResult, SchoolState, Status
from flows.publish.spec import RunSpec, context_for, publisher_for
from flows.publish.state import Known, confirm, read_state, save_state
from flows.publish.trust_pages import publish_trust_index

PROGRESS = logging.getLogger("flows.progress")
RUN_LOG = logging.getLogger(__name__)  # warnings and errors, when no run's logger is given
PROGRESS_FROM = 50  # schools in a run before each batch's progress is worth a line

Logger = logging.Logger | logging.LoggerAdapter[Any]
BatchOutcome = tuple[list[SchoolResult], dict[str, int]]
"""A batch's results and the requests it made."""
IndexOutcome = tuple[list[str], dict[str, int], str | None]
"""The trust pages written, the requests made, and why they could not be (None: they were)."""
RunBatches = Callable[[RunSpec, list[Batch]], Iterable[BatchOutcome]]
"""Runs the batches and yields each one's outcome, in the batches' order."""
PublishIndex = Callable[[RunSpec, list[SchoolResult]], IndexOutcome]


def add_counts(total: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    """Request counts added up by method."""
    return {k: total.get(k, 0) + more.get(k, 0) for k in {*total, *more}}


def outcome_of(batch: Batch, result: Callable[[], BatchOutcome]) -> BatchOutcome:
    """A batch's outcome; if its task crashed, every school of the batch failed, and says why."""
    try:
        return result()
    except Exception as exc:
        return [SchoolResult.failure(n, f"{type(exc).__name__}: {exc}") for n in batch.notices], {}


def run_batch(pub: Publisher, ctx: RunContext, batch: Batch, delays: Sequence[float] | None = None) -> BatchOutcome:
    """One batch, its transient failures retried after ``delays`` (None: ``retry_delays()``)."""
    results = publish_batch(pub, ctx, batch.notices, retry_delays() if delays is None else delays, batch.known, batch.homes)
    return results, pub.counts.as_dict()


def index_outcome(pub: Publisher, ctx: RunContext, results: Sequence[SchoolResult]) -> IndexOutcome:
    """The trust's index step, with the requests it made."""
    written, error = publish_trust_index(pub, ctx, results)
    return written, pub.counts.as_dict(), error


@dataclass(frozen=True)
class InProcess:
    """The run's batches and index step in this process, one batch after another."""

    publishers: Callable[[RunSpec], Publisher] = publisher_for
    contexts: Callable[[RunSpec], RunContext] = context_for
    delays: Sequence[float] | None = None
    """Before each retry of a batch's failed schools (None: ``retry_delays()``)."""

    def run_batches(self, spec: RunSpec, planned: list[Batch]) -> Iterator[BatchOutcome]:
        """Each batch in turn, on a publisher of its own (its own request counts)."""
        for batch in planned:
            yield run_batch(self.publishers(spec), self.contexts(spec), batch, self.delays)

    def publish_index(self, spec: RunSpec, results: list[SchoolResult]) -> IndexOutcome:
        """The trust's index step, on a publisher of its own."""
        return index_outcome(self.publishers(spec), self.contexts(spec), results)


IN_PROCESS = InProcess()


def run_trust(
    spec: RunSpec,
    notices: Sequence[Notice],
    run_id: str,
    *,
    run_batches: RunBatches = IN_PROCESS.run_batches,
    publish_index: PublishIndex = IN_PROCESS.publish_index,
    publishers: Callable[[RunSpec], Publisher] = publisher_for,
    parallel: int | None = 1,
    log: Logger = RUN_LOG,
) -> RunResult:
    """Publish ``notices`` under the trust lock (steps 0-8 above); one result per school, in order.

    If the lock cannot be taken (the endpoint is down, or another run held it for an hour),
    every school fails and says why. ``parallel``: how many batches run at once (None:
    unknown), which sets the batches' size (``flows.publish.batches``).
    """
    try:
        keys = None if spec.dry_run else load_log_keys()
    except LogKeyError as exc:  # without it nothing is published: no history no one can check
        return RunResult(spec.target, _all_failed(notices, str(exc)), {})
    spec = spec if keys is None else dataclasses.replace(spec, log_key=public_key(keys.signer))
    pub, lock_pub = publishers(spec), publishers(spec)  # the lock's requests are counted apart
    quiet = quiet_run(spec, notices, pub, publishers)  # nothing to change: no lock, no write at all
    if quiet is not None:
        return RunResult(spec.target, quiet[0], add_counts(add_counts(quiet[1], pub.counts.as_dict()), {"lock": 0}))
    lease = None if spec.dry_run else TrustLease(lock_pub, spec.target.prefix, run_id, notify=lambda m: _notice(log, m))
    root: list[str] = []
    try:
        if lease is not None:
            lease.acquire()
    except PublishError as exc:
        results = _all_failed(notices, f"could not take the trust lock: {exc}")
        return RunResult(spec.target, results, _lock_counts(lock_pub))
    try:
        locked = dataclasses.replace(spec, exclusive=lease is not None)
        results, counts, root = _publish_locked(locked, notices, pub, run_batches, publish_index, publishers, parallel, log, keys)
    finally:
        if lease is not None:
            lease.release()
    if lease is not None and lease.lost:
        log.error(lease.lost)
    return RunResult(spec.target, results, add_counts(add_counts(counts, pub.counts.as_dict()), _lock_counts(lock_pub)), root)


def _publish_locked(
    spec: RunSpec,
    notices: Sequence[Notice],
    pub: Publisher,
    run_batches: RunBatches,
    publish_index: PublishIndex,
    publishers: Callable[[RunSpec], Publisher],
    parallel: int | None,
    log: Logger,
    keys: LogKeys | None,
) -> tuple[list[SchoolResult], dict[str, int], list[str]]:
    """Steps 2-7: the registries, the state, the batches, the index, the log, the state saved."""
    try:  # unread, a renamed or moved school could start a second history: publish nothing
        homes = read_homes(pub, registries(spec))
    except PublishError as exc:
        return _all_failed(notices, f"could not read the URN registry: {exc}"), {}, []
    known, trusted, counts = _read_known(spec, pub, notices, publishers, log)
    planned = plan_batches(notices, parallel, trusted, homes)
    results, batch_counts = _collect(run_batches(spec, planned), planned, len(notices))
    counts = add_counts(counts, batch_counts)
    root: list[str] = []
    if not spec.dry_run and index_stale(results, trusted):
        root, root_counts, index_error = publish_index(spec, results)
        counts = add_counts(counts, root_counts)
        if index_error is not None:  # the schools are published; the state is not saved, so the next run retries the index
            _note_index_failed(results, index_error, log)
            return results, counts, root
    if keys is not None and not _logged(pub, spec, keys, results, log):
        return results, counts, root  # the state is not saved: the next run appends the same entries
    if not spec.dry_run:
        _save_known(pub, spec, known, results, log)
    return results, counts, root


def _logged(pub: Publisher, spec: RunSpec, keys: LogKeys, results: list[SchoolResult], log: Logger) -> bool:
    """Step 6: append the schools' entries to the trust's log; False (each school told) if it failed."""
    entries = [e.encode("utf-8") for r in results for e in r.log_entries]
    if not entries:
        return True
    witnesses = [Witness(w.name, w.key, str(w.url)) for w in spec.trust.log.witnesses]
    try:
        outcome = append_log(pub, spec.target.prefix, keys, entries, witnesses)
    except PublishError as exc:
        log.error("the trust's public log was not updated: %s", exc)
        for result in results:
            if result.log_entries:  # the schools whose entries the log may lack
                result.notes = (*result.notes, f"{LOG_NOT_UPDATED} ({exc}); the next run appends it")
        return False
    if outcome.appended:
        PROGRESS.info("public log: %s entries appended, %s in all", outcome.appended, outcome.size)
    return True


def _collect(outcomes: Iterable[BatchOutcome], planned: list[Batch], total: int) -> BatchOutcome:
    """The batches' results in order, their requests added up; a progress line after each."""
    results: list[SchoolResult] = []
    counts: dict[str, int] = {}
    for index, (outcome, _batch) in enumerate(zip(outcomes, planned, strict=True), start=1):
        batch_results, batch_counts = outcome
        results.extend(batch_results)
        counts = add_counts(counts, batch_counts)
        if total >= PROGRESS_FROM:
            done = sum(1 for r in results if r.status is not Status.FAILED)
            PROGRESS.info("batch %s/%s: %s/%s schools done", index, len(planned), done, total)
    return results, counts


def _read_known(
    spec: RunSpec, pub: Publisher, notices: Sequence[Notice], publishers: Callable[[RunSpec], Publisher], log: Logger
) -> tuple[Known, dict[str, SchoolState], dict[str, int]]:
    """The publish state, and its entries the server's ETags confirm. Unreadable, it only makes
    the run slower: every school takes the full path, which reports its own errors."""
    try:
        known = Known() if spec.force else read_state(pub, spec.target.prefix)
        trusted, counts = confirm(lambda: publishers(spec), spec.target.prefix, known, [n.slug for n in notices])
        return known, trusted, counts
    except PublishError as exc:
        log.warning("could not read the publish state (every school takes the full path): %s", exc)
        return Known(), {}, {}


def _save_known(pub: Publisher, spec: RunSpec, known: Known, results: list[SchoolResult], log: Logger) -> None:
    try:
        save_state(pub, spec.target.prefix, known, results)
    except PublishError as exc:  # the next run is slower, not wrong
        log.warning("could not save the publish state (the next run checks every school): %s", exc)


def _note_index_failed(results: list[SchoolResult], exc: str, log: Logger) -> None:
    log.error("the trust's index was not updated: %s", exc)
    for result in results:
        if result.status.wrote:
            result.notes = (*result.notes, f"{INDEX_NOT_UPDATED} ({exc}); the next run updates them")


def _all_failed(notices: Sequence[Notice], why: str) -> list[SchoolResult]:
    return [SchoolResult.failure(n, f"not published: {why}") for n in notices]


def _lock_counts(lock_pub: Publisher) -> dict[str, int]:
    """The trust lock's requests (take, renew, check, release) as one ``lock`` count."""
    return {"lock": sum(lock_pub.counts.as_dict().values())}


def index_stale(results: Sequence[SchoolResult], trusted: dict[str, SchoolState]) -> bool:
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


def _notice(log: Logger, message: str) -> None:
    """A lease notice (waiting for the lock): for the person watching, and the run's log."""
    log.info(message)
    PROGRESS.info(message)
