"""``verify``: every check of the spec, from one public URL, with one fetcher and one tile reader.

Problems are collected, not raised: a reader sees everything wrong at once. Only what stops the
run (the log cannot be read at all) is a ``VerifyError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from flows.tlog.tiles import TileError
from flows.verify.discover import Site, find_site, read_latest_entries
from flows.verify.entries import Entry, by_urn, read_entries
from flows.verify.fetch import Fetcher
from flows.verify.log import LogView, check_extends, choose_key, handed_over, open_checkpoint
from flows.verify.problems import Problem, VerifyError
from flows.verify.school import SchoolReport, check_school
from flows.verify.state import Seen, load_seen, save_seen
from flows.verify.witnesses import Witness, WitnessSeen, check_witness, listed_witnesses

# A checkpoint with one of these problems is not remembered: the next run must compare with the good one.
_LOG_PROBLEMS = {"key", "origin", "checkpoint", "rollback", "fork", "not-extension", "tiles"}


@dataclass
class Outcome:
    """What ``verify`` found."""

    url: str
    origin: str = ""
    size: int = 0
    entries: int = 0
    schools: list[SchoolReport] = field(default_factory=list)
    witnesses: list[WitnessSeen] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0
    received: int = 0
    state_file: Path | None = None
    notes: list[str] = field(default_factory=list)
    """What a reader should know that is not a problem (the trust's key changed, vouched for)."""


def verify(
    url: str, state_dir: Path, key: str | None = None, witnesses: Sequence[Witness] = (), fetcher: Fetcher | None = None
) -> Outcome:
    """Verify the site at ``url`` (a school's folder or page, or the trust's root) against its log."""
    fetcher = fetcher or Fetcher()
    outcome = Outcome(url)
    try:
        _run(url, state_dir, key, witnesses, fetcher, outcome)
    finally:
        outcome.requests, outcome.received = fetcher.requests, fetcher.received
    return outcome


def _run(url: str, state_dir: Path, key: str | None, witnesses: Sequence[Witness], fetcher: Fetcher, out: Outcome) -> None:
    site = find_site(url, fetcher)
    view, seen = _open_log(site, state_dir, key, fetcher, out)
    if view is None:
        return
    entries, problems = read_entries(view.size, lambda path: fetcher.need(view.where + path), view.where)
    out.problems += problems
    entries = _in_tree(entries, view, out)
    out.entries = len(entries)
    grouped = by_urn(entries)
    named = read_latest_entries(site, fetcher)
    for school in site.schools:
        report = check_school(school, grouped.get(school.urn, []), view, fetcher, named.get(school.slug))
        out.schools.append(report)
        out.problems += report.problems
    if site.trust_wide:
        out.problems += _unlisted(grouped, site, view)
    for witness in [*listed_witnesses(view, fetcher), *witnesses]:
        seen_by, problems = check_witness(view, witness, fetcher)
        out.witnesses.append(seen_by)
        out.problems += problems
    if not _LOG_PROBLEMS & {p.code for p in out.problems}:
        out.state_file = save_seen(state_dir, Seen(view.origin, view.key, view.size, view.root, view.note))


def _unlisted(grouped: dict[str, list[Entry]], site: Site, view: LogView) -> list[Problem]:
    """A URN the log holds editions of that the trust's list no longer names: its editions were
    published and must stay checkable, so hiding a school from ``schools.json`` is said too."""
    listed = {school.urn for school in site.schools}
    problems: list[Problem] = []
    for urn, entries in sorted(grouped.items()):
        if urn not in listed:
            slugs = sorted({str(e.data.get("slug")) for e in entries})
            problems.append(
                Problem(
                    "unlisted",
                    view.where,
                    f"URN {urn} ({', '.join(slugs)}) has {len(entries)} entries in the log, but schools.json does not list it",
                )
            )
    return problems


def _in_tree(entries: list[Entry], view: LogView, out: Outcome) -> list[Entry]:
    """The entries whose leaf hash is the level-0 tile's: an entry rewritten in its bundle (to move it to
    another URN, say) is named once and then ignored, so it cannot hide or fake a school's edition."""
    if not view.tiles_ok:
        return entries
    kept: list[Entry] = []
    for entry in entries:
        try:
            leaf = view.reader.hash(0, entry.index)
        except TileError as exc:  # a full tile the root did not need; the inclusion proofs say the rest
            out.problems.append(Problem("tiles", view.entry_where(entry), f"cannot be checked: {exc}"))
            continue
        if leaf == entry.leaf:
            kept.append(entry)
        else:
            out.problems.append(Problem("inclusion", view.entry_where(entry), f"is not in the signed tree of size {view.size}"))
    return kept


def _open_log(site: Site, state_dir: Path, key: str | None, fetcher: Fetcher, out: Outcome) -> tuple[LogView | None, Seen | None]:
    """The checkpoint, verified (spec 1) and compared with the one remembered (spec 2)."""
    body = fetcher.need(site.checkpoint_url, fresh=True)
    try:
        note = body.decode("utf-8")
    except UnicodeDecodeError:
        raise VerifyError(f"{site.checkpoint_url}: not UTF-8 text") from None
    out.origin = note.split("\n", 1)[0]
    seen = load_seen(state_dir, out.origin)
    fetched = "" if key or seen else fetcher.need(site.key_url).decode("utf-8", "replace")
    vkey, why = choose_key(fetched, key, seen)
    view, problems = open_checkpoint(site.log, note, vkey, why, fetcher)
    out.problems += problems
    if view is None:
        return None, seen
    out.size = view.size
    out.problems += check_extends(view, seen)
    if seen is not None and not key:  # a change of key the remembered key vouches for
        new = handed_over(view, fetcher.need(site.key_url).decode("utf-8", "replace"))
        if new is not None:
            out.notes.append(f"the trust's log key changed to {new}, vouched for by the key remembered; now remembered")
            view.key = new
    return view, seen
