"""`notices import-gias`: one school file per open establishment of a trust, from the GIAS export.

A school is matched to an existing file by its URN (the ``urn:`` of every file in the
folder), not by file name, so a file the DPO renamed is still found. Without ``update`` an
existing file is never written; with it only the GIAS-owned fields change
(``flows.gias.school_files.update_school``). A folder without ``_trust.yaml`` gets a starter one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ruamel.yaml import YAMLError

from flows.config.discovery import TRUST_FILE_NAME, school_files
from flows.gias.export import Establishment, TrustExport, read_trust
from flows.gias.fields import gias_fields, make_slug
from flows.gias.school_files import dump, new_school, read_document, starter_trust, update_school, write_atomically
from flows.config.fields import check_urn
from flows.config.yaml_source import YamlProblem, read_yaml

Action = Literal["created", "updated", "unchanged", "kept"]


@dataclass(frozen=True)
class SchoolOutcome:
    """What import-gias did with one establishment's file, and which GIAS fields changed (or would)."""

    urn: str
    path: Path
    action: Action
    changes: tuple[str, ...] = ()


@dataclass
class ImportReport:
    """Everything one import did, for the summary line."""

    export: TrustExport
    outcomes: list[SchoolOutcome] = field(default_factory=list)
    trust_file: Path | None = None
    """The starter trust file, when this import wrote one."""
    warnings: list[str] = field(default_factory=list)

    def count(self, action: Action) -> int:
        """How many schools had ``action``."""
        return sum(1 for o in self.outcomes if o.action == action)

    def summary(self) -> str:
        """The one-line summary the command prints last."""
        export = self.export
        return (
            f"created {self.count('created')}, updated {self.count('updated')}, unchanged {self.count('unchanged')}, "
            f"kept (exists, no --update) {self.count('kept')}, skipped closed {export.closed}, "
            f"skipped proposed-to-open {export.proposed}, skipped other trusts {export.other_trusts}"
            + (f", skipped other status {len(export.other_status)}" if export.other_status else "")
        )


def import_gias(csv_path: Path, trust: str, out_dir: Path, *, update: bool = False) -> ImportReport:
    """Create (or with ``update`` refresh) the school files of ``trust``'s open establishments in ``out_dir``.

    Raises ``flows.gias.export.GiasError`` when the export cannot be used; nothing is written then.
    """
    export = read_trust(csv_path, trust)
    report = ImportReport(export)
    for row in export.other_status:
        report.warnings.append(f"skipped URN {row.urn} {row.name}: status {row.status!r} is not one import-gias knows")
    out_dir.mkdir(parents=True, exist_ok=True)
    by_urn, taken = _existing(out_dir, report.warnings)
    for est in export.establishments:
        try:
            urn = check_urn(est.urn)
        except ValueError:
            report.warnings.append(f"skipped {est.name}: its URN {est.urn!r} is not 6 digits")
            continue
        if urn in by_urn:
            outcome = _refresh(by_urn[urn], est, urn, update, report.warnings)
        else:
            outcome = _create(out_dir, est, urn, taken, report.warnings)
        if outcome is not None:
            report.outcomes.append(outcome)
    trust_path = out_dir / TRUST_FILE_NAME
    if not trust_path.exists():  # an existing trust file is the DPO's: never touched
        write_atomically(trust_path, dump(starter_trust(export.trust_name)))
        report.trust_file = trust_path
    return report


def _existing(out_dir: Path, warnings: list[str]) -> tuple[dict[str, Path], set[str]]:
    """The school files already in ``out_dir`` by URN, and every slug (file stem) in use."""
    by_urn: dict[str, Path] = {}
    taken: set[str] = set()
    for path in school_files(out_dir):
        taken.add(path.stem)
        try:
            data = read_yaml(path, str(path)).data
        except (YamlProblem, OSError) as exc:
            warnings.append(f"{path}: cannot read its urn ({exc}); a school with that URN gets a new file")
            continue
        raw = data.get("urn") if isinstance(data, dict) else None
        if raw is None:
            continue
        urn = str(raw).strip()
        if urn in by_urn:
            warnings.append(f"{path}: URN {urn} is also in {by_urn[urn]}; updating only {by_urn[urn].name}")
            continue
        by_urn[urn] = path
    return by_urn, taken


def _refresh(path: Path, est: Establishment, urn: str, update: bool, warnings: list[str]) -> SchoolOutcome | None:
    try:
        document = read_document(path)
    except (YAMLError, ValueError, OSError) as exc:
        warnings.append(f"{path}: not updated, it cannot be read as YAML ({exc})")
        return None
    changes = tuple(update_school(document, gias_fields(est)))
    if not update:
        return SchoolOutcome(urn, path, "kept", changes)
    if not changes:
        return SchoolOutcome(urn, path, "unchanged")
    write_atomically(path, dump(document))
    return SchoolOutcome(urn, path, "updated", changes)


def _create(out_dir: Path, est: Establishment, urn: str, taken: set[str], warnings: list[str]) -> SchoolOutcome | None:
    slug = make_slug(est.name) or f"school-{urn}"
    if slug in taken:
        slug = f"{slug}-{urn}"  # two schools of one name (or a file of another school): the URN tells them apart
    if slug in taken:
        warnings.append(f"skipped URN {urn} {est.name}: {slug}.yaml already exists for another school")
        return None
    taken.add(slug)
    path = out_dir / f"{slug}.yaml"
    write_atomically(path, dump(new_school(gias_fields(est))))
    return SchoolOutcome(urn, path, "created")
