"""Values made literal in Markdown, and dataset Markdown made inert: safe in any renderer.

A school office may render notice.md with any Markdown library, raw HTML allowed; so
nothing a configuration or dataset file says may become an element, an attribute or a
link to anything but a web or mail address. HTML-significant characters become entities
(every flavour decodes them as text; python-markdown does not honour a backslash before
"<"); Markdown punctuation is backslash-escaped only where it could start syntax, so
ordinary prose reads in the .md file as written.
"""

from __future__ import annotations

import re

_HTML_SPECIAL = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Anywhere in a line: emphasis, code, links and images, tables, attribute lists ({: …}).
_INLINE_SPECIAL = re.compile(r"[\\`*_\[\]{}|]")
# Only at the start of a line (a value may be placed there): headings, lists, setext rules.
_LINE_START = re.compile(r"^(?:([#+\-])|(\d{1,9})([.)]))")
_SAFE_URL = re.compile(r"(?:https?://|mailto:)[^\s<>()\"'\\`]+")
_SAFE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")


def _escape_inline(text: str) -> str:
    text = re.sub(r"[&<>]", lambda m: _HTML_SPECIAL[m.group(0)], text)
    # "~" by entity: python-markdown shows a backslash before it, GFM reads "~~" as strikethrough.
    text = _INLINE_SPECIAL.sub(r"\\\g<0>", text).replace("~", "&#126;")
    # "\](" is already no link; escaping the "(" too keeps the source from even looking like one.
    return text.replace("\\](", "\\]\\(")


def escape_markdown(value: object) -> str:
    """Make a value literal in Markdown (any flavour): no markup, link or raw HTML survives.

    Whitespace is collapsed to single spaces: a newline could end a table row or start a block.
    The result is safe in a paragraph, a heading, a list item, a table cell and link text.
    """
    text = _escape_inline(" ".join(str(value).split()))
    if text.startswith("="):  # a line of "=" under a line of text makes it a heading
        return "&#61;" + text[1:]
    return _LINE_START.sub(lambda m: f"\\{m.group(1)}" if m.group(1) else f"{m.group(2)}\\{m.group(3)}", text, count=1)


def markdown_link(text: object, url: str | None, *, bracketed: bool = True) -> str:
    """``[text](<url>)`` for a web or mail address; any other address is shown as text, not linked.

    ``bracketed=False`` gives ``[text](url)``, the same link (a safe address has no space,
    parenthesis or angle bracket), for readers that pick the address out of the text.
    """
    if url and _SAFE_URL.fullmatch(url):
        return f"[{escape_markdown(text)}]({url})" if not bracketed else f"[{escape_markdown(text)}](<{url}>)"
    return escape_markdown(f"{text} ({url})" if url else text)


def markdown_email(address: str) -> str:
    """``<address>``, which every flavour links as mail; anything unusual is shown as text."""
    return f"<{address}>" if _SAFE_EMAIL.fullmatch(address) else escape_markdown(address)


# Dataset prose is Markdown by design (emphasis, links): kept, except what could be active.
_PROSE_TOKEN = re.compile(
    r"(?P<escape>\\[\\`*_{}\[\]()#+\-.!>])"  # an escape both flavours honour: kept as written
    r"|(?P<link>!?\[(?P<label>[^\[\]\n]+)\]\((?P<url>" + _SAFE_URL.pattern + r")\))"
    r"|(?P<auto><(?P<auto_url>(?:https?://|mailto:)[^\s<>\"'\\`]+)>)"
    r"|(?P<special>[<>\[\]{}])"
)


def neutralise_markdown(text: str) -> str:
    """Dataset Markdown with its formatting kept but nothing active: inert in any renderer.

    Raw HTML and autolinks become text; ``[label](url)`` stays a link only for a web or mail
    address; other brackets are escaped, so no other link, image or reference definition
    forms; an image becomes a link. Ordinary prose is returned unchanged.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group("escape"):
            return match.group("escape")
        if match.group("link"):
            label = neutralise_markdown(match.group("label"))
            return f"[{label}]({match.group('url')})"
        if match.group("auto"):
            return f"<{match.group('auto_url')}>"
        char = match.group("special")
        return _HTML_SPECIAL.get(char) or f"\\{char}"

    return _PROSE_TOKEN.sub(replace, text)


def code_block(text: str) -> str:
    """``text`` as an indented code block: literal in every Markdown renderer.

    Not a fence: a diff line of backticks would close it, and python-markdown without its
    fenced_code extension shows a fence's lines as Markdown (raw HTML included).
    """
    return "\n".join(f"    {line}" for line in text.splitlines())
