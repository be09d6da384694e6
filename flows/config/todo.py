"""TODO markers: values a generator could not know, left for a person to fill in.

``notices import-gias`` writes what GIAS does not know (a school office's email, the
trust's DPO...) as ``"TODO (import-gias): <what to put there>"``. Validation reports each
marker as its own clear error ("still "TODO" from import-gias: ...") instead of the
generic one the field's type would give ("expected an email address, got 'TODO...'"), and
a file holding one never validates, even where the marker would pass as text (a name).

Only a value that is exactly ``TODO`` or starts with ``TODO:`` / ``TODO (source):`` is a
marker, so ordinary prose that mentions the word is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

Location = tuple[str | int, ...]

IMPORT_SOURCE = "import-gias"

_MARKER = re.compile(r"TODO(?:\s*\((?P<source>[^()\n]{1,40})\))?(?::\s*(?P<what>.*))?", re.DOTALL)


@dataclass(frozen=True)
class Todo:
    """One marker found in a document: where it is, who left it and what belongs there."""

    where: Location
    source: str | None
    what: str

    def message(self) -> str:
        """The validation message, e.g. ``still "TODO" from import-gias: the school office's email address``."""
        origin = f" from {self.source}" if self.source else ""
        what = self.what or "fill in this value"
        return f'still "TODO"{origin}: {what}'


def todo_marker(what: str, source: str = IMPORT_SOURCE) -> str:
    """The marker text for a value still to fill in: ``TODO (source): what``."""
    return f"TODO ({source}): {what}"


def parse_marker(value: Any) -> tuple[str | None, str] | None:
    """``(source, what)`` when ``value`` is a TODO marker, else None."""
    if not isinstance(value, str):
        return None
    found = _MARKER.fullmatch(value.strip())
    if found is None:
        return None
    return found.group("source"), (found.group("what") or "").strip()


def is_marker(value: Any) -> bool:
    """True when ``value`` is a TODO marker."""
    return parse_marker(value) is not None


def find_todos(data: Any, where: Location = ()) -> list[Todo]:
    """Every TODO marker in ``data`` (mappings, lists, strings), in document order."""
    if isinstance(data, dict):
        return [todo for key, value in data.items() for todo in find_todos(value, (*where, key))]
    if isinstance(data, list):
        return [todo for index, value in enumerate(data) for todo in find_todos(value, (*where, index))]
    parsed = parse_marker(data)
    if parsed is None:
        return []
    return [Todo(where, parsed[0], parsed[1])]


def under_todo(location: Location, todos: list[Todo]) -> bool:
    """True when ``location`` is a marker's place or inside it (its error says more than the type's)."""
    return any(location[: len(t.where)] == t.where for t in todos)
