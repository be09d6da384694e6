"""Read a YAML file safely and remember the line of every value.

PyYAML's composer gives a node tree with source marks; we build plain Python values from
it ourselves so that we can

* record ``path → line`` for every key and list item (errors then say ``file:14:``),
* refuse anchors and aliases (a "billion laughs" alias bomb expands nothing here),
* refuse files that are too large or not UTF-8 before parsing anything,
* record, without stopping, every value that cannot be used as written: duplicate keys
  (PyYAML silently keeps the last one, hiding a DPO's edit), tags, merge keys, and
  scalars PyYAML cannot build (``2026-02-30``, a 5,000-digit number; ``flows.config.yaml_scalars``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from flows.config.errors import ConfigError
from flows.config.text_rules import shorten, visible
from flows.config.yaml_scalars import Mode, ValueProblem, build_scalar

MAX_BYTES = 1024 * 1024
KEY_CHARS = 60  # the most of one key an error's field name shows

try:  # the C loader is several times faster and keeps marks; fall back where absent
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path_ = tuple[str | int, ...]

_PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null", "timestamp")}


@dataclass(frozen=True)
class YamlDocument:
    """A parsed YAML file: its data and the 1-based line of each path in it."""

    path: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: tuple[ValueProblem, ...] = ()
    """Values that could not be used as written (``flows.config.yaml_scalars``); the file is invalid if any."""

    def line_of(self, where: Path_) -> int | None:
        """The line of ``where``, or of its nearest ancestor that has one."""
        for end in range(len(where), -1, -1):
            line = self.lines.get(tuple(where[:end]))
            if line is not None:
                return line
        return None


class YamlProblem(Exception):
    """A file that cannot be read as YAML; carries the ``ConfigError`` to report."""

    def __init__(self, error: ConfigError) -> None:
        super().__init__(str(error))
        self.error = error


def read_yaml(path: Path, display: str) -> YamlDocument:
    """Read ``path`` and return its data with line marks; ``display`` names it in errors.

    Raises ``YamlProblem`` for a file that is too large, not UTF-8, not valid YAML, or uses
    aliases; values it cannot use are in the document's ``problems``.
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise YamlProblem(ConfigError(display, None, "", f"file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes (1 MB)"))
    raw = path.read_bytes()
    text = _decode(raw, display)
    return parse_yaml(text, display)


_UTF16_32 = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _decode(raw: bytes, display: str) -> str:
    for bom, name in _UTF16_32.items():
        if raw.startswith(bom):
            raise YamlProblem(ConfigError(display, None, "", f"file is {name} text; save it as UTF-8"))
    if b"\x00" in raw:
        # UTF-8 allows NUL, but a text file never holds one: most likely UTF-16 without a mark.
        offset = raw.index(b"\x00")
        line = raw[:offset].count(b"\n") + 1
        raise YamlProblem(
            ConfigError(display, line, "", f"file contains a NUL byte at offset {offset} (UTF-16 text?); save it as UTF-8")
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise YamlProblem(
            ConfigError(
                display, line, "", f"file is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save it as UTF-8"
            )
        ) from None


def parse_yaml(text: str, display: str) -> YamlDocument:
    """Parse YAML text into data plus line marks (see ``read_yaml``)."""
    if "*" in text:  # only then can there be an alias; find it with its line
        _refuse_aliases(text, display)
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.reader.ReaderError as exc:
        # A raw control character in the file: PyYAML's message gives a character offset.
        at = text[: exc.position].count("\n") + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise YamlProblem(ConfigError(display, at, "", f"file contains a control character U+{code:04X}; remove it")) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.context_mark and exc.problem:
            problem += f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
        raise YamlProblem(ConfigError(display, line, "", f"YAML syntax error: {problem}")) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(ConfigError(display, None, "", f"YAML syntax error: {exc}")) from None
    except RecursionError:
        raise YamlProblem(ConfigError(display, None, "", "YAML is nested too deeply")) from None
    finally:
        loader.dispose()
    if root is None:
        return YamlDocument(display, None, {})
    builder = _Builder(loader, display)
    try:
        data = builder.build(root, ())
    except RecursionError:
        raise YamlProblem(ConfigError(display, None, "", "YAML is nested too deeply")) from None
    return YamlDocument(display, data, builder.lines, tuple(builder.problems))


def _refuse_aliases(text: str, display: str) -> None:
    # Aliases are how "billion laughs" bombs work and have no use in a notice
    # configuration. Scanning events finds each alias with its own line.
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else None
                raise YamlProblem(
                    ConfigError(
                        display, line, "", "YAML anchors and aliases (&name / *name) are not supported; write the value out"
                    )
                )
    except yaml.YAMLError:
        return  # the parse below reports the syntax error with its line


class _Builder:
    def __init__(self, loader: Any, display: str) -> None:
        self.loader = loader
        self.display = display
        self.lines: dict[Path_, int] = {}
        self.problems: list[ValueProblem] = []
        self.seen: set[int] = set()

    def problem(self, node: yaml.Node, where: Path_, message: str, mode: Mode = "replace", note: str = "") -> None:
        self.problems.append(ValueProblem(_clean(where), node.start_mark.line + 1, message, mode, note))

    def build(self, node: yaml.Node, where: Path_) -> Any:
        # An alias is the same node object reached twice; anchors and aliases have no use
        # in a notice configuration and are how alias bombs work, so refuse them outright.
        if id(node) in self.seen:
            raise YamlProblem(
                ConfigError(
                    self.display,
                    node.start_mark.line + 1,
                    _dotted(where),
                    "YAML anchors and aliases (&name / *name) are not supported; write the value out",
                )
            )
        self.seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            # Explicit tags (!!python/object, !!binary, custom !tags) have no place in a
            # notice configuration; refuse them rather than guess what was meant. Nothing
            # tagged is ever constructed: a scalar's text (or nothing) stands in for it.
            self.problem(node, where, f"YAML tag {shorten(node.tag, 80)!r} is not supported; write a plain value")
            return node.value if isinstance(node, yaml.ScalarNode) else None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, where)
        if isinstance(node, yaml.ScalarNode):
            built = build_scalar(self.loader, node)
            if built.problem is not None:
                self.problem(node, where, *built.problem)
            return built.value
        result = []
        for index, item in enumerate(node.value):
            self.lines[(*where, index)] = item.start_mark.line + 1
            result.append(self.build(item, (*where, index)))
        return result

    def _mapping(self, node: yaml.MappingNode, where: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                # The mapping lacks whatever the merge would have added: its own checks would only mislead.
                self.problem(key_node, where, "YAML merge keys (<<) are not supported")
                continue
            key = self._key(key_node, where)
            line = key_node.start_mark.line + 1
            if key in result:
                first = self.lines.get((*where, key))
                self.problem(key_node, (*where, key), f"duplicate key; it is already set on line {first}", "report")
                continue
            self.lines[(*where, key)] = line
            result[key] = self.build(value_node, (*where, key))
        return result

    def _key(self, node: yaml.Node, where: Path_) -> str:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            key = self.build(node, (*where, "<key>"))
            return key if isinstance(key, str) else str(key)
        built = build_scalar(self.loader, node)
        key = built.value if isinstance(built.value, str) else str(built.value)
        if built.problem is not None:  # the key's text names it; the problem is the field's
            self.problem(node, (*where, key), *built.problem)
        return key


def _clean(where: Path_) -> Path_:
    return tuple(p for p in where if p != "<key>")


def _dotted(where: Path_) -> str:
    return dotted_path(_clean(where))


def dotted_path(where: tuple[str | int, ...]) -> str:
    """Format a path as an editor reads it: ``dpo.email``, ``purposes[2].lawful_basis``."""
    out = ""
    for part in where:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # Keys are whatever the file says, escape sequences included: show them as text,
            # and no longer than a reader needs to find them.
            name = visible(shorten(str(part), KEY_CHARS))
            out += f".{name}" if out else name
    return out
