"""What a notice says as a trust sets it by default and a school may override: contacts, purposes, sharing, retention, branding."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from flows.config.categories import Category
from flows.config.fields import Colour, Email, Line, Phone, Postcode, Text, Url, at_most
from flows.config.model_base import (
    MAX_ADDRESS_LINES,
    MAX_CATEGORIES,
    MAX_LOCAL_RECIPIENTS,
    MAX_PURPOSES,
    MAX_VOLUNTARY,
    Frozen,
)

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


# The trust's colour when its file sets none: the masthead and links of every page, the office
# pages and the trust index. Dark enough for 4.5:1 against white, as ``Branding`` requires.
DEFAULT_COLOUR = "#1d4f91"


class Branding(Frozen):
    colour: Colour = Field(description="Masthead and link colour; must reach 4.5:1 against white.")


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
