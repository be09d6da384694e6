"""One URL contract: every address of a school comes from ``flows.publish.layout.school_url``.

The sample schools' slugs and prefixes need no quoting, so the golden files cannot tell a
quoted address from an unquoted one. Here a prefix and a slug that do need it (a space, a
non-ASCII letter) give the same quoted address in the office links, ``latest.json``, the
history page, the draft PDFs' links and ``schools.json`` (``S3Publisher.url``).
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

from flows.config.models import DEFAULT_COLOUR, PublishingTarget
from flows.editions.records import Edition, Manifest
from flows.publish import layout
from flows.publish.context import RunContext
from flows.publish.folder import draft_pdf_base_url
from flows.publish.office import office_links
from flows.publish.pages import record_uploads, root_pages
from flows.publish.s3 import S3Publisher
from flows.publish.target import Target

BASE = "https://notices.example.org/"
PREFIX = "trust/notices"  # a trust file's prefix is checked (letters, digits, ".", "_", "-", "/")
SLUG = "école st-aidan"  # a slug is checked too; the layout quotes whatever it is given
QUOTED = "https://notices.example.org/trust/notices/%C3%A9cole%20st-aidan/privacy-notice/"


def test_school_url_quotes_the_key_as_the_publisher_does() -> None:
    # schools.json's addresses used to come from the publisher: the layout quotes as it does.
    client = SimpleNamespace(meta=SimpleNamespace(endpoint_url="http://s3.invalid"))
    publisher = S3Publisher(client=client, bucket="b", public_base_url=BASE)
    assert layout.school_url(BASE, PREFIX, SLUG) == QUOTED
    assert layout.school_url(BASE, PREFIX, SLUG, "index.html") == QUOTED + "index.html"
    assert layout.school_url(BASE, PREFIX, SLUG, "index.html") == publisher.url(layout.latest_key(PREFIX, SLUG, "index.html"))
    assert layout.edition_url(BASE, PREFIX, SLUG, 3) == QUOTED + "v3/"
    assert layout.root_url(BASE, PREFIX, "fragment.css") == publisher.url(layout.root_key(PREFIX, "fragment.css"))
    odd_prefix = "trust notices"
    assert layout.school_url(BASE, odd_prefix, SLUG, "index.html") == publisher.url(
        layout.latest_key(odd_prefix, SLUG, "index.html")
    )
    assert layout.root_url(BASE, odd_prefix, "index.html") == BASE + "trust%20notices/index.html"


def test_a_slug_that_needs_quoting_is_quoted_the_same_way_everywhere(env: Any, dataset_text: Any) -> None:
    links = office_links(BASE, PREFIX, SLUG, "École St Aidan")
    assert (links.page, links.fragment, links.json, links.feed) == (
        QUOTED + "index.html",
        QUOTED + "fragment.html",
        QUOTED + "notice.json",
        QUOTED + "feed.xml",
    )
    assert links.stylesheet == "https://notices.example.org/trust/notices/fragment.css"
    target = PublishingTarget(bucket="trust-notices", prefix=PREFIX, public_base_url=BASE)
    assert draft_pdf_base_url(target, SLUG) == QUOTED

    ctx = _context(env, dataset_text)
    edition = Edition(
        number=1,
        content_hash="c",
        presentation_hash="p",
        dataset_edition="d",
        template_version="t",
        published_at="2026-07-01T15:30:00Z",
        change_class="first",
    )
    manifest = Manifest(slug=SLUG, urn="100001", name="École St Aidan", editions=(edition,))
    uploads = {u.key.rsplit("/", 1)[1]: u.body for u in record_uploads(ctx, manifest, DEFAULT_COLOUR)}
    latest = json.loads(uploads["latest.json"])
    urls = [*latest["urls"].values(), *latest["for_pupils"].values()]
    assert all(u.startswith(QUOTED) for u in urls if u != links.stylesheet), urls
    assert latest["urls"]["page"] == links.page and latest["urls"]["pdf"] == QUOTED + "notice.pdf"
    assert (QUOTED + "index.html").encode() in uploads["history.html"]
    assert f'href="{QUOTED}feed.xml"'.encode() in uploads["feed.xml"]


def test_the_trust_index_links_each_school_by_its_quoted_address(env: Any, dataset_text: Any) -> None:
    ctx = _context(env, dataset_text)
    school = {"slug": SLUG, "name": "École St Aidan", "urn": "100001", "edition": 1, "url": QUOTED + "index.html"}
    index = next(u.body.decode() for u in root_pages(ctx, [school]) if u.key.endswith("/index.html"))
    relative = QUOTED.removeprefix(BASE + PREFIX + "/")
    assert relative == "%C3%A9cole%20st-aidan/privacy-notice/"
    assert f'href="{relative}index.html"' in index and f'href="{relative}history.html"' in index
    assert f'href="{SLUG}/' not in index  # no unquoted link left
    assert layout.school_href(SLUG, "index.html") == relative + "index.html"


def test_the_trust_index_grows_by_a_line_a_school_not_by_a_copy_of_its_office_links(env: Any, dataset_text: Any) -> None:
    # Issue 22: at 1,000 schools the index was 2.6 MB, 2.4 KB a school of it the office section
    # repeated; now each school is one list item and its office links stay on its history page.
    ctx = _context(env, dataset_text)

    def index_bytes(count: int) -> int:
        schools = [
            {"slug": f"meadow-lane-{i:04d}", "name": f"Meadow Lane Primary School {i:04d}", "urn": f"{100000 + i}"}
            | {"edition": 12, "url": f"{BASE}{PREFIX}/meadow-lane-{i:04d}/privacy-notice/index.html"}
            for i in range(count)
        ]
        return len(next(u.body for u in root_pages(ctx, schools) if u.key.endswith("/index.html")))

    per_school = (index_bytes(101) - index_bytes(1)) / 100
    assert per_school < 200, per_school  # under 200 KB at 1,000 schools with names like these (make bench measures it)


def _context(env: Any, dataset_text: Any) -> RunContext:
    """A run's context for the sample trust's pages, on this file's base URL and prefix."""
    return RunContext(
        env=env,
        text=dataset_text,
        target=Target("trust-notices", PREFIX, BASE, None, None, False),
        trust_name="Example Trust",
        trust_website="https://trust.example.org/",
        template_version="t",
        renderer="r",
    )
