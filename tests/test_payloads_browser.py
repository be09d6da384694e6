"""Every published page type, with a payload in every string field, runs nothing in Chromium.

The trust's files are poisoned as in ``test_markdown_inert`` (school, trust and dataset
strings; approver name and note too), published twice to the real S3 (SeaweedFS), and each
page is loaded over HTTP: the notice (latest and an edition), the fragment (alone and embedded
in a school website's page without a CSP), history, both editions' changes, the trust index
and the error page. The pages' CSP would stop inline scripts anyway, so Chromium ignores it
here: the escaping alone must keep every payload inert. ``test_render`` checks the same pages'
markup without a browser.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from flows.publish.context import Approval
from flows.notice.prepare import load_and_compose

from .conftest import SCHOOLS, SHARED
from .support.markdown import PARTS, launch_chromium, load_in_browser, poison_tree, write_page
from .support.web import read_body

pytestmark = pytest.mark.browser

SLUG = "oakfield-primary"
APPROVAL = Approval(f"Alex Example {PARTS[1]}", f"checked {PARTS[3]} {PARTS[7]}")
SEEN = "<script>window.__pwned=1</script>"  # shown as text on the page: the payload did arrive


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    yield from launch_chromium()


@pytest.fixture(scope="module")
def pages(seaweed: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """URL of each page type, after a first edition and a material second one, all poisoned."""
    from tests.support.publishing import _publish

    tree = tmp_path_factory.mktemp("payloads")
    shutil.copytree(SCHOOLS, tree / "schools")
    shutil.copytree(SHARED, tree / "shared_data")
    poison_tree(tree)
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=(SLUG,))
    assert not prepared.errors, [str(e) for e in prepared.errors]
    result = _publish(seaweed, prepared, "t/payloads-browser", approval=APPROVAL)
    path = tree / "schools" / f"{SLUG}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))  # a new recipient: a material change
    added = {"name": f"{PARTS[0]} Tutoring {PARTS[2]}", "purpose": f"{PARTS[4]} {PARTS[5]}", "lawful_basis": "public_task"}
    data["local_recipients"] = [*data.get("local_recipients", []), added]
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=(SLUG,))
    assert not prepared.errors, [str(e) for e in prepared.errors]
    result = _publish(seaweed, prepared, "t/payloads-browser", approval=APPROVAL)
    school = result.schools[0]
    assert (school.status, school.edition, school.approved_by) == ("published", 2, APPROVAL.approver), school
    assert school.url
    base = school.url.rsplit("/", 1)[0]
    root = base.rsplit("/", 2)[0]
    names = ("index.html", "fragment.html", "history.html", "v1/index.html", "v1/changes.html", "v2/changes.html")
    urls = {name: f"{base}/{name}" for name in names}
    urls |= {"trust index": f"{root}/index.html", "error": f"{root}/error.html"}
    fragment = read_body(urls["fragment.html"]).decode("utf-8")  # a school website embedding the fragment
    urls["fragment embedded"] = write_page(tree, "host", f"<main>{fragment}</main>").as_uri()
    return urls


def test_no_page_runs_a_payload_or_holds_an_active_element(chromium: Any, pages: dict[str, str]) -> None:
    for name, (title, pwned, active) in load_in_browser(chromium, pages).items():
        assert (pwned, active) == ("undefined", 0), name
        assert title != "X", name


def test_the_payloads_arrive_as_text(chromium: Any, pages: dict[str, str]) -> None:
    """The test means something: each page shows payloads (escaped) from the configuration."""
    context = chromium.new_context()
    page = context.new_page()
    for name, url in pages.items():
        if name == "error":
            continue  # the error page names only the trust
        page.goto(url)
        assert SEEN in page.inner_text("body") or PARTS[0] in page.inner_text("body"), name
    page.goto(pages["history.html"])
    assert APPROVAL.note in page.inner_text("body")  # the approver's own words, as text
    context.close()


def test_the_probe_sees_an_unescaped_payload_run(chromium: Any, pages: dict[str, str], tmp_path: Path) -> None:
    """The check can fail: the same page with one payload left unescaped runs it."""
    html = read_body(pages["index.html"]).decode("utf-8")
    escaped = PARTS[1].replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert escaped in html
    raw = write_page(tmp_path, "raw", html.replace(escaped, PARTS[1], 1)).as_uri()
    assert load_in_browser(chromium, {"raw": raw})["raw"][1] == "number"
