"""Which DfE recipients apply to a school, and why (pure).

Ages follow GIAS: a school with statutory ages L-H teaches pupils aged L up to H
(half-open, [L, H)), and each recipient's rule uses the same convention. A recipient
applies when the two age ranges overlap and the school's phase is one the rule allows.
A school's override then wins, and its reason is kept.
"""

from __future__ import annotations

from flows.config.models import Decision, DatasetEdition, Recipient, SchoolFile


def decide_recipients(school: SchoolFile, dataset: DatasetEdition) -> tuple[Decision, ...]:
    """One decision per dataset recipient, in dataset order."""
    return tuple(decide_recipient(school, recipient) for recipient in dataset.recipients)


def decide_recipient(school: SchoolFile, recipient: Recipient) -> Decision:
    """Apply the recipient's age and phase rule to the school, then the school's override."""
    override = school.recipient_overrides.get(recipient.id)
    if override is not None:
        verb = "included" if override.include else "excluded"
        return Decision(
            recipient_id=recipient.id,
            applies=override.include,
            reason=f"{verb} by the school: {override.reason}",
            decided_by="override",
        )
    applies, reason = _apply_rule(school, recipient)
    return Decision(recipient_id=recipient.id, applies=applies, reason=reason, decided_by="rule")


def _apply_rule(school: SchoolFile, recipient: Recipient) -> tuple[bool, str]:
    rule = recipient.applies_to
    low, high = school.statutory_low_age, school.statutory_high_age
    ages = f"pupils aged {low} to {high}"
    wanted = rule.description
    if not (low < rule.max_age and rule.min_age < high):
        return False, f"the school's {ages} include none of the {wanted}"
    if rule.phases and school.phase not in rule.phases:
        return (
            False,
            f"phase {school.phase!r} is not one this applies to ({', '.join(rule.phases)}), although ages overlap {wanted}",
        )
    return True, f"the school's {ages} include {wanted}"
