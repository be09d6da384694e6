"""Default deny: every change to the words a parent reads needs a named approver, through the flow.

Each test runs the Prefect flow that production runs (the session's Prefect harness) against
SeaweedFS, with no approver: what needs one must come back held, with nothing of it written.
"""

from __future__ import annotations

from tests.support.web import read_object

import re
import shutil
from pathlib import Path

import pytest

from flows.publish import layout
from flows.publish.s3 import make_client
from flows.notice.words import notice_words

from .conftest import SAMPLE_SLUGS, TEMPLATES

SCHOOL = "oakfield-primary"


def _run(**values):
    from flows.runs.flow import publish_notices
    from flows.runs.parameters import PublishParameters

    values.setdefault("approval", {"wait": False})
    state = publish_notices(PublishParameters(**values), return_state=True)
    return {s["slug"]: s for s in state.result(raise_on_failure=False)["schools"]}


def _public(seaweed, prefix: str) -> dict[str, bytes]:
    """Every public object of the prefix (not _private/, where run files live)."""
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=seaweed.bucket, Prefix=prefix + "/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    return {k: read_object(client, Bucket=seaweed.bucket, Key=k) for k in keys}


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_a_reworded_dataset_paragraph_is_held_everywhere(flow_env, seaweed, tree: Path) -> None:
    """Bypass 3: rewording the DfE's Ofsted paragraph was 'minor' and went live to all 6 schools."""
    assert {s["status"] for s in _run().values()} == {"published"}
    before = _public(seaweed, flow_env["NOTICES_S3_PREFIX"])
    _edit(
        tree / "shared_data" / "dfe-recipients" / "2026-2.yaml",
        "Its reports never name a pupil.",
        "Pupils' names, ethnicity and health records go to the Home Office and to commercial data brokers.",
    )
    held = _run()
    assert {slug: (s["status"], s["change_class"]) for slug, s in held.items()} == {
        slug: ("held", "material") for slug in SAMPLE_SLUGS
    }
    assert held[SCHOOL]["changes"] == ["DfE section reworded: Ofsted"]
    assert "+" in held[SCHOOL]["diff"] and "commercial data brokers" in held[SCHOOL]["diff"]
    assert _public(seaweed, flow_env["NOTICES_S3_PREFIX"]) == before


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            "We do not transfer pupil information outside the UK.",
            "We transfer pupil information to a US advertising company.",
            id="transfers",
        ),
        pytest.param("and we do not profile pupils.", "and we profile pupils to decide admissions.", id="profiling"),
        pytest.param(
            "otherwise we keep it until the pupil's", "otherwise we keep it forever, not until the pupil's", id="retention"
        ),
        pytest.param(
            "    - safeguarding information (such as court orders and professional involvement)\n",
            "    - safeguarding information (such as court orders and professional involvement)\n"
            "    - category: biometric data (fingerprints for cashless catering)\n"
            "      special_data: biometrics\n"
            "      article_9: Article 9(2)(a) UK GDPR, explicit consent\n",
            id="biometric-category",
        ),
    ],
)
def test_a_trust_default_change_is_material(flow_env, tree: Path, old: str, new: str) -> None:
    """Bypass 3: trust defaults adding transfers, profiling, retention 'forever' or a biometric
    category were 'minor' and published with no approver."""
    assert _run(schools=[SCHOOL])[SCHOOL]["status"] == "published"
    _edit(tree / "schools" / "_trust.yaml", old, new)
    school = _run(schools=[SCHOOL], dry_run=True)[SCHOOL]
    assert (school["status"], school["change_class"]) == ("held", "material"), school


def test_template_wording_is_content(flow_env, seaweed, tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Bypass 4: a template's wording change was a presentation update: no edition, no approver."""
    assert _run(schools=[SCHOOL])[SCHOOL]["edition"] == 1
    before = _public(seaweed, flow_env["NOTICES_S3_PREFIX"])
    templates = tree / "templates"
    shutil.copytree(TEMPLATES, templates)
    for name in ("_sections.html.j2", "notice.md.j2"):
        _edit(templates / name, "with anyone without consent unless", "with anyone who asks, and without consent unless")
    monkeypatch.setattr("flows.runs.flow.TEMPLATES_DIR", templates)
    school = _run(schools=[SCHOOL])[SCHOOL]
    assert (school["status"], school["edition"], school["change_class"]) == ("held", 2, "material")
    assert school["changes"] == ["Wording outside the settings changed (templates or fixed text): see the diff"]
    assert "with anyone who asks" in school["diff"]
    assert _public(seaweed, flow_env["NOTICES_S3_PREFIX"]) == before


def _pdf_text(pdf: bytes) -> str:
    """The PDF's words in reading order, without the running footer and list markers (a new layout may move page breaks)."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    # List markers are drawn apart from their text, so where they land in the text order
    # follows the page breaks: they are left out with the footer.
    # A long address printed after its link breaks wherever the line ends (at a hyphen, or with
    # pdfium's U+FFFE): addresses are compared as one token each, not as the pieces a line left.
    text = " ".join(page.get_textpage().get_text_range() for page in document)
    text = re.sub(r"\((?:https?://|mailto:)[^)]*\)", "(address)", text)
    words = " ".join(w for w in text.split() if w != "•")
    return re.sub(r" ?Oakfield Primary School Page \d+ of \d+ ?", " ", words).strip()


def test_a_presentation_update_changes_no_word_of_any_form(
    flow_env, seaweed, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same words, new layout: the latest files are replaced, and every form reads the same."""
    assert _run(schools=[SCHOOL])[SCHOOL]["status"] == "published"
    prefix = flow_env["NOTICES_S3_PREFIX"]
    keys = {name: layout.latest_key(prefix, SCHOOL, name) for name in ("index.html", "fragment.html", "notice.md", "notice.pdf")}
    before = _public(seaweed, prefix)
    templates = tree / "templates"
    shutil.copytree(TEMPLATES, templates)
    _edit(templates / "notice.css", "line-height: 1.6;", "line-height: 1.7;")
    monkeypatch.setattr("flows.runs.flow.TEMPLATES_DIR", templates)
    school = _run(schools=[SCHOOL])[SCHOOL]
    assert (school["status"], school["edition"]) == ("presentation", 1)
    after = _public(seaweed, prefix)
    assert after[keys["index.html"]] != before[keys["index.html"]]  # the layout did change
    texts = {name: before[key] for name, key in keys.items() if name != "notice.pdf"}
    assert notice_words(texts) == notice_words({name: after[key] for name, key in keys.items() if name != "notice.pdf"})
    # The PDF is printed from the page; new page breaks repeat table headers elsewhere, so its
    # words are compared as a set: none appears or disappears.
    assert set(_pdf_text(after[keys["notice.pdf"]]).split()) == set(_pdf_text(before[keys["notice.pdf"]]).split())


def test_a_declared_minor_field_needs_no_approver_but_not_beside_a_wording_change(
    flow_env, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(schools=[SCHOOL])[SCHOOL]["status"] == "published"
    _edit(tree / "schools" / f"{SCHOOL}.yaml", "headteacher: Mr Sam Example", "headteacher: Ms Jo Example")
    school = _run(schools=[SCHOOL])[SCHOOL]  # the sample trust declares school.headteacher minor
    assert (school["status"], school["edition"], school["change_class"]) == ("published", 2, "minor")
    assert school["approved_by"] is None
    # The same declared change beside a template change is material: the wording source moved.
    _edit(tree / "schools" / f"{SCHOOL}.yaml", "headteacher: Ms Jo Example", "headteacher: Dr Jo Example")
    templates = tree / "templates"
    shutil.copytree(TEMPLATES, templates)
    _edit(templates / "notice.md.j2", "with anyone without consent unless", "with anyone who asks, and without consent unless")
    monkeypatch.setattr("flows.runs.flow.TEMPLATES_DIR", templates)
    school = _run(schools=[SCHOOL])[SCHOOL]
    assert (school["status"], school["change_class"]) == ("held", "material")


def test_a_first_edition_needs_an_approver_unless_the_trust_onboards(flow_env, tree: Path) -> None:
    _edit(tree / "schools" / "_trust.yaml", "approve_first_editions: false", "approve_first_editions: true")
    school = _run(schools=[SCHOOL])[SCHOOL]
    assert (school["status"], school["change_class"]) == ("held", "first")
    approved = _run(schools=[SCHOOL], approval={"approved_by": "Alex Example (DPO)", "wait": False})[SCHOOL]
    assert (approved["status"], approved["edition"], approved["approved_by"]) == ("published", 1, "Alex Example (DPO)")


def test_what_can_never_be_declared_minor_is_refused(tree: Path) -> None:
    from flows.notice.prepare import load_and_compose

    _edit(
        tree / "schools" / "_trust.yaml",
        "minor_fields: [school.headteacher, school.phone]",
        "minor_fields: [school.headteacher, dpo.email, dfe_recipients]",
    )
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    errors = [str(e) for e in prepared.errors]
    assert any(
        e.startswith("schools/_trust.yaml:") and "approval.minor_fields" in e and "'dpo.email' can never be declared minor" in e
        for e in errors
    ), errors
    assert any("'dfe_recipients' can never be declared minor" in e for e in errors), errors
