"""Tables on a phone, in Chromium with the page's CSP in force: no mid-word breaks, no sideways scroll.

At 320 and 375 CSS px every notice's tables must be readable: no word of a cell is split
across lines (checked per word with Range.getClientRects), the page never scrolls sideways,
and a screen reader still meets a table with rows, column headers and cells.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SAMPLE_SLUGS

pytestmark = pytest.mark.browser

WIDTHS = (320, 375)

# Every word (a run of letters, with ’ or - inside) of every table cell, and the lines it covers.
# A word on one line gives line boxes that share one top; a split word (wrapped or hyphenated) gives two.
SPLIT_WORDS = """() => {
  const split = [];
  for (const cell of document.querySelectorAll('table th, table td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/[\\p{L}][\\p{L}’'\\-]*[\\p{L}]/gu)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) split.push(m[0]);
      }
    }
  }
  return split;
}"""


def _page(browser, url: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": 700})  # CSP enforced: no bypass
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(url)
    assert errors == [], errors  # the inline stylesheet ran under its CSP hash
    return context, page


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("slug", SAMPLE_SLUGS)
def test_tables_fit_a_phone_without_splitting_words(browser, site: Path, slug: str, width: int) -> None:
    context, page = _page(browser, (site / slug / "index.html").as_uri(), width)
    assert page.evaluate("document.querySelectorAll('table td').length") > 0
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    assert page.evaluate(SPLIT_WORDS) == []
    context.close()


def test_the_word_check_can_fail(browser, site: Path) -> None:
    """A cell forced to break anywhere: the check must see the split words."""
    bad = site / "split.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en-GB"><head><title>Split</title></head><body>'
        '<table style="width:6rem"><tr><td style="overflow-wrap:anywhere">Organisation obligation</td></tr></table>'
        "</body></html>",
        encoding="utf-8",
    )
    context, page = _page(browser, bad.as_uri(), 320)
    assert "Organisation" in page.evaluate(SPLIT_WORDS)
    context.close()


def _ax_roles(page) -> list[str]:
    session = page.context.new_cdp_session(page)
    nodes = session.send("Accessibility.getFullAXTree")["nodes"]
    return [n["role"]["value"] for n in nodes if not n.get("ignored") and "role" in n]


@pytest.mark.parametrize("width", (320, 1024))
def test_screen_readers_still_get_tables_on_a_phone(browser, site: Path, width: int) -> None:
    context, page = _page(browser, (site / "oakfield-primary" / "index.html").as_uri(), width)
    counts = page.evaluate(
        "[...document.querySelectorAll('table')].map(t => [t.querySelectorAll('tbody tr').length,"
        " t.querySelectorAll('thead th').length, t.querySelectorAll('tbody td').length])"
    )
    roles = _ax_roles(page)
    assert roles.count("table") == len(counts)
    assert roles.count("columnheader") == sum(c[1] for c in counts)
    assert roles.count("row") >= sum(c[0] + 1 for c in counts)  # body rows and the header row
    assert roles.count("cell") == sum(c[2] for c in counts)
    context.close()
