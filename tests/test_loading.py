"""Validation: every problem, with file, line, field and what is expected, all at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.notice.prepare import load_and_compose
from flows.config.yaml_source import MAX_BYTES

from .conftest import FIXTURES

INVALID = FIXTURES / "invalid"
CASES = sorted(p.stem for p in INVALID.glob("*.yaml"))


def _messages(prepared, name: str) -> list[str]:
    return [str(e) for e in prepared.errors if e.path.startswith(f"schools/{name}.y")]


@pytest.mark.parametrize("name", CASES)
def test_invalid_fixture_gives_its_exact_messages(tree: Path, name: str) -> None:
    shutil.copy(INVALID / f"{name}.yaml", tree / "schools" / f"{name}.yaml")
    expected = (INVALID / f"{name}.expected").read_text(encoding="utf-8").splitlines()
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert _messages(prepared, name) == expected
    # One broken school never blocks the others: the six samples still compose.
    assert len(prepared.notices) == 6
    assert name in prepared.broken or name == "Bad_Name" and "Bad_Name" in prepared.broken


def test_all_invalid_files_are_reported_in_one_run(tree: Path) -> None:
    for name in CASES:
        shutil.copy(INVALID / f"{name}.yaml", tree / "schools" / f"{name}.yaml")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    expected = sorted(line for name in CASES for line in (INVALID / f"{name}.expected").read_text(encoding="utf-8").splitlines())
    assert sorted(str(e) for e in prepared.errors) == expected
    assert sorted(prepared.broken) == sorted(CASES)
    assert len(prepared.notices) == 6


def test_broken_trust_file_reports_every_problem(tree: Path) -> None:
    shutil.copy(INVALID / "trust" / "_trust.yaml", tree / "schools" / "_trust.yaml")
    expected = (INVALID / "trust" / "_trust.expected").read_text(encoding="utf-8").splitlines()
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == expected
    assert prepared.notices == () and len(prepared.broken) == 6


def test_missing_trust_file(tree: Path) -> None:
    (tree / "schools" / "_trust.yaml").unlink()
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == [
        "schools/_trust.yaml: trust file is missing: every school needs the trust as its data controller"
    ]


def test_file_over_one_megabyte_is_refused_unread(tree: Path) -> None:
    big = tree / "schools" / "huge-school.yaml"
    big.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    size = big.stat().st_size
    assert _messages(prepared, "huge-school") == [
        f"schools/huge-school.yaml: file is {size:,} bytes; the limit is 1,048,576 bytes (1 MB)"
    ]


def test_duplicate_urn_names_both_files(tree: Path) -> None:
    text = (tree / "schools" / "oakfield-primary.yaml").read_text(encoding="utf-8")
    (tree / "schools" / "oakfield-copy.yaml").write_text(text, encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == [
        "schools/oakfield-copy.yaml:2: urn: URN 990002 is also used by schools/oakfield-primary.yaml:2; each school needs its own URN",
        "schools/oakfield-primary.yaml:2: urn: URN 990002 is also used by schools/oakfield-copy.yaml:2; each school needs its own URN",
    ]
    assert prepared.broken == ("oakfield-copy", "oakfield-primary")
    assert len(prepared.notices) == 5


def test_duplicate_slug_from_yaml_and_yml(tree: Path) -> None:
    text = (tree / "schools" / "oakfield-primary.yaml").read_text(encoding="utf-8").replace("990002", "990099")
    (tree / "schools" / "oakfield-primary.yml").write_text(text, encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    assert [str(e) for e in prepared.errors] == [
        "schools/oakfield-primary.yaml: slug 'oakfield-primary' is also given by schools/oakfield-primary.yml; keep one file per school",
        "schools/oakfield-primary.yml: slug 'oakfield-primary' is also given by schools/oakfield-primary.yaml; keep one file per school",
    ]


def test_checklist_items_missing_everywhere_are_each_named(tree: Path) -> None:
    trust = tree / "schools" / "_trust.yaml"
    text = trust.read_text(encoding="utf-8")
    trust.write_text(text[: text.index("defaults:")] + "publishing: {bucket: trust-notices}\n", encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("riverside-infant",))
    assert [str(e) for e in prepared.errors] == [
        f"schools/riverside-infant.yaml: {field}: ICO checklist item missing: {words}; set '{field}' in this file or under 'defaults' in schools/_trust.yaml"
        for field, words in [
            ("automated_decision_making", "automated decision-making (say so if there is none)"),
            ("categories", "categories of pupil information"),
            ("if_not_given", "what happens if the information is not given (what the law requires, and what is optional)"),
            ("international_transfers", "international transfers (say so if there are none)"),
            ("purposes", "purposes of the processing and the lawful basis for each"),
            ("retention", "retention period, or the criteria used to set it"),
            ("source", "the source of the information"),
            ("statutory_requirement", "whether providing the information is a statutory requirement"),
        ]
    ]


def test_valid_fixture_school_with_minimal_trust(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(FIXTURES / "valid", tmp_path / "schools")
    monkeypatch.chdir(tmp_path)
    from .conftest import SHARED

    prepared = load_and_compose(tmp_path / "schools", SHARED)
    assert prepared.errors == ()
    (notice,) = prepared.notices
    assert notice.school.urn == "990200"
    assert notice.school.address.postcode == "EX1 2AB"
    assert notice.controller.company_number == "SC123456"
    assert notice.controller.ico_registration == "ZA123456"
    assert notice.uses_consent()
    decided = {d.recipient_id: (d.applies, d.decided_by) for d in notice.decisions}
    assert decided["standards-and-testing-agency"] == (False, "override")
    assert decided["dfe-post-14"] == (True, "override")


def test_only_selected_schools_are_loaded_and_unknown_slugs_reported(tree: Path) -> None:
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary", "no-such-school"))
    assert [n.slug for n in prepared.notices] == ["oakfield-primary"]
    assert [str(e) for e in prepared.errors] == ["schools: no school file for 'no-such-school' (no-such-school.yaml)"]


def test_school_value_replaces_trust_default(sample) -> None:
    by_slug = {n.slug: n for n in sample.notices}
    assert by_slug["northgate-academy"].branding.colour == "#7a1f3d"
    assert by_slug["hillcrest-middle"].branding.colour == "#1d4f91"  # trust default
    assert len(by_slug["oakfield-primary"].local_recipients) == 4  # school list replaces the trust's 3
    assert len(by_slug["hillcrest-middle"].local_recipients) == 3


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "2026-02-30",
            "'2026-02-30' is not a real date (day is out of range for month); YAML reads a value written like this as a date: correct it, or put it in quotes if it is text",
        ),
        (
            "1" * 5000,
            "a number 5,000 digits long (11111111111111111111111…); no field takes a number that long: check the value, or put it in quotes if it is text",
        ),
        (
            "0x" + "f" * 40,
            "a number 42 digits long (0xfffffffffffffffffffff…); no field takes a number that long: check the value, or put it in quotes if it is text",
        ),
        (
            "1.0e+400",
            "YAML reads 1.0e+400 as the special number infinity, which no field takes; write the value out, or put it in quotes if it is text",
        ),
        ("!!bool maybe", "'maybe' cannot be read as YAML 'bool'; write a plain value"),
        ("!!timestamp soon", "'soon' cannot be read as YAML 'timestamp'; write a plain value"),
        ("!!map x", "YAML tag 'tag:yaml.org,2002:map' on a single value is not supported; write a plain value"),
    ],
)
def test_a_value_yaml_cannot_build_is_a_problem_with_its_line_and_the_rest_is_read(value: str, message: str) -> None:
    from flows.config.yaml_source import parse_yaml

    doc = parse_yaml(f"name: Test\nvalue: {value}\nafter: 3\n", "t.yaml")
    assert [(p.where, p.line, p.message) for p in doc.problems] == [(("value",), 2, message)]
    assert doc.data["name"] == "Test" and doc.data["after"] == 3 and isinstance(doc.data["value"], str)
