"""Who must approve what (pure): the rule every path shares, and what counts as a name.

A material change is published only with a named approver recorded in its edition; the
trust's ``approval`` section can hold minor changes too, never fewer. A name must be a
person's: not empty, not an operating-system or service account (``root``, ``runner``…),
which is what a default taken from the machine would give.
"""

from __future__ import annotations

import unicodedata

from flows.models import ApprovalPolicy

SYSTEM_ACCOUNTS = frozenset(
    {
        "root", "admin", "administrator", "system", "daemon", "nobody", "user", "users", "guest",
        "runner", "prefect", "worker", "ubuntu", "debian", "ec2-user", "www-data", "jenkins",
        "github", "gitlab-runner", "docker", "unknown", "none", "null", "test", "ci", "bot",
    }
)
MAX_NAME = 120


def needs_approval(change_class: str | None, policy: ApprovalPolicy) -> bool:
    """True if an edition of this class may only be published with a named approver.

    Default deny: a material change always; a first edition unless the trust turned that off
    for onboarding; a change to declared minor fields only where the trust holds those too.
    """
    if change_class == "first":
        return policy.approve_first_editions
    return change_class == "material" or (change_class == "minor" and policy.minor_changes)


def check_approver(name: str | None) -> str:
    """The approver's name, tidied; raises ValueError saying what a name must be."""
    text = " ".join((name or "").split())
    if not text:
        raise ValueError("an approver's name is required (the person who checked the change, e.g. 'Alex Example (DPO)')")
    if any(unicodedata.category(ch).startswith("C") for ch in text):
        raise ValueError("an approver's name cannot contain control or invisible characters")
    if len(text) > MAX_NAME:
        raise ValueError(f"an approver's name is at most {MAX_NAME} characters")
    if not any(ch.isalpha() for ch in text):
        raise ValueError(f"{text!r} is not a person's name")
    if text.casefold() in SYSTEM_ACCOUNTS:
        raise ValueError(f"{text!r} is a system account, not a person: give the name of the person approving")
    return text
