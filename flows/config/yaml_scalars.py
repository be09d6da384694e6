"""Plain YAML scalars → Python values, where a value PyYAML cannot build is a problem of its file.

PyYAML resolves a plain ``2026-02-30`` to a timestamp and then raises ``ValueError`` from
``datetime.date``; a 5,000-digit number trips Python's integer-string limit inside ``int()``.
Raised from the loader, either stopped a whole trust with a traceback. Here each becomes a
``ValueProblem`` with the value's own line, and the file's other fields are still checked.

A problem's ``mode`` says how it meets the field's typed check (``flows.config.documents``):

* ``fallback``: the scalar's text stands in for the value, so the field's type says what
  it expects ("expected a date like 2026-09-01, got '2026-02-30'") with the problem's
  ``note`` added; where the type takes any text, the problem's own message is reported.
* ``replace``: the problem's message is reported and typed errors at or inside its place
  are left out (they would only describe the stand-in).
* ``report``: reported as it is; typed errors are kept (a duplicate key's first value).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from flows.config.text_rules import shorten

Location = tuple[str | int, ...]
Mode = Literal["fallback", "replace", "report"]

# No field takes a number anywhere near this long (a URN has 6 digits); checking the text's
# length first means no huge integer is ever built, printed or compared.
MAX_DIGITS = 30

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_CONVERSION_ERRORS = (yaml.YAMLError, ValueError, ArithmeticError, LookupError, AttributeError, TypeError)


@dataclass(frozen=True)
class ValueProblem:
    """A value the YAML loader could not build (or refuses), at ``where`` on ``line``."""

    where: Location
    line: int
    message: str
    mode: Mode = "replace"
    note: str = ""
    """For ``fallback``: what to add to the field's own message, e.g. ``not a real date: …``."""


@dataclass(frozen=True)
class Built:
    """A scalar's value, or the stand-in for it and why it could not be built."""

    value: Any
    problem: tuple[str, Mode, str] | None = None
    """``(message, mode, note)`` when the scalar could not be used as written."""


def build_scalar(loader: Any, node: yaml.ScalarNode) -> Built:
    """The value of plain-tagged ``node``, or its text as a stand-in with the problem."""
    tag, text = node.tag, node.value
    if tag == _STR:  # most values: nothing to convert, nothing that can fail
        return Built(text)
    if tag in (_TAG + "map", _TAG + "seq"):  # e.g. "!!map x": PyYAML would hand back a generator
        return Built(text, (f"YAML tag {tag!r} on a single value is not supported; write a plain value", "replace", ""))
    if tag == _TAG + "int":
        digits = sum(c.isalnum() for c in text) if len(text) > MAX_DIGITS else 0
        if digits > MAX_DIGITS:
            message = f"a number {digits:,} digits long ({shorten(text, 24)}); no field takes a number that long"
            return Built(text, (message + ": check the value, or put it in quotes if it is text", "replace", ""))
    try:
        value = loader.yaml_constructors[tag](loader, node)
    except _CONVERSION_ERRORS as exc:
        return Built(text, _conversion_problem(tag, text, exc))
    if isinstance(value, float) and not math.isfinite(value):
        what = "NaN (not a number)" if math.isnan(value) else "infinity" if value > 0 else "minus infinity"
        message = f"YAML reads {shorten(text, 24)} as the special number {what}, which no field takes"
        return Built(text, (message + "; write the value out, or put it in quotes if it is text", "replace", ""))
    return Built(value)


def _conversion_problem(tag: str, text: str, exc: Exception) -> tuple[str, Mode, str]:
    shown = shorten(text, 40)
    if tag == _TAG + "timestamp" and isinstance(exc, ValueError):
        # A plain 2026-02-30 is resolved as a date, then datetime refuses it; its words
        # ("day is out of range for month") say what is wrong.
        reason = str(exc)
        what = "date and time" if any(c in text for c in "tT ") else "date"
        note = f"not a real {what}: {reason}"
        message = f"{shown!r} is not a real {what} ({reason}); YAML reads a value written like this as a {what}"
        return message + ": correct it, or put it in quotes if it is text", "fallback", note
    # Otherwise an explicit tag on text that is not of its kind ("!!bool maybe", "!!int four"):
    # Python's own words (a KeyError, "invalid literal for int()") would not help a DPO.
    return f"{shown!r} cannot be read as YAML {tag.removeprefix(_TAG)!r}; write a plain value", "replace", ""
