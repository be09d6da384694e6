"""The register of bodies the DfE dataset names, and which of them are still current (pure).

``shared_data/bodies.yaml`` records each body's status (active, renamed, abolished,
withdrawn), when it ended, its successor and the public sources for those facts. A dataset
edition is checked against it: every place that names a body which is not current on the
edition's effective date is a ``StaleMention``, found by the body a recipient declares and
by scanning its words for the names the register lists.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field

from flows.config.models import DatasetEdition, Frozen, Recipient
from flows.config.fields import Line, Slug, Text, Url, at_most

MAX_BODIES = 500
Status = Literal["active", "renamed", "abolished", "withdrawn"]


class Citation(Frozen):
    """A public source for a body's facts, and when they were checked against it."""

    title: Text
    url: Url
    checked: dt.date


class Body(Frozen):
    """One body, programme or framework the dataset's text may name."""

    id: Slug
    name: Line
    names: Annotated[tuple[Line, ...], at_most(50)] = Field(default=(), description="Names and abbreviations the text may use.")
    status: Status
    started: dt.date | None = None
    ended: dt.date | None = Field(default=None, description="Its last day under this name; null when not known.")
    successor: Slug | None = Field(default=None, description="The register id of the body that took over its work.")
    what_changed: Text | None = None
    url: Url | None = Field(default=None, description="Its own public web page, for a current body.")
    sources: Annotated[tuple[Citation, ...], at_most(20), Field(min_length=1)]


class BodyRegister(Frozen):
    """``shared_data/bodies.yaml``."""

    bodies: Annotated[tuple[Body, ...], at_most(MAX_BODIES), Field(min_length=1)]

    def get(self, body_id: str) -> Body | None:
        """The body with this id, if the register has it."""
        return next((b for b in self.bodies if b.id == body_id), None)


def is_current(body: Body, on: dt.date) -> bool:
    """True when the body exists under this name on ``on``.

    A body that is not active and has no known end date is never current: nobody can say
    when it stopped, so it must not be presented as a recipient today.
    """
    if body.status == "active":
        return True
    return body.ended is not None and body.ended >= on


def final_successor(register: BodyRegister, body: Body) -> Body | None:
    """Follow successors to the body that does the work today (None when there is none)."""
    seen = {body.id}
    current = register.get(body.successor) if body.successor else None
    while current is not None and current.successor and current.status != "active" and current.successor not in seen:
        seen.add(current.id)
        current = register.get(current.successor)
    return current


def long_date(day: dt.date) -> str:
    """``31 March 2012``: the date as a parent reads it."""
    return f"{day.day} {day.strftime('%B %Y')}"


def what_happened(register: BodyRegister, body: Body) -> str:
    """One plain sentence: what became of the body, and who does its work today."""
    verb = {"renamed": "was renamed", "abolished": "closed", "withdrawn": "was withdrawn", "active": "is current"}[body.status]
    when = (
        f" on {long_date(body.ended + dt.timedelta(days=1))}"
        if body.ended and body.status == "renamed"
        else (f" on {long_date(body.ended)}" if body.ended else "")
    )
    successor = final_successor(register, body)
    if body.status == "renamed" and body.successor:
        renamed_to = register.get(body.successor)
        text = f"The {body.name} {verb} the {renamed_to.name if renamed_to else body.successor}{when}"
    else:
        text = f"The {body.name} {verb}{when}"
    if successor is not None and body.status == "withdrawn":
        text += f" and replaced by the {successor.name}"
    elif successor is not None and not (body.status == "renamed" and successor.id == body.successor):
        text += f"; that work is now done by the {successor.name}"
    return text + "."


@dataclass(frozen=True)
class StaleMention:
    """A place in a dataset edition that names a body which is not current on its effective date."""

    recipient_index: int
    recipient_id: str
    where: tuple[str | int, ...]
    body_id: str
    name_used: str


def find_stale_mentions(edition: DatasetEdition, register: BodyRegister) -> list[StaleMention]:
    """Every (recipient, body) naming a body that is not current, with the first place it is named."""
    pattern, owner = _name_pattern(register)
    found: dict[tuple[int, str], StaleMention] = {}
    for index, recipient in enumerate(edition.recipients):
        declared = register.get(recipient.body) if recipient.body else None
        if declared is not None and not is_current(declared, edition.effective_date):
            found[(index, declared.id)] = StaleMention(
                index, recipient.id, ("recipients", index, "body"), declared.id, declared.name
            )
        for where, text in _texts(recipient):
            for match in pattern.finditer(text):
                body = owner[match.group(0)]
                key = (index, body.id)
                if key not in found and not is_current(body, edition.effective_date):
                    found[key] = StaleMention(index, recipient.id, ("recipients", index, *where), body.id, match.group(0))
    return [found[k] for k in sorted(found)]


def _name_pattern(register: BodyRegister) -> tuple[re.Pattern[str], dict[str, Body]]:
    """One regex of every name, longest first, so "Department of Health and Social Care" is
    read as itself and never as "Department of Health" followed by other words."""
    owner = {name: body for body in register.bodies for name in (body.name, *body.names)}
    names = sorted(owner, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])"), owner


def _texts(recipient: Recipient) -> list[tuple[tuple[str | int, ...], str]]:
    texts: list[tuple[tuple[str | int, ...], str]] = [(("name",), recipient.name), (("topic",), recipient.topic)]
    for field in ("paragraphs", "list_items", "paragraphs_after_list"):
        texts += [((field, n), t) for n, t in enumerate(getattr(recipient, field))]
    if recipient.opt_out:
        texts.append((("opt_out",), recipient.opt_out))
    return texts
