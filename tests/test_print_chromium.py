"""The notice printed from Chromium (a parent's "Print" or "Save as PDF"), not WeasyPrint.

Chromium lays the page out in the machine's fonts (DejaVu Sans here, wider than the PDF's
bundled font), so "ICO registration number" wraps in the label column: the case where the old
float layout put every later value beside the wrong label. The running footer must be there too.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.notice.render import EditionStamp, render_notice
from flows.notice.typography import curl_apostrophes

from .support.browser import CHROMIUM, CHROMIUM_ARGS, _require_browser
from .support.pdf import _column_lines, _facts_page, _page_texts, _pair_rows

pytestmark = pytest.mark.browser

SLUGS = ("oakfield-primary", "st-aidans-all-through")


@pytest.fixture(scope="module")
def printed(sample, env, dataset_text, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, bytes]]]:
    """Each school's published page, and the PDF Chromium prints from it (A4, the page's CSS)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    out = tmp_path_factory.mktemp("print")
    pages: dict[str, tuple[str, bytes]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for notice in (n for n in sample.notices if n.slug in SLUGS):
            stamp = EditionStamp(2, "2026-09-01T09:00:00Z", "latest")
            html = render_notice(env, notice, dataset_text, pdf=False, stamp=stamp).files["index.html"].decode("utf-8")
            path = Path(out / f"{notice.slug}.html")
            path.write_text(html, encoding="utf-8")
            page = browser.new_page()
            page.goto(path.as_uri())
            pages[notice.slug] = (html, page.pdf(prefer_css_page_size=True, print_background=True))
            page.close()
        browser.close()
    yield pages


@pytest.mark.parametrize("slug", SLUGS)
def test_chromium_prints_the_footer_on_every_page(printed, sample, slug: str) -> None:
    name = curl_apostrophes(next(n.school.name for n in sample.notices if n.slug == slug))  # as printed: one apostrophe style
    texts = _page_texts(printed[slug][1])
    assert len(texts) > 1
    for number, text in enumerate(texts, start=1):
        lines = [line.strip() for line in text.splitlines()]
        assert any(line.startswith(name) and line.endswith(f"Page {number} of {len(texts)}") for line in lines), lines[-3:]


@pytest.mark.parametrize("slug", SLUGS)
def test_chromium_keeps_each_label_beside_its_value(printed, slug: str) -> None:
    html, data = printed[slug]
    facts = html.split('class="facts"', 1)[1].split("</dl>", 1)[0]
    pairs = [
        [htmllib.unescape(re.sub(r"<[^>]+>", "", part)) for part in pair]
        for pair in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", facts)
    ]
    labels, values = [p[0] for p in pairs], [p[1] for p in pairs]
    label_lines, value_lines = _column_lines(data, _facts_page(data, labels[0]))
    assert any(line[2] == "number" for line in label_lines), "expected 'ICO registration number' to wrap in Chromium's font"
    label_rows, value_rows = _pair_rows(label_lines, labels), _pair_rows(value_lines, values)
    for n, ((label_top, label_bottom), (value_top, value_bottom)) in enumerate(zip(label_rows, value_rows, strict=True)):
        assert abs(label_top - value_top) < 3, f"{labels[n]!r} is not beside its value {values[n]!r}"
        if n + 1 < len(labels):
            assert label_rows[n + 1][0] < min(label_bottom, value_bottom), f"{labels[n + 1]!r} starts beside the pair above"
