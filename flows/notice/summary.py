"""The "In brief" block: six short points at the top of a notice, each linking to its section.

Worked out from the notice's own data (its categories, recipients and contacts), so every
school's summary says what its full notice says. The page, the fragment and notice.md show
the same points; the templates only place them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.config.models import Notice
from flows.notice.wording import ICO_NAME

SUMMARY_TITLE = "In brief"
DFE_NAME = "Department for Education"
# A long list stops being a summary: name the first few, and count the rest.
MAX_NAMED = 8
# Category names are long phrases: In brief names a few and counts the rest (grade 8 or less).
MAX_CATEGORIES = 3
# (section id, link text) of each point, in order: the questions a parent asks first.
POINTS: tuple[tuple[str, str], ...] = (
    ("who-we-are", "Who we are"),
    ("information", "What we collect"),
    ("sharing", "Who we share it with"),
    ("rights", "Your rights"),
    ("complaints", "How to complain"),
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
    # Without the explanations in brackets: the section's table gives them.
    names = [short_name(r.name) for r in notice.local_recipients]
    if not any(DFE_NAME in name for name in names):
        names.append(f"the {DFE_NAME}")
    return f"We share it with {join_words(names, 'other organisations')}."


def _rights_sentence(notice: Notice) -> str:
    # Every right of wording.RIGHTS, in the same order: access and rectification always apply;
    # erasure, restriction, objection and portability only under the conditions the body gives.
    sentences = [
        "You can ask to see your child’s information, and ask us to correct it.",
        "In some cases you can ask us to delete it, use it less or stop using it.",
        "In some cases you can ask for a copy to take to someone else.",
    ]
    if notice.uses_consent():
        sentences.append("Where we ask for your consent, you can take it back at any time.")
    return " ".join(sentences)


def _complaints_sentence(notice: Notice) -> str:
    del notice  # the same route for every school: the trust first, then the ICO
    return f"If you are unhappy, tell us. You can also complain to the {ICO_NAME}."


def summarise_notice(notice: Notice, titles: dict[str, str]) -> tuple[SummaryPoint, ...]:
    """The six points of the summary; ``titles`` maps section ids to titles (the DfE section's "see also")."""
    school, dpo = notice.school, notice.dpo
    categories = [short_name(c) for c in notice.categories]
    named = (
        [*categories[:MAX_CATEGORIES], f"{len(categories) - MAX_CATEGORIES} other kinds"]
        if len(categories) > MAX_CATEGORIES
        else categories
    )
    sentences = (
        f"{school.name} is part of {notice.controller.name}. The trust looks after pupils’ information.",
        f"We collect facts about pupils, such as {join_words(named)}.",
        _sharing_sentence(notice),
        _rights_sentence(notice),
        _complaints_sentence(notice),
        f"Email the school office at {school.email}, or our data protection officer, {dpo.name}, at {dpo.email}.",
    )
    dfe = (SummaryLink("dfe", titles["dfe"]),)
    return tuple(
        SummaryPoint(SummaryLink(sid, label), sentence, see_also=dfe if sid == "sharing" else ())
        for (sid, label), sentence in zip(POINTS, sentences, strict=True)
    )
