"""Which schools a run covers: every school, or those named by slug or URN (CLI and flow alike)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from flows.config.discovery import display_path
from flows.config.documents import nearest
from flows.config.errors import ConfigError
from flows.notice.prepare import Prepared, load_and_compose


def select_schools(prepared: Prepared, selectors: Sequence[str], *, where: str = "") -> Prepared:
    """Keep the schools named by slug or URN (all when none are named).

    A named school whose file is broken, or a name that matches no school, is reported as
    broken so the run fails with its name rather than silently doing nothing; a URN that
    matches no school is also an error naming it, with the nearest URNs the trust has.
    (An unknown slug is already an error of the loader: "no school file for …".)
    """
    wanted = {s.strip() for s in selectors if s.strip()}
    if not wanted:
        return prepared
    notices = tuple(n for n in prepared.notices if n.slug in wanted or n.school.urn in wanted)
    found = {n.slug for n in notices} | {n.school.urn for n in notices}
    broken_selected = tuple(b for b in prepared.broken if b in wanted)
    unknown = tuple(sorted(w for w in wanted if w not in found and w not in broken_selected))
    known = {n.school.urn: n.slug for n in prepared.notices}
    errors = prepared.errors + tuple(
        _unknown_urn(where, urn, known) for urn in unknown if urn.isdigit() and prepared.valid is not None
    )
    return Prepared(prepared.inputs, notices, errors, broken_selected + unknown, prepared.valid)


def _unknown_urn(where: str, urn: str, known: dict[str, str]) -> ConfigError:
    """``schools: --school: no valid school has URN 990099; did you mean 990009 (oakfield-primary)?``"""
    close = nearest(urn, list(known))
    hint = "; did you mean " + " or ".join(f"{u} ({known[u]})" for u in close) + "?" if close else ""
    listed = (
        "" if close or len(known) > 12 else " (the trust's URNs: " + ", ".join(f"{u} {s}" for u, s in sorted(known.items())) + ")"
    )
    return ConfigError(where, None, "--school", f"no valid school has URN {urn}{hint}{listed}")


def prepare_selected(
    schools_dir: Path, shared_dir: Path, selectors: Sequence[str], *, dataset_edition: str | None = None
) -> Prepared:
    """Load, validate and select in one step, reporting only the errors that concern the run.

    Slugs are loaded alone (other schools' files are not read); a URN needs every school
    file read to find it, and then other schools' errors are left out of the report.
    `notices publish` checks the inputs before its flow run and the flow's first task checks
    them again: the second call in a process reuses the first's result while no file has
    changed (by name, size, modification time and inode), which saves ~1 s per 1,000 schools.
    """
    key = (_fingerprint(schools_dir), _fingerprint(shared_dir), tuple(selectors), dataset_edition)
    with _lock:
        if _last is not None and _last[0] == key:
            return _last[1]
    prepared = _prepare_selected(schools_dir, shared_dir, selectors, dataset_edition=dataset_edition)
    _remember(key, prepared)
    return prepared


_lock = threading.Lock()
_last: tuple[object, Prepared] | None = None


def _remember(key: object, prepared: Prepared) -> None:
    global _last
    with _lock:
        _last = (key, prepared)


def _fingerprint(folder: Path) -> tuple[str, tuple[tuple[str, int, int, int], ...]]:
    """Every file under ``folder`` (a symlink's target) by name, size, mtime and inode."""
    entries = []
    for path in sorted(folder.rglob("*")):
        try:
            stat = path.stat()
        except OSError:  # a dangling link: loading reports it
            entries.append((path.as_posix(), -1, -1, -1))
            continue
        if not path.is_dir():
            entries.append((path.as_posix(), stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return str(folder.resolve()), tuple(entries)


def _prepare_selected(schools_dir: Path, shared_dir: Path, selectors: Sequence[str], *, dataset_edition: str | None) -> Prepared:
    wanted = tuple(s.strip() for s in selectors if s.strip())
    if wanted and not any(w.isdigit() for w in wanted):
        return select_schools(load_and_compose(schools_dir, shared_dir, only=wanted, dataset_edition=dataset_edition), wanted)
    where = display_path(schools_dir)
    selected = select_schools(load_and_compose(schools_dir, shared_dir, dataset_edition=dataset_edition), wanted, where=where)
    if not wanted:
        return selected
    keep = {n.slug for n in selected.notices} | set(selected.broken)
    errors = tuple(
        e
        for e in selected.errors
        if e.field == "--school"
        or Path(e.path).parent.resolve() != schools_dir.resolve()
        or Path(e.path).stem in keep
        or Path(e.path).name.startswith("_")
    )
    return Prepared(selected.inputs, selected.notices, errors, selected.broken, selected.valid)
