"""What `notices publish` prints about a run: one line per school and a summary, from typed results.

The flow returns ``RunResult.as_dict()`` (the document ``--json`` prints unchanged); this
module reads it back as ``SchoolResult``s so that every status is a ``Status``, never a
string spelled out here.
"""

from __future__ import annotations

from typing import Any

from flows.publish.results import SchoolResult, Status

# What each status is called in a run's line, and in a dry run's.
VERBS = {
    Status.PUBLISHED: ("published", "would publish"),
    Status.PRESENTATION: ("presentation update", "would update (presentation)"),
    Status.UNCHANGED: ("unchanged", "unchanged"),
    Status.HELD: ("held for approval", "needs approval"),
    Status.FAILED: ("failed", "failed"),
}


def school_results(data: dict[str, Any]) -> list[SchoolResult]:
    """The schools of a flow's result document, typed."""
    return [SchoolResult.from_dict(school) for school in data["schools"]]


def with_status(data: dict[str, Any], status: Status) -> list[SchoolResult]:
    """The schools of a flow's result document that ended with ``status``."""
    return [result for result in school_results(data) if result.status is status]


def school_line(result: SchoolResult, dry_run: bool) -> str:
    """One school's line: what happened, its edition, its changes and its URL."""
    verb = VERBS[result.status][1 if dry_run else 0]
    if result.status is Status.FAILED:
        return f"{verb:<22} {result.slug}: {result.error}"
    edition = f"v{result.edition}" if result.edition else ""
    extra = ""
    if result.status in (Status.PUBLISHED, Status.HELD):
        extra = f" ({result.change_class}: {'; '.join(result.changes)})" if result.changes else " (first edition)"
    if result.approved_by:
        extra += f" approved by {result.approved_by}"
    notes = "".join(f"\n{'':<23}{note}" for note in result.notes)
    return f"{verb:<22} {result.slug} {edition}{extra} {result.url}{notes}"


def print_run(data: dict[str, Any], dry_run: bool) -> None:
    """Every school's line, then the counts and the requests; the trust's index when all went well."""
    schools = school_results(data)
    for school in schools:
        print(school_line(school, dry_run))
    counts = data["requests"]
    done = {status: sum(1 for r in schools if r.status is status) for status in Status}
    print(
        f"{len(schools)} schools: {done[Status.PUBLISHED]} published, {done[Status.PRESENTATION]} presentation updates, "
        f"{done[Status.UNCHANGED]} unchanged, {done[Status.HELD]} held, {done[Status.FAILED]} failed; "
        f"requests: {counts.get('put', 0)} PUT, {counts.get('head', 0)} HEAD, {counts.get('get', 0)} GET, "
        f"{counts.get('list', 0)} LIST{' (dry run: nothing uploaded)' if dry_run else ''}"
    )
    if schools and not done[Status.FAILED] and not done[Status.HELD]:
        target = data["target"]
        root = f"{target['prefix']}/" if target["prefix"] else ""
        print(f"all schools: {target['base_url']}{root}index.html")
