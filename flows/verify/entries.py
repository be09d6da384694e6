"""The log's entries as the verifier reads them: every entry bundle, parsed, grouped by URN.

The log is the truth: a school's editions are found by scanning the entries for its URN, never
from the site's own manifest or pointers.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flows.tlog.merkle import leaf_hash
from flows.tlog.tiles import TileError, bundles_for_size, decode_bundle, entries_path
from flows.verify.problems import Missing, Problem

ENTRY_FORMAT = "trust-notices/log-entry/1"


@dataclass(frozen=True)
class Entry:
    """One log entry: its index, its leaf hash and its JSON object."""

    index: int
    leaf: bytes
    data: dict[str, Any]

    @property
    def hex(self) -> str:
        """The hex leaf hash, as entries and latest.json name each other."""
        return self.leaf.hex()

    @property
    def kind(self) -> str:
        """``edition`` or ``latest``."""
        return str(self.data.get("kind"))

    @property
    def edition(self) -> int:
        """The edition number the entry is about."""
        value = self.data.get("edition")
        return value if isinstance(value, int) else 0

    @property
    def urn(self) -> str:
        """The school's URN."""
        return str(self.data.get("urn"))


def read_entries(size: int, fetch: Callable[[str], bytes], where: str) -> tuple[list[Entry], list[Problem]]:
    """Every entry of a log of ``size`` (``fetch`` reads a path under the log folder ``where``)."""
    entries: list[Entry] = []
    problems: list[Problem] = []
    for index, width in bundles_for_size(size):
        path = entries_path(index, width)
        try:
            bundle = decode_bundle(fetch(path))
        except Missing:
            problems.append(
                Problem("bundle", where + path, f"is missing: entries {index * 256}-{index * 256 + width - 1} cannot be read")
            )
            continue
        except TileError as exc:
            problems.append(Problem("bundle", where + path, str(exc)))
            continue
        if len(bundle) != width:
            problems.append(Problem("bundle", where + path, f"holds {len(bundle)} entries, not {width}"))
            continue
        for offset, raw in enumerate(bundle):
            number = index * 256 + offset
            entry, problem = _parse(number, raw, f"{where}{path}")
            if entry is not None:
                entries.append(entry)
            if problem is not None:
                problems.append(problem)
    return entries, problems


def _parse(number: int, raw: bytes, where: str) -> tuple[Entry | None, Problem | None]:
    try:
        data = json.loads(raw)
    except ValueError:
        return None, Problem("entry", f"{where} (entry {number})", "is not a JSON log entry")
    if not isinstance(data, dict) or data.get("format") != ENTRY_FORMAT or data.get("kind") not in ("edition", "latest"):
        return None, Problem("entry", f"{where} (entry {number})", f"is not a {ENTRY_FORMAT} entry")
    return Entry(number, leaf_hash(raw), data), None


def by_urn(entries: list[Entry]) -> dict[str, list[Entry]]:
    """The entries of each URN, in log order."""
    grouped: dict[str, list[Entry]] = {}
    for entry in entries:
        grouped.setdefault(entry.urn, []).append(entry)
    return grouped
