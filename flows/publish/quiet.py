"""A run that would change nothing, found before the trust lock: it then writes nothing at all.

Taking the lock costs a PUT and a DELETE, so a run that changes nothing still wrote twice.
Before taking it, a run reads what a locked run reads first: the URN registries, the publish
state and the server's ETags (``flows.publish.state.confirm``). If every school is vouched for
(its entry confirmed by those ETags, with the same inputs and fingerprint, at its registered
home) and the state is not due for its refresh, every school is unchanged and the run ends
there: reads only, no lock, no task. Anything else (one school with other inputs, a
registry entry elsewhere, no state, ``--force``, a move, a dry run) takes the locked path,
which reads everything again under the lock.

A concurrent run holding the lock may change objects after this snapshot; the snapshot was
still a moment at which the site matched these inputs exactly, so "unchanged" was true then,
and that run reports its own changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from flows.config.models import Notice
from flows.publish.base import Publisher, PublishError
from flows.publish.moves import read_homes
from flows.publish.results import SchoolResult
from flows.publish.school import vouched_result
from flows.publish.spec import RunSpec, context_for
from flows.publish.state import REFRESH_DAYS, confirm, fingerprint, input_hash, read_state


def registries(spec: RunSpec) -> list[str]:
    """The prefixes whose URN registries a run reads: its own, the trust file's and --move-from's."""
    named = [p for p in (spec.trust.publishing.prefix, spec.move_from) if p is not None]
    return [spec.target.prefix, *named]


def quiet_run(
    spec: RunSpec, notices: Sequence[Notice], pub: Publisher, publishers: Callable[[RunSpec], Publisher]
) -> tuple[list[SchoolResult], dict[str, int]] | None:
    """Every school's result if the run would change nothing (reads only), else None: take the lock.

    Returns the results and the requests the reads made beyond ``pub``'s own counts.
    """
    if spec.dry_run or spec.force or spec.move_from is not None or not notices:
        return None
    prefix = spec.target.prefix
    try:
        homes = read_homes(pub, registries(spec))
        known = read_state(pub, prefix)
        if known.etag is None or known.age_s >= REFRESH_DAYS * 86400:  # none, or due to be written again
            return None
        trusted, counts = confirm(lambda: publishers(spec), prefix, known, [n.slug for n in notices])
    except PublishError:
        return None  # the locked path reads again and reports what it cannot read
    ctx = context_for(spec)
    results: list[SchoolResult] = []
    for notice in notices:
        entry, home = trusted.get(notice.slug), homes.get(notice.school.urn)
        if entry is None or home is None or not home.at(prefix, notice.slug):
            return None
        if entry.fingerprint != fingerprint(ctx, notice) or entry.input_hash != input_hash(ctx, notice):
            return None
        results.append(vouched_result(ctx, notice, entry))
    return results, counts
