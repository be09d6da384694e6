"""One school's file (``schools/<slug>.yaml``) and the school it describes."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from flows.config.content_models import Address, NoticeSettings
from flows.config.fields import URN, Age, Email, Line, Phase, Phone, Text, Url, at_most
from flows.config.model_base import MAX_OVERRIDES, Frozen


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
