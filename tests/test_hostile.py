"""Hostile and mangled input: loading never crashes, it reports file:line errors instead."""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest

from flows.cli import editions as edition_commands
from flows.editions.records import Edition, Manifest
from flows.notice.dataset_text import render_dataset_text
from flows.notice.render import render_notice
from flows.notice.prepare import load_and_compose

from .conftest import SCHOOLS

SNIPPETS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b": ",
    b"- ",
    b"&a ",
    b"*a",
    b"!!binary ",
    b"\t",
    b"\xff\xfe",
    b"\x00",
    b"'",
    b'"',
    b"\n  ",
    b"<<: ",
    b"~",
    b"? ",
    b"%YAML 1.1\n",
    b"---\n",
    b"...\n",
    b"1e99999",
    b"0o777",
]


def _mangle(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        position = rng.randrange(len(out) + 1)
        choice = rng.random()
        if choice < 0.4:
            out[position:position] = rng.choice(SNIPPETS)
        elif choice < 0.7:
            del out[position : position + rng.randint(1, 12)]
        else:
            out[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
    return bytes(out)


@pytest.mark.parametrize("name", ["oakfield-primary.yaml", "_trust.yaml"])
def test_three_hundred_mangled_files_never_crash_the_loader(tree: Path, name: str) -> None:
    rng = random.Random(20261128)  # fixed seed: a failure is reproducible
    original = (SCHOOLS / name).read_bytes()
    target = tree / "schools" / name
    outcomes = {"valid": 0, "reported": 0}
    for _ in range(300):
        target.write_bytes(_mangle(original, rng))
        prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
        if prepared.errors:
            outcomes["reported"] += 1
            for error in prepared.errors:
                # The mangled file, or (when a trust default vanished) the school that needed it.
                assert error.path in (f"schools/{name}", "schools/oakfield-primary.yaml"), str(error)
                assert error.message
        else:
            outcomes["valid"] += 1
            assert [n.slug for n in prepared.notices] == ["oakfield-primary"]
    assert outcomes["reported"] > 100  # the mangling really breaks files


def test_deeply_nested_yaml_is_reported_not_a_crash(tree: Path) -> None:
    (tree / "schools" / "deep-school.yaml").write_text("name: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("deep-school",))
    assert [e.path for e in prepared.errors] == ["schools/deep-school.yaml"]


def test_mangled_dataset_editions_never_crash_the_loader(tree: Path) -> None:
    rng = random.Random(7)
    path = tree / "shared_data" / "dfe-recipients" / "2026-1.yaml"
    original = path.read_bytes()
    reported = 0
    for _ in range(150):
        path.write_bytes(_mangle(original, rng))
        prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
        if prepared.errors:
            reported += 1
            assert prepared.notices == ()  # a broken edition blocks every school, and says why
            assert all(e.message for e in prepared.errors)
    assert reported > 50


# --- Payloads that are valid text: kept literally, never evaluated -------------------------


def _school_with(tree: Path, **values: str) -> Path:
    path = tree / "schools" / "oakfield-primary.yaml"
    text = "\n" + path.read_text(encoding="utf-8")
    for field, value in values.items():
        start = text.index(f"\n{field}:") + 1
        end = text.index("\n", start)
        text = text[:start] + f"{field}: {json.dumps(value)}" + text[end:]
    path.write_text(text[1:], encoding="utf-8")
    return path


def test_jinja_syntax_in_a_field_is_rendered_literally_never_evaluated(tree: Path, env) -> None:
    _school_with(tree, name="Oak {{ 7*191 }} {% if true %}x{% endif %}", headteacher="{{ config.items() }}")
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
    assert prepared.errors == ()  # valid text: it is refused nowhere, and must stay inert
    (notice,) = prepared.notices
    files = render_notice(env, notice, render_dataset_text(notice.dataset), pdf=False).files
    for name in ("index.html", "fragment.html", "notice.md", "notice.json"):
        body = files[name].decode("utf-8")
        assert "1337" not in body, name  # 7*191 was never evaluated
        assert (
            "{{ 7*191 }}" in body
            or "{{ 7*191 }}".replace(" ", "") in body
            or "\\{\\{ 7\\*191 \\}\\}" in body
            or "{{ 7\\*191 }}" in body
        ), name
    assert json.loads(files["notice.json"])["school"]["name"] == "Oak {{ 7*191 }} {% if true %}x{% endif %}"


def test_script_and_markup_in_a_name_are_valid_text(tree: Path) -> None:
    # Refusing them would not make output safer (escaping does that) and would stop a school
    # called "St Mary & St John <Juniors>"; the inert-output tests check the escaping.
    _school_with(
        tree, name="<script>alert(1)</script> & **bold** [x](javascript:alert(1))", headteacher="<img src=x onerror=alert(1)>"
    )
    prepared = load_and_compose(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
    assert prepared.errors == () and len(prepared.notices) == 1


# --- The terminal: stored manifests may hold control characters from older versions ------


def _hostile_manifest() -> Manifest:
    edition = dict(
        presentation_hash="b", dataset_edition="2026-1\x1b[2J", template_version="1", published_at="2026-11-28T17:30:00Z"
    )
    return Manifest(
        slug="oakfield-primary",
        urn="990002",
        name="Oak\x1b]0;pwned\x07",
        editions=(
            Edition(number=1, change_class="minor", content_hash="sha256:1", **edition),
            Edition(
                number=2,
                change_class="material",
                changes=("name: Oak → Oak\x1b[31mRED\u202e",),
                approved_by="Ms \x1b[8mHidden",
                approval_note="ok\x9b2J",
                content_hash="sha256:2",
                **edition,
            ),
        ),
    )


def _args(**values: object) -> argparse.Namespace:
    defaults: dict[str, object] = {
        "slug": "oakfield-primary",
        "json": False,
        "command": "history",
        "from_": None,
        "to": "2",
        "redline": None,
    }
    return argparse.Namespace(**{**defaults, **values})


def test_history_shows_control_characters_as_escapes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(edition_commands, "_manifest", lambda args: (object(), _hostile_manifest(), None))
    assert edition_commands.history(_args()) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    assert "approved by Ms \\x1b[8mHidden" in out and "note: ok\\x9b2J" in out and "RED\\u202e" in out
    monkeypatch.setattr(edition_commands, "_manifest", lambda args: (object(), _hostile_manifest(), None))
    assert edition_commands.history(_args(json=True)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "\u202e" not in out
    data = json.loads(out)  # still valid JSON, with the same text
    assert data[1]["approved_by"] == "Ms \x1b[8mHidden" and data[1]["changes"] == ["name: Oak → Oak\x1b[31mRED\u202e"]


def test_diff_shows_control_characters_as_escapes(
    sample, env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    notice = next(n for n in sample.notices if n.slug == "oakfield-primary")
    text = render_dataset_text(notice.dataset)
    # Built without validation: what an older version could have published.
    hostile = notice.model_copy(
        update={"school": notice.school.model_copy(update={"headteacher": "Mx \x1b[2J\x1b[31mEvil\u202e"})}
    )
    bodies = {1: render_notice(env, notice, text, pdf=False).files, 2: render_notice(env, hostile, text, pdf=False).files}

    class Store:
        def get(self, key: str) -> SimpleNamespace:
            number = 1 if "/v1/" in key else 2
            return SimpleNamespace(body=bodies[number][key.rsplit("/", 1)[1]])

    conn = SimpleNamespace(publisher=Store(), target=SimpleNamespace(prefix="notices"))
    monkeypatch.setattr(edition_commands, "_manifest", lambda args: (conn, _hostile_manifest(), None))
    assert edition_commands.diff(_args(from_=1)) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "name: Oak → Oak\\x1b[31mRED\\u202e" in out  # the change notes the edition recorded
    assert "+- Headteacher: Mx \\x1b\\[2J\\x1b\\[31mEvil\\u202e" in out  # and the diff
