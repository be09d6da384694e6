"""One YAML file → one validated model, with pydantic's errors as ``file:line: field: message``.

``read_mapping`` reads a file whose top level must be a mapping; ``validate_document``
checks it against a model; ``errors_from_validation`` rewrites each pydantic error in the
words a DPO reads (a misspelt field gets a "did you mean" from every model's field names).
"""

from __future__ import annotations

import difflib
import heapq
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from flows.config.discovery import display_path
from flows.config.errors import ConfigError
from flows.config.models import DatasetEdition, SchoolFile, TrustFile
from flows.config.text_rules import shorten
from flows.config.todo import Todo, find_todos, under_todo
from flows.config.yaml_scalars import ValueProblem
from flows.config.yaml_source import YamlDocument, YamlProblem, dotted_path, read_yaml

M = TypeVar("M", bound=BaseModel)


def load_model(path: Path, model: type[M], errors: list[ConfigError]) -> M | None:
    """Read ``path`` and validate it as ``model``; ``None`` (with the reasons in ``errors``) when it fails."""
    loaded = load_document(path, model, errors)
    return None if loaded is None else loaded[0]


def load_document(path: Path, model: type[M], errors: list[ConfigError]) -> tuple[M, YamlDocument] | None:
    """Like ``load_model``, also returning the document so later checks can name lines."""
    doc = read_mapping(path, errors)
    if doc is None:
        return None
    result = validate_document(doc, model, errors)
    return None if result is None else (result, doc)


def validate_document(doc: YamlDocument, model: type[M], errors: list[ConfigError]) -> M | None:
    """``doc`` validated as ``model``, or ``None`` with every problem added to ``errors``.

    A TODO marker (``flows.config.todo``) is reported as such, in place of whatever its field's
    type would say about it, and keeps the file from validating; so does a value the YAML
    loader could not use as written (``doc.problems``, see ``flows.config.yaml_scalars``).
    """
    todos = find_todos(doc.data)
    found = [locate_error(doc, todo.where, todo.message()) for todo in todos]
    try:
        result = model.model_validate(doc.data)
    except ValidationError as exc:
        problems = errors_from_validation(doc, exc, todos)
        errors.extend(sorted([*found, *problems], key=ConfigError.sort_key))
        return None
    found.extend(_loader_error(doc, problem) for problem in doc.problems)
    errors.extend(sorted(found, key=ConfigError.sort_key))
    return None if found else result


def read_mapping(path: Path, errors: list[ConfigError]) -> YamlDocument | None:
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
        errors.append(
            ConfigError(
                shown, 1 if doc.data is not None else None, "", f"file must be a mapping of fields (key: value), got {got}"
            )
        )
        return None
    return doc


def errors_from_validation(doc: YamlDocument, exc: ValidationError, todos: list[Todo] | None = None) -> list[ConfigError]:
    """Turn pydantic's errors into ``file:line: field: message`` errors, one per problem.

    Errors at or inside a TODO marker in ``todos`` are left out: the marker's own error says it.
    The loader's ``doc.problems`` are merged in (each ``mode`` is explained in ``flows.config.yaml_scalars``),
    and unknown fields are listed up to ``MAX_UNKNOWN_LISTED`` and then counted.
    """
    replaced = {p.where for p in doc.problems if p.mode == "replace"}
    fallback = {p.where: p for p in doc.problems if p.mode == "fallback"}
    answered: set[tuple[str | int, ...]] = set()
    problems, unknown = [], []
    for item in exc.errors(include_url=False):
        where = _clean_location(doc.data, tuple(item["loc"]))
        if todos and under_todo(where, todos) or replaced and any(where[:end] in replaced for end in range(len(where) + 1)):
            continue
        answered.add(where)
        if item["type"] == "extra_forbidden":
            unknown.append(where)  # an unknown field's value is not worth a message of its own
            continue
        message = _message(item, where)
        if where in fallback:
            message += f" ({fallback[where].note})"
        problems.append(locate_error(doc, where, message))
    problems.extend(_unknown_fields(doc, unknown))
    problems.extend(_loader_error(doc, p) for p in doc.problems if p.mode != "fallback" or p.where not in answered)
    return problems


MAX_UNKNOWN_LISTED = 20


def _unknown_fields(doc: YamlDocument, unknown: list[tuple[str | int, ...]]) -> list[ConfigError]:
    # Listed in file order up to a limit: a pasted export with 100,000 keys gives a screenful
    # that says how many, not 100,000 lines each with its own "did you mean" search.
    # Only the first few are put in order (an unknown key always has its own line).
    first = heapq.nsmallest(MAX_UNKNOWN_LISTED + 1, unknown, key=lambda where: doc.lines.get(where) or doc.line_of(where) or 0)
    listed = [locate_error(doc, where, _unknown_field(where)) for where in first[:MAX_UNKNOWN_LISTED]]
    more = len(unknown) - MAX_UNKNOWN_LISTED
    if more > 0:
        after = first[MAX_UNKNOWN_LISTED]
        listed.append(
            ConfigError(
                doc.path,
                doc.line_of(after),
                "",
                f"and {more:,} more unknown fields, the first of them {dotted_path(after)!r}; "
                f"only the first {MAX_UNKNOWN_LISTED} are listed (see `notices schema` for the fields there are)",
            )
        )
    return listed


def _loader_error(doc: YamlDocument, problem: ValueProblem) -> ConfigError:
    return ConfigError(doc.path, problem.line, dotted_path(problem.where), problem.message)


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


def locate_error(doc: YamlDocument, where: tuple[str | int, ...], message: str) -> ConfigError:
    """An error for the field at ``where`` in ``doc``, with its file, line and dotted field name."""
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


def nearest(word: str, choices: list[str]) -> list[str]:
    """Up to three of ``choices`` closest to ``word`` (a mistyped slug or URN), best first."""
    return difflib.get_close_matches(word, choices, n=3, cutoff=0.6)


def suggest_spelling(word: str, choices: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices`` to ``word``, or an empty string."""
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
        return _unknown_field(where)
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return f"expected one of: {', '.join(choices)}; got {_echo(value)}{suggest_spelling(str(value), choices)}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping of fields (key: value), got a {_kind(value)}"
    if kind in ("tuple_type", "list_type"):
        return f"expected a list (one '- item' per line), got a {_kind(value)}"
    if kind == "too_short":
        return "must list at least one item"
    if kind in ("bool_type", "bool_parsing"):
        return f"expected true or false, got {_echo(value)}"
    if kind.startswith("date"):
        return f"expected a date like 2026-09-01, got {_echo(value)}"
    if kind in ("string_type",):
        return f"expected text, got a {_kind(value)}"
    return str(item["msg"])


def _unknown_field(where: tuple[str | int, ...]) -> str:
    name = str(where[-1]) if where else ""
    return f"unknown field{suggest_spelling(name, VOCABULARY)}; check the spelling (see `notices schema`)"


def _echo(value: Any) -> str:
    """``value`` as a message repeats it: quoted like ``repr``, and no longer than a reader needs."""
    return repr(shorten(value)) if isinstance(value, str) else shorten(repr(value))
