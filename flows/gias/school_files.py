"""School and trust files written by import-gias, and updated in place with the DPO's edits kept.

ruamel.yaml's round-trip mode is used for both: an update changes only the values GIAS
owns and leaves every other key, comment, quote style and list layout of the file as the
DPO left it (PyYAML would drop the comments). Files are replaced atomically, so an
interrupted import never leaves half a school file.
"""

from __future__ import annotations

import io
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, ScalarString

from flows.gias.fields import ADDRESS_FIELDS, GIAS_FIELDS, SCHOOL_TODOS, same_value
from flows.config.todo import is_marker, todo_marker

SCHOOL_HEADER = """\
Imported from Get Information about Schools (GIAS) by `notices import-gias`.
GIAS owns name, urn, phase, ages, address, website, phone and headteacher:
`notices import-gias --update` refreshes them from a newer export and keeps
everything else in this file, comments included.
Replace every "TODO" value; `notices validate` lists the ones left."""

TRUST_HEADER = """\
The trust file, started by `notices import-gias`: the trust is the data controller for its
academies, and every school file in this folder inherits the `defaults` below (a school that
sets the same field replaces the default). The defaults are the project's sample wording
(flows/data/synthetic-trust.yaml): read them and make them yours.
Replace every "TODO" value; `notices validate` lists the ones left. import-gias never
changes this file once it exists."""


def yaml_engine() -> YAML:
    """A round-trip YAML reader/writer laid out like the sample files (so they dump unchanged)."""
    engine = YAML()
    engine.preserve_quotes = True
    engine.width = 4096  # never re-wrap a DPO's long line
    engine.indent(mapping=2, sequence=4, offset=2)
    return engine


def read_document(path: Path) -> CommentedMap:
    """A school file as a round-trip mapping (keys, comments and quoting kept)."""
    data = yaml_engine().load(path.read_text(encoding="utf-8"))
    if not isinstance(data, CommentedMap):
        raise ValueError("the file is not a mapping of fields")
    return data


def dump(document: CommentedMap) -> str:
    """``document`` as YAML text."""
    out = io.StringIO()
    yaml_engine().dump(document, out)
    return out.getvalue()


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and a rename."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _styled(value: Any, key: str = "") -> Any:
    """A value as the file should show it: markers and telephone numbers in double quotes, short lists in brackets."""
    if isinstance(value, dict):
        mapping = CommentedMap()
        for name, item in value.items():
            mapping[name] = _styled(item, name)
        return mapping
    if isinstance(value, list):
        seq = CommentedSeq(_styled(item) for item in value)
        # [Oakfield Road] as in the samples; a list holding a long TODO reads better one item a line
        if any(is_marker(item) for item in value):
            seq.fa.set_block_style()
        else:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, str) and (is_marker(value) or key == "phone"):
        return DoubleQuotedScalarString(value)  # a telephone number unquoted would be a YAML number
    return value


def new_school(fields: dict[str, Any]) -> CommentedMap:
    """A new school file: the GIAS fields, then the TODOs for what GIAS never knows."""
    document = CommentedMap()
    for key, value in fields.items():
        document[key] = _styled(value, key)
    for key, what in SCHOOL_TODOS.items():
        document[key] = DoubleQuotedScalarString(todo_marker(what))
    document.yaml_set_start_comment(SCHOOL_HEADER)
    return document


def update_school(document: CommentedMap, fields: dict[str, Any]) -> list[str]:
    """Set the GIAS-owned fields of ``document`` to ``fields``; return the names of those changed.

    A value GIAS does not know (a TODO in ``fields``) never replaces what the file says;
    a TODO left in the file is filled when GIAS now knows the value; fields GIAS does not
    own are never read or written.
    """
    changed: list[str] = []
    for key in GIAS_FIELDS:
        new = fields[key]
        if key == "address" and isinstance(document.get(key), dict):
            for part in ADDRESS_FIELDS:
                if _apply(document[key], part, new[part]):
                    changed.append(f"address.{part}")
        elif _apply(document, key, new):
            changed.append(key)
    return changed


def _apply(mapping: CommentedMap, key: str, new: Any) -> bool:
    old = mapping.get(key)
    if key not in mapping:
        mapping[key] = _styled(new, key)  # a required field the file lacks: GIAS's value, or its TODO
        return True
    if _unknown(new) or (not _unknown(old) and same_value(key, old, new)):
        return False
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        del old[:]
        old.extend(_styled(item, key) for item in new)  # in place: the list's own style and comments stay
    elif isinstance(old, ScalarString) and isinstance(new, str) and not is_marker(old):
        mapping[key] = type(old)(new)  # the DPO's quoting stays
    else:
        mapping[key] = _styled(new, key)
    return True


def _unknown(value: Any) -> bool:
    if isinstance(value, list):
        return any(is_marker(item) for item in value)
    if isinstance(value, dict):
        return any(_unknown(item) for item in value.values())
    return is_marker(value)


def starter_trust(trust_name: str) -> CommentedMap:
    """A trust file with the trust's name, TODOs for what only the trust knows and the sample defaults."""
    document = _styled(_trust_todos(trust_name))
    document["defaults"] = _starter_defaults()
    document["publishing"] = _styled({"bucket": todo_marker("the S3 bucket to publish to, e.g. my-trust-notices")})
    document["approval"] = _starter_approval()
    document.yaml_set_start_comment(TRUST_HEADER)
    return document


def _starter_defaults() -> Any:
    """The sample trust's notice defaults, with TODOs where they are the sample's own."""
    sample = yaml_engine().load(resources.files("flows.data").joinpath("synthetic-trust.yaml").read_text(encoding="utf-8"))
    defaults = sample["defaults"]
    defaults["local_recipients"] = DoubleQuotedScalarString(
        todo_marker(
            "the organisations the trust's schools share pupil data with (a list of name, purpose, lawful_basis, legislation)"
        )
    )
    defaults["retention"]["policy_url"] = DoubleQuotedScalarString(
        todo_marker("the web address of the trust's records retention policy; delete this line if it is not published")
    )
    return defaults


def _todo_address(whose: str) -> dict[str, Any]:
    return {
        "lines": [todo_marker(f"the first line of {whose} postal address")],
        "town": todo_marker(f"the town of {whose} postal address"),
        "postcode": todo_marker(f"the postcode of {whose} postal address, e.g. EX1 2AB"),
    }


def _trust_todos(trust_name: str) -> dict[str, Any]:
    """The trust's own facts: its name, and a TODO for everything GIAS does not know."""
    return {
        "name": trust_name,
        "company_number": todo_marker("the trust's Companies House number, 8 digits in quotes, e.g. '09990001'"),
        "registered_address": _todo_address("the trust's registered"),
        "ico_registration": todo_marker("the trust's ICO registration number: Z and 7 digits, or ZA/ZB and 6 digits"),
        "website": todo_marker("the trust's website, e.g. https://trust.example.org/"),
        "dpo": {
            "name": todo_marker("the data protection officer's name (or the role, e.g. Data Protection Officer)"),
            "email": todo_marker("the data protection officer's email address, e.g. dpo@trust.example.org"),
            "phone": todo_marker("the data protection officer's telephone number in quotes, e.g. '01632 960000'"),
            "address": _todo_address("the data protection officer's"),
        },
        "complaints": {
            "contact": todo_marker("how to complain to the trust, in one or two sentences (who to contact and how)"),
            "url": todo_marker("the web address of the trust's complaints policy; delete this line if there is none"),
        },
    }


def _starter_approval() -> CommentedMap:
    """One approver to name, and first editions live at once (onboarding)."""
    approvers = CommentedSeq(
        [
            _styled(
                {
                    "name": todo_marker(
                        "the full name of a person who may approve material changes, e.g. the DPO; one entry (name, role, email) per person"
                    )
                }
            )
        ]
    )
    approvers.fa.set_block_style()  # one approver a line, as a DPO adds them
    approval = _styled({})
    approval["approvers"] = approvers
    # Onboarding: the first editions go live at once (each records that it had no approver);
    # GIAS refreshes the headteacher and phone, which change no use of pupils' data.
    approval["approve_first_editions"] = False
    approval.yaml_add_eol_comment("set true once every school is published", "approve_first_editions")
    approval["minor_fields"] = CommentedSeq(["school.headteacher", "school.phone"])
    return approval
