"""What changed since the previous edition: notes, class, diff and redline (reads that edition back).

The diff covers ``notice.md`` and the pupils' ``for-pupils.md``: both are words an approver
approves. An edition from before the pupils' version had none, so its side of that diff is empty.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from markupsafe import Markup

from flows.editions.diff import describe_changes, redline, unified_diff
from flows.editions.records import ChangeClass, Edition
from flows.publish import layout
from flows.publish.base import Publisher, PublishError
from flows.publish.context import RunContext

NO_SETTING_CHANGED = "Wording outside the settings changed (templates or fixed text): see the diff"


@dataclass(frozen=True)
class Described:
    """A new edition's change notes and class, with the diff and redline shown to its approver."""

    changes: tuple[str, ...]
    change_class: ChangeClass
    diff: str
    redlined: Markup


def describe_edition(
    pub: Publisher, ctx: RunContext, draft: dict[str, bytes], previous: Edition, where: tuple[str, str], number: int
) -> Described:
    """Compare the draft's files with edition ``previous`` at ``where`` (its prefix and slug)."""

    def old(name: str, required: bool = True) -> bytes:
        key = layout.edition_key(where[0], where[1], previous.number, name)
        stored = pub.get(key)
        if stored is None and required:
            raise PublishError(
                f"{key}: the previous edition's file is missing from the target; it is needed to describe the changes",
                transient=False,
            )
        return stored.body if stored is not None else b""

    changes, change_class = describe_changes(
        json.loads(old("notice.json")),
        json.loads(draft["notice.json"]),
        minor_fields=ctx.policy.minor_fields,
        same_wording_source=previous.template_version == ctx.template_version,
    )
    diff = "".join(
        unified_diff(
            old(name, required=name == "notice.md").decode(),
            draft[name].decode(),
            f"v{previous.number}/{name}",
            f"v{number}/{name}",
        )
        for name in ("notice.md", "for-pupils.md")
    )
    # The content hash differs where no setting does: the templates' or the code's fixed wording.
    return Described(
        changes or (NO_SETTING_CHANGED,),
        change_class,
        diff,
        redline(old("fragment.html").decode(), draft["fragment.html"].decode()),
    )
