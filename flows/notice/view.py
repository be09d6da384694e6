"""The strings a notice's templates place, computed once per notice in Python.

The page, the fragment and the Markdown all show the same "law or condition" cells,
one-line addresses, recipient labels and section titles; they are worked out here, once,
so the three forms cannot drift apart and the templates hold no logic. Values are plain
text: the HTML templates escape them, and the Markdown template passes them through ``md``
(``flows.notice.markdown.escape_markdown``), which the run report and Prefect artifacts use too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flows.config.models import LAWFUL_BASIS_TEXT, Address, DatasetEdition, Notice
from flows.notice.dataset_text import DatasetText, RecipientText
from flows.notice.summary import SUMMARY_TITLE, SummaryPoint, short_name, summarise_notice


NO_CONDITION = "None beyond the lawful basis"
# Column headers of the notice's tables; each cell also carries its header (data-label), which
# labels it when a phone shows the rows as stacked blocks.
PURPOSE_COLUMNS = ("We use pupil information", "Lawful basis", "Law or condition")
SHARING_COLUMNS = ("Organisation", "Why", "Lawful basis")
SPECIAL_COLUMNS = ("Information", "Special category data", "UK GDPR Article 9 condition", "DPA 2018 Schedule 1 condition")
NO_SCHEDULE_1 = "Not needed with this Article 9 condition"

# The notice's sections in reading order: (id, title). ``None`` is the DfE section,
# whose title is the dataset's own.
_SECTIONS: tuple[tuple[str, str | None], ...] = (
    ("who-we-are", "Who we are"),
    ("dpo", "Our data protection officer"),
    ("information", "The pupil information we collect"),
    ("why", "Why we use it, and the law that allows us to"),
    ("source", "Where the information comes from"),
    ("statutory", "Do you have to give us this information?"),
    ("sharing", "Who we share it with"),
    ("dfe", None),
    ("transfers", "Transfers outside the UK"),
    ("retention", "How long we keep it"),
    ("automated", "Automated decisions"),
    ("rights", "Your rights"),
    ("complaints", "How to complain"),
    ("about", "About this notice"),
)


@dataclass(frozen=True)
class PurposeRow:
    """One row of the purposes table."""

    purpose: str
    lawful_basis: str
    law_or_condition: str


@dataclass(frozen=True)
class LocalRecipientRow:
    """One row of the table of organisations the school shares with."""

    name: str
    link: str | None
    purpose: str
    lawful_basis: str


@dataclass(frozen=True)
class SpecialCategoryRow:
    """One row of the special category table: a category and the conditions for its special data."""

    information: str
    special_data: str
    article_9: str
    schedule_1: str


@dataclass(frozen=True)
class DfeRecipientView:
    """One DfE recipient that applies to the school, with its heading and prose."""

    id: str
    heading: str
    text: RecipientText
    override_reason: str | None
    body_notes: tuple[str, ...] = ()
    """What became of a body the section names, and why the trust keeps it (``flows.config.currency``)."""


@dataclass(frozen=True)
class NoticeView:
    """Everything a notice template shows that is more than a field of the notice."""

    sections: tuple[tuple[str, str], ...]
    summary_title: str
    summary: tuple[SummaryPoint, ...]
    purpose_columns: tuple[str, ...]
    sharing_columns: tuple[str, ...]
    special_columns: tuple[str, ...]
    special_categories: tuple[SpecialCategoryRow, ...]
    controller_address: str
    school_address: str
    dpo_address_lines: tuple[str, ...]
    purposes: tuple[PurposeRow, ...]
    local_recipients: tuple[LocalRecipientRow, ...]
    dfe_recipients: tuple[DfeRecipientView, ...]
    effective_date_uk: str
    effective_date_iso: str
    source_retrieved_uk: str | None = None

    def title(self, section_id: str) -> str:
        """The title of one section, as the contents list and its heading show it."""
        return dict(self.sections)[section_id]


def notice_sections(dataset: DatasetEdition) -> tuple[tuple[str, str], ...]:
    """(id, title) of every section of the page, in order; the DfE section is titled by the dataset."""
    return tuple((sid, title if title is not None else dataset.title) for sid, title in _SECTIONS)


def one_line_address(address: Address) -> str:
    """``lines…, town postcode`` on one line."""
    return ", ".join((*address.lines, f"{address.town} {address.postcode}"))


def law_or_condition(legislation: str | None, condition: str | None) -> str:
    """The "Law or condition" cell: the legislation and the special category condition, or neither."""
    return "; ".join(part for part in (legislation, condition) if part) or NO_CONDITION


def basis_with_law(lawful_basis: str, legislation: str | None) -> str:
    """A lawful basis in words, followed by the legislation when there is one."""
    return "; ".join(part for part in (LAWFUL_BASIS_TEXT[lawful_basis], legislation) if part)


def recipient_label(name: str, abbreviation: str) -> str:
    """``name (abbreviation)``, or just the name when the abbreviation is the name."""
    return name if abbreviation == name else f"{name} ({abbreviation})"


def view_notice(notice: Notice, text: DatasetText) -> NoticeView:
    """Compute, once, the strings every form of ``notice`` shows."""
    effective = notice.dataset.effective_date
    sections = notice_sections(notice.dataset)
    return NoticeView(
        sections=sections,
        summary_title=SUMMARY_TITLE,
        summary=summarise_notice(notice, dict(sections)),
        purpose_columns=PURPOSE_COLUMNS,
        sharing_columns=SHARING_COLUMNS,
        special_columns=SPECIAL_COLUMNS,
        special_categories=_special_category_rows(notice),
        controller_address=one_line_address(notice.controller.registered_address),
        school_address=one_line_address(notice.school.address),
        dpo_address_lines=(*notice.dpo.address.lines, f"{notice.dpo.address.town} {notice.dpo.address.postcode}"),
        purposes=tuple(
            PurposeRow(
                p.purpose, LAWFUL_BASIS_TEXT[p.lawful_basis], law_or_condition(p.legislation, p.special_category_condition)
            )
            for p in notice.purposes
        ),
        local_recipients=tuple(
            LocalRecipientRow(r.name, r.link, r.purpose, basis_with_law(r.lawful_basis, r.legislation))
            for r in notice.local_recipients
        ),
        dfe_recipients=_dfe_recipient_views(notice, text),
        effective_date_uk=f"{effective.day} {effective:%B %Y}",
        effective_date_iso=effective.isoformat(),
        source_retrieved_uk=uk_date(notice.dataset.source.retrieved) if notice.dataset.source.retrieved else None,
    )


def _special_category_rows(notice: Notice) -> tuple[SpecialCategoryRow, ...]:
    return tuple(
        SpecialCategoryRow(short_name(c.category), c.special_data, c.article_9, c.schedule_1 or NO_SCHEDULE_1)
        for c in notice.special_categories
    )


def _dfe_recipient_views(notice: Notice, text: DatasetText) -> tuple[DfeRecipientView, ...]:
    """The DfE sections that apply, each with its heading, its words and why it applies when overridden."""
    decisions = {d.recipient_id: d for d in notice.decisions}
    return tuple(
        DfeRecipientView(
            id=r.id,
            heading=f"{recipient_label(r.name, r.abbreviation)}: {r.topic}",
            text=text.recipients[r.id],
            override_reason=decisions[r.id].reason if decisions[r.id].decided_by == "override" else None,
            body_notes=tuple(n.text for n in notice.body_notes if n.recipient_id == r.id),
        )
        for r in notice.applicable_recipients()
    )


def uk_date(day: dt.date) -> str:
    """``1 September 2026``."""
    return f"{day.day} {day:%B %Y}"
