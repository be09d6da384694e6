"""A change that touches many schools, as one decision: schools grouped by distinct change.

A trust-wide edit (a new dataset edition, a trust default) changes every school the same
way, so an approver who reads 40 diffs reads one diff 40 times and misses the one school that
changed differently. Here the schools are grouped by their *change*: the same change notes
and the same changed diff lines, once each school's own name, slug and URN are set aside.
Each group shows the diff of one representative school and lists the others (pure text).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flows.notice.markdown import code_block, escape_markdown, markdown_link
from flows.config.text_rules import visible
from flows.notice.typography import curl_apostrophes

# The change notes (flows.editions.diff) that say who receives the data: the "how" of each school's line.
_RECIPIENT_NOTES = {
    "added": ("DfE recipient added: ", "Local recipient added: "),
    "removed": ("DfE recipient removed: ", "Local recipient removed: "),
    "renamed": ("DfE recipient renamed: ",),
}
SCHOOL_PLACEHOLDER = "<school>"


@dataclass(frozen=True)
class SchoolChange:
    """One school's pending change (a held school, or what a dry run would publish)."""

    slug: str
    name: str
    urn: str
    edition: int | None
    change_class: str
    changes: tuple[str, ...]
    diff: str
    notes: tuple[str, ...] = ()
    """What this school's reader should know besides the change (e.g. it changed after a request)."""

    @classmethod
    def of(cls, item: Mapping[str, Any] | Any) -> SchoolChange:
        """From a result's dict (``as_dict``, a review file) or a ``SchoolResult``."""
        get = item.get if isinstance(item, Mapping) else lambda key: getattr(item, key, None)
        return cls(
            slug=str(get("slug")),
            name=str(get("name") or ""),
            urn=str(get("urn") or ""),
            edition=get("edition"),
            change_class=str(get("change_class") or ""),
            changes=tuple(get("changes") or ()),
            diff=str(get("diff") or ""),
            notes=tuple(get("notes") or ()),
        )

    def shape(self) -> tuple[tuple[str, ...], str, tuple[str, ...]]:
        """What identifies the change whatever the school: class, notes and changed diff lines.

        The school's own name, slug and URN are replaced, so "Oakfield Primary keeps …" and
        "Riverside Infant keeps …" are the same change; file headers and context lines are left
        out (they carry edition numbers and each school's surrounding text).
        """
        lines = [line for line in self.diff.splitlines() if line[:1] in "+-" and not line.startswith(("---", "+++"))]
        return (
            tuple(sorted(self.own_words_out(n) for n in self.changes)),
            self.change_class,
            tuple(self.own_words_out(x) for x in lines),
        )

    def own_words_out(self, text: str) -> str:
        # The notice prints the name typeset ("St Aidan’s"), the config may not ("St Aidan's"): both are its own.
        names = (self.name, curl_apostrophes(self.name), self.slug, self.urn)
        for own in sorted(set(filter(None, names)), key=len, reverse=True):
            text = text.replace(own, SCHOOL_PLACEHOLDER)
        return text

    def recipients(self) -> str:
        """``recipients: 1 added, 1 renamed`` from the change notes (empty: no recipient changed)."""
        counts = {how: sum(1 for n in self.changes if n.startswith(starts)) for how, starts in _RECIPIENT_NOTES.items()}
        said = ", ".join(f"{count} {how}" for how, count in counts.items() if count)
        return f"recipients: {said}" if said else "recipients unchanged"


@dataclass(frozen=True)
class ChangeGroup:
    """Schools that change in exactly the same way; the first is the one whose diff is shown."""

    number: int
    schools: tuple[SchoolChange, ...]

    @property
    def representative(self) -> SchoolChange:
        return self.schools[0]


def group_changes(items: Iterable[Mapping[str, Any] | Any]) -> list[ChangeGroup]:
    """Schools grouped by distinct change, largest group first (ties: by the first school's slug)."""
    by_shape: dict[Any, list[SchoolChange]] = {}
    for change in sorted((SchoolChange.of(i) for i in items), key=lambda c: c.slug):
        by_shape.setdefault(change.shape(), []).append(change)
    ordered = sorted(by_shape.values(), key=lambda schools: (-len(schools), schools[0].slug))
    return [ChangeGroup(number, tuple(schools)) for number, schools in enumerate(ordered, start=1)]


def _school_line(change: SchoolChange, group: int) -> str:
    notes = "".join(f"; {note}" for note in change.notes)
    return (
        f"{change.slug} (URN {change.urn}) v{change.edition} {change.change_class}, {change.recipients()}: change {group}{notes}"
    )


def summary_text(items: Iterable[Mapping[str, Any] | Any]) -> str:
    """The grouped summary for a terminal or a review file: schools, then each distinct change once."""
    groups = group_changes(items)
    count = sum(len(g.schools) for g in groups)
    lines = [f"{count} school(s) change, in {len(groups)} distinct change(s):", ""]
    lines += [f"  {_school_line(s, g.number)}" for g in groups for s in sorted(g.schools, key=lambda c: c.slug)]
    for group in groups:
        first, others = group.representative, [s.slug for s in group.schools[1:]]
        lines += [
            "",
            f"== change {group.number}: {len(group.schools)} school(s), {first.change_class}: {', '.join(s.slug for s in group.schools)}",
        ]
        lines += [f"  - {visible(note)}" for note in first.changes or ("first edition",)]
        if first.diff:
            also = f" (the same change in {', '.join(others)})" if others else ""
            lines += [f"Diff of {first.slug} v{first.edition}{also}:", visible(first.diff, keep="\n\t").rstrip("\n")]
    return "\n".join(lines)


def summary_markdown(items: Sequence[Any], links: Mapping[str, Mapping[str, str]], diff_cap: int) -> str:
    """The grouped summary as Markdown for the Prefect approval request (every value escaped)."""

    groups = group_changes(items)
    lines = [f"{sum(len(g.schools) for g in groups)} school(s) change, in **{len(groups)} distinct change(s)**.", ""]
    lines += [f"- {escape_markdown(_school_line(s, g.number))}" for g in groups for s in g.schools]
    for group in groups:
        first = group.representative
        names = ", ".join(s.slug for s in group.schools)
        lines += [
            "",
            f"## {escape_markdown(f'Change {group.number}: {len(group.schools)} school(s), {first.change_class}: {names}')}",
            "",
        ]
        lines += [f"- {escape_markdown(note)}" for note in first.changes or ("first edition",)]
        diff = first.diff or "(first edition)"
        if len(diff) > diff_cap:
            diff = diff[:diff_cap] + "\n… (cut: see the full report)"
        others = f" (the same change in {', '.join(s.slug for s in group.schools[1:])})" if len(group.schools) > 1 else ""
        lines += ["", escape_markdown(f"Diff of notice.md, {first.slug}{others}:"), "", code_block(diff), ""]
        preview = links.get(first.slug, {})
        if preview:
            redline = markdown_link("What changed (redline)", preview.get("changes.html"), bracketed=False)
            notice = markdown_link("The new notice", preview.get("index.html"), bracketed=False)
            lines += [f"{escape_markdown(first.slug)}: {redline} · {notice}", ""]
    return "\n".join(lines)
