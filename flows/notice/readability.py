"""Readability figures of plain text, measured one way everywhere (tests, ``validate --readability``).

textstat is pinned to 0.7.3: later versions fetch data at run time, which fails offline.
It counts syllables with pyphen's British English dictionary, so "colour" and "organisation"
are measured as parents read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import textstat

LANGUAGE = "en_GB"
textstat.set_lang(LANGUAGE)


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text`` (about the school year in the US system, minus one)."""
    return float(textstat.flesch_kincaid_grade(for_counting(text)))


def reading_ease(text: str) -> float:
    """Flesch reading ease of ``text``: 60 to 70 is plain English, under 50 is hard."""
    return float(textstat.flesch_reading_ease(for_counting(text)))


# Addresses are read as one word, but their dots would split sentences and their parts be
# counted as words; each is measured as the one word a reader says ("email", "link").
_EMAIL = re.compile(r"\S+@\S+\.[A-Za-z]{2,}")
_URL = re.compile(r"https?://\S+")
# A sentence ends at . ! or ? followed by a space (not the dot inside an address or a number).
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def for_counting(text: str) -> str:
    """``text`` as it is measured: addresses as one word each, whitespace collapsed."""
    text = _URL.sub("link", _EMAIL.sub("email", text))
    return " ".join(text.split())


def sentences(text: str) -> list[str]:
    """The sentences of ``text``: split after . ! or ? and at line breaks (list items, table cells)."""
    found: list[str] = []
    for line in text.splitlines():
        found += [s.strip() for s in _SENTENCE_END.split(for_counting(line)) if s.strip()]
    return found


@dataclass(frozen=True)
class Figures:
    """Readability of one piece of text: Flesch-Kincaid grade and Flesch reading ease."""

    grade: float
    reading_ease: float


def figures(text: str) -> Figures:
    """Grade and reading ease of ``text``, each line (a list item, a cell) counted as a sentence."""
    measured = " ".join(s if s[-1] in ".!?" else f"{s}." for s in sentences(text))
    return Figures(grade(measured), reading_ease(measured))


def hardest(text: str, count: int = 3) -> list[tuple[float, str]]:
    """The ``count`` hardest sentences of ``text`` as (grade, sentence), hardest first."""
    graded = [(grade(s), s) for s in sentences(text) if len(s.split()) > 2]
    return sorted(graded, key=lambda pair: -pair[0])[:count]
