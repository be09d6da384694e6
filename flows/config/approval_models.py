"""Who may approve a change to a notice, and which changes need approval (the trust file's ``approval``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from flows.config.fields import Email, Line, at_most
from flows.config.minor_fields import check_minor_fields
from flows.config.model_base import MAX_APPROVERS, Frozen
from flows.config.person_names import check_person_name, fold, skeleton


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
