"""What a run tells people (pure text): the results table, the summary, the approval request.

Every figure comes from the per-school results, so the table, the summary line and the
flow's return value always agree with what was written. Everything here is Markdown (Prefect
renders table cells, descriptions and link texts as Markdown too), and school names, notes,
approvers and diffs come from configuration or a person's answer: every value is escaped
(``escape_markdown``), so nothing in them can become HTML, a script or a link.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.notice.markdown import code_block, escape_markdown
from flows.publish.results import RunResult, SchoolResult, Status
from flows.runs.grouping import summary_markdown

STATUSES = tuple(Status)
DIFF_CAP = 4000


def summary_line(schools: Sequence[SchoolResult]) -> str:
    """``2 published, 0 presentation, 4 unchanged, 1 held, 0 failed``."""
    return ", ".join(f"{sum(1 for r in schools if r.status == s)} {s}" for s in STATUSES)


def table_rows(run: RunResult) -> list[dict[str, object]]:
    """One row per school for the results table artifact."""
    return [
        {
            "school": escape_markdown(r.slug),
            "status": r.status,
            "edition": r.edition,
            "change": escape_markdown(r.change_class or ""),
            "approved_by": escape_markdown(r.approved_by or ""),
            "url": escape_markdown(r.url or ""),
            "note": escape_markdown("; ".join(filter(None, (r.error, *r.notes)))),
        }
        for r in run.schools
    ]


def school_changes(result: SchoolResult, cap: int | None = DIFF_CAP) -> str:
    """One school's change notes and diff, as Markdown."""
    diff = result.diff or "(first edition)"
    if cap is not None and len(diff) > cap:
        diff = diff[:cap] + "\n… (cut: see the full report)"
    approved = f" — approved by {result.approved_by}" if result.approved_by else ""
    heading = escape_markdown(f"{result.name or result.slug}: edition {result.edition} ({result.change_class}){approved}")
    lines = [f"## {heading}", ""]
    lines += [f"- {escape_markdown(c)}" for c in (*result.changes, *result.notes)]
    # A paragraph ends the list: an indented block right after it would belong to the last item.
    return "\n".join([*lines, "", "Diff of notice.md:", "", code_block(diff), ""])


def full_report(run: RunResult, title: str) -> str:
    """Every changed or held school with its notes and whole diff."""
    body = [f"# {escape_markdown(title)}", "", summary_line(run.schools), ""]
    for r in run.schools:
        if r.status in (Status.PUBLISHED, Status.HELD):
            body.append(school_changes(r, cap=None))
    return "\n".join(body)


def approval_request(held: Sequence[SchoolResult], links: dict[str, dict[str, str]], timeout_minutes: int) -> str:
    """The request a DPO reads before approving: the grouped summary, with private preview links."""
    lines = [
        f"# Approval needed: {len(held)} school(s)",
        "",
        "Nothing below is public yet. Open the previews (private links, valid for 7 days), then answer with "
        f"**Resume** (approve, and give your name) within {timeout_minutes} minutes; otherwise nothing of this is published.",
        "",
    ]
    # One summary, grouped by distinct change: 40 schools moved to a new dataset edition read as
    # the few changes they are, each with one representative's diff and redline.
    lines.append(summary_markdown(held, links, DIFF_CAP))
    return "\n".join(lines)
