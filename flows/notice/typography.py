"""One apostrophe style for everything parents read: the typographic ’.

Notices draw their words from templates, fixed wording, school files and the DfE dataset,
which mix ' and ’. Rather than edit every string, one function (``curl_apostrophes``) turns
a straight apostrophe between two letters into ’, and it is applied to what a reader sees:
the text nodes of a rendered page (not its attributes, style or script) and the text of
notice.md (not its link targets). Web and mail addresses are left exactly as written.
"""

from __future__ import annotations

import re

# A straight apostrophe after a letter, before a letter or the end of a word: "school's", "don't",
# "O'Brien", "pupils' height". (A closing quote after a word is the same ’ character.)
_BETWEEN_LETTERS = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_]|[\s.,;:!?)]|$)")
# Words that are addresses: changing a character would break them if copied.
_ADDRESS = re.compile(r"\S*(?:@|://|mailto:)\S*")
# A page: tags (with their attribute values), comments, and the bodies of <style> and <script>.
_HTML_SKIP = re.compile(r"<style\b.*?</style>|<script\b.*?</script>|<!--.*?-->|<[^>]*>", re.S | re.I)
# Markdown: link targets ``](…)`` and autolinks ``<…>``, kept as written.
_MARKDOWN_SKIP = re.compile(r"\]\(<[^>\n]*>\)|\]\([^)\s]*\)|<[^>\s]+>")


def curl_apostrophes(text: str) -> str:
    """``school's`` → ``school’s``, ``pupils' `` → ``pupils’ `` in displayed text; addresses are left alone."""
    parts = _ADDRESS.split(text)
    addresses = _ADDRESS.findall(text)
    out = [_BETWEEN_LETTERS.sub("’", parts[0])]
    for address, part in zip(addresses, parts[1:], strict=True):
        out += [address, _BETWEEN_LETTERS.sub("’", part)]
    return "".join(out)


def _outside(pattern: re.Pattern[str], text: str, html: bool = False) -> str:
    """``curl_apostrophes`` on the stretches of ``text`` that ``pattern`` does not match."""

    def curl(stretch: str) -> str:
        # Most stretches hold no apostrophe (17 of ~950 a page): leave them as they are, untouched.
        if "'" not in stretch and (not html or "&#39;" not in stretch):
            return stretch
        # Jinja escapes ' as &#39;: in a text node a plain ' means the same, and can then be curled.
        return curl_apostrophes(stretch.replace("&#39;", "'") if html else stretch)

    out: list[str] = []
    last = 0
    for match in pattern.finditer(text):
        out += [curl(text[last : match.start()]), match.group(0)]
        last = match.end()
    out.append(curl(text[last:]))
    return "".join(out)


def typeset_html(html: str) -> str:
    """A rendered page or fragment with ’ in its text nodes; markup, styles and attributes unchanged."""
    return _outside(_HTML_SKIP, html, html=True)


def typeset_markdown(text: str) -> str:
    """notice.md with ’ in its text; link targets and autolinks unchanged."""
    return _outside(_MARKDOWN_SKIP, text)
