"""Readability of what a notice says: In brief, and the prose the DPO writes, section by section.

``notices validate --readability`` prints these figures and each school's hardest sentences,
and the tests hold In brief to grade 8 and the DPO's own prose to grade 9 (``flows.notice.readability``
measures both). Fixed wording and the DfE's dataset text are not the DPO's to change, so only
the fields of the trust and school files are measured here.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.config.models import Notice
from flows.notice.view import notice_sections
from flows.notice.readability import Figures, figures, hardest
from flows.notice.summary import summarise_notice

BRIEF_MAX_GRADE = 8.0
OWN_TEXT_MAX_GRADE = 9.0
HARDEST_PER_SCHOOL = 3


def brief_text(notice: Notice) -> str:
    """In brief as a parent reads it: each point's link text and sentence, one point a line."""
    titles = dict(notice_sections(notice.dataset))
    lines = []
    for point in summarise_notice(notice, titles):
        also = "".join(f" See also {link.text}." for link in point.see_also)
        lines.append(f"{point.link.text}: {point.sentence}{also}")
    return "\n".join(lines)


def own_texts(notice: Notice) -> dict[str, str]:
    """The DPO's prose in the notice, by section title: one line per item or table cell."""
    titles = dict(notice_sections(notice.dataset))
    texts = {
        titles["why"]: "\n".join(p.purpose for p in notice.purposes),
        titles["source"]: notice.source,
        titles["statutory"]: "\n".join((notice.statutory_requirement, *notice.voluntary)),
        titles["sharing"]: "\n".join(r.purpose for r in notice.local_recipients),
        titles["transfers"]: notice.international_transfers,
        titles["retention"]: notice.retention.statement,
        titles["automated"]: notice.automated_decision_making,
        titles["complaints"]: notice.complaints.contact,
    }
    return {title: text for title, text in texts.items() if text.strip()}


@dataclass(frozen=True)
class SchoolReadability:
    """One school's figures: In brief, each section of the DPO's prose, and the hardest sentences."""

    slug: str
    brief: Figures
    sections: dict[str, Figures]
    hardest: list[tuple[float, str]]


def measure(notice: Notice) -> SchoolReadability:
    """Measure one school's notice."""
    own = own_texts(notice)
    return SchoolReadability(
        slug=notice.slug,
        brief=figures(brief_text(notice)),
        sections={title: figures(text) for title, text in own.items()},
        hardest=hardest("\n".join(own.values()), HARDEST_PER_SCHOOL),
    )


def _row(label: str, f: Figures, limit: float) -> str:
    flag = f"  over grade {limit:g}" if f.grade > limit else ""
    return f"  {label}: grade {f.grade:.1f}, reading ease {f.reading_ease:.1f}{flag}"


def report_lines(notices: tuple[Notice, ...]) -> list[str]:
    """The report ``validate --readability`` prints: per school, every section's figures and the hardest sentences."""
    lines = [
        "Readability (Flesch-Kincaid grade, lower is easier; Flesch reading ease, higher is easier).",
        f"In brief should be at most grade {BRIEF_MAX_GRADE:g}, your own text at most grade {OWN_TEXT_MAX_GRADE:g}.",
    ]
    for notice in notices:
        result = measure(notice)
        lines += ["", f"{result.slug}", _row("In brief", result.brief, BRIEF_MAX_GRADE)]
        lines += [_row(title, f, OWN_TEXT_MAX_GRADE) for title, f in result.sections.items()]
        lines.append("  hardest sentences in your text:")
        lines += [f"    grade {g:.1f}: {sentence}" for g, sentence in result.hardest]
    return lines
