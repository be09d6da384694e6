"""The school check (spec 3-5): each entry in the signed tree, the edition chain, every file hashed.

``where`` in each problem is the URL of the file or the log entry at fault, so a reader can
open it; the messages hold the spec's words ("chain broken", "does not match", "but missing",
"gap", "matches no entry") so each attack reads as what it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from flows.publish.layout import LATEST_FILES
from flows.tlog.merkle import ProofError, inclusion_proof, verify_inclusion
from flows.tlog.tiles import TileError
from flows.verify.discover import SchoolRef
from flows.verify.entries import Entry
from flows.verify.fetch import Fetcher
from flows.verify.log import LogView
from flows.verify.problems import Problem


@dataclass
class SchoolReport:
    """What was checked for one school, and what is wrong."""

    slug: str
    urn: str
    entries: int = 0
    editions: list[int] = field(default_factory=list)
    files: int = 0
    problems: list[Problem] = field(default_factory=list)


def check_school(school: SchoolRef, entries: list[Entry], log: LogView, fetcher: Fetcher, named: str | None) -> SchoolReport:
    """Check ``school`` against its URN's ``entries`` (log order); ``named`` is the entry its latest.json names."""
    report = SchoolReport(school.slug, school.urn, entries=len(entries))
    for entry in entries if log.tiles_ok else ():
        report.problems += _included(entry, log)
    editions = _editions(entries, school.slug)
    report.editions = sorted(editions)
    report.problems += _chain(entries, log.where)
    report.problems += _gaps(editions, school)
    urls = [f"{school.folder}v{n}/{name}" for n, e in sorted(editions.items()) for name in sorted(e.data.get("files") or {})]
    digests = fetcher.digests([*urls, *(school.folder + name for name in LATEST_FILES)] if entries else [])
    report.files = len(digests)
    for number, entry in sorted(editions.items()):
        report.problems += _edition_files(school, number, entry, digests)
    report.problems += _latest(school, entries, digests, named, log.where)
    report.problems += _unlogged_editions(school, set(editions), fetcher) if entries else []
    if not entries:
        report.problems.append(Problem("no-entries", school.folder, f"URN {school.urn} has no entry in the log"))
    return report


def _included(entry: Entry, log: LogView) -> list[Problem]:
    """The inclusion proof of ``entry`` from the hash tiles, against the signed root."""
    try:
        proof = inclusion_proof(entry.index, log.size, log.reader.hash)
        verify_inclusion(entry.leaf, entry.index, log.size, proof, log.root)
    except (ProofError, TileError) as exc:
        return [Problem("inclusion", log.entry_where(entry), f"is not in the signed tree of size {log.size} ({exc})")]
    return []


def _editions(entries: list[Entry], slug: str) -> dict[int, Entry]:
    """Each logged edition's entry; where an edition is logged twice (a moved school), the one of ``slug``."""
    chosen: dict[int, Entry] = {}
    for entry in entries:
        if entry.kind == "edition" and (entry.edition not in chosen or entry.data.get("slug") == slug):
            chosen[entry.edition] = entry
    return chosen


def _chain(entries: list[Entry], where: str) -> list[Problem]:
    """Each edition entry's ``previous`` is the leaf hash of an entry of the URN's previous logged edition,
    and each latest entry's ``edition_entry`` that of its edition: a removed entry breaks the next one."""
    by_number: dict[int, set[str]] = {}
    for entry in entries:
        if entry.kind == "edition":
            by_number.setdefault(entry.edition, set()).add(entry.hex)
    problems: list[Problem] = []
    for entry in entries:
        earlier = [n for n in sorted(by_number) if n < entry.edition]
        wanted: set[str | None]
        if entry.kind == "latest":
            named, wanted = entry.data.get("edition_entry"), set(by_number.get(entry.edition, set()))
            holds = f"edition {entry.edition}'s entry" if wanted else f"no entry of edition {entry.edition}"
        else:
            named, wanted = entry.data.get("previous"), set(by_number[earlier[-1]]) if earlier else {None}
            holds = f"edition {earlier[-1]}'s entry" if earlier else "no earlier entry"
        if named not in wanted:
            what = "previous" if entry.kind == "edition" else "edition"
            message = f"chain broken: its {what} entry is {named}, but the log holds {holds} (an entry removed or rewritten?)"
            problems.append(
                Problem("chain", f"{where} (entry {entry.index}, URN {entry.urn} {entry.kind} {entry.edition})", message)
            )
    return problems


def _gaps(editions: dict[int, Entry], school: SchoolRef) -> list[Problem]:
    """Editions 1..max are all logged, or each missing number is in the next edition's ``skipped``."""
    problems: list[Problem] = []
    last = 0
    for number in sorted(editions):
        missing = set(range(last + 1, number))
        skipped = editions[number].data.get("skipped") or []
        if missing - set(skipped):
            listed = ", ".join(str(n) for n in sorted(missing - set(skipped)))
            problems.append(
                Problem("gap", school.folder, f"gap: edition(s) {listed} before edition {number} are neither logged nor skipped")
            )
        last = number
    return problems


def _edition_files(school: SchoolRef, number: int, entry: Entry, digests: dict[str, str | None]) -> list[Problem]:
    """Every file of ``v<N>/`` fetched and hashed against the edition's entry."""
    problems: list[Problem] = []
    files = entry.data.get("files") or {}
    for name, wanted in sorted(files.items()):
        url = f"{school.folder}v{number}/{name}"
        digest = digests[url]
        if digest is None:
            problems.append(
                Problem("missing", url, f"edition {number} of {school.slug} is in the log (entry {entry.index}) but missing")
            )
        elif digest != wanted:
            problems.append(
                Problem(
                    "mismatch",
                    url,
                    f"sha256 {digest} does not match the log's {wanted} (edition {number}, entry {entry.index})",
                )
            )
    return problems


def _latest(
    school: SchoolRef, entries: list[Entry], digests: dict[str, str | None], named: str | None, where: str
) -> list[Problem]:
    """Every latest file matches the URN's newest latest entry (``_chain`` checks the edition it names)."""
    latest = [e for e in entries if e.kind == "latest"]
    if not latest:
        return [Problem("no-latest", school.folder, f"URN {school.urn} has no latest entry in the log")] if entries else []
    newest = latest[-1]
    problems: list[Problem] = []
    if named is not None and named not in {e.hex for e in entries}:
        problems.append(Problem("latest-json", school.folder + "latest.json", f"names entry {named}, which matches no entry"))
    files = newest.data.get("files") or {}
    for name in LATEST_FILES:
        problems += _latest_file(school.folder + name, digests[school.folder + name], files.get(name), latest)
    return problems


def _latest_file(url: str, digest: str | None, wanted: str | None, latest: list[Entry]) -> list[Problem]:
    """A live latest file is the newest latest entry's; else say whether it is an older one's, or no entry's."""
    name = url.rsplit("/", 1)[1]
    if digest is None:
        return [Problem("missing", url, "is in the log's latest entry but missing")] if wanted else []
    if digest == wanted:
        return []
    older = [e.edition for e in latest if (e.data.get("files") or {}).get(name) == digest]
    if older:
        return [Problem("stale", url, f"matches an older latest entry (edition {older[-1]}), not the newest")]
    return [Problem("unlogged", url, f"sha256 {digest} matches no entry of the log (the newest latest entry says {wanted})")]


_HISTORY_LINK = re.compile(r'href="(?:\./)?v(\d+)/')


def _unlogged_editions(school: SchoolRef, logged: set[int], fetcher: Fetcher) -> list[Problem]:
    """Site → log: every edition ``manifest.json`` lists and every ``v<N>/`` the history page links is logged.

    The other checks start from the log, so an edition added to the site and its records but never
    logged (words a reader could be shown that no entry vouches for) is found only here.
    """
    shown: dict[int, str] = {}
    manifest = fetcher.get(school.folder + "manifest.json", fresh=True)
    if manifest is not None:
        try:
            listed = json.loads(manifest).get("editions") or []
            shown |= {int(e["number"]): school.folder + "manifest.json" for e in listed if isinstance(e, dict)}
        except (ValueError, TypeError, KeyError, AttributeError):
            return [Problem("manifest", school.folder + "manifest.json", "cannot be read as the school's list of editions")]
    history = fetcher.get(school.folder + "history.html", fresh=True)
    if history is not None:
        for number in _HISTORY_LINK.findall(history.decode("utf-8", "replace")):
            shown.setdefault(int(number), school.folder + "history.html")
    return [
        Problem("unlogged", where, f"lists edition {number} of {school.slug}, which the log does not hold (never logged)")
        for number, where in sorted(shown.items())
        if number not in logged
    ]
