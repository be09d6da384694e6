"""Categories of pupil information, and the special category data among them.

UK GDPR Article 9 data (ethnicity, religion, health, biometrics…) may be used only under an
Article 9(2) condition, and most of those also need a condition from Schedule 1 of the Data
Protection Act 2018. So a category that names such data must carry its conditions:

    categories:
      - attendance (such as sessions attended)            # plain text: no special category data
      - category: characteristics (such as ethnicity, language and free school meal eligibility)
        special_data: ethnicity
        article_9: Article 9(2)(g) UK GDPR, substantial public interest
        schedule_1: DPA 2018 Schedule 1 Part 2 paragraph 8, equality of opportunity or treatment

A plain-text category that names special category data is refused, with the form above.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

from flows.config.text_rules import fail
from flows.config.fields import Line, Text

# Words that name special category data (Article 9(1)), or data a DPO treats as such (SEN is
# health information about a child). Whole words, any case.
_SPECIAL_WORDS = re.compile(
    r"\b(ethnicity|ethnic origin|ethnic|race|racial|religion|religious|belief|beliefs|health|medical|medication|"
    r"disability|disabilities|special educational needs|SEND|biometric|biometrics|fingerprints?|genetic|"
    r"sexual orientation|sex life|trade union|political opinions?)\b",
    re.IGNORECASE,
)
# Article 9(2) conditions that are lawful only with a DPA 2018 Schedule 1 condition (DPA 2018 s.10).
_NEEDS_SCHEDULE_1 = re.compile(r"9\s*\(\s*2\s*\)\s*\(\s*[bghij]\s*\)", re.IGNORECASE)
_EXAMPLE = (
    "write it as a mapping: 'category: <the text>', 'special_data: <e.g. ethnicity>', "
    "'article_9: <e.g. Article 9(2)(g) UK GDPR, substantial public interest>' and "
    "'schedule_1: <e.g. DPA 2018 Schedule 1 Part 2 paragraph 8>'"
)


def special_words(text: str) -> list[str]:
    """The special category words ``text`` names, lower-cased, in order, once each."""
    return list(dict.fromkeys(m.group(0).lower() for m in _SPECIAL_WORDS.finditer(text)))


def _plain_category(text: str) -> str:
    named = special_words(text)
    if named:
        raise fail(
            "special_category",
            "names special category data ({named}) but gives no Article 9 condition; {example}",
            named=", ".join(named),
            example=_EXAMPLE,
        )
    return text


class SpecialCategory(BaseModel):
    """A category of pupil information that includes special category data, with its conditions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: Text = Field(description="The category, as parents read it.")
    special_data: Line = Field(description="Which special category data it includes, e.g. 'ethnicity' or 'health'.")
    article_9: Text = Field(description="The UK GDPR Article 9(2) condition that allows its use.")
    schedule_1: Text | None = Field(
        default=None,
        description="The DPA 2018 Schedule 1 condition; needed with Article 9(2)(b), (g), (h), (i) or (j).",
    )

    @model_validator(mode="after")
    def _schedule_1_where_needed(self) -> SpecialCategory:
        if self.schedule_1 is None and _NEEDS_SCHEDULE_1.search(self.article_9):
            raise fail(
                "schedule_1",
                "article_9 {article!r} needs a DPA 2018 Schedule 1 condition too (DPA 2018 section 10); "
                "add 'schedule_1: <e.g. DPA 2018 Schedule 1 Part 2 paragraph 18>'",
                article=self.article_9,
            )
        return self


def _category_kind(value: Any) -> str:
    return "[special]" if isinstance(value, (dict, SpecialCategory)) else "[text]"


# The tags are bracketed so that error locations name the item itself (flows.config.documents drops them).
Category = Annotated[
    Annotated[Annotated[Text, AfterValidator(_plain_category)], Tag("[text]")] | Annotated[SpecialCategory, Tag("[special]")],
    Discriminator(_category_kind),
]


def category_text(category: str | SpecialCategory) -> str:
    """The words of a category, as parents read them."""
    return category.category if isinstance(category, SpecialCategory) else category
