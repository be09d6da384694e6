"""The law where it is checked: a basis in law for public task and legal obligation, and what
happens when information is not given (issue 18, point 4). Driven through ``load_and_compose``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows.notice.prepare import load_and_compose


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("basis", ["public_task", "legal_obligation"])
def test_a_purpose_on_public_task_or_legal_obligation_needs_its_law(tree: Path, basis: str) -> None:
    trust = tree / "schools" / "_trust.yaml"
    _edit(
        trust,
        "      lawful_basis: public_task\n      legislation: Academies Act 2010 and our funding agreement with the Secretary of State for Education\n",
        f"      lawful_basis: {basis}\n",
    )
    prepared = load_and_compose(tree / "schools", tree / "shared_data")
    words = {"public_task": "public task", "legal_obligation": "legal obligation"}[basis]
    assert [re.sub(r":\d+:", ":N:", str(e)) for e in prepared.errors] == [
        f"schools/_trust.yaml:N: defaults.purposes[3].legislation: a purpose on {words} needs its basis in law "
        "(UK GDPR Article 6(3)): name the law or duty, e.g. 'Education Act 1996 section 537A' or "
        "'Academies Act 2010 and our funding agreement'"
    ]
    assert prepared.notices == ()


def test_a_purpose_on_consent_needs_no_law(tree: Path) -> None:
    trust = tree / "schools" / "_trust.yaml"
    _edit(
        trust,
        "      lawful_basis: public_task\n      legislation: Academies Act 2010 and our funding agreement with the Secretary of State for Education\n",
        "      lawful_basis: consent\n",
    )
    assert load_and_compose(tree / "schools", tree / "shared_data").errors == ()


def test_what_happens_if_information_is_not_given_is_a_checklist_item(tree: Path) -> None:
    trust = tree / "schools" / "_trust.yaml"
    text = trust.read_text(encoding="utf-8")
    trust.write_text(re.sub(r"  if_not_given: >-\n(    .*\n)+", "", text), encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
    assert [str(e) for e in prepared.errors] == [
        "schools/oakfield-primary.yaml: if_not_given: ICO checklist item missing: what happens if the information is not "
        "given (what the law requires, and what is optional); set 'if_not_given' in this file or under 'defaults' in "
        "schools/_trust.yaml"
    ]


def test_every_sample_notice_says_what_happens_if_information_is_not_given(sample) -> None:
    for notice in sample.notices:
        assert "If you do not give us information the law requires" in notice.if_not_given
        assert all(p.legislation for p in notice.purposes if p.lawful_basis in ("public_task", "legal_obligation"))
