"""Rendering: golden files, determinism, applicability in the output, injection rendered inert."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.notice.compose import build_notice
from flows.config.models import School, SchoolFile, TrustFile
from flows.notice.dataset_text import render_dataset_text
from flows.notice.render import OUTPUT_FILES, build_environment, render_notice
from flows.publish.folder import render_all

from .conftest import SAMPLE_SLUGS, SCHOOLS, TEMPLATES

GOLDEN = Path(__file__).resolve().parent / "golden"
TEXT_FILES = (
    "index.html",
    "fragment.html",
    "notice.md",
    "notice.json",
    "for-pupils.html",
    "for-pupils-fragment.html",
    "for-pupils.md",
)
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def rendered(sample, env, dataset_text) -> dict[str, dict[str, bytes]]:
    return {n.slug: render_notice(env, n, dataset_text, pdf=False).files for n in sample.notices}


@pytest.mark.parametrize("slug", SAMPLE_SLUGS)
@pytest.mark.parametrize("name", TEXT_FILES)
def test_golden(rendered, slug: str, name: str) -> None:
    """One golden set per sample school (one per phase). Refresh with UPDATE_GOLDEN=1."""
    path = GOLDEN / slug / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered[slug][name])
    assert rendered[slug][name].decode("utf-8") == path.read_text(encoding="utf-8")


def test_rendering_is_byte_identical_across_runs(sample, dataset_text) -> None:
    notice = sample.notices[0]
    first = render_notice(build_environment(TEMPLATES), notice, dataset_text).files
    second = render_notice(build_environment(TEMPLATES), notice, render_dataset_text(notice.dataset)).files
    assert set(first) == set(OUTPUT_FILES)
    assert first == second  # PDF included: nothing depends on the time of the run


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _dangerous_markup(html: str) -> list[str]:
    """Elements a browser would act on: scripts, handlers, non-web links."""
    parser = _Tags()
    parser.feed(html)
    found = []
    for tag, attrs in parser.tags:
        if tag in ("script", "img", "iframe", "object", "embed"):
            found.append(tag)
        for name, value in attrs.items():
            if name.startswith("on") or (
                name in ("href", "src") and not re.match(r"(https?:|mailto:|#|notice\.|for-pupils\.|index\.html$)", value or "")
            ):
                found.append(f"{tag} {name}={value}")
    return found


def _page_text(html: bytes) -> str:
    return re.sub(r"<[^>]+>", " ", html.decode("utf-8"))


def test_applicability_is_visible(rendered) -> None:
    infant = _page_text(rendered["riverside-infant"]["index.html"])
    assert "Unique Learner Number" not in infant and "aged 14 and over" not in infant
    assert "height and weight" in infant
    secondary = _page_text(rendered["northgate-academy"]["index.html"])
    assert "height and weight" not in secondary and "National Child Measurement" not in secondary
    assert "Unique Learner Number" in secondary
    all_through = rendered["st-aidans-all-through"]["index.html"].decode()
    for rid in (
        "department-for-education",
        "dfe-subject-access",
        "youth-support-services",
        "ofsted",
        "standards-and-testing-agency",
        "national-child-measurement-programme",
        "learning-records-service",
        "dfe-post-14",
    ):
        assert f'id="dfe-{rid}"' in all_through
    special = rendered["brookside-special"]["index.html"].decode()
    assert "Why this section is here: included by the school:" in special


def test_json_carries_every_decision_with_reason(rendered) -> None:
    data = json.loads(rendered["northgate-academy"]["notice.json"])
    assert data["format"] == "trust-notices/notice/1"
    assert data["school"]["urn"] == "990004"
    assert data["dataset"]["edition"] == "2026-2"
    by_id = {r["id"]: r for r in data["dfe_recipients"]}
    assert by_id["national-child-measurement-programme"]["applies"] is False
    assert by_id["national-child-measurement-programme"]["reason"].startswith("the school's pupils aged 11 to 18 include none")
    assert by_id["learning-records-service"]["applies"] is True
    assert data["controller"]["ico_registration"] == "Z9990001"


def test_page_is_self_contained_and_its_csp_allows_only_its_own_style(rendered) -> None:
    for slug in SAMPLE_SLUGS:
        page = rendered[slug]["index.html"].decode()
        assert "<script" not in page and "<img" not in page
        style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
        assert f"style-src &#39;sha256-{digest}&#39;" in page
        assert "default-src &#39;none&#39;" in page
        assert '<html lang="en-GB">' in page and 'href="#main"' in page and "@media print" in page
        fragment = rendered[slug]["fragment.html"].decode()
        assert "<html" not in fragment and "<style" not in fragment and "<h1" not in fragment


def test_pdf_is_tagged_pdf_ua(sample, env, dataset_text) -> None:
    import io

    import pikepdf

    pdf = render_notice(env, sample.notices[0], dataset_text).files["notice.pdf"]
    assert pdf.startswith(b"%PDF-")
    # pikepdf reads the objects, compressed or not (a regex over the streams broke on bytes that
    # happened to look like "endstream").
    with pikepdf.open(io.BytesIO(pdf)) as document:
        assert "/StructTreeRoot" in document.Root  # tagged
        assert str(document.Root.Lang) == "en-GB"
        assert b"pdfuaid:part" in document.Root.Metadata.read_bytes()  # PDF/UA-1 identification in the XMP metadata
        assert str(document.docinfo.Title)


def test_html_j2_templates_autoescape(env) -> None:
    template = env.from_string("{{ value }}")  # strings default to escaped too
    assert template.render(value="<b>") == "&lt;b&gt;"
    assert env.get_template("fragment.html.j2").environment.autoescape("x.html.j2") is True
    assert env.autoescape("notice.md.j2") is False


HOSTILE = '<script>alert(1)</script> {{ 7*7 }} {% if true %}x{% endif %} [click](javascript:alert(2)) <a href="javascript:alert(3)">a</a> | *b* #'
VALIDATED = {
    "urn",
    "phase",
    "email",
    "phone",
    "postcode",
    "website",
    "url",
    "link",
    "policy_url",
    "colour",
    "lawful_basis",
    "company_number",
    "ico_registration",
    "endpoint_url",
    "bucket",
    "public_base_url",
    "statutory_low_age",
    "statutory_high_age",
    "include",
    "region",
    "prefix",
}


def _poison(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):  # approval: names checked as people's, fields from a closed list (test_approvers)
        return {k: v if k == "approval" else _poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, key) for v in value]
    if isinstance(value, str) and key not in VALIDATED:
        return f"{value} {HOSTILE}"
    return value


def test_injection_in_every_config_string_is_inert(sample, env, dataset_text) -> None:
    trust_data = _poison(yaml.safe_load((SCHOOLS / "_trust.yaml").read_text(encoding="utf-8")))
    school_data = _poison(yaml.safe_load((SCHOOLS / "brookside-special.yaml").read_text(encoding="utf-8")))
    school_data["local_recipients"] = trust_data["defaults"]["local_recipients"]
    school_data["local_recipients"][0]["link"] = "https://la.example.org/?a=1&b=2"
    trust = TrustFile.model_validate(trust_data)
    school = School(slug="brookside-special", path="x.yaml", config=SchoolFile.model_validate(school_data))
    notice = build_notice(school, trust, "t.yaml", sample.inputs.dataset)
    files = render_notice(env, notice, dataset_text, pdf=False).files
    for name in ("index.html", "fragment.html"):
        html = files[name].decode()
        assert _dangerous_markup(html) == []
        assert "{{ 7*7 }}" in html and "49" not in _page_text(files[name]).replace("0149", "")
        assert html.count("&lt;script&gt;") >= 20
        assert 'href="https://la.example.org/?a=1&amp;b=2"' in html
    markdown = files["notice.md"].decode()
    assert "<script" not in markdown and "](javascript" not in markdown
    assert "&lt;script&gt;" in markdown
    # Rendered by a Markdown library that allows raw HTML, it still yields no markup.
    import markdown as md_lib

    html_from_md = md_lib.markdown(markdown, extensions=["tables"])
    assert _dangerous_markup(html_from_md) == []
    assert "&lt;script&gt;" in html_from_md
    data = json.loads(files["notice.json"])
    assert HOSTILE in data["school"]["name"]  # JSON is data: kept exactly, escaped by the encoder
    for name in ("for-pupils.html", "for-pupils-fragment.html"):  # the pupils' version escapes the same values
        html = files[name].decode()
        assert _dangerous_markup(html) == [] and "{{ 7*7 }}" in html and html.count("&lt;script&gt;") >= 5
    pupils_md = md_lib.markdown(files["for-pupils.md"].decode())
    assert _dangerous_markup(pupils_md) == [] and "&lt;script&gt;" in pupils_md


def test_render_all_writes_every_file_atomically(sample, tmp_path: Path) -> None:
    report = render_all(sample.notices[:2], tmp_path, pdf=True)
    for _slug, folder in report.written.items():
        assert sorted(p.name for p in folder.iterdir()) == sorted(OUTPUT_FILES)
    again = render_all(sample.notices[:2], tmp_path, pdf=True)  # replaces, leaves no temp folders
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(again.written)
