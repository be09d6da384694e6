"""The pupils' version of a notice: short sentences addressed to the pupil, computed in Python.

The ICO asks for notices children can understand, so every school also publishes
``for-pupils.html`` (with a fragment, Markdown and a PDF). It is made from the same structured
``Notice`` as the parents' notice, so it can never name other recipients or other contacts;
it only says less, and in plainer words, and links to the full notice for the details.
The templates place these strings and decide nothing about wording (as ``flows.notice.view``).

Its readability is measured with ``flows.notice.readability.grade`` over ``pupil_text`` (at most
Flesch-Kincaid grade 6 for every sample school, ``tests/test_pupil_notice.py``). A DPO's own
words (purposes, organisations' names) appear as written, so they count too.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.notice import wording
from flows.config.models import Notice, Recipient
from flows.notice.summary import DFE_NAME, join_words, short_name

PUPIL_TITLE = "How we look after your information"
PUPIL_LINK_TEXT = "A version for pupils"
PUPIL_LINK_NOTE = ": what this notice says, in short and simple words."
PUPIL_PAGE = "for-pupils.html"
FULL_NOTICE = "index.html"
# Who may make a request: in England a child aged 12 or over is generally presumed mature
# enough to exercise their own data protection rights (ICO guidance); younger children
# usually ask through a parent. "Usually" because it depends on the child, not only the age.
RIGHTS_AGE = 12
# Each right of ``wording.RIGHTS``, in pupil words, in the same order ("in some cases" where
# the law sets conditions, as the parents' notice says "where ...").
PUPIL_RIGHTS: tuple[str, ...] = (
    "to see the information we have about you",
    "us to put it right if it is wrong",
    "us to delete it, in some cases",
    "us to use it less, in some cases",
    "us to stop using it, in some cases",
    "for a copy to take to someone else, in some cases",
)


@dataclass(frozen=True)
class PupilLink:
    """``before`` + a link + ``after``. ``href`` None is text only (a phone number); a
    ``relative`` link is text only where there is no page around it (the fragment on a
    school's own site, the Markdown)."""

    before: str
    text: str
    href: str | None
    after: str = "."
    relative: bool = False


@dataclass(frozen=True)
class PupilSection:
    """One section: paragraphs, then a list, then more paragraphs, then links."""

    id: str
    title: str
    paragraphs: tuple[str, ...]
    items: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    links: tuple[PupilLink, ...] = ()


@dataclass(frozen=True)
class PupilView:
    """Everything the pupils' page, fragment and Markdown show."""

    title: str
    lede: str
    full_notice: PupilLink
    sections: tuple[PupilSection, ...]
    # The link near the top of the parents' page (same folder, in the latest files and in v<N>/).
    parents_link: PupilLink = PupilLink("", PUPIL_LINK_TEXT, PUPIL_PAGE, PUPIL_LINK_NOTE, relative=True)
    # The page's other forms, named at its foot (the page only: they are beside it).
    formats: tuple[PupilLink, ...] = (
        PupilLink("This page is also a", "PDF to print", "for-pupils.pdf", "", relative=True),
        PupilLink("and", "plain text", "for-pupils.md", ".", relative=True),
    )


def in_sentence(topic: str) -> str:
    """A heading-style topic as it reads mid-sentence: ``School inspection`` → ``school inspection``.

    Names stay as written: ``Unique Learner Number`` (the second word is a capital) and ``LRS``.
    """
    words = topic.split()
    first = words[0] if words else ""
    if first[1:].islower() and (len(words) == 1 or words[1][:1].islower()):
        return first[:1].lower() + topic[1:]
    return topic


def dfe_item(recipient: Recipient) -> str:
    """One DfE recipient in pupil words: the dataset's ``for_pupils``, or a plain generic line."""
    label = recipient.name if recipient.abbreviation == recipient.name else f"{recipient.name} ({recipient.abbreviation})"
    if recipient.for_pupils:
        return f"{label}: {recipient.for_pupils}"
    return f"{label}, for {in_sentence(short_name(recipient.topic))}"


def _who(notice: Notice) -> PupilSection:
    school, trust = notice.school.name, notice.controller.name
    return PupilSection(
        "who",
        "Who looks after your information",
        (f"We are {school}. Our school is part of {trust}.", "The trust is in charge of your information. It must keep it safe."),
    )


def _what(notice: Notice) -> PupilSection:
    after: list[str] = []
    special = list(dict.fromkeys(c.special_data for c in notice.special_categories))
    if special:
        after.append(f"Some of it needs extra care, like your {join_words(special)}. The law protects it more.")
    return PupilSection(
        "what",
        "What we know about you",
        ("We keep some facts about you. These are the kinds of facts:",),
        items=tuple(short_name(c) for c in notice.categories),
        after=tuple(after),
    )


def _why(notice: Notice) -> PupilSection:
    after = (
        ["Sometimes we ask first. Then you or your parents can say no. You can change your mind at any time."]
        if notice.uses_consent()
        else []
    )
    return PupilSection(
        "why",
        "Why we use it",
        ("We use it for these reasons:",),
        items=tuple(p.purpose.rstrip(".") for p in notice.purposes),
        after=tuple(after),
    )


def _sharing(notice: Notice) -> PupilSection:
    # The DfE gets a sentence of its own (every school sends it the census), so it is not listed twice.
    local = [r for r in notice.local_recipients if DFE_NAME not in r.name]
    lead = "We share some of it with:" if local else "We do not often share it with others."
    return PupilSection(
        "sharing",
        "Who we share it with",
        ("We only share it when the law and our rules allow it.", lead),
        items=tuple(r.name for r in local),
        after=(f"We must send some of it to the {DFE_NAME} (DfE). The DfE is part of the government.",),
    )


def _dfe(notice: Notice) -> PupilSection | None:
    items = tuple(dfe_item(r) for r in notice.applicable_recipients())
    if not items:
        return None
    return PupilSection("dfe", "Who the DfE shares it with", ("The DfE may share some of it with:",), items=items)


def _keep(notice: Notice) -> PupilSection:
    url = notice.retention.policy_url
    links = (PupilLink("Read", "our rules for keeping records", url),) if url else ()
    return PupilSection(
        "keep",
        "How long we keep it",
        (
            "We only keep your information for as long as we need it. Then we delete it safely.",
            "The full notice says how long we keep it.",
        ),
        links=links,
    )


def _rights() -> PupilSection:
    return PupilSection(
        "rights",
        "Your rights",
        ("It is your information, so you have rights. You can ask:",),
        items=PUPIL_RIGHTS,
        after=(
            f"If you are {RIGHTS_AGE} or older, you can usually ask for these things yourself. "
            "If you are younger, a parent or carer can ask for you.",
            "To ask, talk to the school office or our data protection officer. We will answer within one month.",
        ),
    )


def _talk(notice: Notice) -> PupilSection:
    school, dpo = notice.school, notice.dpo
    return PupilSection(
        "talk",
        "Who to talk to",
        (
            "If you have a question, talk to your teacher or the school office.",
            f"You can also ask our data protection officer, {dpo.name}. Their job is to check we look after information well.",
        ),
        links=(
            PupilLink("Email the school office at", school.email, f"mailto:{school.email}"),
            PupilLink("Phone the school office on", school.phone, None),
            PupilLink("Email the data protection officer at", dpo.email, f"mailto:{dpo.email}"),
        ),
    )


def _complain() -> PupilSection:
    return PupilSection(
        "complain",
        "If you are not happy",
        (
            "If you are worried about how we use your information, tell us. We will try to put it right.",
            f"You can also tell the {wording.ICO_NAME}. It checks that everyone keeps to the law about information.",
        ),
        links=(
            PupilLink("Go to", "the ICO website", wording.ICO_URL),
            PupilLink("Or phone the ICO on", wording.ICO_PHONE, None),
        ),
    )


def view_pupils(notice: Notice) -> PupilView:
    """Compute, once, the strings every form of the pupils' notice shows."""
    full = PupilLink(
        "Your parents or carers can read", "the full privacy notice", FULL_NOTICE, ". It has all the details.", relative=True
    )
    dfe = _dfe(notice)
    sections = [_who(notice), _what(notice), _why(notice), _sharing(notice), *([dfe] if dfe else [])]
    sections += [_keep(notice), _rights(), _talk(notice), _complain()]
    return PupilView(
        title=PUPIL_TITLE,
        lede=f"This is for pupils at {notice.school.name}. It tells you what we know about you and what we do with it.",
        full_notice=full,
        sections=tuple(sections),
    )


def pupil_text(view: PupilView) -> str:
    """All the words a pupil reads, one sentence per line: what the readability test measures.

    Headings and list items count as sentences of their own, as a reader takes them (lists
    follow GOV.UK style, lower case without a full stop; one is added here for the count).
    """

    def sentence(text: str) -> str:
        return text if text.endswith((".", "?", "!", ":")) else f"{text}."

    lines = [
        sentence(view.title),
        view.lede,
        sentence(f"{view.full_notice.before} {view.full_notice.text}{view.full_notice.after}"),
    ]
    for section in view.sections:
        lines += [sentence(section.title), *section.paragraphs, *map(sentence, section.items), *section.after]
        lines += [sentence(f"{link.before} {link.text}{link.after}") for link in section.links]
    return "\n".join(lines)
