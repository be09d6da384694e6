"""What a school office gets: stable addresses, an embed snippet, and a fragment that works inside
another website's page.

Without a browser: every id of a fragment is unique per school, the fragment carries no inline
style or script, its stylesheet is scoped under ``.tn-notice``, and the snippet escapes what it
holds. Against the real S3 (SeaweedFS): the history page and the trust index give the published
addresses, and ``fragment.css`` is written once. In Chromium: a school website on another
loopback port, with a strict CSP of its own, pastes the history pages' snippets for two schools
and reads ``notice.json`` cross-origin; nothing is blocked, no id repeats, the tables scroll
inside a 320 px page that itself does not, and axe-core finds nothing.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import tinycss2

from flows.publish import layout
from flows.publish.office import embed_snippet, host_csp, office_links
from flows.notice.render import render_notice
from flows.notice.prepare import load_and_compose

from .conftest import SCHOOLS, SHARED, TEMPLATES
from .support.web import read_url

TWO = ("northgate-academy", "oakfield-primary")
CSS_URL = "https://notices.example.org/trust/fragment.css"


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each <textarea>, in order."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.textareas: dict[str, str] = {}
        self._in: str | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.tags.append((tag, values))
        self._in = values.get("id") if tag == "textarea" else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None:
            self.textareas[self._in] = self.textareas.get(self._in, "") + data

    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if "id" in a]


def _fragments(env: Any, sample: Any, dataset_text: Any, css: str | None = CSS_URL) -> dict[str, tuple[str, str]]:
    """slug → (URN, fragment.html) for the two schools."""
    notices = [n for n in sample.notices if n.slug in TWO]
    return {
        n.slug: (n.school.urn, render_notice(env, n, dataset_text, pdf=False, fragment_css=css).files["fragment.html"].decode())
        for n in notices
    }


def test_two_schools_fragments_share_no_id(env: Any, sample: Any, dataset_text: Any) -> None:
    fragments = _fragments(env, sample, dataset_text)
    seen: dict[str, str] = {}
    for slug, (urn, fragment) in fragments.items():
        ids = Tags(fragment).ids()
        assert ids and len(ids) == len(set(ids)), slug
        assert all(i.startswith(f"tn-{urn}-") for i in ids), [i for i in ids if not i.startswith(f"tn-{urn}-")]
        # Every reference points inside the same fragment.
        refs = {
            r
            for _, a in Tags(fragment).tags
            for name in ("aria-labelledby", "aria-describedby", "for")
            for r in a.get(name, "").split()
        }
        assert refs <= set(ids), refs - set(ids)
        clash = set(ids) & set(seen)
        assert not clash, f"{slug} and {seen.get(next(iter(clash)))} share {sorted(clash)[:3]}"
        seen.update(dict.fromkeys(ids, slug))


def test_the_fragment_has_no_inline_style_or_script_and_links_its_stylesheet(env: Any, sample: Any, dataset_text: Any) -> None:
    for css in (CSS_URL, None):
        for slug, (_, fragment) in _fragments(env, sample, dataset_text, css).items():
            tags = Tags(fragment).tags
            assert not [t for t, a in tags if "style" in a or t in ("script", "style")], slug
            assert not [a for _, a in tags if any(k.startswith("on") for k in a)], slug
            links = [a for t, a in tags if t == "link"]
            assert links == ([{"rel": "stylesheet", "href": css}] if css else []), slug
            assert tags[bool(css)][1].get("class") == "tn-notice"  # the link comes before the notice: outside the redline
    # Deterministic bytes.
    assert _fragments(env, sample, dataset_text) == _fragments(env, sample, dataset_text)


def test_the_fragment_stylesheet_is_scoped_under_tn_notice() -> None:
    rules = tinycss2.parse_stylesheet(
        (TEMPLATES / "fragment.css").read_text(encoding="utf-8"), skip_comments=True, skip_whitespace=True
    )
    assert rules and not [r for r in rules if r.type != "qualified-rule"], (
        "only plain rules (no @import, no @media escaping the scope)"
    )
    for rule in rules:
        for selector in tinycss2.serialize(rule.prelude).split(","):
            assert re.match(r"\.tn-notice(?![\w-])", selector.strip()), selector
    classes = set(re.findall(r"\.(tn-[\w-]+)", (TEMPLATES / "fragment.css").read_text(encoding="utf-8")))
    assert "tn-table-scroll" in classes


def test_the_snippet_escapes_what_it_holds_and_the_csp_hash_allows_its_script() -> None:
    links = office_links("https://notices.example.org/", "trust", "oak", 'A & <B> "school"')
    assert links.page == "https://notices.example.org/trust/oak/privacy-notice/index.html"
    assert links.json.endswith("/trust/oak/privacy-notice/notice.json") and links.feed.endswith("/privacy-notice/feed.xml")
    assert "A &amp; &lt;B&gt; &#34;school&#34;" in links.snippet and "<B>" not in links.snippet
    hostile = embed_snippet('https://x.example.org/"><script>', "https://x.example.org/f.html", "S")
    assert '"><script>' not in hostile
    script = re.search(r"<script>(.*)</script>", links.snippet, re.S)
    assert script
    digest = base64.b64encode(hashlib.sha256(script.group(1).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in host_csp("https://notices.example.org/")
    assert "connect-src https://notices.example.org;" in host_csp("https://notices.example.org/")


# --- Published to the real S3 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def published(seaweed: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two schools published; each school's latest-folder URL and the trust root's."""
    from tests.support.publishing import _publish

    tree = tmp_path_factory.mktemp("office")
    shutil.copytree(SCHOOLS, tree / "schools")
    shutil.copytree(SHARED, tree / "shared_data")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=TWO)
    result = _publish(seaweed, prepared, "t/office")
    assert [s.status for s in result.schools] == ["published", "published"], result.schools
    bases = {s.slug: s.url.rsplit("/", 1)[0] + "/" for s in result.schools if s.url}
    root = next(iter(bases.values())).rsplit("/", 3)[0] + "/"
    again = _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data", only=TWO), "t/office")
    return {
        "bases": bases,
        "root": root,
        "first": result,
        "again": again,
        "names": {n.slug: n.school.name for n in prepared.notices},
    }


def _get(url: str, **headers: str) -> tuple[bytes, Any]:
    return read_url(urllib.request.Request(url, headers=headers))


def test_history_and_index_give_the_published_addresses_and_the_snippet(published: dict[str, Any]) -> None:
    index = Tags(_get(published["root"] + "index.html")[0].decode())
    for slug, base in published["bases"].items():
        page = Tags(_get(base + "history.html")[0].decode())
        hrefs = {a["href"] for t, a in page.tags if t == "a"}
        wanted = {
            base + "index.html",
            base + "notice.json",
            base + "feed.xml",
            base + "fragment.html",
            published["root"] + "fragment.css",
        }
        assert wanted <= hrefs, wanted - hrefs
        assert all(u.startswith("http://127.0.0.1:") for u in wanted)
        (snippet,) = page.textareas.values()
        assert f'href="{base}index.html"' in snippet and f'data-tn-fragment="{base}fragment.html"' in snippet
        assert html.escape(published["names"][slug], quote=False) in snippet
        # The trust index links the page that holds them (its history page), not a copy of them.
        assert any(t == "a" and (published["root"] + a["href"]) == base + "history.html" for t, a in index.tags)
        for url, kind in (
            (base + "notice.json", "application/json"),
            (base + "feed.xml", "application/atom+xml"),
            (base + "fragment.html", "text/html"),
        ):
            assert _get(url)[1]["Content-Type"].startswith(kind), url
    assert index.textareas == {} and not [t for t, _ in index.tags if t == "summary"]  # no snippet repeated per school


def test_printed_pages_name_the_school_or_the_trust_in_their_footer(published: dict[str, Any]) -> None:
    from flows.notice.render import css_string
    from flows.notice.typography import curl_apostrophes

    def footer(page: str) -> str:  # the --school custom property the print stylesheet shows at each page's foot
        return page.split("--school: ", 1)[1].split(";", 1)[0] if "--school: " in page else ""

    for slug, base in published["bases"].items():
        name = css_string(curl_apostrophes(published["names"][slug]))
        assert footer(_get(base + "history.html")[0].decode()) == name
        assert footer(_get(base + "v1/changes.html")[0].decode()) == name
    assert footer(_get(published["root"] + "index.html")[0].decode()) == css_string("Meadowbank Learning Trust")


def test_the_fragment_stylesheet_is_published_once(published: dict[str, Any]) -> None:
    body, headers = _get(published["root"] + "fragment.css")
    assert body == (TEMPLATES / "fragment.css").read_bytes()
    assert headers["Content-Type"] == "text/css; charset=utf-8"
    key = layout.root_key("t/office", "fragment.css")
    assert key in published["first"].root_uploads
    assert key not in published["again"].root_uploads and published["again"].requests["put"] == 0


def test_the_bucket_answers_cross_origin_requests_with_its_own_cors_rules(published: dict[str, Any]) -> None:
    base = next(iter(published["bases"].values()))
    _, headers = _get(base + "fragment.html", Origin="http://127.0.0.1:9")
    assert headers["Access-Control-Allow-Origin"] in ("*", "http://127.0.0.1:9")
    # GET and HEAD only: setup_bucket's rule, not SeaweedFS's default (which allows PUT and DELETE too).
    assert headers["Access-Control-Allow-Methods"] == "GET, HEAD"


# --- A school website with a strict CSP, in Chromium ------------------------------------------


HOST_JS = """
fetch(document.documentElement.getAttribute("data-json"))
  .then(function (r) { return r.json(); })
  .then(function (data) { document.getElementById("json-result").textContent = "Edition " + data.edition.number + " of " + data.school.name; });
"""


class _Host(BaseHTTPRequestHandler):
    pages: dict[str, tuple[bytes, str]] = {}
    csp = ""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body, kind = self.pages.get(self.path, (b"not found", "text/plain"))
        self.send_response(200 if self.path in self.pages else 404)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def host(published: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A school website on another loopback port: both history pages' snippets, its own script."""
    bases = published["bases"]
    snippets = [next(iter(Tags(_get(b + "history.html")[0].decode()).textareas.values())) for b in bases.values()]
    scripts = {s for snippet in snippets for s in re.findall(r"<script>(.*?)</script>", snippet, re.S)}
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in sorted(scripts))
    bucket = re.match(r"https?://[^/]+", published["root"])
    assert bucket
    first_json = next(iter(bases.values())) + "notice.json"
    page = (
        f'<!DOCTYPE html><html lang="en-GB" data-json="{html.escape(first_json)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Our school: privacy</title></head>'
        "<body><main><h1>Privacy at our schools</h1>"
        + "".join(snippets)
        + '<p id="json-result">Loading…</p><script src="/host.js"></script></main></body></html>'
    )

    class Handler(_Host):
        pages = {"/": (page.encode(), "text/html; charset=utf-8"), "/host.js": (HOST_JS.encode(), "text/javascript")}
        csp = f"default-src 'none'; script-src 'self' {hashes}; connect-src {bucket.group(0)}; style-src {bucket.group(0)}; base-uri 'none'; form-action 'none'"

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}/", "hashes": hashes, "csp": Handler.csp}
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _wait(page: Any, expression: str, seconds: float = 10.0) -> None:
    """Poll ``expression`` until true. Not ``wait_for_function``: Playwright evaluates its predicate
    with ``eval`` inside the page, which the host's CSP (rightly) forbids."""
    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        time.sleep(0.05)


@pytest.mark.browser
def test_two_fragments_work_on_a_host_page_with_a_strict_csp(published: dict[str, Any], host: dict[str, Any]) -> None:
    from .support.browser import AXE, AXE_TAGS, CHROMIUM, CHROMIUM_ARGS, _require_browser

    _require_browser()
    from playwright.sync_api import sync_playwright

    history = _get(next(iter(published["bases"].values())) + "history.html")[0].decode()
    assert host["hashes"] in html.unescape(history)  # the CSP the history page tells the office to add
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 320, "height": 640})
            context.add_init_script(path=str(AXE))  # through DevTools: the page's CSP still applies to everything else
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(host["url"])
            _wait(page, "document.querySelectorAll('.tn-notice').length === 2")
            _wait(page, "document.getElementById('json-result').textContent.startsWith('Edition')")
            _wait(
                page,
                "document.querySelector('.tn-table-scroll') && getComputedStyle(document.querySelector('.tn-table-scroll')).overflowX === 'auto'",
            )
            assert errors == []  # nothing blocked by the host's CSP, no CORS failure
            assert page.text_content("#json-result") == f"Edition 1 of {published['names'][next(iter(published['bases']))]}"
            ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
            assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # the page never scrolls sideways
            scrolls = page.evaluate(
                "[...document.querySelectorAll('.tn-table-scroll')].map(e => [getComputedStyle(e).overflowX, e.scrollWidth > e.clientWidth])"
            )
            assert scrolls and all(overflow == "auto" for overflow, _ in scrolls)
            assert any(wide for _, wide in scrolls)  # a table wider than 320 px scrolls inside its box
            result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
            assert result["passes"] and [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]] == []
            # Our own pages that show the addresses reflow at 320 px too (every disclosure open).
            for url in (next(iter(published["bases"].values())) + "history.html", published["root"] + "index.html"):
                page.goto(url)
                page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), url
            context.close()
        finally:
            browser.close()


def test_the_trust_pages_are_rewritten_when_the_templates_change_though_no_notice_did() -> None:
    """fragment.css (or the index template) changed, every notice the same: the root pages are checked again."""
    from flows.publish.trust_run import index_stale as _index_stale
    from flows.publish.results import SchoolResult, SchoolState, Status

    before = SchoolState(edition=1, manifest_etag='"m"', content_hash="c", presentation_hash="p", fingerprint="old", etags={})
    same = SchoolResult("oak", Status.UNCHANGED, edition=1, state=before)
    assert not _index_stale([same], {"oak": before})  # a rerun that changes nothing touches no root page
    moved = SchoolResult("oak", Status.UNCHANGED, edition=1, state=before.model_copy(update={"fingerprint": "new"}))
    assert _index_stale([moved], {"oak": before})
