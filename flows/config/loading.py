"""Input files → validated models, with every problem reported as ``file:line: field: message``.

Reading never stops at the first problem: each file is checked in full, every file is
checked, and a broken school only removes that school from the run. Which files are read
is decided in ``flows.config.discovery``; one file becomes one model in ``flows.config.documents``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from flows.config.dataset_files import load_dataset
from flows.config.discovery import TRUST_FILE_NAME, Skipped, display_path, scan_folder
from flows.config.documents import load_document, locate_error, nearest, read_mapping, suggest_spelling, validate_document
from flows.config.errors import ConfigError
from flows.config.models import MAX_OVERRIDES, DatasetEdition, PublishingTarget, School, SchoolFile, TrustFile
from flows.config.fields import check_slug
from flows.config.currency import BodyRegister, StaleFinding, check_acknowledgements, check_edition_bodies, load_register
from flows.config.yaml_source import YamlDocument
from flows.settings import read_settings


@dataclass(frozen=True)
class Inputs:
    """Everything read for one run: what is valid, and every problem found."""

    dataset: DatasetEdition | None
    editions: tuple[DatasetEdition, ...]
    trust: TrustFile | None
    trust_path: str
    schools: tuple[School, ...]
    errors: tuple[ConfigError, ...]
    broken: tuple[str, ...]
    """Slugs (or file names) of schools that cannot be rendered."""
    skipped: tuple[Skipped, ...] = ()
    """Files in the schools or dataset folder that were not read (not errors; named so none is missed)."""
    stale: tuple[StaleFinding, ...] = ()
    """Places where the chosen dataset edition names a body that is no longer current (``flows.config.currency``)."""


def load_inputs(
    schools_dir: Path,
    shared_dir: Path,
    *,
    dataset_edition: str | None = None,
    only: tuple[str, ...] = (),
) -> Inputs:
    """Read the dataset, the trust file and the schools (all, or the slugs in ``only``).

    Returns the valid models and every error; never raises for bad content.
    """
    errors: list[ConfigError] = []
    skipped: list[Skipped] = []
    trust_path = schools_dir / TRUST_FILE_NAME
    trust, trust_doc = load_trust_document(trust_path, errors)
    editions, dataset, register, stale = _dataset_for(shared_dir, dataset_edition, trust, trust_doc, errors, skipped)
    if trust is not None:
        errors.extend(check_acknowledgements(trust, trust_doc, register))
    overrides = publishing_override_errors(read_settings().publishing_overrides())
    if overrides:  # a run could not publish where the trust means to: as bad as a broken trust file
        errors.extend(overrides)
        trust = None
    schools, broken = load_schools(schools_dir, dataset, errors, only=only, skipped=skipped)
    return Inputs(
        dataset=dataset,
        editions=editions,
        trust=trust,
        trust_path=display_path(trust_path),
        schools=schools,
        errors=tuple(sorted(errors, key=ConfigError.sort_key)),
        broken=broken,
        skipped=tuple(skipped),
        stale=tuple(stale),
    )


def _dataset_for(
    shared_dir: Path,
    wanted: str | None,
    trust: TrustFile | None,
    trust_doc: YamlDocument | None,
    errors: list[ConfigError],
    skipped: list[Skipped],
) -> tuple[tuple[DatasetEdition, ...], DatasetEdition | None, BodyRegister | None, list[StaleFinding]]:
    """Every edition, the one this run uses (the flag's, else the trust file's pin, else the latest),
    the body register, and where that edition names a body no longer current."""
    pinned = None if wanted or trust is None or trust_doc is None else trust.dataset_edition
    docs: dict[str, YamlDocument] = {}
    editions, dataset = load_dataset(shared_dir, wanted, errors, skipped, docs=docs)
    if pinned and dataset is not None and trust_doc is not None:
        dataset = _pinned(editions, pinned, trust_doc, errors)
    register = load_register(shared_dir, errors)
    stale: list[StaleFinding] = []
    if dataset is not None and register is not None:  # an edition naming a body no longer current is not used
        problems, stale = check_edition_bodies(dataset, docs[dataset.id], register)
        errors.extend(problems)
        dataset = None if problems else dataset
    return editions, dataset, register, stale


def _pinned(
    editions: tuple[DatasetEdition, ...], pinned: str, trust_doc: YamlDocument, errors: list[ConfigError]
) -> DatasetEdition | None:
    """The edition the trust file pins, or None with an error at its ``dataset_edition`` line."""
    found = next((e for e in editions if e.id == pinned), None)
    if found is None:
        available = ", ".join(e.id for e in editions)
        errors.append(
            locate_error(trust_doc, ("dataset_edition",), f"no dataset edition {pinned!r} in shared_data; available: {available}")
        )
    return found


def publishing_override_errors(overrides: Mapping[str, tuple[str, str]]) -> list[ConfigError]:
    """Check settings given outside the trust file with the trust file's own rules.

    ``overrides`` maps where each came from (``$NOTICES_S3_BUCKET``, ``--bucket``) to
    ``(field, value)``; each error names that source instead of a file and line.
    """
    problems: list[ConfigError] = []
    for source, (name, value) in overrides.items():
        try:
            PublishingTarget.model_validate({name: value})
        except ValidationError as exc:
            problems.extend(ConfigError(source, None, "", str(item["msg"])) for item in exc.errors(include_url=False))
    return problems


# --- Trust -----------------------------------------------------------------------------


def load_trust(path: Path, errors: list[ConfigError]) -> TrustFile | None:
    """Read the trust file, or record why it cannot be used."""
    return load_trust_document(path, errors)[0]


def load_trust_document(path: Path, errors: list[ConfigError]) -> tuple[TrustFile | None, YamlDocument | None]:
    """Like ``load_trust``, also returning the document so later checks can name lines."""
    if not path.is_file():
        errors.append(
            ConfigError(
                display_path(path), None, "", "trust file is missing: every school needs the trust as its data controller"
            )
        )
        return None, None
    loaded = load_document(path, TrustFile, errors)
    return (None, None) if loaded is None else loaded


# --- Schools ---------------------------------------------------------------------------


def load_schools(
    schools_dir: Path,
    dataset: DatasetEdition | None,
    errors: list[ConfigError],
    *,
    only: tuple[str, ...] = (),
    skipped: list[Skipped] | None = None,
) -> tuple[tuple[School, ...], tuple[str, ...]]:
    """Read and check every school file; return the valid schools and the broken ones' slugs."""
    files, passed = scan_folder(schools_dir, ignore=(TRUST_FILE_NAME,))
    if skipped is not None:
        skipped.extend(passed)
    if not schools_dir.is_dir():
        errors.append(ConfigError(display_path(schools_dir), None, "", "schools folder does not exist"))
    elif not files:
        errors.append(ConfigError(display_path(schools_dir), None, "", "no school files (<slug>.yaml) found"))
    known = {p.stem for p in files}
    for slug in only:
        if slug not in known:
            errors.append(ConfigError(display_path(schools_dir), None, "", _no_school_file(slug, known)))
    if only:
        files = [p for p in files if p.stem in only]
    broken: set[str] = set()
    loaded: list[tuple[School, YamlDocument]] = []
    for path in files:
        result = _load_school(path, dataset, errors)
        if result is None:
            broken.add(path.stem)
        else:
            loaded.append(result)
    for slug in _duplicates(loaded, files, errors):
        broken.add(slug)
    schools = tuple(s for s, _ in loaded if s.slug not in broken)
    return schools, tuple(sorted(broken))


def _no_school_file(slug: str, known: set[str]) -> str:
    """``no school file for 'oakfeld-primary' (oakfeld-primary.yaml); did you mean 'oakfield-primary'?``"""
    close = nearest(slug, sorted(known))
    hint = "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
    return f"no school file for {slug!r} ({slug}.yaml){hint}"


def _load_school(path: Path, dataset: DatasetEdition | None, errors: list[ConfigError]) -> tuple[School, YamlDocument] | None:
    shown = display_path(path)
    before = len(errors)
    try:
        check_slug(path.stem)
    except Exception:
        errors.append(
            ConfigError(
                shown,
                None,
                "",
                "file name must be the school's slug: lower-case letters, digits and hyphens, e.g. oakfield-primary.yaml",
            )
        )
    doc = read_mapping(path, errors)
    if doc is None:
        return None
    config = validate_document(doc, SchoolFile, errors)
    # Checked on the raw data, so an unknown recipient is reported even when other
    # fields of the same file are wrong: every problem at once.
    overrides = doc.data.get("recipient_overrides")
    if dataset is not None and isinstance(overrides, dict) and len(overrides) <= MAX_OVERRIDES:
        ids = [r.id for r in dataset.recipients]
        for key in overrides:
            if key not in ids:
                hint = suggest_spelling(str(key), ids)
                errors.append(
                    locate_error(
                        doc,
                        ("recipient_overrides", key),
                        f"unknown DfE recipient {key!r}{hint}; expected one of: {', '.join(ids)}",
                    )
                )
    if config is None or len(errors) != before:
        return None
    return School(slug=path.stem, path=shown, config=config), doc


def _duplicates(loaded: list[tuple[School, YamlDocument]], files: list[Path], errors: list[ConfigError]) -> set[str]:
    """Report URNs used twice and slugs given by two files; all parties are broken."""
    broken: set[str] = set()
    by_urn: dict[str, list[tuple[School, YamlDocument]]] = {}
    for school, doc in loaded:
        by_urn.setdefault(school.config.urn, []).append((school, doc))
    for urn, group in by_urn.items():
        if len(group) < 2:
            continue
        for school, doc in group:
            others = ", ".join(f"{o.path}:{d.line_of(('urn',))}" for o, d in group if o is not school)
            errors.append(locate_error(doc, ("urn",), f"URN {urn} is also used by {others}; each school needs its own URN"))
            broken.add(school.slug)
    by_slug: dict[str, list[Path]] = {}
    for path in files:
        by_slug.setdefault(path.stem, []).append(path)
    for slug, paths in by_slug.items():
        if len(paths) > 1:
            for path in paths:
                others = ", ".join(display_path(p) for p in paths if p != path)
                errors.append(
                    ConfigError(
                        display_path(path), None, "", f"slug {slug!r} is also given by {others}; keep one file per school"
                    )
                )
            broken.add(slug)
    return broken
