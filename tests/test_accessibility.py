"""Accessibility in a real browser: axe-core in Debian's Chromium, 0 violations (WCAG 2.2 AA).

Needs /usr/bin/chromium (apt) and axe-core (npm, tests/browser). `.ci/run` and `make test`
install both; on a machine without them these tests skip, except under CI where they fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest


from .conftest import SAMPLE_SLUGS
from .support.browser import _axe

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("slug", SAMPLE_SLUGS)
def test_page_has_no_axe_violations(browser, site: Path, slug: str) -> None:
    assert _axe(browser, (site / slug / "index.html").as_uri()) == []


@pytest.mark.parametrize("slug", SAMPLE_SLUGS)
def test_fragment_has_no_axe_violations(browser, site: Path, slug: str) -> None:
    assert _axe(browser, (site / slug / "host.html").as_uri()) == []


def test_axe_finds_a_planted_violation(browser, site: Path) -> None:
    # The check must be able to fail: a page with an unlabelled link and low contrast.
    bad = site / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html lang="en-GB"><head><title>Bad</title></head><body><main>'
        '<p style="color:#aaaaaa;background:#ffffff">faint</p><a href="x.html"></a></main></body></html>',
        encoding="utf-8",
    )
    assert {"color-contrast", "link-name"} <= {v["id"] for v in _axe(browser, bad.as_uri())}
    # Under a CSP that allows no script at all axe still runs, and a style the CSP refuses is reported.
    strict = site / "strict.html"
    strict.write_text(
        '<!DOCTYPE html><html lang="en-GB"><head><title>Strict</title>'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'"></head><body><main>'
        '<p style="color:#767676">refused</p><a href="x.html"></a></main></body></html>',
        encoding="utf-8",
    )
    assert {"csp", "link-name"} <= {v["id"] for v in _axe(browser, strict.as_uri())}


def test_csp_allows_the_page_style_and_print_hides_navigation(browser, site: Path, sample) -> None:
    context = browser.new_context()  # CSP enforced
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto((site / "northgate-academy" / "index.html").as_uri())
    colour = page.evaluate("getComputedStyle(document.querySelector('.masthead')).backgroundColor")
    assert colour == "rgb(122, 31, 61)"  # #7a1f3d: the inline style ran under the CSP hash
    assert errors == []
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('nav')).display") == "none"
    page.set_viewport_size({"width": 320, "height": 640})
    page.emulate_media(media="screen")
    # Reflow at 320 CSS px (WCAG 1.4.10): no horizontal scrolling.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()
