"""A PDF's text read back with pdfium: per page, and line by line in the print layout's two columns."""

from __future__ import annotations

import re

import pypdfium2 as pdfium

MM = 72 / 25.4
# The print layout: 16 mm side margins, a 45 mm label column, then a 3 mm gap.
VALUE_COLUMN_X = (16 + 46.5) * MM


def _page_texts(data: bytes) -> list[str]:
    document = pdfium.PdfDocument(data)
    return [page.get_textpage().get_text_range() for page in document]


def _column_lines(data: bytes, page_index: int = 0) -> tuple[list[tuple[float, float, str]], list[tuple[float, float, str]]]:
    """Page lines as (top, bottom, text), split into the label column and the value column."""
    page = pdfium.PdfDocument(data)[page_index]
    textpage = page.get_textpage()
    columns: tuple[dict[float, list[tuple[float, float, float, str]]], ...] = ({}, {})
    for i in range(textpage.count_chars()):
        char = textpage.get_text_range(i, 1)
        left, bottom, right, top = textpage.get_charbox(i, loose=True)
        if not char.strip() or right <= left:
            continue
        column = columns[left >= VALUE_COLUMN_X]
        key = next((k for k in column if abs(k - top) < 2.5), top)
        column.setdefault(key, []).append((left, bottom, top, char))
    result = []
    for column in columns:
        lines = []
        for top in sorted(column, reverse=True):  # PDF y grows upwards: top of the page first
            chars = sorted(column[top])
            text = "".join(c for *_, c in chars)
            lines.append((top, min(b for _, b, _, _ in chars), text))
        result.append(lines)
    return result[0], result[1]


def _facts_page(data: bytes, first_label: str) -> int:
    """The index of the page where the facts list starts (the summary above it may push it on)."""
    wanted = re.sub(r"\s+", "", first_label)
    for index, text in enumerate(_page_texts(data)):
        if wanted in re.sub(r"\s+", "", text):
            return index
    raise AssertionError(f"{first_label!r} is on no page")


def _pair_rows(lines: list[tuple[float, float, str]], texts: list[str]) -> list[tuple[float, float]]:
    """(top of first line, bottom of last line) of each text, read line by line in order."""
    squash = [re.sub(r"\s+", "", t) for t in texts]
    start = next(i for i, line in enumerate(lines) if squash[0].startswith(line[2]) and line[2])
    rows, i = [], start
    for text in squash:
        top, done = lines[i][0], ""
        while done != text:
            done += lines[i][2]
            assert text.startswith(done), f"expected {text!r}, read {done!r}"
            bottom = lines[i][1]
            i += 1
        rows.append((top, bottom))
    return rows
