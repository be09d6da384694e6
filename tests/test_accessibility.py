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

from flows.site import render_all

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
    # axe is injected through the DevTools protocol, so the page's CSP stays in force for its own content.
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.goto(url)
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]
    ] + ([] if result["passes"] else [{"id": "axe ran no rules"}])


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
    ids = {v["id"] for v in _axe(browser, bad.as_uri())}
    assert {"color-contrast", "link-name"} <= ids


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


def test_published_pages_have_no_axe_violations(browser, seaweed, tree: Path) -> None:
    """History, redline, trust index and error page, fetched from the real S3 over HTTP."""
    from flows.site import prepare

    from .test_publish import _publish

    _publish(seaweed, prepare(tree / "schools", tree / "shared_data", only=("oakfield-primary",)), "axe")
    path = tree / "schools" / "oakfield-primary.yaml"
    text = path.read_text().replace("Mr Sam Example", "Ms Jo Example")
    path.write_text(text + "  - name: Example Tutoring Ltd\n    purpose: tutoring\n    lawful_basis: public_task\n", encoding="utf-8")
    result = _publish(seaweed, prepare(tree / "schools", tree / "shared_data", only=("oakfield-primary",)), "axe")
    base = result.schools[0].url.rsplit("/", 1)[0]
    root = base.rsplit("/", 2)[0]
    for url in (f"{base}/history.html", f"{base}/v2/changes.html", f"{base}/v1/changes.html", f"{root}/index.html", f"{root}/error.html"):
        assert _axe(browser, url) == [], url
