"""Checks every string of every input passes: size limits, hidden characters, ASCII digits.

Also the shared pieces the field checks build on: ``fail`` (a ``PydanticCustomError`` with
its message already formatted), ``require_text`` (strings only, with a hint for YAML
numbers and booleans) and ``visible`` (text made safe to print to a terminal).
"""

from __future__ import annotations

import unicodedata
from typing import Any

from pydantic_core import PydanticCustomError

# Size limits: generous for any real trust, small enough that a pasted log or a generated
# 40,000-item list is refused at once instead of taking minutes to render.
MAX_LINE_CHARS = 300  # names, headteachers, address lines and other one-line values
MAX_URL_CHARS = 2_000
MAX_PROSE_CHARS = 5_000  # a paragraph (the longest in the DfE text is under 800)


ECHO_CHARS = 120  # the most of a value an error message repeats back


def fail(error_type: str, message: str, **context: Any) -> PydanticCustomError:
    """A ``PydanticCustomError`` of ``error_type`` whose message is ``message`` filled in with ``context``.

    The value repeated back (``got``) is shortened (``shorten``) when it is long text: a
    message names the value, it need not repeat 2,000 characters of it.
    """
    # Format here, not in pydantic: values may contain braces (e.g. "{{"), which must
    # appear in the message literally.
    shown = {name: shorten(value) if name == "got" and isinstance(value, str) else value for name, value in context.items()}
    return PydanticCustomError(error_type, message.format(**shown))


def shorten(text: str, limit: int = ECHO_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the cut shown by ``…`` (for repeating a value in a message)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


_TYPE_NAMES = {
    "int": "a number",
    "float": "a number",
    "list": "a list",
    "dict": "a mapping",
    "date": "a date",
    "datetime": "a date and time",
}


def require_text(value: Any, what: str, *, multiline: bool = False, limit: int = MAX_LINE_CHARS) -> str:
    """Accept only strings; YAML numbers and booleans get a hint to quote them.

    Every string of every input passes here, so this is where invisible and control
    characters, and oversized values, are refused for all fields at once.
    """
    if isinstance(value, str):
        check_characters(value, multiline=multiline, limit=limit)
        return value
    if value is None:
        raise fail("text_type", "expected {what}, got an empty value; fill it in", what=what)
    if isinstance(value, bool):
        raise fail(
            "text_type",
            "expected {what}, got {got} (YAML reads yes/no/on/off/true/false as booleans; put the value in quotes)",
            what=what,
            got=str(value).lower(),
        )
    raise fail(
        "text_type",
        "expected {what}, got {got} ({type_name}); put the value in quotes",
        what=what,
        got=value,
        type_name=_TYPE_NAMES.get(type(value).__name__, type(value).__name__),
    )


# Bidirectional embeddings, overrides and isolates: they reorder what a reader sees
# ("Trojan Source"), so text that looks right can say something else.
_BIDI = frozenset(range(0x202A, 0x202F)) | frozenset(range(0x2066, 0x206A))
# Letters that render as nothing (Hangul fillers, braille blank) besides format characters.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _hidden_kind(char: str, multiline: bool) -> str | None:
    """What is wrong with one character, or None when it is fine in text."""
    code = ord(char)
    if char == "\n":
        return None if multiline else "a line break"
    if char == "\t" and multiline:
        return None
    category = unicodedata.category(char)
    if category == "Cc":
        return "a control character"
    if code in _BIDI:
        return "a bidirectional control character"
    if category == "Cs":
        return "an unpaired surrogate"
    if 0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE:
        return "a Unicode noncharacter"
    if category in ("Zl", "Zp") and not multiline:
        return "a line separator"
    return None


def check_characters(text: str, *, multiline: bool = False, limit: int = MAX_LINE_CHARS) -> None:
    """Refuse oversized text, control and bidirectional characters, and invisible-only text.

    Raises ``PydanticCustomError`` naming what was found and its 1-based position.
    """
    if len(text) > limit:
        raise fail("too_long", "is {count:,} characters long; the limit is {limit:,}", count=len(text), limit=limit)
    for index, char in enumerate(text):
        kind = _hidden_kind(char, multiline)
        if kind:
            raise fail(
                "hidden_character",
                "contains {kind} U+{code:04X} at position {position}; remove it",
                kind=kind,
                code=ord(char),
                position=index + 1,
            )
    if text and all(_looks_blank(c) for c in text) and not text.isspace():
        found = next(c for c in text if not c.isspace())
        raise fail(
            "invisible",
            "contains only invisible characters (U+{code:04X}); write the value out or remove the field",
            code=ord(found),
        )


def _looks_blank(char: str) -> bool:
    return char.isspace() or char in _BLANK_LETTERS or unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp", "Mn", "Me")


def visible(text: str, keep: str = "") -> str:
    """``text`` with control, bidirectional and surrogate characters shown as escapes (``\\x1b``).

    For anything printed to a terminal: an escape sequence in a name must show as text,
    not recolour or rewrite the operator's screen. Characters in ``keep`` (e.g. a line
    break in a diff) are left as they are.
    """
    if text.isprintable():
        return text  # the common case, and fast
    out = []
    for char in text:
        code = ord(char)
        if char in keep or not (unicodedata.category(char) in ("Cc", "Cs") or code in _BIDI):
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    return "".join(out)


def ascii_digits(text: str) -> bool:
    """True when every digit in ``text`` is 0-9 (not full-width or another script's)."""
    return all(c in "0123456789" for c in text if c.isdigit())
