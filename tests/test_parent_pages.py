"""What parents read: the redline's words, UK times, the summary, apostrophes, special categories."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from flows.editions.diff import redline
from flows.editions.records import Edition, Manifest
from flows.publish.office import host_csp, office_links
from flows.publish.pages import _render, render_changes_page
from flows.notice.summary import MAX_CATEGORIES
from flows.notice.render import EditionStamp, render_notice

from .support.pages import _Text, text_of

SUMMER = "2026-07-01T16:30:00Z"  # 17:30 BST
WINTER = "2026-01-15T09:05:00Z"  # 09:05 GMT


def _with_headteacher(notice, name: str):
    return notice.model_copy(update={"school": notice.school.model_copy(update={"headteacher": name})})


def test_redline_keeps_replaced_words_apart(sample, env, dataset_text) -> None:
    notice = next(n for n in sample.notices if n.slug == "northgate-academy")
    assert notice.school.headteacher == "Dr Casey Example"
    old = render_notice(env, notice, dataset_text, pdf=False).files["fragment.html"].decode()
    new = render_notice(env, _with_headteacher(notice, "Ms Jordan Example"), dataset_text, pdf=False).files["fragment.html"]
    marked = str(redline(old, new.decode()))
    assert re.search(r"<del>Dr Casey</del>\s*<ins>Ms Jordan</ins>", marked)  # still two distinct elements
    assert "Dr Casey Ms Jordan Example" in " ".join(text_of(marked).split())
    assert "CaseyMs" not in text_of(marked)


# --- UK time, with GMT or BST, wherever a parent reads one ---------------------------------


@pytest.mark.parametrize(("stamp", "shown"), [(SUMMER, "1 July 2026 at 17:30 BST"), (WINTER, "15 January 2026 at 09:05 GMT")])
def test_edition_note_and_markdown_show_uk_time(sample, env, dataset_text, stamp: str, shown: str) -> None:
    notice = sample.notices[0]
    for location in ("latest", "edition"):
        files = render_notice(env, notice, dataset_text, pdf=False, stamp=EditionStamp(3, stamp, location)).files
        assert f"published {shown}" in text_of(files["index.html"].decode())
        assert f"published {shown}" in files["notice.md"].decode()


def _edition(number: int, published_at: str) -> Edition:
    return Edition(
        number=number,
        content_hash="c" * 64,
        presentation_hash="p" * 64,
        dataset_edition="2025-26",
        template_version="t",
        published_at=published_at,
        change_class="first" if number == 1 else "minor",
    )


def test_history_and_changes_pages_show_uk_time(env) -> None:
    manifest = Manifest(
        slug="oakfield-primary", urn="990002", name="Oakfield Primary", editions=(_edition(1, WINTER), _edition(2, SUMMER))
    )
    base = "https://notices.example.org/"
    office = office_links(base, "notices", manifest.slug, manifest.name)
    page = _render(
        env,
        "history.html.j2",
        "#1d4f91",
        "Trust",
        manifest=manifest,
        office=office,
        fragment_css=office.stylesheet,
        host_csp=host_csp(base),
        public_log={
            "statement": "This history is recorded in a public log.",
            "check": "notices verify",
            "checkpoint": "",
            "key": "",
        },
    )
    history = text_of(page.decode())
    assert "Published 15 January 2026 at 09:05 GMT." in history
    assert "Published 1 July 2026 at 17:30 BST." in history
    for edition, shown in ((_edition(2, SUMMER), "17:30 BST"), (_edition(3, WINTER), "09:05 GMT")):
        page = render_changes_page(
            env,
            trust_name="Trust",
            colour="#1d4f91",
            school_name="Oakfield Primary",
            redline=None,
            changes=(),
            change_class="minor",
            edition=edition,
        )
        assert shown in text_of(page.decode())
    assert not re.search(r"\d{2}:\d{2}(:\d{2})?\s*(UTC|Z\b|\+00:00)", history)


# --- "In brief" -----------------------------------------------------------------------------


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.hrefs: list[str] = []
        self.order: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
            self.order.append(str(a["id"]))
        if tag == "a" and (a.get("href") or "").startswith("#"):
            self.hrefs.append(str(a["href"])[1:])


def _summary_html(html: str, prefix: str) -> str:
    found = re.search(rf'<section class="[^"]*summary" aria-labelledby="{prefix}in-brief">(.*?)</section>', html, re.S)
    assert found, "no In brief section"
    return found.group(1)


@pytest.mark.parametrize("form", ["index.html", "fragment.html"])
def test_in_brief_links_every_point_to_its_section(sample, env, dataset_text, form: str) -> None:
    for notice in sample.notices:
        html = render_notice(env, notice, dataset_text, pdf=False).files[form].decode()
        # The fragment's prefix is whatever its summary heading uses: never assumed here.
        prefix = re.search(r'id="([^"]*)in-brief"', html).group(1)  # type: ignore[union-attr]
        block = _summary_html(html, prefix)
        level = 2 if form == "index.html" else 3
        assert re.search(rf'<h{level} id="{prefix}in-brief">In brief</h{level}>', block)
        assert block.count("<li>") == 6  # who, what, sharing, rights, complaining (the ICO), contacts
        links = _Ids()
        links.feed(block)
        assert links.hrefs == [
            f"{prefix}{s}" for s in ("who-we-are", "information", "sharing", "dfe", "rights", "complaints", "dpo")
        ]
        page = _Ids()
        page.feed(html)
        assert set(links.hrefs) <= set(page.ids)  # every link lands on a section
        text = " ".join(text_of(block).split())
        # The first few kinds by name, the rest counted (a summary, not the list).
        shown = MAX_CATEGORIES if len(notice.categories) > MAX_CATEGORIES else len(notice.categories)
        for category in notice.categories[:shown]:
            assert category.split(" (")[0] in text
        if len(notice.categories) > shown:
            assert f"{len(notice.categories) - shown} other kinds" in text
        for recipient in notice.local_recipients:  # named without their bracketed explanation
            assert recipient.name.split(" (")[0] in text
        assert notice.school.email in text and notice.dpo.email in text
        if form == "index.html":  # after the title and edition note, before the contents list
            assert page.order.index("in-brief") < page.order.index("contents-heading")
            assert html.index("edition-note") < html.index('id="in-brief"')


def test_in_brief_follows_the_data_and_is_in_the_markdown(sample, env, dataset_text) -> None:
    notice = sample.notices[0]
    changed = notice.model_copy(update={"categories": ("lunch choices (such as allergies)", "trips"), "local_recipients": ()})
    md = render_notice(env, changed, dataset_text, pdf=False).files["notice.md"].decode()
    brief = md.split("## In brief", 1)[1].split("\n## ", 1)[0]
    assert "such as lunch choices and trips." in brief
    assert "We share it with the Department for Education." in brief
    assert "](" not in brief and "<" not in brief  # plain text: no links
    assert len([line for line in brief.splitlines() if line.startswith("- ")]) == 6


# --- One apostrophe style ---------------------------------------------------------------------

_STRAIGHT = re.compile(r"[^\W\d_]'[^\W\d_]")


def test_no_straight_apostrophe_between_letters_in_what_parents_read(sample, env, dataset_text) -> None:
    for notice in sample.notices:
        for stamp in (None, EditionStamp(2, SUMMER, "edition")):
            files = render_notice(env, notice, dataset_text, pdf=False, stamp=stamp).files
            for name in ("index.html", "fragment.html"):
                parser = _Text()
                parser.feed(files[name].decode())
                bad = [node for node in parser.nodes if _STRAIGHT.search(node)]
                assert not bad, (notice.slug, name, bad[:3])
            assert not _STRAIGHT.search(files["notice.md"].decode()), notice.slug
    st_aidans = next(n for n in sample.notices if n.slug == "st-aidans-all-through")
    assert "'" in st_aidans.school.name  # the sample really has straight apostrophes to curl
    page = render_notice(env, st_aidans, dataset_text, pdf=False).files["index.html"].decode()
    assert "St Aidan’s All-Through School" in text_of(page)
    assert 'content="How St Aidan&#39;s' in page  # attribute values are left as written


def test_apostrophes_in_addresses_are_left_alone() -> None:
    from flows.notice.typography import curl_apostrophes, typeset_html, typeset_markdown

    assert curl_apostrophes("Email o'brien@example.org, it's open") == "Email o'brien@example.org, it’s open"
    assert typeset_markdown("[St Aidan's](<https://example.org/a'b>)") == "[St Aidan’s](<https://example.org/a'b>)"
    assert (
        typeset_html("<p title=\"it's\">it&#39;s</p><style>a{}/*it's*/</style>")
        == "<p title=\"it's\">it’s</p><style>a{}/*it's*/</style>"
    )


def test_the_apostrophe_pass_skips_only_text_without_one() -> None:
    """The fast path (stretches without ' or &#39; are left alone) gives the bytes of curling every stretch."""
    from hypothesis import given, settings, strategies as st

    from flows.notice import typography

    piece = st.sampled_from(
        ["it's", "it&#39;s", "<b>", "</b>", "<a href='x'>", "o'brien@example.org", " ", "pupils'", "abc", "<!--'-->"]
    )

    def curl_every_stretch(html: str) -> str:
        out, last = [], 0
        for match in typography._HTML_SKIP.finditer(html):
            out += [typography.curl_apostrophes(html[last : match.start()].replace("&#39;", "'")), match.group(0)]
            last = match.end()
        return "".join([*out, typography.curl_apostrophes(html[last:].replace("&#39;", "'"))])

    @settings(max_examples=300, deadline=None)
    @given(st.lists(piece, max_size=30).map("".join))
    def check(html: str) -> None:
        assert typography.typeset_html(html) == curl_every_stretch(html)

    check()
