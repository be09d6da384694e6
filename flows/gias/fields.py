"""A GIAS establishment → the school-file fields GIAS owns, and the school's slug.

Each field is either a value GIAS knows, tidied the way a school file wants it (a web
address with its scheme, a telephone number with its leading 0), or a TODO marker saying
what to put there. A phase of "Not applicable" or a blank age is a TODO, never a guess.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flows.gias.export import Establishment
from flows.config.todo import todo_marker
from flows.config.fields import PHASES

# The fields import-gias fills from GIAS and `--update` refreshes; every other field is the DPO's.
GIAS_FIELDS = ("name", "urn", "phase", "statutory_low_age", "statutory_high_age", "address", "website", "phone", "headteacher")
ADDRESS_FIELDS = ("lines", "town", "postcode")

# What GIAS never knows about a school, written as TODOs in a new school file.
SCHOOL_TODOS = {
    "email": "the school office's email address, e.g. office@school.example.org",
    "local_recipients": (
        "the organisations this school itself shares pupil data with (a list of name, purpose, lawful_basis); "
        "delete this line to use the trust's list"
    ),
}

_NOT_GIVEN = {"", "not applicable", "n/a", "none"}
_FOLD = str.maketrans(
    {
        "æ": "ae",
        "Æ": "AE",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "œ": "oe",
        "Œ": "OE",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "TH",
        "ł": "l",
        "Ł": "L",
    }
)
_APOSTROPHES = "'\u2019\u2018`\u00b4"


def gias_fields(est: Establishment) -> dict[str, Any]:
    """The GIAS-owned fields of ``est``'s school file, in file order; unknown ones as TODO markers."""
    return {
        "name": est.name or todo_marker("the school's name"),
        "urn": _urn(est.urn),
        "phase": _phase(est.phase),
        "statutory_low_age": _age(est.low_age, "youngest"),
        "statutory_high_age": _age(est.high_age, "oldest"),
        "address": {
            "lines": [line for line in (est.street, est.locality, est.address3) if line]
            or [todo_marker("the first line of the school's address (street)")],
            "town": est.town or todo_marker("the school's town"),
            "postcode": est.postcode or todo_marker("the school's postcode, e.g. EX1 2AB"),
        },
        "website": website(est.website) or todo_marker("the school's website, e.g. https://school.example.org/"),
        "phone": phone(est.phone) or todo_marker("the school office's telephone number in quotes, e.g. '01632 960000'"),
        "headteacher": headteacher(est) or todo_marker("the headteacher's name as parents know it, e.g. Mrs Sam Example"),
    }


def _phase(value: str) -> str:
    by_lower = {p.casefold(): p for p in PHASES}
    phase = by_lower.get(value.casefold())
    if phase and phase != "Not applicable":
        return phase
    choices = ", ".join(p for p in PHASES if p != "Not applicable")
    said = f'GIAS says "{value}"' if value else "GIAS gives none"
    return todo_marker(
        f"the phase of education ({said}); one of {choices}, or Not applicable if none fits (e.g. a special school)"
    )


def _urn(value: str) -> int | str:
    # Written as a number, as a DPO would type it, when it is one; anything else (a leading
    # zero, other characters, thousands of digits, which int() refuses) is kept as GIAS gives
    # it, for validation to name.
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 and not value.startswith("0") else value


def _age(value: str, which: str) -> int | str:
    if value.isascii() and value.isdigit() and len(value) <= 3:  # no age has more digits; int() refuses thousands
        return int(value)
    return todo_marker(f"the statutory age of the {which} pupils, a whole number as in GIAS (e.g. 4 and 11 for a primary school)")


def website(value: str) -> str | None:
    """The school's web address with a scheme (GIAS often gives ``www.x.example.org``)."""
    text = value.strip()
    if not text:
        return None
    return text if re.match(r"(?i)https?://", text) else "https://" + text


def phone(value: str) -> str | None:
    """The telephone number, its leading 0 restored when GIAS dropped it (a 10-digit number)."""
    text = " ".join(value.split())
    if not text:
        return None
    digits = re.sub(r"\D", "", text)
    if text == digits and len(digits) == 10 and not digits.startswith("0"):
        return "0" + digits
    return text


def headteacher(est: Establishment) -> str | None:
    """``Title First Last`` from GIAS, leaving out blank and "Not applicable" parts; None without a name."""
    first, last = est.head_first, est.head_last
    if first.casefold() in _NOT_GIVEN and last.casefold() in _NOT_GIVEN:
        return None
    parts = [p for p in (est.head_title, first, last) if p.casefold() not in _NOT_GIVEN]
    return " ".join(" ".join(parts).split())


def make_slug(name: str) -> str:
    """A file name from a school's name: lower-case ASCII letters, digits and hyphens.

    "St Aidan’s Church of England Primary" → ``st-aidans-church-of-england-primary``:
    accents are dropped, apostrophes vanish (as in the sample ``st-aidans-all-through``),
    ``&`` becomes "and", and anything else between words becomes one hyphen.
    """
    text = unicodedata.normalize("NFKD", name.translate(_FOLD))
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(f"[{_APOSTROPHES}]", "", text).replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text.lower().encode("ascii", "ignore").decode()).strip("-")


def same_value(field: str, old: Any, new: Any) -> bool:
    """True when a file's value says what GIAS says, in the way a person would write it.

    A DPO's own formatting of a GIAS value (spaces in a telephone number, a trailing slash
    on a web address) is kept: only a different value is an update.
    """
    if field == "phone" and isinstance(old, str) and isinstance(new, str):
        return _phone_digits(old) == _phone_digits(new)
    if field == "website" and isinstance(old, str) and isinstance(new, str):
        return _site(old) == _site(new)
    if field == "postcode" and isinstance(old, str) and isinstance(new, str):
        return old.replace(" ", "").upper() == new.replace(" ", "").upper()
    if field == "urn":
        return str(old).strip() == str(new).strip()
    if isinstance(old, str) and isinstance(new, str):
        return " ".join(old.split()) == " ".join(new.split())
    if isinstance(old, list) and isinstance(new, list):
        return len(old) == len(new) and all(same_value("", a, b) for a, b in zip(old, new, strict=True))
    return type(old) is type(new) and old == new


def _phone_digits(text: str) -> str:
    digits = re.sub(r"\D", "", text)
    return "0" + digits[2:].lstrip("0") if text.strip().startswith("+44") else digits


def _site(text: str) -> str:
    return re.sub(r"(?i)^https?://", "", text.strip()).rstrip("/").casefold()
