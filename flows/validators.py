"""Field types with the checks and messages a DPO needs when a value is wrong.

Each type raises ``PydanticCustomError`` so the message reads as plain English
("expected a 6-digit URN, e.g. 990001") instead of pydantic's generic wording; the
loader then prefixes it with ``file:line: field:``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from flows.contrast import contrast_ratio

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

_URN = re.compile(r"\d{6}")
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")
_POSTCODE = re.compile(r"(GIR ?0AA|[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2})")
_ICO = re.compile(r"Z\d{7}|Z[AB]\d{6}")
_COMPANY = re.compile(r"\d{8}|[A-Z]{2}\d{6}")
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def _fail(error_type: str, message: str, **context: Any) -> PydanticCustomError:
    # Format here, not in pydantic: values may contain braces (e.g. "{{"), which must
    # appear in the message literally.
    return PydanticCustomError(error_type, message.format(**context))


_TYPE_NAMES = {"int": "a number", "float": "a number", "list": "a list", "dict": "a mapping", "date": "a date", "datetime": "a date and time"}


def _text_of(value: Any, what: str) -> str:
    """Accept only strings; YAML numbers and booleans get a hint to quote them."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise _fail(
            "text_type",
            "expected {what}, got {got} (YAML reads yes/no/on/off/true/false as booleans; "
            "put the value in quotes)",
            what=what,
            got=str(value).lower(),
        )
    raise _fail(
        "text_type",
        "expected {what}, got {got} ({type_name}); put the value in quotes",
        what=what,
        got=value,
        type_name=_TYPE_NAMES.get(type(value).__name__, type(value).__name__),
    )


def check_urn(value: Any) -> str:
    """A GIAS URN: exactly six digits (YAML may give it as a number)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else _text_of(value, "a 6-digit URN")
    if not _URN.fullmatch(text.strip()):
        raise _fail("urn", "expected a 6-digit URN, e.g. 990001, got {got!r}", got=value)
    return text.strip()


def check_email(value: Any) -> str:
    """An email address with one @ and a dotted domain."""
    text = _text_of(value, "an email address").strip()
    if not _EMAIL.fullmatch(text):
        raise _fail("email", "expected an email address like office@school.example.org, got {got!r}", got=text)
    return text


def check_phone(value: Any) -> str:
    """A UK telephone number: 10 or 11 digits starting 0, or +44 followed by 9 or 10 digits."""
    text = _text_of(value, "a UK telephone number in quotes").strip()
    digits = re.sub(r"[\s\-()]", "", text)
    if digits.startswith("+44"):
        digits = "0" + digits[3:].lstrip("0")
    if not re.fullmatch(r"0\d{9,10}", digits):
        raise _fail(
            "phone",
            "expected a UK telephone number like '01632 960000' or '+44 1632 960000', got {got!r}",
            got=text,
        )
    return text


def check_postcode(value: Any) -> str:
    """A UK postcode, normalised to upper case with one space before the inward code."""
    text = _text_of(value, "a UK postcode").strip().upper()
    if not _POSTCODE.fullmatch(text):
        raise _fail("postcode", "expected a UK postcode like 'EX1 2AB', got {got!r}", got=value)
    compact = text.replace(" ", "")
    return f"{compact[:-3]} {compact[-3:]}"


def check_ico(value: Any) -> str:
    """An ICO registration number: Z + 7 digits, or ZA/ZB + 6 digits."""
    text = _text_of(value, "an ICO registration number").strip().upper()
    if not _ICO.fullmatch(text):
        raise _fail(
            "ico_registration",
            "expected an ICO registration number: Z and 7 digits (Z1234567) or ZA/ZB and 6 digits (ZA123456), got {got!r}",
            got=value,
        )
    return text


def check_company(value: Any) -> str:
    """A Companies House number: 8 digits, or 2 letters and 6 digits."""
    text = _text_of(value, "a Companies House number in quotes").strip().upper()
    if not _COMPANY.fullmatch(text):
        raise _fail(
            "company_number",
            "expected a Companies House number: 8 digits ('09999999') or 2 letters and 6 digits, got {got!r}",
            got=value,
        )
    return text


def check_url(value: Any) -> str:
    """An absolute http or https URL with a host and no spaces."""
    text = _text_of(value, "a web address").strip()
    parts = urlsplit(text)
    # Quotes, angle brackets and backslashes have no place in a published link and could
    # break out of Markdown autolinks, so they are refused rather than escaped.
    if parts.scheme not in ("http", "https") or not parts.netloc or re.search(r"[\s<>\"'`\\]", text):
        raise _fail("url", "expected a web address starting with https:// or http://, got {got!r}", got=text)
    return text


def check_phase(value: Any) -> str:
    """One of the GIAS PhaseOfEducation names."""
    text = _text_of(value, "a GIAS phase")
    if text not in PHASES:
        raise _fail(
            "phase",
            "expected one of the GIAS phases: {choices}; got {got!r}",
            choices=", ".join(PHASES),
            got=text,
        )
    return text


def check_colour(value: Any) -> str:
    """A #rrggbb colour that white text can sit on at WCAG AA contrast (4.5:1)."""
    text = _text_of(value, "a colour like '#1d4f91'").strip()
    if not _COLOUR.fullmatch(text):
        raise _fail("colour", "expected a colour as '#rrggbb' in quotes, e.g. '#1d4f91', got {got!r}", got=text)
    ratio = contrast_ratio(text, "#ffffff")
    if ratio < MIN_CONTRAST:
        raise _fail(
            "colour_contrast",
            "colour {got} has contrast {ratio}:1 with white text; WCAG 2.2 AA needs at least 4.5:1, choose a darker colour",
            got=text,
            ratio=f"{ratio:.2f}",
        )
    return text.lower()


def check_slug(value: Any) -> str:
    """A URL-safe identifier: lower-case letters, digits and single hyphens."""
    text = _text_of(value, "an identifier")
    if not _SLUG.fullmatch(text):
        raise _fail("slug", "expected lower-case letters, digits and hyphens ([a-z0-9-]+), got {got!r}", got=text)
    return text


def check_text(value: Any) -> str:
    """Non-empty text; surrounding whitespace is removed."""
    text = _text_of(value, "text")
    if not text.strip():
        raise _fail("empty", "must not be empty")
    return text.strip()


def _schema(pattern: str | None = None, description: str = "", **extra: Any) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", "description": description, **extra}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


URN = Annotated[
    str,
    BeforeValidator(check_urn),
    WithJsonSchema({"anyOf": [{"type": "string", "pattern": r"^\d{6}$"}, {"type": "integer", "minimum": 0, "maximum": 999999}], "description": "GIAS unique reference number, 6 digits"}),
]
Email = Annotated[str, BeforeValidator(check_email), _schema(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", "email address", format="email")]
Phone = Annotated[str, BeforeValidator(check_phone), _schema(r"^\+?[0-9 ()-]{10,16}$", "UK telephone number, e.g. '01632 960000'")]
Postcode = Annotated[str, BeforeValidator(check_postcode), _schema(r"^[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}$", "UK postcode")]
IcoNumber = Annotated[str, BeforeValidator(check_ico), _schema(r"^(Z[0-9]{7}|Z[AB][0-9]{6})$", "ICO registration number")]
CompanyNumber = Annotated[str, BeforeValidator(check_company), _schema(r"^([0-9]{8}|[A-Z]{2}[0-9]{6})$", "Companies House number")]
Url = Annotated[str, BeforeValidator(check_url), _schema(r"^https?://[^\s]+$", "web address (http or https)", format="uri")]
Phase = Annotated[str, BeforeValidator(check_phase), WithJsonSchema({"enum": list(PHASES), "description": "GIAS PhaseOfEducation"})]
Colour = Annotated[str, BeforeValidator(check_colour), _schema(r"^#[0-9a-fA-F]{6}$", "colour '#rrggbb' with at least 4.5:1 contrast against white")]
Slug = Annotated[str, BeforeValidator(check_slug), _schema(r"^[a-z0-9]+(-[a-z0-9]+)*$", "identifier")]
Text = Annotated[str, BeforeValidator(check_text), _schema(None, "", minLength=1)]


def _check_age(value: int) -> int:
    if not 0 <= value <= 25:
        raise _fail("age", "expected an age from 0 to 25, got {got}", got=value)
    return value


def _strict_int(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail("int_type", "expected a whole number, got {got!r}", got=value)
    return value


Age = Annotated[
    int,
    BeforeValidator(_strict_int),
    AfterValidator(_check_age),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 25}),
]
