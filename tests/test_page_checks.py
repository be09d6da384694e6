"""Every page type, as published: the Nu HTML Checker (vnu) finds 0 errors, axe-core finds 0
WCAG 2.2 AA violations with the page's own CSP in force.

The sample trust is published to the real S3 (SeaweedFS), one school twice so that an edition
page and both kinds of "what changed" page exist; every page is fetched over HTTP, as a browser
or a school's web team gets it. The fragment is checked where it lives: two schools' fragments
inside one minimal host page.

vnu comes from npm (``vnu-jar``, installed with ``--ignore-scripts`` so it never downloads a
Java runtime) and runs on the system's Java; one call checks every file. Missing tools skip
these tests on a developer machine and fail them under CI, like the other browser checks.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from flows.notice.prepare import load_and_compose

from .support.browser import AXE, _axe, _require_browser
from .support.publishing import _publish
from .support.web import read_body

VNU = Path(__file__).resolve().parent / "browser" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
SLUG, OTHER = "oakfield-primary", "northgate-academy"
KINDS = (
    "notice",
    "edition notice",
    "pupils notice",
    "edition pupils notice",
    "history",
    "changes (first edition)",
    "changes",
    "trust index",
    "error",
    "two fragments in a host page",
    "both versions' fragments in a host page",
)

pytestmark = pytest.mark.browser


def _host_page(fragments: list[str]) -> str:
    """A school website's page with our fragments in it: what a web team would paste."""
    body = "\n".join(f"<div>{f}</div>" for f in fragments)
    return (
        '<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Our school: privacy</title>\n</head>\n<body>\n<main>\n<h1>Privacy</h1>\n"
        f"{body}\n</main>\n</body>\n</html>\n"
    )


@pytest.fixture(scope="module")
def pages(seaweed, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Page type → URL of every kind of page the publisher writes (plus the host page, a file)."""
    from .conftest import SCHOOLS, SHARED

    tree = tmp_path_factory.mktemp("pages-tree")
    shutil.copytree(SCHOOLS, tree / "schools")
    shutil.copytree(SHARED, tree / "shared_data")
    prefix = "page-checks"
    _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix)
    school = tree / "schools" / f"{SLUG}.yaml"
    edited = school.read_text(encoding="utf-8").replace("Mr Sam Example", "Ms Jo Example")
    school.write_text(
        edited + "  - name: Example Tutoring Ltd\n    purpose: tutoring\n    lawful_basis: public_task\n", encoding="utf-8"
    )
    result = _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data", only=(SLUG,)), prefix)
    base = result.schools[0].url.rsplit("/", 1)[0]  # …/<slug>/privacy-notice
    root = base.rsplit("/", 2)[0]
    other = f"{root}/{OTHER}/privacy-notice"
    host = tmp_path_factory.mktemp("host") / "host.html"
    fragments = [_get(f"{b}/fragment.html").decode("utf-8") for b in (base, other)]
    host.write_text(_host_page(fragments), encoding="utf-8")
    both = host.with_name("both.html")  # the parents' and the pupils' fragment of one school, on one page
    both.write_text(_host_page([fragments[0], _get(f"{base}/for-pupils-fragment.html").decode("utf-8")]), encoding="utf-8")
    urls = {
        "notice": f"{base}/index.html",
        "edition notice": f"{base}/v1/index.html",
        "pupils notice": f"{base}/for-pupils.html",
        "edition pupils notice": f"{base}/v1/for-pupils.html",
        "history": f"{base}/history.html",
        "changes (first edition)": f"{base}/v1/changes.html",
        "changes": f"{base}/v2/changes.html",
        "trust index": f"{root}/index.html",
        "error": f"{root}/error.html",
        "two fragments in a host page": host.as_uri(),
        "both versions' fragments in a host page": both.as_uri(),
    }
    assert tuple(urls) == KINDS
    return urls


def _get(url: str) -> bytes:
    return read_body(url)


def _require_vnu() -> str:
    java = shutil.which("java")
    if java and VNU.exists():
        return java
    missing = ", ".join(x for x, ok in (("java", java), (str(VNU), VNU.exists())) if not ok)
    if os.environ.get("CI"):
        pytest.fail(f"the HTML check needs {missing}; .ci/run and make test install them")
    pytest.skip(f"needs {missing} (run `make test`, or `bash .ci/run` as root)")


def _vnu(java: str, files: list[Path]) -> dict[str, list[str]]:
    """File name → vnu's error messages ("line N: message"); one JVM for every file."""
    command = [java, "-Xss16m", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, files)]
    for _ in range(2):  # vnu has hit a StackOverflowError once (toolchain.md): one retry on that
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
        if "StackOverflowError" not in done.stderr:
            break
    errors: dict[str, list[str]] = {f.name: [] for f in files}
    for message in json.loads(done.stderr)["messages"]:
        name = message.get("url", "").rsplit("/", 1)[-1]
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']}")
    return errors


def test_every_page_type_is_valid_html(pages: dict[str, str], tmp_path: Path) -> None:
    java = _require_vnu()
    files: dict[str, Path] = {}
    for kind, url in pages.items():
        path = tmp_path / (kind.replace(" ", "-").replace("(", "").replace(")", "") + ".html")
        path.write_bytes(Path(url.removeprefix("file://")).read_bytes() if url.startswith("file:") else _get(url))
        files[kind] = path
    # The check must be able to fail: a page with a stray end tag and a duplicate id.
    planted = tmp_path / "planted.html"
    planted.write_text(_host_page(['<p id="x">one</p><p id="x">two</p></span>']), encoding="utf-8")
    errors = _vnu(java, [*files.values(), planted])
    assert len(errors.pop(planted.name)) >= 2
    assert {kind: errors[path.name] for kind, path in files.items() if errors[path.name]} == {}


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_type_has_no_axe_violations(browser, pages: dict[str, str], kind: str) -> None:
    _require_browser()
    assert AXE.exists()
    assert _axe(browser, pages[kind]) == []
