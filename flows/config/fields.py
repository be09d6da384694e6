"""Field types with the checks and messages a DPO needs when a value is wrong.

Each type raises ``PydanticCustomError`` so the message reads as plain English
("expected a 6-digit URN, e.g. 990001") instead of pydantic's generic wording; the
loader then prefixes it with ``file:line: field:``. The checks every string passes
(size, hidden characters) are in ``flows.config.text_rules``; the publishing settings' types
(bucket, region, prefix, endpoint) are in ``flows.config.publishing_rules``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

from flows.config.contrast import contrast_ratio
from flows.config.text_rules import MAX_LINE_CHARS, MAX_PROSE_CHARS, MAX_URL_CHARS, ascii_digits, fail, require_text

# GIAS "PhaseOfEducation (name)" values, exactly as the register spells them.
PHASES: tuple[str, ...] = (
    "Not applicable",
    "Nursery",
    "Primary",
    "Middle deemed primary",
    "Middle deemed secondary",
    "Secondary",
    "16 plus",
    "All-through",
)

MIN_CONTRAST = 4.5  # WCAG 2.2 AA, normal text

_URN = re.compile(r"[0-9]{6}")
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")
_ICO = re.compile(r"Z[0-9]{7}|Z[AB][0-9]{6}")
_COMPANY = re.compile(r"[0-9]{8}|[A-Z]{2}[0-9]{6}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def check_urn(value: Any) -> str:
    """A GIAS URN: exactly six digits (YAML may give it as a number)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else require_text(value, "a 6-digit URN")
    if re.fullmatch(r"\d{6}", text.strip()) and not ascii_digits(text):
        # Full-width digits look identical to a reader but are another URN to a computer.
        raise fail(
            "urn",
            "expected a 6-digit URN in the digits 0-9, got {got!r} (other digits, e.g. full-width); type it again",
            got=value,
        )
    if not _URN.fullmatch(text.strip()):
        raise fail("urn", "expected a 6-digit URN, e.g. 990001, got {got!r}", got=value)
    return text.strip()


def check_email(value: Any) -> str:
    """An email address with one @ and a dotted domain."""
    text = require_text(value, "an email address").strip()
    if not _EMAIL.fullmatch(text):
        raise fail("email", "expected an email address like office@school.example.org, got {got!r}", got=text)
    return text


def check_phone(value: Any) -> str:
    """A UK telephone number: 10 or 11 digits starting 0, or +44 followed by 9 or 10 digits."""
    text = require_text(value, "a UK telephone number in quotes").strip()
    if not ascii_digits(text):
        raise fail(
            "phone",
            "expected a UK telephone number in the digits 0-9, got {got!r} (other digits, e.g. full-width); type it again",
            got=text,
        )
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].lstrip("0")
    if not re.fullmatch(r"0[0-9]{9,10}", digits):
        raise fail(
            "phone",
            "expected a UK telephone number like '01632 960000' or '+44 1632 960000', got {got!r}",
            got=text,
        )
    return text


def check_postcode(value: Any) -> str:
    """A UK postcode, normalised to upper case with one space before the inward code."""
    text = require_text(value, "a UK postcode").strip().upper()
    if not _POSTCODE.fullmatch(text):
        raise fail("postcode", "expected a UK postcode like 'EX1 2AB', got {got!r}", got=value)
    compact = text.replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


def check_ico(value: Any) -> str:
    """An ICO registration number: Z + 7 digits, or ZA/ZB + 6 digits."""
    text = require_text(value, "an ICO registration number").strip().upper()
    if not _ICO.fullmatch(text):
        raise fail(
            "ico_registration",
            "expected an ICO registration number: Z and 7 digits (Z1234567) or ZA/ZB and 6 digits (ZA123456), got {got!r}",
            got=value,
        )
    return text


def check_company(value: Any) -> str:
    """A Companies House number: 8 digits, or 2 letters and 6 digits."""
    text = require_text(value, "a Companies House number in quotes").strip().upper()
    if not _COMPANY.fullmatch(text):
        raise fail(
            "company_number",
            "expected a Companies House number: 8 digits ('09999999') or 2 letters and 6 digits, got {got!r}",
            got=value,
        )
    return text


def check_url(value: Any) -> str:
    """An absolute http or https URL with a host and no spaces."""
    text = require_text(value, "a web address", limit=MAX_URL_CHARS).strip()
    parts = urlsplit(text)
    # Quotes, angle brackets and backslashes have no place in a published link and could
    # break out of Markdown autolinks, so they are refused rather than escaped.
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"[\s<>\"'`\\]", text):
        raise fail("url", "expected a web address starting with https:// or http://, got {got!r}", got=text)
    return text


def check_phase(value: Any) -> str:
    """One of the GIAS PhaseOfEducation names."""
    text = require_text(value, "a GIAS phase")
    if text not in PHASES:
        raise fail(
            "phase",
            "expected one of the GIAS phases: {choices}; got {got!r}",
            choices=", ".join(PHASES),
            got=text,
        )
    return text


def check_colour(value: Any) -> str:
    """A #rrggbb colour that white text can sit on at WCAG AA contrast (4.5:1)."""
    text = require_text(value, "a colour like '#1d4f91'").strip()
    if not _COLOUR.fullmatch(text):
        raise fail("colour", "expected a colour as '#rrggbb' in quotes, e.g. '#1d4f91', got {got!r}", got=text)
    ratio = contrast_ratio(text, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise fail(
            "colour_contrast",
            "colour {got} has contrast {ratio}:1 with white text; WCAG 2.2 AA needs at least 4.5:1, choose a darker colour",
            got=text,
            ratio=f"{ratio:.2f}",
        )
    return text.lower()


def check_slug(value: Any) -> str:
    """A URL-safe identifier: lower-case letters, digits and single hyphens."""
    text = require_text(value, "an identifier")
    if not _SLUG.fullmatch(text):
        raise fail("slug", "expected lower-case letters, digits and hyphens ([a-z0-9-]+), got {got!r}", got=text)
    return text


def check_line(value: Any) -> str:
    """Non-empty one-line text (a name, an address line); surrounding whitespace is removed."""
    text = require_text(value, "text")
    if not text.strip():
        raise fail("empty", "must not be empty")
    return text.strip()


def check_text(value: Any) -> str:
    """Non-empty prose (line breaks and tabs allowed); surrounding whitespace is removed."""
    text = require_text(value, "text", multiline=True, limit=MAX_PROSE_CHARS)
    if not text.strip():
        raise fail("empty", "must not be empty")
    return text.strip()


def at_most(limit: int) -> BeforeValidator:
    """Refuse a list or mapping longer than ``limit`` before any item is validated.

    Checked first so that 40,000 items give one message, not 40,000 (pydantic's own
    ``max_length`` runs after the items).
    """

    def check(value: Any) -> Any:
        if isinstance(value, (list, tuple, dict)) and len(value) > limit:
            noun = "entries" if isinstance(value, dict) else "items"
            raise fail(
                "too_many", "has {count:,} {noun}; at most {limit:,} are allowed", count=len(value), noun=noun, limit=limit
            )
        return value

    return BeforeValidator(check)


def describe_string(pattern: str | None = None, description: str = "", **extra: Any) -> WithJsonSchema:
    """The JSON Schema of a string field: ``description``, an optional ``pattern`` and any ``extra`` keywords."""
    schema: dict[str, Any] = {"type": "string", "description": description, **extra}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


URN = Annotated[
    str,
    BeforeValidator(check_urn),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^\d{6}$"}, {"type": "integer", "minimum": 0, "maximum": 999999}],
            "description": "GIAS unique reference number, 6 digits",
        }
    ),
]
Email = Annotated[
    str, BeforeValidator(check_email), describe_string(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "email address", format="email")
]
Phone = Annotated[
    str, BeforeValidator(check_phone), describe_string(r"^\+?[0-9 ()-]{10,16}$", "UK telephone number, e.g. '01632 960000'")
]
Postcode = Annotated[
    str, BeforeValidator(check_postcode), describe_string(r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$", "UK postcode")
]
IcoNumber = Annotated[str, BeforeValidator(check_ico), describe_string(r"^(Z[0-9]{7}|Z[AB][0-9]{6})$", "ICO registration number")]
CompanyNumber = Annotated[
    str, BeforeValidator(check_company), describe_string(r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$", "Companies House number")
]
Url = Annotated[
    str, BeforeValidator(check_url), describe_string(r"^https?://[^\s]+$", "web address (http or https)", format="uri")
]
Phase = Annotated[
    str, BeforeValidator(check_phase), WithJsonSchema({"enum": list(PHASES), "description": "GIAS PhaseOfEducation"})
]
Colour = Annotated[
    str,
    BeforeValidator(check_colour),
    describe_string(r"^#[0-9a-fA-F]{6}$", "colour '#rrggbb' with at least 4.5:1 contrast against white"),
]
Slug = Annotated[str, BeforeValidator(check_slug), describe_string(r"^[a-z0-9]+(-[a-z0-9]+)*$", "identifier")]
Text = Annotated[str, BeforeValidator(check_text), describe_string(None, "", minLength=1, maxLength=MAX_PROSE_CHARS)]
Line = Annotated[str, BeforeValidator(check_line), describe_string(r"^[^\n]*$", "", minLength=1, maxLength=MAX_LINE_CHARS)]


def _check_age(value: int) -> int:
    if not 0 <= value <= 25:
        raise fail("age", "expected an age from 0 to 25, got {got}", got=value)
    return value


def _strict_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail("int_type", "expected a whole number, got {got!r}", got=value)
    return value


Age = Annotated[
    int,
    BeforeValidator(_strict_int),
    AfterValidator(_check_age),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 25}),
]
