"""What the notice says is true today: the bodies register, the current edition, acknowledgements.

Each test drives the production path (``load_and_compose`` and the ``notices`` CLI) on a copy of the
sample trust. Edition 2026-1 is the pre-2012 source text kept for history; the sample trust
uses 2026-2.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
import yaml

from flows.config.bodies import BodyRegister, find_stale_mentions, is_current
from flows.cli import main
from flows.config.loading import load_dataset
from flows.notice.prepare import load_and_compose

from .conftest import SHARED

# Bodies the 2026-1 source presents as current recipients, with what the register says became of each.
SEED_STALE = {
    "department-of-health": "renamed the Department of Health and Social Care",
    "primary-care-trusts": "integrated care boards",
    "skills-funding-agency": "Department for Education",
    "miap": "renamed the Learning Records Service",
    "qualifications-and-credit-framework": "replaced by the Regulated Qualifications Framework",
    "qcda": "Standards and Testing Agency",
}
SIXTEEN_PLUS = {"northgate-academy", "st-aidans-all-through", "brookside-special"}  # pupils aged 13 and over


@pytest.fixture(scope="module")
def rendered(sample, env) -> dict[str, dict[str, bytes]]:
    from flows.notice.dataset_text import render_dataset_text
    from flows.notice.render import render_notice

    text = render_dataset_text(sample.inputs.dataset)
    return {n.slug: render_notice(env, n, text, pdf=False).files for n in sample.notices}


def _register() -> BodyRegister:
    return BodyRegister.model_validate(yaml.safe_load((SHARED / "bodies.yaml").read_text(encoding="utf-8")))


def _words(html: bytes) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())


def _pin(tree: Path, edition: str, acknowledge: dict[str, str] | None = None) -> None:
    path = tree / "schools" / "_trust.yaml"
    text = path.read_text(encoding="utf-8").replace('dataset_edition: "2026-2"', f'dataset_edition: "{edition}"')
    if acknowledge:
        text += "dataset_acknowledgements:\n" + "".join(f"  - body: {b}\n    reason: {r}\n" for b, r in acknowledge.items())
    path.write_text(text, encoding="utf-8")
    if edition == "2026-1":  # the school's override names the section by that edition's id
        school = tree / "schools" / "brookside-special.yaml"
        school.write_text(
            school.read_text(encoding="utf-8").replace("national-child-measurement-programme:", "department-of-health:"),
            encoding="utf-8",
        )


def test_every_body_is_cited_and_every_successor_is_known() -> None:
    register = _register()
    ids = {b.id for b in register.bodies}
    for body in register.bodies:
        assert body.sources and all(
            str(c.url).startswith("https://") and c.checked <= dt.date(2026, 12, 2) for c in body.sources
        ), body.id
        assert body.successor is None or body.successor in ids, body.id
        assert body.status == "active" or body.successor or body.what_changed, body.id


def test_the_sample_notices_name_no_body_that_is_gone(sample, rendered) -> None:
    register = _register()
    assert sample.inputs.dataset.id == "2026-2"
    assert find_stale_mentions(sample.inputs.dataset, register) == []
    on = sample.inputs.dataset.effective_date
    gone = [b for b in register.bodies if not is_current(b, on)]
    current = sorted((n for b in register.bodies if is_current(b, on) for n in (b.name, *b.names)), key=len, reverse=True)
    for slug, files in rendered.items():
        words = _words(files["index.html"])
        for name in current:  # "Department of Health and Social Care" is current; the name inside it is not
            words = words.replace(name, "#")
        for body in gone:
            for name in (body.name, *body.names):
                assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", words), (slug, name)


def test_the_seed_edition_names_every_stale_body_with_place_and_successor(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--schools", "schools", "--shared-data", "shared_data", "--dataset-edition", "2026-1"]) == 1
    err = capsys.readouterr().err.splitlines()
    for body, successor in SEED_STALE.items():
        lines = [e for e in err if f"add {{body: {body}, reason: ...}}" in e]
        assert lines, body
        for line in lines:
            assert re.match(r"shared_data/dfe-recipients/2026-1\.yaml:\d+: recipients\[\d\]\.[a-z_]+(\[\d\])?: names '", line), (
                line
            )
            assert successor in line and "Used by: " in line, line


def test_a_school_naming_a_stale_body_is_refused_the_others_are_not(tree: Path) -> None:
    # Only the Skills Funding sections are left unacknowledged: the three schools with pupils of 14+ are refused.
    _pin(
        tree,
        "2026-1",
        {b: "our DPO is checking the DfE's current wording" for b in SEED_STALE if b not in ("skills-funding-agency",)},
    )
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert set(prepared.broken) == SIXTEEN_PLUS
    assert {n.slug for n in prepared.notices} == {"riverside-infant", "oakfield-primary", "hillcrest-middle"}
    stale = [str(e) for e in prepared.errors]
    assert len(stale) == 2 and all("skills-funding-agency" in e for e in stale), stale


def test_an_acknowledged_body_is_published_with_a_plain_note(tree: Path, env) -> None:
    _pin(tree, "2026-1", {b: "Our DPO is checking the DfE's current wording." for b in SEED_STALE})
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert prepared.errors == () and len(prepared.notices) == 6
    from flows.notice.dataset_text import render_dataset_text
    from flows.notice.render import render_notice

    notice = next(n for n in prepared.notices if n.slug == "oakfield-primary")
    page = _words(render_notice(env, notice, render_dataset_text(notice.dataset), pdf=False).files["index.html"])
    assert (
        "Please note: The Qualifications and Curriculum Development Agency closed on 31 March 2012; that work is now done by "
        "the Standards and Testing Agency. We still include this section because our DPO is checking the DfE’s current wording."
    ) in page


def test_an_acknowledgement_must_name_a_registered_body(tree: Path) -> None:
    _pin(tree, "2026-2", {"qcdaa": "typo"})
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    (error,) = prepared.errors
    assert re.fullmatch(
        r"schools/_trust\.yaml:\d+: dataset_acknowledgements\[0\]\.body: names no body in shared_data/bodies\.yaml: 'qcdaa'",
        str(error),
    )


def test_the_trust_chooses_its_edition_and_an_unknown_one_is_named_at_its_line(tree: Path) -> None:
    _pin(tree, "2025-9")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [re.sub(r":\d+:", ":N:", str(e)) for e in prepared.errors] == [
        "schools/_trust.yaml:N: dataset_edition: no dataset edition '2025-9' in shared_data; available: 2026-1, 2026-2"
    ]
    assert prepared.notices == () and len(prepared.broken) == 6


def test_a_recipient_must_name_a_registered_body(tree: Path) -> None:
    path = tree / "shared_data" / "dfe-recipients" / "2026-2.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("    body: ofsted\n", "    body: ofstead\n"), encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    (error,) = prepared.errors
    assert re.fullmatch(
        r"shared_data/dfe-recipients/2026-2\.yaml:\d+: recipients\[3\]\.body: names no body in shared_data/bodies\.yaml: "
        r"'ofstead' \(add it there, with its status and a source\)",
        str(error),
    )
    assert len(prepared.broken) == 6


def test_a_register_successor_must_exist(tree: Path) -> None:
    path = tree / "shared_data" / "bodies.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("successor: standards-and-testing-agency", "successor: sta"), encoding="utf-8"
    )
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [re.sub(r":\d+:", ":N:", str(e)) for e in prepared.errors] == [
        "shared_data/bodies.yaml:N: bodies[2].successor: names no body in this register: 'sta'"
    ]


def test_the_current_edition_has_the_dfe_parts_a_dpo_expects(sample, rendered) -> None:
    for slug, files in rendered.items():
        words = _words(files["index.html"])
        assert "National Pupil Database" in words and "subject access request" in words, slug
        assert "https://www.gov.uk/contact-dfe" in files["index.html"].decode(), slug
        youth = "section 507B of the Education Act 1996" in words
        assert youth == (slug in SIXTEEN_PLUS), slug
        if youth:
            assert "only their child’s name, address and date of birth" in words and "Once a pupil is 16" in words
    for recipient in sample.inputs.dataset.recipients:
        assert recipient.link and str(recipient.link).startswith("https://"), recipient.id
        assert recipient.body and recipient.for_pupils, recipient.id


def test_every_link_in_the_current_edition_is_a_public_https_address(sample) -> None:
    edition = sample.inputs.dataset
    urls = [str(u) for u in edition.links.values()] + [str(r.link) for r in edition.recipients] + [str(edition.source.url)]
    hosts = {re.match(r"https://([^/]+)/", u).group(1) for u in urls}  # type: ignore[union-attr]
    assert hosts <= {"www.gov.uk", "www.legislation.gov.uk"}, hosts


def test_about_this_notice_names_the_edition_and_its_source(rendered) -> None:
    page = rendered["oakfield-primary"]["index.html"].decode()
    assert "uses dataset edition 2026-2 (effective 1 December 2026)" in page
    assert '<a href="https://www.gov.uk/government/publications/data-protection-and-privacy-privacy-notices">' in page
    data = json.loads(rendered["oakfield-primary"]["notice.json"])
    assert (
        data["dataset"]["source"]["url"]
        == "https://www.gov.uk/government/publications/data-protection-and-privacy-privacy-notices"
    )


def test_validate_lists_what_the_edition_asks_a_dpo_to_check(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--schools", "schools", "--shared-data", "shared_data"]) == 0
    err = capsys.readouterr().err
    assert "dataset edition 2026-2 asks you to check: Which primary assessments are statutory" in err


def test_the_seed_edition_is_kept_exactly() -> None:
    errors: list = []
    editions, _ = load_dataset(SHARED, "2026-1", errors)
    assert [e.id for e in editions] == ["2026-1", "2026-2"]
    seed = editions[0]
    assert seed.source.kept_at == "shared_data/sources/dfe-pupil-data-recipients.txt"
    # One finding per section and body: DH and PCTs; Skills Funding; Skills Funding, MIAP and the QCF (LRS); the QCDA.
    assert len(find_stale_mentions(seed, _register())) == 7


def test_the_flow_publishes_the_schools_it_may_and_refuses_the_rest(flow_env, seaweed, tree: Path) -> None:
    """Through the Prefect flow against SeaweedFS: a stale section blocks only the schools that include it."""
    from flows.runs.flow import publish_notices
    from flows.runs.parameters import PublishParameters

    _pin(tree, "2026-1", {b: "our DPO is checking the DfE's current wording" for b in SEED_STALE if b != "skills-funding-agency"})
    state = publish_notices(PublishParameters(approval={"wait": False}), return_state=True)
    schools = {s["slug"]: s["status"] for s in state.result(raise_on_failure=False)["schools"]}
    assert {slug for slug, status in schools.items() if status == "failed"} == SIXTEEN_PLUS
    assert {slug for slug, status in schools.items() if status == "published"} == {
        "riverside-infant",
        "oakfield-primary",
        "hillcrest-middle",
    }
