"""Approvers are people the trust named: check_approver with and without approval.approvers."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.config.loading import load_trust
from flows.config.models import Approver
from flows.config.person_names import fold, skeleton
from flows.editions.approval import check_approver

LISTED = (Approver(name="Alex Example", role="DPO", email="dpo@trust.example.org"), Approver(name="Sam Example"))

# What a default, a tired click or a paste gives where a person's name belongs.
NOT_A_PERSON = [
    "r\u043e\u043et",  # rооt, Cyrillic о
    "\uff52\uff4f\uff4f\uff54",  # ｒｏｏｔ, full width
    "r00t",
    "\u0391DMIN",
    "adrnin",
    "\u0501ocker",  # digit zero, Greek Α, rn for m, Cyrillic ԁ
    "\u0410lex Example",  # Аlex with a Cyrillic А: two alphabets in one name
    "x",
    "X",
    "J",
    "yes",
    "Yes.",
    "no",
    "y",
    "n",
    "ok",
    "OK",
    "okay",
    "approved",
    "Approved!",
    "approve",
    "approver",
    "n/a",
    "N/A",
    "na",
    "none",
    "dpo",
    "DPO",
    "head",
    "headteacher",
    "Head Teacher",
    "admin",
    "it",
    "I.T.",
    "staff",
    "test",
    "me",
    "TBC",
    "github-actions[bot]",
    "dependabot[bot]",
    "renovate-bot",
    "release bot",
    "Bot",
    "root",
    "ROOT",
    "runner",
    "",
    "   ",
    "12345",
    "a\x1b[31mb",
    "Alex\u200bExample",
]


@pytest.mark.parametrize("name", NOT_A_PERSON)
def test_without_a_list_only_a_persons_name_is_an_approver(name: str) -> None:
    with pytest.raises(ValueError):
        check_approver(name)


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("r\u043e\u043et", "'r\u043e\u043et' uses look-alike characters (Cyrillic \u043e) and reads as 'root', a system account"),
        ("\uff52\uff4f\uff4f\uff54", "is a system account, not a person"),
        ("\u0410lex Example", "uses look-alike characters (Cyrillic \u0410) mixed with another alphabet"),
        ("github-actions[bot]", "is a bot account, not a person"),
        ("n/a", "is an answer or a role, not a person's name"),
        ("DPO", "is an answer or a role, not a person's name"),
        ("x", "'x' is not a person's name"),
    ],
)
def test_each_refusal_says_why(name: str, says: str) -> None:
    with pytest.raises(ValueError, match=None) as refused:
        check_approver(name)
    assert says in str(refused.value)


@pytest.mark.parametrize(
    ("name", "recorded"),
    [
        ("  Alex   Example (DPO) ", "Alex Example (DPO)"),
        ("Jo", "Jo"),
        ("Dr Dana Example", "Dr Dana Example"),
        ("Abbott Example", "Abbott Example"),  # 'bot' inside a word is not a bot
        ("Zo\u00eb Example", "Zo\u00eb Example"),
        (
            "\u0410\u043b\u0435\u043a\u0441 \u0418\u0432\u0430\u043d\u043e\u0432",
            "\u0410\u043b\u0435\u043a\u0441 \u0418\u0432\u0430\u043d\u043e\u0432",
        ),  # one alphabet
        ("\u5c71\u7530 \u592a\u90ce", "\u5c71\u7530 \u592a\u90ce"),
        ("\uff21\uff4c\uff45\uff58 \uff25\uff58\uff41\uff4d\uff50\uff4c\uff45", "Alex Example"),  # full width: recorded in NFKC
    ],
)
def test_without_a_list_a_persons_name_is_recorded_tidied(name: str, recorded: str) -> None:
    assert check_approver(name) == recorded


@pytest.mark.parametrize(
    ("given", "recorded"),
    [
        ("Alex Example", "Alex Example (DPO)"),
        ("Alex Example (DPO)", "Alex Example (DPO)"),
        ("  alex   EXAMPLE (dpo) ", "Alex Example (DPO)"),
        ("\uff21\uff4c\uff45\uff58 \uff25\uff58\uff41\uff4d\uff50\uff4c\uff45", "Alex Example (DPO)"),  # NFKC: the same name
        ("sam example", "Sam Example"),
    ],
)
def test_a_listed_approver_is_recorded_as_the_trust_listed_them(given: str, recorded: str) -> None:
    assert check_approver(given, LISTED) == recorded


def test_a_name_the_trust_did_not_list_is_refused_with_the_list() -> None:
    for name in ("Jo Bloggs", "Alex Example (Head)", "Alex", "Dr Dana Example"):
        with pytest.raises(ValueError) as refused:
            check_approver(name, LISTED)
        assert str(refused.value) == (
            f"{name!r} is not one of the trust's approvers (schools/_trust.yaml approval.approvers): Alex Example (DPO), Sam Example"
        )


@pytest.mark.parametrize(
    ("given", "says"),
    [
        (
            "\u0410lex Example",
            "'\u0410lex Example' uses look-alike characters (Cyrillic \u0410) and reads as the approver 'Alex Example (DPO)'",
        ),
        ("S\u0430m Ex\u0430mple", "uses look-alike characters (Cyrillic \u0430) and reads as the approver 'Sam Example'"),
        ("r\u043e\u043et", "'r\u043e\u043et' uses look-alike characters (Cyrillic \u043e) and reads as 'root', a system account"),
        ("root", "'root' is a system account, not a person"),
        ("", "an approver's name is required"),
    ],
)
def test_with_a_list_look_alikes_and_system_accounts_are_named_as_such(given: str, says: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_approver(given, LISTED)
    assert says in str(refused.value)


def test_fold_and_skeleton() -> None:
    assert fold(" \uff21lex\u3000 EXAMPLE ") == "alex example"
    assert skeleton("r\u043e\u043et") == skeleton("root") != skeleton("rust")
    assert skeleton("\u0391lex") == skeleton("Alex") and fold("\u0391lex") != fold("Alex")
    assert Approver(name="Alex Example", role="DPO").label == "Alex Example (DPO)"
    assert Approver(name="Sam Example").label == "Sam Example"


def test_the_sample_trust_lists_its_dpo(tree: Path) -> None:
    errors: list = []
    trust = load_trust(tree / "schools" / "_trust.yaml", errors)
    assert errors == [] and trust is not None
    assert [a.label for a in trust.approval.approvers] == ["Alex Example (DPO)"]
    assert check_approver("Alex Example (DPO)", trust.approval.approvers) == "Alex Example (DPO)"


def _trust_errors(tree: Path, approvers: str) -> tuple[int, list[str]]:
    """The loader's errors once the sample trust's approvers are ``approvers``, and the line of 'approval:'."""
    path = tree / "schools" / "_trust.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("approval:\n")
    path.write_text(text[:start] + "approval:\n  approvers:\n" + approvers, encoding="utf-8")
    errors: list = []
    assert load_trust(path, errors) is None
    return text[:start].count("\n") + 1, [str(e) for e in errors]


@pytest.mark.parametrize(
    ("approvers", "below", "expected"),
    [
        (
            "    - name: Alex Example\n    - name: ALEX  example\n",
            1,
            "approval.approvers: approver 2 ('ALEX example') is 'Alex Example' again, "
            "once case, spacing and character width are ignored; list each person once",
        ),
        (
            "    - name: Alex Example\n      role: DPO\n    - name: Alex Example (DPO)\n",
            1,
            "approval.approvers: approver 2 ('Alex Example (DPO)') is 'Alex Example (DPO)' again, "
            "once case, spacing and character width are ignored; list each person once",
        ),
        (
            '    - name: Alex Example\n    - name: "n/a"\n',
            3,
            "approval.approvers[1].name: 'n/a' is an answer or a role, not a person's name: "
            "give the name of the person approving, e.g. 'Alex Example (DPO)'",
        ),
        (
            "    - name: r\u043e\u043et\n",
            2,
            "approval.approvers[0].name: 'r\u043e\u043et' uses look-alike characters (Cyrillic \u043e) "
            "and reads as 'root', a system account: give the name of the person approving",
        ),
        (
            "    - name: Alex Example\n      email: dpo@@trust.example.org\n",
            3,
            "approval.approvers[0].email: expected an email address like office@school.example.org, got 'dpo@@trust.example.org'",
        ),
    ],
)
def test_the_loader_reports_a_bad_approvers_list_at_its_line(tree: Path, approvers: str, below: int, expected: str) -> None:
    line, errors = _trust_errors(tree, approvers)
    assert errors == [f"schools/_trust.yaml:{line + below}: {expected}"]
