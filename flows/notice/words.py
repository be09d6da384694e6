"""The words a reader gets from a rendered notice (pure), whatever produced them.

An edition's identity must cover every word a parent reads or hears, not only the settings
that ``notice.json`` carries: a template, the fixed wording in Python (``flows.notice.wording``) and
the dataset text all put words on the page. So the content hash takes, besides the canonical
``notice.json``, the visible text of the page, the fragment and ``notice.md`` as rendered,
and the same three forms of the pupils' version (each PDF is printed from its page). Visible text here is what a screen reader announces too:
text nodes plus ``alt``, ``aria-label`` and ``title`` attributes, not markup, links' targets
or styles, so a change of layout never counts as a change of words.
"""

from __future__ import annotations

import hashlib
from html.parser import HTMLParser

# The pupils' version is part of the same edition: a change to its words needs the same approval.
WORD_FORMS = ("index.html", "fragment.html", "notice.md", "for-pupils.html", "for-pupils-fragment.html", "for-pupils.md")
_SPOKEN_ATTRIBUTES = ("alt", "aria-label", "title")
_SILENT = {"script", "style", "template"}


class _TextOf(HTMLParser):
    """Collects the text a reader gets from an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._silent = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SILENT:
            self._silent += 1
        for name, value in attrs:
            if name in _SPOKEN_ATTRIBUTES and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SILENT and self._silent:
            self._silent -= 1

    def handle_data(self, data: str) -> None:
        if not self._silent:
            self.parts.append(data)


def html_words(html: str) -> str:
    """The visible and spoken text of an HTML document, whitespace folded to single spaces."""
    parser = _TextOf()
    parser.feed(html)
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def notice_words(files: dict[str, bytes]) -> str:
    """The words of every form a reader gets, one section per form, in a stable order."""
    sections = []
    for name in WORD_FORMS:
        if name not in files:
            continue
        text = files[name].decode("utf-8")
        words = html_words(text) if name.endswith(".html") else " ".join(text.split())
        sections.append(f"[{name}] {words}")
    return "\n".join(sections)


def words_hash(files: dict[str, bytes]) -> str:
    """``sha256:<hex>`` of ``notice_words``: equal exactly when no reader-facing word differs."""
    return "sha256:" + hashlib.sha256(notice_words(files).encode("utf-8")).hexdigest()
