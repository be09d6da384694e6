"""Applicability: which DfE recipients apply to which school, and why."""

from __future__ import annotations

import pytest

from flows.config.models import Override, SchoolFile
from flows.notice.recipients import decide_recipients

# The sections of the current dataset edition (shared_data/dfe-recipients/2026-2.yaml).
DFE, SAR, YOUTH, OFSTED, STA, NCMP, LRS, POST14 = (
    "department-for-education",
    "dfe-subject-access",
    "youth-support-services",
    "ofsted",
    "standards-and-testing-agency",
    "national-child-measurement-programme",
    "learning-records-service",
    "dfe-post-14",
)
ALL = {DFE, SAR, YOUTH, OFSTED, STA, NCMP, LRS, POST14}
EVERY_SCHOOL = {DFE, SAR, OFSTED}


@pytest.mark.parametrize(
    ("slug", "expected"),
    [
        ("riverside-infant", EVERY_SCHOOL | {NCMP, STA}),  # 4-7: NCMP reception, phonics check
        ("oakfield-primary", EVERY_SCHOOL | {NCMP, STA}),  # 4-11
        ("hillcrest-middle", EVERY_SCHOOL | {NCMP, STA}),  # 9-13 middle: year 6 measured and tested, nobody 13+
        ("northgate-academy", EVERY_SCHOOL | {YOUTH, LRS, POST14}),  # 11-18 secondary: no NCMP, no primary tests
        ("st-aidans-all-through", ALL),  # 4-18
        ("brookside-special", ALL),  # 2-19, phase "Not applicable": NCMP by the school's override
    ],
)
def test_sample_schools(sample, slug: str, expected: set[str]) -> None:
    notice = next(n for n in sample.notices if n.slug == slug)
    assert {d.recipient_id for d in notice.decisions if d.applies} == expected
    assert len(notice.decisions) == 8 and all(d.reason for d in notice.decisions)


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
        ("Nursery", 2, 5, EVERY_SCHOOL),  # pre-school: no NCMP, no assessments (phase)
        ("Primary", 3, 5, EVERY_SCHOOL | {NCMP, STA}),  # nursery + reception: measured, reception baseline
        ("Primary", 3, 6, EVERY_SCHOOL | {NCMP, STA}),
        ("Primary", 7, 11, EVERY_SCHOOL | {NCMP, STA}),  # junior school: year 6 measured and tested
        ("Middle deemed primary", 8, 12, EVERY_SCHOOL | {NCMP, STA}),
        ("Middle deemed secondary", 11, 14, EVERY_SCHOOL | {YOUTH}),  # starts at year 7; pupils turn 13 in year 8
        ("Middle deemed secondary", 10, 14, EVERY_SCHOOL | {NCMP, STA, YOUTH}),  # year 6 pupils, none yet 14
        ("Secondary", 11, 16, EVERY_SCHOOL | {YOUTH, LRS, POST14}),
        ("Secondary", 13, 16, EVERY_SCHOOL | {YOUTH, LRS, POST14}),
        ("Secondary", 14, 19, EVERY_SCHOOL | {YOUTH, LRS, POST14}),  # UTC / studio school
        ("16 plus", 16, 19, EVERY_SCHOOL | {YOUTH, LRS, POST14}),
        ("All-through", 2, 19, ALL),
        ("Secondary", 11, 12, EVERY_SCHOOL),  # boundary: 11 is not inside [4, 11), nobody is 13 yet
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
        **{
            STA: Override(include=False, reason="Our pupils sit no national assessments."),
            POST14: Override(include=True, reason="Early post-14 entries."),
        },
    )
    by_id = {d.recipient_id: d for d in decide_recipients(school, sample.inputs.dataset)}
    assert (by_id[STA].applies, by_id[STA].decided_by) == (False, "override")
    assert by_id[STA].reason == "excluded by the school: Our pupils sit no national assessments."
    assert (by_id[POST14].applies, by_id[POST14].reason) == (True, "included by the school: Early post-14 entries.")


def test_reasons_say_why(sample) -> None:
    by_id = {d.recipient_id: d for d in decide_recipients(_school("Secondary", 11, 18), sample.inputs.dataset)}
    assert by_id[NCMP].reason == (
        "the school's pupils aged 11 to 18 include none of the pupils in reception and year 6 "
        "(ages 4 to 11) in primary and middle schools"
    )
    by_id = {d.recipient_id: d for d in decide_recipients(_school("Nursery", 2, 5), sample.inputs.dataset)}
    assert by_id[NCMP].reason.startswith("phase 'Nursery' is not one this applies to")
