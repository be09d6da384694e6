"""Readability figures of plain text, measured one way everywhere (tests, ``validate --readability``).

textstat is pinned to 0.7.3: later versions fetch data at run time, which fails offline.
It counts syllables with pyphen's British English dictionary, so "colour" and "organisation"
are measured as parents read them.
"""

from __future__ import annotations

import textstat

textstat.set_lang("en_GB")


def grade(text: str) -> float:
    """Flesch-Kincaid grade level of ``text`` (about the school year in the US system, minus one)."""
    return float(textstat.flesch_kincaid_grade(text))


def reading_ease(text: str) -> float:
    """Flesch reading ease of ``text``: 60 to 70 is plain English, under 50 is hard."""
    return float(textstat.flesch_reading_ease(text))
