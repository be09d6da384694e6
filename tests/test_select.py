"""Applicability: which DfE recipients apply to which school, and why."""

from __future__ import annotations

import pytest

from flows.models import Override, SchoolFile
from flows.select import decide_recipients

DH, OFSTED, SKILLS, LRS, QCDA = (
    "department-of-health",
    "ofsted",
    "chief-executive-of-skills-funding",
    "learning-records-service",
    "qcda",
)
ALL = {DH, OFSTED, SKILLS, LRS, QCDA}


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("riverside-infant", {DH, OFSTED, QCDA}),  # 4-7: NCMP reception, KS1
        ("oakfield-primary", {DH, OFSTED, QCDA}),  # 4-11
        ("hillcrest-middle", {DH, OFSTED, QCDA}),  # 9-13 middle: year 6 measured, KS2-3, nobody 14+
        ("northgate-academy", {OFSTED, SKILLS, LRS, QCDA}),  # 11-18 secondary: no NCMP
        ("st-aidans-all-through", ALL),  # 4-18
        ("brookside-special", ALL),  # 2-19, phase "Not applicable": NCMP by the school's override
    ],
)
def test_sample_schools(sample, slug: str, expected: set[str]) -> None:
    notice = next(n for n in sample.notices if n.slug == slug)
    assert {d.recipient_id for d in notice.decisions if d.applies} == expected
    assert len(notice.decisions) == 5 and all(d.reason for d in notice.decisions)


def _school(phase: str, low: int, high: int, **overrides: Override) -> SchoolFile:
    return SchoolFile(
        name="Edge School",
        urn="990300",
        phase=phase,
        statutory_low_age=low,
        statutory_high_age=high,
        address={"lines": ["1 Edge Road"], "town": "Exampleton", "postcode": "EX1 1AA"},
        email="office@edge.example.org",
        phone="01632 960300",
        website="https://edge.example.org/",
        headteacher="Ms Edge",
        recipient_overrides=overrides,
    )


@pytest.mark.parametrize(
    ("phase", "low", "high", "expected"),
    [
        ("Nursery", 2, 5, {OFSTED}),  # pre-school: no NCMP (phase), no KS1 pupils (under 5)
        ("Primary", 3, 5, {DH, OFSTED}),  # nursery + reception: measured in reception, not yet KS1
        ("Primary", 3, 6, {DH, OFSTED, QCDA}),  # a year 1 class: Key Stage 1 starts
        ("Primary", 7, 11, {DH, OFSTED, QCDA}),  # junior school: year 6 measured
        ("Middle deemed primary", 8, 12, {DH, OFSTED, QCDA}),
        ("Middle deemed secondary", 11, 14, {OFSTED, QCDA}),  # starts at year 7: no NCMP
        ("Middle deemed secondary", 10, 14, {DH, OFSTED, QCDA}),  # year 6 pupils, none yet 14
        ("Secondary", 11, 16, {OFSTED, SKILLS, LRS, QCDA}),
        ("Secondary", 13, 16, {OFSTED, SKILLS, LRS, QCDA}),  # upper school from year 9: KS3 still
        ("Secondary", 14, 19, {OFSTED, SKILLS, LRS}),  # UTC / studio school: KS4 on, no KS3
        ("16 plus", 16, 19, {OFSTED, SKILLS, LRS}),
        ("All-through", 2, 19, ALL),
        ("Secondary", 11, 12, {OFSTED, QCDA}),  # boundary: 11 is not inside NCMP's [4, 11)
    ],
)
def test_edge_ages(sample, phase: str, low: int, high: int, expected: set[str]) -> None:
    decisions = decide_recipients(_school(phase, low, high), sample.inputs.dataset)
    assert {d.recipient_id for d in decisions if d.applies} == expected
    assert {d.decided_by for d in decisions} == {"rule"}


def test_override_wins_both_ways_and_keeps_its_reason(sample) -> None:
    school = _school(
        "Primary",
        4,
        11,
        qcda=Override(include=False, reason="QCDA was abolished in 2012."),
        **{SKILLS: Override(include=True, reason="Early post-14 entries.")},
    )
    by_id = {d.recipient_id: d for d in decide_recipients(school, sample.inputs.dataset)}
    assert (by_id[QCDA].applies, by_id[QCDA].decided_by) == (False, "override")
    assert by_id[QCDA].reason == "excluded by the school: QCDA was abolished in 2012."
    assert (by_id[SKILLS].applies, by_id[SKILLS].reason) == (True, "included by the school: Early post-14 entries.")


def test_reasons_say_why(sample) -> None:
    by_id = {d.recipient_id: d for d in decide_recipients(_school("Secondary", 11, 18), sample.inputs.dataset)}
    assert by_id[DH].reason == (
        "the school's pupils aged 11 to 18 include none of the pupils in reception to year 6 "
        "(ages 4 to 11) in primary and middle schools"
    )
    by_id = {d.recipient_id: d for d in decide_recipients(_school("Nursery", 2, 5), sample.inputs.dataset)}
    assert by_id[DH].reason.startswith("phase 'Nursery' is not one this applies to")
