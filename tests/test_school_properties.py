"""Property: any text in any string field of a school file validates or is a clear error.

Arbitrary text (control, bidirectional, zero-width and full-width characters mixed in) goes
into every string field of a real school file, through YAML, the loader, composition and
rendering. It must either be refused with a ``file:line: field: message`` error, never an
exception, or validate, and then hold no control or bidi character and render to a
well-formed Atom feed.
"""

from __future__ import annotations

import json
import shutil
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from flows.editions.diff import describe_changes
from flows.config.discovery import display_path
from flows.editions.records import Edition, Manifest
from flows.publish.pages import CHANGE_LABELS
from flows.notice.dataset_text import render_dataset_text
from flows.notice.render import build_environment, render_notice
from flows.notice.prepare import load_and_compose

from .conftest import SCHOOLS, SHARED, TEMPLATES

SLUG = "prop-school"
BASE: dict[str, Any] = {
    **yaml.safe_load((SCHOOLS / "oakfield-primary.yaml").read_text(encoding="utf-8")),
    "categories": ["names and addresses", "attendance"],
    "source": "Parents and previous schools.",
    "retention": {"statement": "Until the pupil is 25.", "policy_url": "https://example.org/retention"},
    "recipient_overrides": {"ofsted": {"include": True, "reason": "Inspection."}},
    "branding": {"colour": "#1d4f91"},
}
# Free text first (what a DPO types), then fields with a format; both get arbitrary text.
FREE_TEXT: list[tuple[str | int, ...]] = [
    ("name",),
    ("headteacher",),
    ("address", "lines", 0),
    ("address", "town"),
    ("categories", 0),
    ("source",),
    ("retention", "statement"),
    ("local_recipients", 0, "name"),
    ("local_recipients", 0, "purpose"),
    ("local_recipients", 0, "legislation"),
    ("recipient_overrides", "ofsted", "reason"),
]
FORMATTED: list[tuple[str | int, ...]] = [
    ("urn",),
    ("phase",),
    ("email",),
    ("phone",),
    ("website",),
    ("address", "postcode"),
    ("retention", "policy_url"),
    ("branding", "colour"),
]
HOSTILE = (
    "\x00\x01\x08\x0b\x1b\x7f\x85\x9b\t\n\r \u00a0\u200b\u200d\u2028\u202a\u202e\u2066\u2069\ufeff\uffff\u3164９０<>&\"'{}%#*!|:-"
)
TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(HOSTILE), max_size=8),
    st.tuples(st.text(max_size=12), st.text(alphabet=st.sampled_from(HOSTILE), max_size=4), st.text(max_size=12)).map("".join),
    # Mostly valid (twice as likely): any visible character, markup and XML specials included.
    *[st.text(alphabet=st.characters(exclude_categories=("Cc", "Cs", "Cf", "Zl", "Zp")), min_size=1, max_size=40)] * 2,
)
FIELD = st.one_of(st.sampled_from(FREE_TEXT), st.sampled_from(FREE_TEXT), st.sampled_from(FORMATTED))
BIDI = {*range(0x202A, 0x202F), *range(0x2066, 0x206A)}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("props")
    shutil.copytree(SCHOOLS, root / "schools")
    shutil.copytree(SHARED, root / "shared_data")
    sample = load_and_compose(root / "schools", root / "shared_data", only=("oakfield-primary",))
    env = build_environment(TEMPLATES)
    text = render_dataset_text(sample.notices[0].dataset)
    old_json = json.loads(render_notice(env, sample.notices[0], text, pdf=False).files["notice.json"])
    yield {"root": root, "env": env, "text": text, "old_json": old_json}


def _with(data: dict[str, Any], where: tuple[str | int, ...], value: str) -> None:
    target: Any = data
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes=st.lists(st.tuples(FIELD, TEXT), min_size=1, max_size=3))
def test_any_text_validates_cleanly_or_is_a_file_line_error(
    world: dict[str, Any], changes: list[tuple[tuple[str | int, ...], str]]
) -> None:
    data = json.loads(json.dumps(BASE))
    for where, value in changes:
        _with(data, where, value)
    path = world["root"] / "schools" / f"{SLUG}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    prepared = load_and_compose(world["root"] / "schools", world["root"] / "shared_data", only=(SLUG,))
    event("refused" if prepared.errors else "valid")
    if prepared.errors:
        for error in prepared.errors:
            assert error.path == display_path(path), str(error)
            assert error.line is not None and error.message, str(error)
            assert str(error).isprintable(), repr(str(error))  # safe to print to a terminal
        assert prepared.notices == ()
        return
    (notice,) = prepared.notices
    for text in _strings(notice.school.model_dump()):
        for char in text:
            assert unicodedata.category(char) not in ("Cc", "Cs") or char in "\n\t", repr(text)
            assert ord(char) not in BIDI, repr(text)
        if text:
            assert text.strip(), repr(text)
    files = render_notice(world["env"], notice, world["text"], pdf=False).files
    notes, change_class = describe_changes(world["old_json"], json.loads(files["notice.json"]))
    edition = Edition(
        number=2,
        content_hash="x",
        presentation_hash="y",
        dataset_edition="2026-1",
        template_version="1",
        published_at="2026-11-28T17:30:00Z",
        change_class=change_class,
        changes=notes,
        approved_by=notice.school.headteacher,
    )
    manifest = Manifest(slug=SLUG, urn=notice.school.urn, name=notice.school.name, editions=(edition,))
    feed = (
        world["env"]
        .get_template("feed.xml.j2")
        .render(
            manifest=manifest,
            base_url="https://example.org/",
            feed_id="tag:example.org,2026:x",
            trust_name=notice.controller.name,
            change_label=CHANGE_LABELS,
        )
    )
    root = ET.fromstring(feed.encode("utf-8"))  # well-formed, or this raises
    assert notice.school.name in (root.findtext("{http://www.w3.org/2005/Atom}title") or "")
