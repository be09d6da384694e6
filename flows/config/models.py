"""The nouns of the pipeline, as frozen pydantic models.

Three groups:

* what people write: the DfE dataset edition (``DatasetEdition``), the trust file
  (``TrustFile``) and one file per school (``SchoolFile``);
* what the pipeline derives: a ``School`` (a school file with its slug), the
  applicability ``Decision`` for each recipient, and the ``Notice`` that templates render;
* what leaves the pipeline: ``RenderedNotice`` (the bytes of each output file).

Input models forbid unknown fields, so a typo such as ``postocde`` is an error, not a
silently ignored line.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from flows.config.categories import Category, SpecialCategory
from flows.config.minor_fields import check_minor_fields
from flows.config.person_names import check_person_name, fold, skeleton
from flows.config.publishing_rules import Bucket, EndpointUrl, Prefix, Region
from flows.config.fields import (
    PHASES,
    URN,
    Age,
    Colour,
    CompanyNumber,
    Email,
    IcoNumber,
    Line,
    Phase,
    Phone,
    Postcode,
    Slug,
    Text,
    Url,
    at_most,
)

# List limits (README, "Settings a school inherits"): far above any real trust, low enough that a runaway list
# is refused at once rather than rendered for minutes.
MAX_ADDRESS_LINES = 6
MAX_LOCAL_RECIPIENTS = 200
MAX_PURPOSES = 100
MAX_CATEGORIES = 100
MAX_OVERRIDES = 100
MAX_RECIPIENTS = 200
MAX_PARAGRAPHS = 100
MAX_VOLUNTARY = 50
MAX_APPROVERS = 50


class Frozen(BaseModel):
    """Base for every model: immutable, and unknown fields are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- The shared DfE dataset ------------------------------------------------------------


class Licence(Frozen):
    name: Line
    url: Url


class Applicability(Frozen):
    """Which pupils a recipient concerns, as a half-open age range like GIAS's.

    A school with statutory ages 4-11 has pupils aged 4 to 10 at the start of the school
    year; a recipient with ``min_age: 14, max_age: 25`` concerns pupils aged 14 and over.
    """

    description: Text = Field(description="Who the recipient concerns, in words a parent understands.")
    min_age: Age
    max_age: Age
    phases: Annotated[tuple[Phase, ...] | None, at_most(len(PHASES))] = Field(
        default=None,
        description="GIAS phases this recipient can apply to; empty means every phase.",
    )


class Recipient(Frozen):
    """One organisation the DfE passes pupil data to, with the source's own words."""

    id: Slug
    name: Line
    abbreviation: Line
    topic: Line = Field(description="What the sharing is about, shown under the heading.")
    link: Url | None = Field(default=None, description="Web site; null when unknown.")
    paragraphs: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS), Field(min_length=1)]
    list_items: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS)] = ()
    paragraphs_after_list: Annotated[tuple[Text, ...], at_most(MAX_PARAGRAPHS)] = ()
    opt_out: Text | None = None
    applies_to: Applicability
    body: Slug | None = Field(
        default=None, description="The body this section is about: an id in shared_data/bodies.yaml (status, successor, source)."
    )
    for_pupils: Text | None = Field(
        default=None, description="The same in one or two short sentences addressed to a pupil (the pupils' notice)."
    )


class Source(Frozen):
    """Where an edition's text comes from: what a DPO needs to check it against."""

    title: Text = Field(description="The source document or page, by its own title.")
    url: Url | None = Field(default=None, description="Its public address; null when it has none.")
    retrieved: dt.date | None = Field(default=None, description="When the text was taken from it; null when not recorded.")
    kept_at: Line | None = Field(default=None, description="Where a copy is kept in this repository, if anywhere.")
    note: Text | None = Field(default=None, description="How the edition's text relates to the source.")


class Check(Frozen):
    """A fact the edition's authors could not confirm: what to check, and where."""

    what: Text
    where: Url


class DatasetEdition(Frozen):
    """One edition of the DfE recipient dataset (one file in ``shared_data/``)."""

    id: Line
    effective_date: dt.date
    title: Line
    document_title: Line
    source: Source
    licence: Licence
    attribution: Text
    introduction: Text
    links: Annotated[dict[Slug, Url], at_most(MAX_RECIPIENTS)] = Field(
        default_factory=dict, description="Further links the prose names as [text][link-id]."
    )
    checks: Annotated[tuple[Check, ...], at_most(MAX_PARAGRAPHS)] = ()
    recipients: Annotated[tuple[Recipient, ...], at_most(MAX_RECIPIENTS), Field(min_length=1)]


# --- Trust and school configuration -----------------------------------------------------

LawfulBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "legitimate_interests",
]

# UK GDPR Article 6(1) point for each lawful basis, in the words a notice uses.
LAWFUL_BASIS_TEXT: dict[str, str] = {
    "consent": "Article 6(1)(a) UK GDPR: consent",
    "contract": "Article 6(1)(b) UK GDPR: contract",
    "legal_obligation": "Article 6(1)(c) UK GDPR: legal obligation",
    "vital_interests": "Article 6(1)(d) UK GDPR: vital interests",
    "public_task": "Article 6(1)(e) UK GDPR: public task",
    "legitimate_interests": "Article 6(1)(f) UK GDPR: legitimate interests",
}


class Address(Frozen):
    # min_length inside Annotated: pydantic then does not add "at least one item" when an item is invalid.
    lines: Annotated[tuple[Line, ...], at_most(MAX_ADDRESS_LINES), Field(min_length=1)] = Field(
        description="Street address lines."
    )
    town: Line
    postcode: Postcode


class Dpo(Frozen):
    """The data protection officer's contact details."""

    name: Line
    email: Email
    phone: Phone
    address: Address


class Complaints(Frozen):
    """How to complain to the trust before (or instead of) the ICO."""

    contact: Text = Field(description="Who to contact and how, in one or two sentences.")
    url: Url | None = None


class Purpose(Frozen):
    """Why pupil data is used, and the lawful basis for it."""

    purpose: Text
    lawful_basis: LawfulBasis
    legislation: Text | None = Field(
        default=None,
        validate_default=True,
        description="The law that requires or allows it; needed for legal obligation and public task (UK GDPR Article 6(3)).",
    )
    special_category_condition: Text | None = Field(
        default=None, description="Article 9 condition, where special category data is used."
    )

    @field_validator("legislation")
    @classmethod
    def _basis_in_law(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Article 6(3): processing on (c) legal obligation or (e) public task needs a basis in law.
        basis = info.data.get("lawful_basis")
        if value is None and basis in ("legal_obligation", "public_task"):
            words = LAWFUL_BASIS_TEXT[basis].split(": ", 1)[1]
            raise PydanticCustomError(
                "basis_in_law",
                f"a purpose on {words} needs its basis in law (UK GDPR Article 6(3)): name the law or duty, "
                "e.g. 'Education Act 1996 section 537A' or 'Academies Act 2010 and our funding agreement'",
            )
        return value


class LocalRecipient(Frozen):
    """An organisation the school or trust itself shares pupil data with."""

    name: Line
    purpose: Text
    lawful_basis: LawfulBasis
    legislation: Text | None = None
    link: Url | None = None


class Retention(Frozen):
    statement: Text = Field(description="How long data is kept, or the criteria used to decide.")
    policy_url: Url | None = None


class Branding(Frozen):
    colour: Colour = Field(description="Masthead and link colour; must reach 4.5:1 against white.")


class PublishingTarget(Frozen):
    """Where notices are published (used from the publishing stage on)."""

    endpoint_url: EndpointUrl | None = Field(default=None, description="S3 endpoint; empty means the embedded S3.")
    bucket: Bucket | None = None
    region: Region | None = None
    prefix: Prefix | None = None
    public_base_url: Url | None = None


class Approver(Frozen):
    """A person the trust names as able to approve changes; the name must be a person's."""

    name: Line = Field(description="The person's full name, e.g. 'Alex Example'.")
    email: Email | None = None
    role: Line | None = Field(default=None, description="Shown after the name, e.g. 'DPO' gives 'Alex Example (DPO)'.")

    @field_validator("name")
    @classmethod
    def _a_persons_name(cls, name: str) -> str:
        try:
            return check_person_name(name)
        except ValueError as exc:
            raise PydanticCustomError("approver_name", str(exc)) from None

    @property
    def label(self) -> str:
        """The approver as listed and recorded: 'Alex Example (DPO)', or the name alone without a role."""
        return f"{self.name} ({self.role})" if self.role else self.name


class ApprovalPolicy(Frozen):
    """Which changes need a named person's approval before they go live: default deny.

    Every change to the words a parent reads does, on every path (scheduled, rerun, command
    line), except changes confined to the fields listed in ``minor_fields`` (from a closed
    list: ``flows.config.minor_fields.MINOR_DECLARABLE``). A first edition does too, unless the trust
    turns that off for onboarding (``approve_first_editions: false``), which each such
    edition records.
    """

    minor_fields: tuple[str, ...] = Field(
        default=(),
        description="Fields whose changes alone go live without an approver (e.g. school.headteacher, school.phone). "
        "Only contact details and names can be listed; recipients, purposes, lawful bases, categories, "
        "retention, rights, the controller, the DPO and dataset text never can.",
    )
    minor_changes: bool = Field(default=False, description="Hold changes to minor_fields for approval too.")
    approve_first_editions: bool = Field(
        default=True,
        description="A school's first edition needs a named approver. false: first editions go live at once "
        "(for onboarding), and each says so in its record.",
    )
    timeout_minutes: int = Field(
        default=1440, ge=1, le=10080, description="A run waiting longer than this publishes nothing more (at most 7 days)."
    )
    approvers: Annotated[tuple[Approver, ...], at_most(MAX_APPROVERS)] = Field(
        default=(),
        description=(
            "The people who may approve: an approval must name one of them, as 'name' or 'name (role)'. "
            "Empty: any person's name is accepted."
        ),
    )

    @field_validator("approvers")
    @classmethod
    def _each_person_once(cls, approvers: tuple[Approver, ...]) -> tuple[Approver, ...]:
        seen: dict[str, Approver] = {}
        looks: dict[str, Approver] = {}
        for number, approver in enumerate(approvers, 1):
            keys = {fold(approver.name), fold(approver.label)}
            if same := next((seen[k] for k in keys if k in seen), None):
                raise PydanticCustomError(
                    "approver_twice",
                    f"approver {number} ({approver.label!r}) is {same.label!r} again, once case, spacing and character width "
                    "are ignored; list each person once",
                )
            looks_key = skeleton(approver.name)
            if (other := looks.get(looks_key)) and fold(other.name) != fold(approver.name):
                raise PydanticCustomError(
                    "approver_look_alike",
                    f"approver {number} ({approver.label!r}) cannot be told apart from {other.label!r} when read; "
                    "list each person once, spelled as they spell it",
                )
            seen.update(dict.fromkeys(keys, approver))
            looks[looks_key] = approver
        return approvers

    @field_validator("minor_fields")
    @classmethod
    def _declarable(cls, fields: tuple[str, ...]) -> tuple[str, ...]:
        problems = check_minor_fields(fields)
        if problems:
            raise PydanticCustomError("minor_field", "; ".join(problems).replace("{", "(").replace("}", ")"))
        return fields


class NoticeSettings(Frozen):
    """Notice content a trust sets as defaults and a school may override, field by field.

    A school value replaces the trust default as a whole (lists are not merged), so
    what a school file says is exactly what its notice says.
    """

    purposes: Annotated[tuple[Purpose, ...] | None, at_most(MAX_PURPOSES)] = None
    categories: Annotated[tuple[Category, ...] | None, at_most(MAX_CATEGORIES)] = Field(
        default=None,
        description="Categories of pupil data: text, or a mapping with the Article 9 conditions of special category data.",
    )
    retention: Retention | None = None
    source: Text | None = Field(default=None, description="Where the data comes from.")
    statutory_requirement: Text | None = Field(
        default=None, description="Whether providing the data is a statutory requirement, and what happens if not."
    )
    if_not_given: Text | None = Field(
        default=None,
        description="What happens if information is not given: both what the law requires and what is optional (ICO checklist).",
    )
    voluntary: Annotated[tuple[Text, ...] | None, at_most(MAX_VOLUNTARY)] = Field(
        default=None,
        description="Information we ask for that parents may choose not to give; the notice says consent can be withdrawn.",
    )
    international_transfers: Text | None = None
    automated_decision_making: Text | None = None
    local_recipients: Annotated[tuple[LocalRecipient, ...] | None, at_most(MAX_LOCAL_RECIPIENTS)] = None
    branding: Branding | None = None


class Acknowledgement(Frozen):
    """The trust keeps a section naming a body that is no longer current, and says why."""

    body: Slug = Field(description="The body's id in shared_data/bodies.yaml.")
    reason: Text = Field(description="Why the notice still names it; the notice shows this to parents.")


class TrustFile(Frozen):
    """The trust: the data controller for its academies, plus defaults for schools."""

    name: Line
    company_number: CompanyNumber
    registered_address: Address
    ico_registration: IcoNumber
    website: Url
    dpo: Dpo
    complaints: Complaints
    defaults: NoticeSettings = NoticeSettings()
    publishing: PublishingTarget = PublishingTarget()
    approval: ApprovalPolicy = ApprovalPolicy()
    dataset_edition: Line | None = Field(
        default=None, description="The DfE dataset edition every school uses (its id); the latest when not set."
    )
    dataset_acknowledgements: Annotated[tuple[Acknowledgement, ...], at_most(MAX_RECIPIENTS)] = Field(
        default=(), description="Bodies no longer current that the trust knowingly keeps in its notices, each with its reason."
    )


class Override(Frozen):
    """A school's decision to include or exclude one DfE recipient, with its reason."""

    include: bool
    reason: Text


class SchoolFile(NoticeSettings):
    """One school's configuration file, ``schools/<slug>.yaml``."""

    name: Line
    urn: URN
    phase: Phase
    statutory_low_age: Age
    statutory_high_age: Age
    address: Address
    email: Email
    phone: Phone
    website: Url
    headteacher: Line
    recipient_overrides: Annotated[dict[str, Override], at_most(MAX_OVERRIDES)] = Field(
        default_factory=dict, description="Per DfE recipient id: include or exclude, with a reason."
    )

    @field_validator("statutory_high_age")
    @classmethod
    def _high_above_low(cls, high: int, info: ValidationInfo) -> int:
        low = info.data.get("statutory_low_age")
        if low is not None and high <= low:
            raise PydanticCustomError("age_range", f"must be greater than statutory_low_age ({low}), got {high}")
        return high


class School(Frozen):
    """A validated school file together with the slug its file name gives it."""

    slug: str
    path: str
    config: SchoolFile


# --- Derived ---------------------------------------------------------------------------


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
