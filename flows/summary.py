"""The "In brief" block: five short sentences at the top of a notice, each linking to its section.

Worked out from the notice's own data (its categories, recipients and contacts), so every
school's summary says what its full notice says. The page, the fragment and notice.md show
the same points; the templates only place them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.models import Notice

SUMMARY_TITLE = "In brief"
DFE_NAME = "Department for Education"
# A long list stops being a summary: name the first few, and count the rest.
MAX_NAMED = 8
# (section id, link text) of each point, in order: the questions a parent asks first.
POINTS: tuple[tuple[str, str], ...] = (
    ("who-we-are", "Who we are"),
    ("information", "What we collect"),
    ("sharing", "Who we share it with"),
    ("rights", "Your rights"),
    ("dpo", "Who to contact"),
)


@dataclass(frozen=True)
class SummaryLink:
    """A link to a section of the notice: its id (without prefix) and link text."""

    section_id: str
    text: str


@dataclass(frozen=True)
class SummaryPoint:
    """One point of the summary: a link to the section it summarises, and one plain sentence."""

    link: SummaryLink
    sentence: str
    see_also: tuple[SummaryLink, ...] = ()


def short_name(text: str) -> str:
    """The words before any explanation in brackets: ``attendance (such as …)`` → ``attendance``."""
    return text.split(" (", 1)[0].strip()


def join_words(items: list[str], others: str = "others") -> str:
    """``a``, ``a and b``, ``a, b and c``; past ``MAX_NAMED`` items, "… and N others"."""
    if len(items) > MAX_NAMED:
        items = [*items[:MAX_NAMED], f"{len(items) - MAX_NAMED} {others}"]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _sharing_sentence(notice: Notice) -> str:
    names = [r.name for r in notice.local_recipients]
    if not any(DFE_NAME in name for name in names):
        names.append(f"the {DFE_NAME}")
    return f"We share it with {join_words(names, 'other organisations')}."


def _rights_sentence(notice: Notice) -> str:
    can = ["ask to see, correct or delete your child’s information", "object to how we use it"]
    if notice.uses_consent():
        can.append("withdraw your consent at any time")
    return f"You can {join_words(can)}."


def summarise_notice(notice: Notice, titles: dict[str, str]) -> tuple[SummaryPoint, ...]:
    """The five points of the summary; ``titles`` maps section ids to titles (the DfE section's "see also")."""
    school, dpo = notice.school, notice.dpo
    categories = [short_name(c) for c in notice.categories]
    sentences = (
        f"{school.name} is part of {notice.controller.name}, which is responsible for pupils’ information.",
        f"We collect information about pupils such as {join_words(categories, 'other kinds')}.",
        _sharing_sentence(notice),
        _rights_sentence(notice),
        f"Contact the school office at {school.email} or our data protection officer, {dpo.name}, at {dpo.email}.",
    )
    dfe = (SummaryLink("dfe", titles["dfe"]),)
    return tuple(
        SummaryPoint(SummaryLink(sid, label), sentence, see_also=dfe if sid == "sharing" else ())
        for (sid, label), sentence in zip(POINTS, sentences, strict=True)
    )
