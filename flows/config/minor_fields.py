"""The fields a trust may declare minor (``approval.minor_fields``): a closed list.

A change to only these may go live without a named approver where the trust says so
(``flows.editions.classes``); every other field, and all fixed wording, is material.
"""

from __future__ import annotations

from collections.abc import Iterable

MINOR_DECLARABLE: dict[str, str] = {
    "school.headteacher": "the headteacher's name",
    "school.phone": "the school's phone number",
    "school.email": "the school office's email address",
    "school.website": "the school's website address",
    "school.address": "the school's postal address",
}


def check_minor_fields(fields: Iterable[str]) -> list[str]:
    """Problems with a trust's ``minor_fields`` list, one message per field that cannot be minor."""
    allowed = ", ".join(MINOR_DECLARABLE)
    return [
        f"{field!r} can never be declared minor: changing it changes what the notice says about pupils' data "
        f"or who is responsible for it; the fields a trust may declare minor are {allowed}"
        for field in fields
        if field not in MINOR_DECLARABLE
    ]
