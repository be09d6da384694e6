"""Who must approve what (pure): the rule every path shares, and who counts as an approver.

A material change is published only with a named approver recorded in its edition; the
trust's ``approval`` section can hold minor changes too, never fewer. When the trust lists
its approvers (``approval.approvers``) the name given must be one of them, compared folded
(NFKC, spacing, case), and is recorded as listed. Without a list it must be a person's
name (``flows.config.person_names``): not an operating-system, service or bot account (``root``,
``runner``…), which is what a default taken from the machine would give, nor an answer or a
role (``yes``, ``DPO``), nor written in look-alike letters.
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.config.models import ApprovalPolicy, Approver
from flows.config.person_names import (
    MAX_NAME,
    SYSTEM_ACCOUNTS,
    check_person_name,
    check_text,
    fold,
    look_alike_chars,
    skeleton,
    system_account_like,
)

__all__ = ["MAX_NAME", "SYSTEM_ACCOUNTS", "check_approver", "fold", "needs_approval", "skeleton"]

TRUST_FILE_FIELD = "schools/_trust.yaml approval.approvers"


def needs_approval(change_class: str | None, policy: ApprovalPolicy) -> bool:
    """True if an edition of this class may only be published with a named approver.

    Default deny: a material change always; a first edition unless the trust turned that off
    for onboarding; a change to declared minor fields only where the trust holds those too.
    """
    if change_class == "first":
        return policy.approve_first_editions
    return change_class == "material" or (change_class == "minor" and policy.minor_changes)


def check_approver(name: str | None, approvers: Sequence[Approver] = ()) -> str:
    """The approver to record; raises ValueError saying who may approve.

    With ``approvers`` (the trust's list) the name must fold to one of theirs, given as the
    name or as 'name (role)', and the approver's label as listed is returned. Without, the
    name must be a person's (``flows.config.person_names.check_person_name``) and is returned tidied.
    """
    if not approvers:
        return check_person_name(name)
    text = check_text(name)
    key = fold(text)
    for approver in approvers:
        if key in (fold(approver.name), fold(approver.label)):
            return approver.label
    looks = skeleton(text)
    for approver in approvers:
        if looks in (skeleton(approver.name), skeleton(approver.label)):
            raise ValueError(
                f"{text!r} uses look-alike characters ({look_alike_chars(text)}) and reads as the approver "
                f"{approver.label!r}: type the name again in the letters the trust listed it in"
            )
    listed = ", ".join(approver.label for approver in approvers)
    if key in SYSTEM_ACCOUNTS:
        raise ValueError(f"{text!r} is a system account, not a person: give one of the trust's approvers: {listed}")
    if account := system_account_like(text):
        raise ValueError(
            f"{text!r} uses look-alike characters ({look_alike_chars(text)}) and reads as {account!r}, a system account: "
            f"give one of the trust's approvers: {listed}"
        )
    raise ValueError(f"{text!r} is not one of the trust's approvers ({TRUST_FILE_FIELD}): {listed}")
