"""Accessibility in a real browser: axe-core in Debian's Chromium, 0 violations (WCAG 2.2 AA).

Needs /usr/bin/chromium (apt) and axe-core (npm, tests/browser). `.ci/run` and `make test`
install both; on a machine without them these tests skip, except under CI where they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.publish.folder import render_all

from .conftest import SAMPLE_SLUGS

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser checks need {', '.join(missing)}; .ci/run installs them")
        pytest.skip(f"needs {', '.join(missing)} (run `make test` as root or `bash .ci/run`)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def site(sample, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    render_all(sample.notices, out, pdf=False)
    for slug in SAMPLE_SLUGS:  # the fragment as a school website would embed it
        fragment = (out / slug / "fragment.html").read_text(encoding="utf-8")
        (out / slug / "host.html").write_text(
            '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>School website</title></head>'
            f"<body><main>{fragment}</main></body></html>",
            encoding="utf-8",
        )
    return out


def _axe(browser, url: str) -> list[dict]:
    """axe's WCAG 2.2 AA violations on the page at ``url``, with the page's own CSP in force.

    axe is added as an init script, which Chromium runs through the DevTools protocol: the CSP
    (``script-src 'none'`` on our pages) does not block it, and it still governs everything the
    page itself loads. A CSP violation by the page is reported as a violation too.
    """
    context = browser.new_context()
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    return (
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]
        + ([] if result["passes"] else [{"id": "axe ran no rules"}])
        + [{"id": "csp", "message": text} for text in refused]
    )


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
