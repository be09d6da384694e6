"""`notices import-gias` through the command as production runs it (flows.cli.main), on GIAS-format fixtures.

The fixtures in tests/fixtures/gias/ carry the real 139-column GIAS header and are
Windows-1252 bytes: "St Aidan’s" has its apostrophe as byte 0x92, "Brontë" its ë as 0xeb.
A fictional trust (Meadowbank Learning Trust) has five open schools (one "Open, but
proposed to close" and spelt MEADOWBANK  learning trust), one closed, one proposed to open;
two rows belong to other trusts (one to none). meadowbank-later.csv is the next export:
St Aidan's has a new head, Brontë a new phone, Brookfield's head is now known and Meadow
View now has a website.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.cli import main
from flows.gias.school_files import dump, read_document

from .conftest import SCHOOLS, SHARED
from .support.web import read_body

GIAS = Path(__file__).resolve().parent / "fixtures" / "gias"
FIRST, LATER = GIAS / "meadowbank.csv", GIAS / "meadowbank-later.csv"
IMPORTED = {
    "st-aidans-church-of-england-primary-school": "990101",
    "bronte-academy": "990102",
    "brookfield-special-school": "990103",
    "meadow-view-infant-school": "990104",
    "little-acorns-nursery": "990107",
}
# What GIAS does not know, per file: exactly what validate must list (field names, not messages).
TODO_FIELDS = {
    "_trust.yaml": {
        "company_number",
        "registered_address.lines[0]",
        "registered_address.town",
        "registered_address.postcode",
        "ico_registration",
        "website",
        "dpo.name",
        "dpo.email",
        "dpo.phone",
        "dpo.address.lines[0]",
        "dpo.address.town",
        "dpo.address.postcode",
        "complaints.contact",
        "complaints.url",
        "defaults.retention.policy_url",
        "defaults.local_recipients",
        "publishing.bucket",
        "approval.approvers[0].name",
    },
    "st-aidans-church-of-england-primary-school.yaml": {"email", "local_recipients"},
    "bronte-academy.yaml": {"email", "local_recipients"},
    "brookfield-special-school.yaml": {"phase", "headteacher", "email", "local_recipients"},  # phase "Not applicable", no head
    "meadow-view-infant-school.yaml": {"website", "email", "local_recipients"},  # no website in GIAS
    "little-acorns-nursery.yaml": {"statutory_low_age", "statutory_high_age", "email", "local_recipients"},  # blank ages
}


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _notices(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _import(
    capsys: pytest.CaptureFixture[str], csv: Path = FIRST, *extra: str, trust: str = "Meadowbank Learning Trust"
) -> tuple[int, str, str]:
    return _notices(capsys, "import-gias", csv, "--trust", trust, "--out", "schools", *extra)


def _validate(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code, out, _ = _notices(capsys, "validate", "--json", "--schools", "schools", "--shared-data", SHARED)
    return code, json.loads(out)


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def test_import_writes_one_file_per_open_school_of_the_trust(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _import(capsys, trust="  meadowbank   LEARNING trust ")  # case and spacing do not matter
    assert code == 0, err
    assert out.splitlines()[-2] == (
        "created 5, updated 0, unchanged 0, kept (exists, no --update) 0, skipped closed 1, "
        "skipped proposed-to-open 1, skipped other trusts 2"
    )
    assert {p.stem for p in (here / "schools").glob("*.yaml")} == {*IMPORTED, "_trust"}
    aidan = _load(here / "schools" / "st-aidans-church-of-england-primary-school.yaml")
    assert aidan["name"] == "St Aidan\u2019s Church of England Primary School"  # byte 0x92, read as cp1252
    assert aidan["urn"] == 990101 and aidan["phase"] == "Primary"
    assert (aidan["statutory_low_age"], aidan["statutory_high_age"]) == (4, 11)
    assert aidan["address"] == {"lines": ["Aidan Lane"], "town": "Exampleton", "postcode": "EX1 1AA"}
    assert aidan["website"] == "https://www.st-aidans.example.org"  # GIAS gave no scheme
    assert aidan["phone"] == "01632960101"  # GIAS dropped the leading 0; a string, not a number
    assert aidan["headteacher"] == "Mrs Jane Example"
    bronte = _load(here / "schools" / "bronte-academy.yaml")
    assert bronte["name"] == "Bront\u00eb Academy" and bronte["address"]["lines"] == ["1 Moor Road", "Upper Moor"]
    assert bronte["phone"] == "01632 960102" and bronte["website"] == "https://bronte.example.org/"
    assert _load(here / "schools" / "brookfield-special-school.yaml")["website"] == "http://brookfield.example.org"  # kept
    trust = _load(here / "schools" / "_trust.yaml")
    sample = _load(Path(__file__).resolve().parent.parent / "flows" / "data" / "synthetic-trust.yaml")
    assert trust["name"] == "Meadowbank Learning Trust"  # as GIAS spells it, not as typed
    kept = {k: v for k, v in trust["defaults"].items() if k not in ("local_recipients", "retention")}
    assert kept == {k: v for k, v in sample["defaults"].items() if k not in ("local_recipients", "retention")}
    assert trust["defaults"]["retention"]["statement"] == sample["defaults"]["retention"]["statement"]


def test_validate_lists_exactly_the_todos_with_their_lines(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(capsys)[0] == 0
    code, result = _validate(capsys)
    assert code == 1 and result["valid"] == [] and sorted(result["broken"]) == sorted(IMPORTED)
    found: dict[str, set[str]] = {}
    for error in result["errors"]:
        name = Path(error["path"]).name
        found.setdefault(name, set()).add(error["field"])
        assert error["message"].startswith('still "TODO" from import-gias: ') and len(error["message"]) > 40, error
        line = (here / "schools" / name).read_text(encoding="utf-8").splitlines()[error["line"] - 1]
        key = error["field"].split(".")[-1].removesuffix("[0]")
        assert "TODO (import-gias)" in line and (line.lstrip().startswith(f"{key}:") or line.lstrip().startswith("- ")), (
            error,
            line,
        )
    assert found == TODO_FIELDS
    assert len(result["errors"]) == sum(len(v) for v in TODO_FIELDS.values())  # nothing else, nothing twice


# A DPO's answers, by the last part of the field validate names.
ANSWERS = {
    "company_number": '"09990001"',
    "ico_registration": "Z9990001",
    "lines[0]": "1 Example Road",
    "town": "Exampleton",
    "postcode": "EX1 2MB",
    "website": "https://www.example.org/",
    "name": "Alex Example",
    "email": "office@example.org",
    "phone": '"01632 960000"',
    "contact": "Please raise a concern with our data protection officer first.",
    "url": "https://www.example.org/complaints",
    "policy_url": "https://www.example.org/retention",
    "bucket": "test-notices",
    "phase": "Not applicable",
    "headteacher": "Mr Riley Example",
    "statutory_low_age": "2",
    "statutory_high_age": "5",
    "local_recipients": "[{name: Exampleshire County Council, purpose: admissions and attendance, lawful_basis: legal_obligation}]",
}


def _fill_todos(folder: Path, errors: list[dict[str, Any]]) -> None:
    """What a DPO does with validate's list: edit each named line (a school's own local_recipients is deleted)."""
    by_file: dict[str, list[dict[str, Any]]] = {}
    for error in errors:
        by_file.setdefault(Path(error["path"]).name, []).append(error)
    for name, todos in by_file.items():
        path = folder / name
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        for error in sorted(todos, key=lambda e: -e["line"]):
            last = error["field"].split(".")[-1]
            at = error["line"] - 1
            if last == "local_recipients" and name != "_trust.yaml":
                del lines[at]  # use the trust's list
            else:
                answer = ANSWERS[last]
                lines[at] = re.sub(r'"TODO \(import-gias\):.*"$', lambda _, answer=answer: answer, lines[at])
        path.write_text("".join(lines), encoding="utf-8")


def test_filling_the_todos_makes_validate_pass(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(capsys)[0] == 0
    _, result = _validate(capsys)
    _fill_todos(here / "schools", result["errors"])
    code, result = _validate(capsys)
    assert code == 0 and result["errors"] == [] and sorted(result["valid"]) == sorted(IMPORTED)


def test_update_changes_gias_fields_and_keeps_the_dpos_edits_and_comments(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _import(capsys)[0] == 0
    schools = here / "schools"
    # The DPO: renames a file, fills a TODO with a comment, adds comments, an override, their own
    # phone spacing (same number) and a phase GIAS does not know.
    (schools / "bronte-academy.yaml").rename(schools / "bronte.yaml")
    bronte = schools / "bronte.yaml"
    text = bronte.read_text(encoding="utf-8")
    text = re.sub(r"^email: .*$", "email: office@bronte.example.org  # from the office, 3 November", text, flags=re.M)
    text += "# Reviewed by the DPO\nrecipient_overrides:\n  ofsted:\n    include: true\n    reason: Always shared.\n"
    bronte.write_text(text, encoding="utf-8")
    aidan = schools / "st-aidans-church-of-england-primary-school.yaml"
    aidan.write_text(
        aidan.read_text(encoding="utf-8").replace('"01632960101"', '"01632 960 101"  # the office asked'), encoding="utf-8"
    )
    brook = schools / "brookfield-special-school.yaml"
    brook.write_text(
        re.sub(r"^phase: .*$", "phase: Not applicable", brook.read_text(encoding="utf-8"), flags=re.M), encoding="utf-8"
    )
    before = {p.name: p.read_bytes() for p in schools.iterdir()}

    code, out, _ = _import(capsys, LATER)  # no --update: nothing is written
    assert code == 0 and {p.name: p.read_bytes() for p in schools.iterdir()} == before
    assert "kept schools/bronte.yaml (URN 990102): exists; GIAS differs in phone (--update changes it)" in out
    assert "kept (exists, no --update) 5" in out and "created 0" in out

    code, out, _ = _import(capsys, LATER, "--update")
    assert code == 0
    assert "updated schools/bronte.yaml (URN 990102): phone" in out
    assert "updated schools/st-aidans-church-of-england-primary-school.yaml (URN 990101): headteacher" in out
    assert "updated schools/brookfield-special-school.yaml (URN 990103): headteacher" in out  # a TODO GIAS now knows
    assert "updated schools/meadow-view-infant-school.yaml (URN 990104): website" in out
    assert "unchanged schools/little-acorns-nursery.yaml (URN 990107)" in out
    assert not (schools / "bronte-academy.yaml").exists()  # found by URN, not by name
    assert (schools / "_trust.yaml").read_bytes() == before["_trust.yaml"]
    changed = bronte.read_text(encoding="utf-8")
    assert changed == before["bronte.yaml"].decode().replace('"01632 960102"', '"01632 960202"')  # one value, all else kept
    assert changed.count("# from the office, 3 November") == 1 and "# Reviewed by the DPO" in changed
    aidan_now = aidan.read_text(encoding="utf-8")
    assert "headteacher: Mrs Priya Example" in aidan_now and '"01632 960 101"' in aidan_now and "# the office asked" in aidan_now
    brook_now = _load(brook)
    assert brook_now["headteacher"] == "Mr Riley Example" and brook_now["phase"] == "Not applicable"
    assert _load(schools / "meadow-view-infant-school.yaml")["website"] == "https://meadowview.example.org"
    assert _import(capsys, LATER, "--update")[1].splitlines()[-1].startswith("created 0, updated 0, unchanged 5,")


def test_an_existing_trust_file_and_a_taken_name_are_left_alone(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schools = here / "schools"
    schools.mkdir()
    shutil.copy(SCHOOLS / "_trust.yaml", schools / "_trust.yaml")
    shutil.copy(SCHOOLS / "oakfield-primary.yaml", schools / "bronte-academy.yaml")  # another school (URN 990002) has the name
    before = {p.name: p.read_bytes() for p in schools.iterdir()}
    code, out, _ = _import(capsys)
    assert code == 0 and "wrote" not in out
    assert {p.name: p.read_bytes() for p in schools.iterdir() if p.name in before} == before
    assert _load(schools / "bronte-academy-990102.yaml")["urn"] == 990102


def test_a_near_miss_trust_name_gets_did_you_mean(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(capsys, trust="Medowbank Learning Trst")
    assert code == 2 and "did you mean: 'Meadowbank Learning Trust'?" in err
    assert not (here / "schools").exists()


def test_a_csv_that_is_not_a_gias_export_names_the_missing_columns(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(capsys, GIAS / "not-gias.csv")
    assert code == 2 and "is not a GIAS establishment export" in err
    assert "'EstablishmentName'" in err and "'Trusts (name)'" in err and "'URN'" not in err
    assert not (here / "schools").exists()


def test_a_byte_that_is_not_cp1252_is_named_with_its_line(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _import(capsys, GIAS / "bad-byte.csv")
    assert code == 2 and "bad-byte.csv line 4: byte 0x81" in err and "Windows-1252" in err
    assert not (here / "schools").exists()  # the bad row is read after three good ones: nothing half-imported


def test_an_export_resaved_as_utf8_by_excel_is_read_too(here: Path, capsys: pytest.CaptureFixture[str]) -> None:
    resaved = here / "resaved.csv"  # Excel's "CSV UTF-8" writes a byte-order mark first
    resaved.write_bytes(b"\xef\xbb\xbf" + FIRST.read_bytes().decode("cp1252").encode("utf-8"))
    assert _import(capsys, resaved)[0] == 0
    assert _load(here / "schools" / "bronte-academy.yaml")["name"] == "Bront\u00eb Academy"


def test_a_todo_marker_replaces_the_fields_generic_error(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tree / "schools" / "oakfield-primary.yaml"
    text = path.read_text(encoding="utf-8").replace(
        "email: office@oakfield-primary.example.org", 'email: "TODO (import-gias): the office email"'
    )
    path.write_text(text.replace("headteacher: Mr Sam Example", "headteacher: TODO"), encoding="utf-8")
    code, out, err = _notices(capsys, "validate", "--schools", "schools", "--shared-data", "shared_data")
    assert code == 1
    assert err.splitlines() == [
        'schools/oakfield-primary.yaml:10: email: still "TODO" from import-gias: the office email',
        'schools/oakfield-primary.yaml:13: headteacher: still "TODO": fill in this value',  # valid as text, still refused
    ]


def test_samples_round_trip_byte_for_byte() -> None:
    # --update writes through this round trip: it must not reformat what it does not change.
    for path in sorted(SCHOOLS.glob("*.yaml")):
        assert dump(read_document(path)) == path.read_text(encoding="utf-8"), path


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["import-gias", "--help"])
    assert "Example:\n  notices import-gias " in capsys.readouterr().out


def test_readme_path_import_fill_validate_publish(
    here: Path, capsys: pytest.CaptureFixture[str], seaweed: Any, prefect_api: str
) -> None:
    assert _import(capsys)[0] == 0
    _, result = _validate(capsys)
    _fill_todos(here / "schools", result["errors"])
    assert _validate(capsys)[0] == 0
    env = dict(
        os.environ,
        NOTICES_STATE_DIR=str(Path(seaweed.state_dir).parent),
        PREFECT_API_URL=prefect_api,
        NOTICES_S3_PREFIX="gias-e2e",
    )
    notices = str(Path(sys.executable).parent / "notices")
    published = subprocess.run(
        [notices, "publish", "--schools", "schools", "--shared-data", str(SHARED)],
        cwd=here,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert published.returncode == 0, published.stderr
    urls = dict(re.findall(r"^published\s+(\S+) v1 \(first edition\) (http://\S+)$", published.stdout, re.M))
    assert sorted(urls) == sorted(IMPORTED)
    for slug, url in urls.items():
        body = read_body(url).decode()  # an error answer raises
        assert html.escape(_load(here / "schools" / f"{slug}.yaml")["name"]) in body and "TODO" not in body, slug


def test_digits_beyond_what_int_converts_are_kept_as_text_for_validation_to_name() -> None:
    from flows.gias.export import Establishment
    from flows.gias.fields import gias_fields

    row = dict.fromkeys(Establishment.__dataclass_fields__, "")
    est = Establishment(**{**row, "urn": "9" * 5000, "name": "Hostile Test School", "low_age": "4" * 5000, "high_age": "11"})
    fields = gias_fields(est)  # int() would raise: the default limit is 4,300 digits
    assert fields["urn"] == "9" * 5000 and fields["statutory_high_age"] == 11
    assert str(fields["statutory_low_age"]).startswith("TODO (import-gias): the statutory age")
    assert gias_fields(Establishment(**{**row, "urn": "990101"}))["urn"] == 990101
