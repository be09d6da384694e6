"""notice.md and the run report stay inert in any Markdown renderer, raw HTML allowed.

A school office may render notice.md with python-markdown or markdown-it (html enabled);
the DPO reads the run report in Prefect or as `_runs/<run-id>/report.md`. A payload goes into
every string of every school, the trust file and the dataset edition (valid text: tags, event
handlers, Markdown links and autolinks, raw HTML blocks, Jinja); the real render and report
code makes the Markdown; each renderer turns it into HTML, which must hold no active element,
handler or script link, and which Chromium loads without running anything.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import markdown
import pytest
from markdown_it import MarkdownIt

from flows.editions.diff import describe_changes, unified_diff
from flows.config.models import Notice
from flows.notice.markdown import escape_markdown, markdown_email, markdown_link
from flows.publish.results import RunResult, SchoolResult
from flows.publish.target import Target
from flows.notice.dataset_text import render_dataset_text
from flows.notice.render import EditionStamp, build_environment, render_notice
from flows.runs import report
from flows.notice.prepare import Prepared, load_and_compose

from .conftest import TEMPLATES
from .support.markdown import (
    BLOCK,
    LEADS,
    PAYLOAD,
    REFERENCE,
    launch_chromium,
    load_in_browser,
    poison_tree,
    write_page,
)

ACTIVE_TAGS = {"script", "iframe", "frame", "svg", "math", "img", "object", "embed", "link", "meta", "base", "form", "style"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc", "poster"}


def prepare_poisoned(root: Path) -> Prepared:
    """The poisoned trust, loaded through the real loader (it must accept every payload)."""
    poison_tree(root)
    prepared = load_and_compose(root / "schools", root / "shared_data")
    assert not prepared.errors, [str(e) for e in prepared.errors]
    assert prepared.notices
    return prepared


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ACTIVE_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            scheme = "".join((value or "").split()).lower()
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            elif name in URL_ATTRIBUTES and (name == "srcdoc" or scheme.startswith(("javascript:", "data:", "vbscript:"))):
                self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def active_markup(html: str) -> list[str]:
    """Active elements, event handlers and script/data links in ``html`` (parsed, not grepped)."""
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser.found


# The renderers a school office might use, each in its most permissive ordinary setting.
RENDERERS: dict[str, Callable[[str], str]] = {
    "python-markdown": markdown.markdown,
    "python-markdown-extra": lambda text: markdown.markdown(text, extensions=["extra"]),  # attr_list, md_in_html, tables
    "markdown-it-html": MarkdownIt("commonmark", {"html": True}).enable("table").render,
}


def check_inert(name: str, text: str) -> dict[str, str]:
    """Render ``text`` with every renderer; no active markup. Returns the HTML by renderer."""
    out = {}
    for renderer, render in RENDERERS.items():
        html = render(text)
        assert active_markup(html) == [], f"{name} via {renderer}: {active_markup(html)}"
        out[f"{name}-{renderer}"] = html
    return out


# --- The real outputs -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    root = tmp_path_factory.mktemp("poisoned")
    for folder in ("schools", "shared_data"):
        shutil.copytree(Path(__file__).resolve().parent.parent / folder, root / folder)
    return prepare_poisoned(root)


def _render(notice: Notice, stamp: EditionStamp | None = None) -> dict[str, bytes]:
    env = build_environment(TEMPLATES)
    return render_notice(env, notice, render_dataset_text(notice.dataset), pdf=False, stamp=stamp).files


def markdown_documents(sample: Prepared, poisoned: Prepared) -> dict[str, str]:
    """Every school's notice.md (draft and an edition), its for-pupils.md, and each form of the run report."""
    docs: dict[str, str] = {}
    clean = {n.slug: _render(n) for n in sample.notices}
    results = []
    for notice in poisoned.notices:
        files = _render(notice)
        docs[f"{notice.slug}-draft"] = files["notice.md"].decode()
        docs[f"{notice.slug}-pupils"] = files["for-pupils.md"].decode()  # the pupils' version, from the same values
        old = clean[notice.slug]
        changes, change_class = describe_changes(json.loads(old["notice.json"]), json.loads(files["notice.json"]))
        results.append(
            SchoolResult(
                slug=notice.slug,
                status="held",
                edition=2,
                url="https://notices.example.org/x/index.html",
                change_class=change_class,
                changes=changes,
                error=PAYLOAD,
                name=notice.school.name,
                diff=unified_diff(old["notice.md"].decode(), docs[f"{notice.slug}-draft"], "v1", "draft"),
                approved_by=f"{LEADS[3]} {PAYLOAD}",
                notes=(PAYLOAD, BLOCK),
            )
        )
    # An edition's notice.md (stamped) as well as the drafts; the stamp adds no configuration value.
    docs["edition"] = _render(poisoned.notices[0], EditionStamp(2, "2026-11-28T10:00:00Z"))["notice.md"].decode()
    run = RunResult(Target("b", "p", "https://notices.example.org/", None, None, True), results, {"PUT": 1})
    docs["report"] = report.full_report(run, f"Run {PAYLOAD}")
    docs["school-changes"] = report.school_changes(results[0])
    links = {
        r.slug: {"changes.html": "javascript:window.__pwned=1", "index.html": f"https://x.example.org/?{PAYLOAD}"}
        for r in results
    }
    docs["approval-request"] = report.approval_request(results, links, 60)
    rows = report.table_rows(run)
    # Prefect renders each table cell as Markdown; as one GFM table it must hold together too.
    docs["table"] = "\n".join(
        ["| " + " | ".join(rows[0]) + " |", "|" + " --- |" * len(rows[0])]
        + ["| " + " | ".join(str(v) for v in row.values()) + " |" for row in rows]
    )
    return docs


@pytest.fixture(scope="module")
def documents(sample: Prepared, poisoned: Prepared) -> dict[str, str]:
    return markdown_documents(sample, poisoned)


@pytest.fixture(scope="module")
def rendered_html(documents: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, text in documents.items():
        out |= check_inert(name, text)
    return out


def test_the_payload_reaches_every_output(documents: dict[str, str], poisoned: Prepared) -> None:
    """The test means something: the payload is in the dataset title, prose and every school's fields."""
    assert poisoned.notices[0].dataset.title.startswith("<")
    for name, text in documents.items():
        assert "&lt;script&gt;" in text, name
    draft = documents[f"{poisoned.notices[0].slug}-draft"]
    for part in ("&lt;svg onload", "&lt;img src", "&lt;iframe srcdoc", "javascript:window", "&lt;object data"):
        assert draft.count(part) >= 5, part  # school, trust and dataset strings alike


def test_unescaped_payload_is_active_in_every_renderer() -> None:
    """The detector works: the raw payload gives active markup in each renderer."""
    for renderer, render in RENDERERS.items():
        assert active_markup(render(f"{PAYLOAD}{BLOCK}")), renderer
    assert active_markup(markdown.markdown(REFERENCE))  # python-markdown links any scheme


def test_notice_md_and_run_report_render_inert(rendered_html: dict[str, str], documents: dict[str, str]) -> None:
    """No element, handler or script link in any renderer's HTML (checked by ``rendered_html``)."""
    assert len(rendered_html) == len(documents) * len(RENDERERS)
    for name, html in rendered_html.items():
        # Jinja in a value stays text, and Markdown escapes read as meant. The pupils' version shows
        # fewer fields, not always the one that carries this part: ``rendered_html`` checks it is inert.
        assert "{{ 7*7 }}" in html or "-pupils-" in name, name


def test_only_web_and_mail_links_survive(rendered_html: dict[str, str]) -> None:
    hrefs: set[str] = set()

    class Links(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            hrefs.update(v or "" for k, v in attrs if tag == "a" and k == "href")

    for html in rendered_html.values():
        Links().feed(html)
    assert hrefs and all(h.startswith(("https://", "http://", "mailto:")) for h in hrefs), sorted(hrefs)


@pytest.mark.parametrize(
    "value", ["1. one", "2) two", "# h", "- l", "+ l", "* l", "===", "---", "> q", "    code", "`c`", "a | b", "~~s~~"]
)
def test_a_value_at_the_start_of_a_line_makes_no_block(value: str) -> None:
    """Escaping happens only where syntax could start, but there it always does: plain paragraphs."""

    class Tags(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            seen.add(tag)

    for text in (
        escape_markdown(value),
        f"Line one  \n{escape_markdown(value)}",
        f"| a |\n| --- |\n| {escape_markdown(value)} |",
    ):
        for renderer, render in RENDERERS.items():
            seen: set[str] = set()
            Tags().feed(render(text))
            assert seen <= {"p", "br", "table", "thead", "tbody", "tr", "th", "td"}, (renderer, text, seen)


def test_only_web_and_mail_addresses_become_links() -> None:
    assert markdown_link("policy", "https://example.org/a_b") == "[policy](<https://example.org/a_b>)"
    assert markdown_link("x", "javascript:alert(1)") == "x (javascript:alert(1))"  # text, not a link
    assert markdown_email("office@school.example.org") == "<office@school.example.org>"
    assert "<" not in markdown_email("a<b>@example.org").replace("&lt;", "")


# --- In a browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


def test_chromium_runs_nothing_from_rendered_markdown(chromium: Any, rendered_html: dict[str, str], tmp_path: Path) -> None:
    urls = {name: write_page(tmp_path, name, html).as_uri() for name, html in rendered_html.items()}
    for name, seen in load_in_browser(chromium, urls).items():
        assert seen == ("clean", "undefined", 0), name


def test_chromium_probe_sees_a_payload_run(chromium: Any, tmp_path: Path) -> None:
    """The browser check can fail: the unescaped payload, rendered by markdown-it, runs."""
    html = RENDERERS["markdown-it-html"](f"{PAYLOAD}{BLOCK}")
    title, pwned, active = load_in_browser(chromium, {"raw": write_page(tmp_path, "raw", html).as_uri()})["raw"]
    assert (title, pwned) == ("X", "number") and active > 0
