"""What changed between two editions (pure): change notes, class, unified diff, redline.

Change notes are written for the DPO ("DfE recipient added: Learning Records Service (LRS)",
"DPO email changed: a@… → b@…"). The class is default deny (``flows.changeclass``):

* **material**: any change to the words, which needs a named approver;
* **minor**: only fields the trust declared minor (a headteacher's name, a phone number);
* **presentation**: the words are the same, only the layout changed (decided elsewhere,
  from the hashes).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any

import htmldiff2
from markupsafe import Markup

from flows.changeclass import WORDS, changed_paths, classify
from flows.editions import ChangeClass, canonical_content

_FIELD_NAMES = {
    "school": "School",
    "controller": "Data controller",
    "dpo": "DPO",
    "complaints": "Complaints route",
    "categories": "Categories of information",
    "special_categories": "Special category conditions",
    "voluntary": "Information asked for voluntarily",
    "retention": "Retention",
    "source": "Source of the information",
    "statutory_requirement": "Statutory requirement statement",
    "international_transfers": "International transfers statement",
    "automated_decision_making": "Automated decision-making statement",
    "rights": "Rights section",
    "consent_can_be_withdrawn": "Consent withdrawal statement",
    "complain_to": "ICO contact",
    "dataset": "Dataset attribution",
    "dfe_section": "DfE section introduction",
}


def describe_changes(
    old_json: dict[str, Any], new_json: dict[str, Any], *, minor_fields: Collection[str] = (), same_wording_source: bool = True
) -> tuple[tuple[str, ...], ChangeClass]:
    """Change notes and class between two ``notice.json`` documents (canonical parts only).

    The class is default deny (``flows.changeclass``): ``minor`` only when every changed field
    is one the trust declared minor and the templates and code are the previous edition's.
    """
    old, new = canonical_content(old_json), canonical_content(new_json)
    notes: list[str] = []
    notes += _dfe_changes(old.get("dfe_recipients", []), new.get("dfe_recipients", []))
    notes += _keyed_changes("Local recipient", "name", old.get("local_recipients", []), new.get("local_recipients", []))
    notes += _keyed_changes("Purpose", "purpose", old.get("purposes", []), new.get("purposes", []))
    handled = {"dfe_recipients", "local_recipients", "purposes"}
    for key in sorted(set(old) | set(new) - handled):
        if key in handled or old.get(key) == new.get(key):
            continue
        notes += _field_changes(_FIELD_NAMES.get(key, key.replace("_", " ").capitalize()), old.get(key), new.get(key))
    paths = changed_paths(old_json, new_json) or {WORDS}
    return tuple(notes), classify(paths, minor_fields, same_wording_source=same_wording_source)


def _dfe_changes(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    def label(r: dict[str, Any]) -> str:
        return r["name"] if r["abbreviation"] == r["name"] else f"{r['name']} ({r['abbreviation']})"

    before = {r["id"]: r for r in old if r.get("applies")}
    after = {r["id"]: r for r in new if r.get("applies")}
    notes = [f"DfE recipient added: {label(after[i])}" for i in after if i not in before]
    notes += [f"DfE recipient removed: {label(before[i])}" for i in before if i not in after]
    for rid in (i for i in after if i in before):
        a, b = before[rid], after[rid]
        if a.get("name") != b.get("name") or a.get("abbreviation") != b.get("abbreviation"):
            notes.append(f"DfE recipient renamed: {label(a)} → {label(b)}")
        if a.get("text") != b.get("text"):
            notes.append(f"DfE section reworded: {label(b)}")
        if a.get("link") != b.get("link"):
            notes.append(f"DfE recipient link changed: {label(b)}")
        if a.get("reason") != b.get("reason"):
            notes.append(f"Reason for including {label(b)} changed")
    return notes


def _keyed_changes(what: str, key: str, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[str]:
    before = {item[key]: item for item in old}
    after = {item[key]: item for item in new}
    notes = [f"{what} added: {name}" for name in after if name not in before]
    notes += [f"{what} removed: {name}" for name in before if name not in after]
    for name in (n for n in after if n in before):
        a, b = before[name], after[name]
        for field in sorted(set(a) | set(b)):
            if field == key or field.endswith("_text") or a.get(field) == b.get(field):
                continue
            notes.append(f"{what} {name}: {field.replace('_', ' ')} changed: {_short(a.get(field))} → {_short(b.get(field))}")
    return notes


def _field_changes(label: str, old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        notes: list[str] = []
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                notes += _field_changes(label, old.get(key), new.get(key), f"{path} {key.replace('_', ' ')}".strip())
        return notes
    name = f"{label} {path}".strip()
    if isinstance(old, list) and isinstance(new, list) and all(isinstance(x, str) for x in old + new):
        notes = [f"{name}: added “{_short(x)}”" for x in new if x not in old]
        notes += [f"{name}: removed “{_short(x)}”" for x in old if x not in new]
        return notes or [f"{name}: reordered"]
    if isinstance(old, str) and isinstance(new, str) and (len(old) > 60 or len(new) > 60):
        return [f"{name} reworded"]
    return [f"{name} changed: {_short(old)} → {_short(new)}"]


def _short(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def unified_diff(old_markdown: str, new_markdown: str, old_label: str, new_label: str) -> str:
    """A unified diff of the Markdown editions, for the terminal and run reports."""
    return "".join(
        difflib.unified_diff(
            old_markdown.splitlines(keepends=True),
            new_markdown.splitlines(keepends=True),
            fromfile=old_label,
            tofile=new_label,
        )
    )


_BODY = re.compile(r"<section class=\"tn-notice\"[^>]*>(.*)</section>\s*$", re.S)
# htmldiff2 puts a replaced phrase's <del> and <ins> side by side ("<del>Dr Casey</del><ins>Ms Jordan</ins>"),
# so its text, as a screen reader or copy-and-paste gives it, runs the words together.
_ADJACENT_CHANGE = re.compile(r"(</del>|</ins>)(?=<(?:ins|del)\b)")


def redline(old_fragment: str, new_fragment: str) -> Markup:
    """Inline ``<ins>``/``<del>`` view of two fragments, keeping lists and tables intact."""
    old = _BODY.search(old_fragment)
    new = _BODY.search(new_fragment)
    marked = htmldiff2.render_html_diff(old.group(1) if old else old_fragment, new.group(1) if new else new_fragment)
    return Markup(separate_changes(marked))


def separate_changes(marked: str) -> str:
    """A space between a deletion and the insertion that follows it, so their words stay apart."""
    return _ADJACENT_CHANGE.sub(r"\1 ", marked)
