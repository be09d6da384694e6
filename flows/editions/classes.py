"""Which changes may go live without a named approver (pure): default deny.

Every change to the words a parent reads is **material** (it needs a named approver) unless
each field it touches is one the trust declared minor in its ``approval.minor_fields``, from
the closed list ``MINOR_DECLARABLE``: contact details and names that say nothing about how
pupils' data is used. Recipients, purposes, lawful bases and conditions, categories,
transfers, retention, automated decisions, rights, the controller, the DPO and all dataset
text can never be declared minor. A change the settings do not explain (a template's or the
code's fixed wording) is material too: nobody declared it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from flows.config.minor_fields import MINOR_DECLARABLE
from flows.editions.records import ChangeClass, canonical_content

__all__ = ["MINOR_DECLARABLE", "WORDS", "changed_paths", "classify", "is_declared_minor"]

WORDS = "words"
"""The path of a change outside the settings: the templates' or the code's fixed wording."""


def changed_paths(old_json: dict[str, Any], new_json: dict[str, Any]) -> set[str]:
    """Dotted paths of the canonical content that differ (a list counts as one leaf)."""
    return set(_diff(canonical_content(old_json), canonical_content(new_json), ""))


def _diff(old: Any, new: Any, path: str) -> Iterable[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                yield from _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key)
    elif old != new:
        yield path


def is_declared_minor(path: str, minor_fields: Collection[str]) -> bool:
    """True if ``path`` is, or lies inside, a field the trust declared minor."""
    return any(path == field or path.startswith(field + ".") for field in minor_fields if field in MINOR_DECLARABLE)


def classify(paths: Collection[str], minor_fields: Collection[str], *, same_wording_source: bool) -> ChangeClass:
    """``minor`` only when every changed path is declared minor and the templates and code that
    word the notice are those of the previous edition (else an unseen wording change could ride
    along with a declared one); ``material`` otherwise."""
    if not paths or WORDS in paths or not same_wording_source:
        return "material"
    return "minor" if all(is_declared_minor(p, minor_fields) for p in paths) else "material"
