"""Input files → validated models, with every problem reported as ``file:line: field: message``.

Reading never stops at the first problem: each file is checked in full, every file is
checked, and a broken school only removes that school from the run.
"""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flows.errors import ConfigError
from flows.models import DatasetEdition, School, SchoolFile, TrustFile
from flows.validators import check_slug
from flows.yamlsource import YamlDocument, YamlProblem, dotted_path, read_yaml

TRUST_FILE_NAME = "_trust.yaml"
DATASET_SUBDIR = "dfe-recipients"
SCHOOL_SUFFIXES = (".yaml", ".yml")

M = TypeVar("M", bound=BaseModel)


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


def display_path(path: Path) -> str:
    """A path as the person running the command would type it (relative when possible)."""
    absolute = Path(os.path.abspath(path))
    here = Path.cwd()
    return str(absolute.relative_to(here)) if absolute.is_relative_to(here) else str(absolute)


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
    editions, dataset = load_dataset(shared_dir, dataset_edition, errors)
    trust_path = schools_dir / TRUST_FILE_NAME
    trust = load_trust(trust_path, errors)
    schools, broken = load_schools(schools_dir, dataset, errors, only=only)
    return Inputs(
        dataset=dataset,
        editions=editions,
        trust=trust,
        trust_path=display_path(trust_path),
        schools=schools,
        errors=tuple(sorted(errors, key=ConfigError.sort_key)),
        broken=broken,
    )


# --- Dataset ---------------------------------------------------------------------------


def load_dataset(
    shared_dir: Path, wanted: str | None, errors: list[ConfigError]
) -> tuple[tuple[DatasetEdition, ...], DatasetEdition | None]:
    """Read every dataset edition; return them oldest first and the one to use."""
    folder = shared_dir / DATASET_SUBDIR
    files = sorted(p for p in folder.glob("*.y*ml") if p.suffix in SCHOOL_SUFFIXES) if folder.is_dir() else []
    if not files:
        errors.append(ConfigError(display_path(folder), None, "", "no dataset edition found: expected one or more <edition>.yaml files here"))
        return (), None
    editions: list[DatasetEdition] = []
    seen: dict[str, str] = {}
    for path in files:
        shown = display_path(path)
        loaded = _load_document(path, DatasetEdition, errors)
        if loaded is None:
            continue
        edition, doc = loaded
        before = len(errors)
        errors.extend(_check_dataset(edition, doc))
        if edition.id in seen:
            errors.append(ConfigError(shown, None, "id", f"edition id {edition.id!r} is also used by {seen[edition.id]}"))
        seen[edition.id] = shown
        if len(errors) == before:
            editions.append(edition)
    editions.sort(key=lambda e: (e.effective_date, e.id))
    if len(editions) != len(files):
        return tuple(editions), None  # a broken edition file could be the latest: do not guess
    if wanted is None:
        return tuple(editions), editions[-1]
    for edition in editions:
        if edition.id == wanted:
            return tuple(editions), edition
    available = ", ".join(e.id for e in editions)
    errors.append(ConfigError(display_path(folder), None, "dataset_edition", f"no edition {wanted!r}; available: {available}"))
    return tuple(editions), None


_REFERENCE = re.compile(r"\[([^\]]+)\]\[([^\]]*)\]")


def _check_dataset(edition: DatasetEdition, doc: YamlDocument) -> list[ConfigError]:
    problems: list[ConfigError] = []
    ids = [r.id for r in edition.recipients]
    for index, recipient in enumerate(edition.recipients):
        where: tuple[str | int, ...] = ("recipients", index)
        if ids.index(recipient.id) != index:
            problems.append(_error(doc, (*where, "id"), f"recipient id {recipient.id!r} is used twice"))
        rule = recipient.applies_to
        if rule.max_age <= rule.min_age:
            problems.append(_error(doc, (*where, "applies_to", "max_age"), f"must be greater than min_age ({rule.min_age})"))
        for text in (*recipient.paragraphs, *recipient.list_items, *recipient.paragraphs_after_list, recipient.opt_out or ""):
            for _, ref in _REFERENCE.findall(text):
                if ref not in ids:
                    problems.append(_error(doc, where, f"link reference [{ref}] names no recipient; expected one of: {', '.join(ids)}"))
            if "](" in text:
                problems.append(_error(doc, where, "write links as [text][recipient-id] so the recipient's link is used"))
    return problems


# --- Trust -----------------------------------------------------------------------------


def load_trust(path: Path, errors: list[ConfigError]) -> TrustFile | None:
    """Read the trust file, or record why it cannot be used."""
    if not path.is_file():
        errors.append(ConfigError(display_path(path), None, "", "trust file is missing: every school needs the trust as its data controller"))
        return None
    return _load_model(path, TrustFile, errors)


# --- Schools ---------------------------------------------------------------------------


def school_files(schools_dir: Path) -> list[Path]:
    """The school files in a folder: every ``*.yaml``/``*.yml`` except the trust file."""
    if not schools_dir.is_dir():
        return []
    return sorted(
        p for p in schools_dir.iterdir() if p.suffix in SCHOOL_SUFFIXES and p.name != TRUST_FILE_NAME and p.is_file()
    )


def load_schools(
    schools_dir: Path,
    dataset: DatasetEdition | None,
    errors: list[ConfigError],
    *,
    only: tuple[str, ...] = (),
) -> tuple[tuple[School, ...], tuple[str, ...]]:
    """Read and check every school file; return the valid schools and the broken ones' slugs."""
    files = school_files(schools_dir)
    if not schools_dir.is_dir():
        errors.append(ConfigError(display_path(schools_dir), None, "", "schools folder does not exist"))
    elif not files:
        errors.append(ConfigError(display_path(schools_dir), None, "", "no school files (<slug>.yaml) found"))
    known = {p.stem for p in files}
    for slug in only:
        if slug not in known:
            errors.append(ConfigError(display_path(schools_dir), None, "", f"no school file for {slug!r} ({slug}.yaml)"))
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


def _load_school(path: Path, dataset: DatasetEdition | None, errors: list[ConfigError]) -> tuple[School, YamlDocument] | None:
    shown = display_path(path)
    before = len(errors)
    try:
        check_slug(path.stem)
    except Exception:
        errors.append(
            ConfigError(shown, None, "", "file name must be the school's slug: lower-case letters, digits and hyphens, e.g. oakfield-primary.yaml")
        )
    doc = _read_mapping(path, errors)
    if doc is None:
        return None
    config = _validate(doc, SchoolFile, errors)
    # Checked on the raw data, so an unknown recipient is reported even when other
    # fields of the same file are wrong: every problem at once.
    overrides = doc.data.get("recipient_overrides")
    if dataset is not None and isinstance(overrides, dict):
        ids = [r.id for r in dataset.recipients]
        for key in overrides:
            if key not in ids:
                hint = _suggest(str(key), ids)
                errors.append(
                    _error(doc, ("recipient_overrides", key), f"unknown DfE recipient {key!r}{hint}; expected one of: {', '.join(ids)}")
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
            errors.append(_error(doc, ("urn",), f"URN {urn} is also used by {others}; each school needs its own URN"))
            broken.add(school.slug)
    by_slug: dict[str, list[Path]] = {}
    for path in files:
        by_slug.setdefault(path.stem, []).append(path)
    for slug, paths in by_slug.items():
        if len(paths) > 1:
            for path in paths:
                others = ", ".join(display_path(p) for p in paths if p != path)
                errors.append(ConfigError(display_path(path), None, "", f"slug {slug!r} is also given by {others}; keep one file per school"))
            broken.add(slug)
    return broken


# --- Shared ----------------------------------------------------------------------------


def _load_model(path: Path, model: type[M], errors: list[ConfigError]) -> M | None:
    loaded = _load_document(path, model, errors)
    return None if loaded is None else loaded[0]


def _load_document(path: Path, model: type[M], errors: list[ConfigError]) -> tuple[M, YamlDocument] | None:
    doc = _read_mapping(path, errors)
    if doc is None:
        return None
    result = _validate(doc, model, errors)
    return None if result is None else (result, doc)


def _validate(doc: YamlDocument, model: type[M], errors: list[ConfigError]) -> M | None:
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        errors.extend(errors_from_validation(doc, exc))
        return None


def _read_mapping(path: Path, errors: list[ConfigError]) -> YamlDocument | None:
    """Read a YAML file whose top level must be a mapping, or record why not."""
    shown = display_path(path)
    try:
        doc = read_yaml(path, shown)
    except YamlProblem as problem:
        errors.append(problem.error)
        return None
    except OSError as exc:
        errors.append(ConfigError(shown, None, "", f"cannot read file: {exc.strerror}"))
        return None
    if not isinstance(doc.data, dict):
        got = "an empty file" if doc.data is None else f"a {_kind(doc.data)}"
        errors.append(ConfigError(shown, 1 if doc.data is not None else None, "", f"file must be a mapping of fields (key: value), got {got}"))
        return None
    return doc


def errors_from_validation(doc: YamlDocument, exc: ValidationError) -> list[ConfigError]:
    """Turn pydantic's errors into ``file:line: field: message`` errors, one per problem."""
    problems = []
    for item in exc.errors(include_url=False):
        where = _clean_location(doc.data, tuple(item["loc"]))
        problems.append(_error(doc, where, _message(item, where)))
    return problems


def _clean_location(data: Any, loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # pydantic adds validator tags (e.g. "function-before[...]") to locations inside unions;
    # keep the parts that name a real key or index in the data, and the last part (a
    # missing or unknown field's own name), so user-chosen keys survive whatever they contain.
    kept: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if isinstance(current, dict) and part in current:
            kept.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            kept.append(part)
            current = current[part]
        elif index == len(loc) - 1 and not (isinstance(part, str) and "[" in part and part.endswith("]")):
            kept.append(part)
    return tuple(kept)


def _error(doc: YamlDocument, where: tuple[str | int, ...], message: str) -> ConfigError:
    return ConfigError(doc.path, doc.line_of(where), dotted_path(where), message)


def _field_vocabulary() -> list[str]:
    names: set[str] = set()
    stack: list[type[BaseModel]] = [TrustFile, SchoolFile, DatasetEdition]
    seen: set[type[BaseModel]] = set()
    while stack:
        model = stack.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            stack.extend(_models_in(info.annotation))
    return sorted(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _models_in(arg)]


VOCABULARY = _field_vocabulary()


def _suggest(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool):
        return "true/false value"
    if isinstance(value, (int, float)):
        return "number"
    return "text value" if isinstance(value, str) else type(value).__name__


def _message(item: Any, where: tuple[str | int, ...]) -> str:
    kind = item["type"]
    value = item.get("input")
    ctx = item.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = str(where[-1]) if where else ""
        return f"unknown field{_suggest(name, VOCABULARY)}; check the spelling (see `notices schema`)"
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of: {', '.join(choices)}; got {value!r}{_suggest(str(value), choices)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields (key: value), got a {_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list (one '- item' per line), got a {_kind(value)}"
    if kind == "too_short":
        return "must list at least one item"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {value!r}"
    if kind.startswith("date"):
        return f"expected a date like 2026-09-01, got {value!r}"
    if kind in ("string_type",):
        return f"expected text, got a {_kind(value)}"
    return str(item["msg"])
