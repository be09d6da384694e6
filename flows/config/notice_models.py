"""What the pipeline derives and emits: each recipient's ``Decision``, the resolved ``Notice``, its rendered files."""

from __future__ import annotations

from typing import Literal

from flows.config.categories import SpecialCategory
from flows.config.content_models import Address, Branding, Complaints, Dpo, LocalRecipient, Purpose, Retention
from flows.config.dataset_models import DatasetEdition, Recipient
from flows.config.model_base import Frozen
from flows.config.school_models import SchoolFile


class Decision(Frozen):
    """Whether one DfE recipient applies to a school, and why."""

    recipient_id: str
    applies: bool
    reason: str
    decided_by: Literal["rule", "override"]


class Controller(Frozen):
    name: str
    company_number: str
    registered_address: Address
    ico_registration: str
    website: str


class BodyNote(Frozen):
    """What a DfE section must tell parents about a body that is no longer current."""

    recipient_id: str
    body_id: str
    text: str


class Notice(Frozen):
    """Everything a school's notice says, resolved and ready to render.

    Holds no timestamp: the same inputs always give the same notice, byte for byte.
    """

    slug: str
    school: SchoolFile
    controller: Controller
    dpo: Dpo
    complaints: Complaints
    purposes: tuple[Purpose, ...]
    categories: tuple[str, ...]
    special_categories: tuple[SpecialCategory, ...] = ()
    voluntary: tuple[str, ...] = ()
    retention: Retention
    source: str
    statutory_requirement: str
    if_not_given: str
    international_transfers: str
    automated_decision_making: str
    local_recipients: tuple[LocalRecipient, ...]
    branding: Branding
    dataset: DatasetEdition
    decisions: tuple[Decision, ...]
    body_notes: tuple[BodyNote, ...] = ()

    def applicable_recipients(self) -> tuple[Recipient, ...]:
        """The dataset's recipients that apply to this school, in dataset order."""
        applying = {d.recipient_id for d in self.decisions if d.applies}
        return tuple(r for r in self.dataset.recipients if r.id in applying)

    def uses_consent(self) -> bool:
        """True when a purpose or a local sharing relies on consent, or special category data on explicit consent.

        The notice must then say consent can be withdrawn (UK GDPR Article 13(2)(c)). Information
        that is merely optional (``voluntary``) does not rest on consent by itself: the statutory
        section lists it with its own withdrawal statement.
        """
        bases = [p.lawful_basis for p in self.purposes] + [r.lawful_basis for r in self.local_recipients]
        explicit = any("9(2)(a)" in c.article_9 for c in self.special_categories)
        return "consent" in bases or explicit


class RenderedNotice(Frozen):
    """The output files of one school's notice: file name → bytes."""

    slug: str
    files: dict[str, bytes]
