"""Hostile and mangled input: loading never crashes, it reports file:line errors instead."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from flows.site import prepare

from .conftest import SCHOOLS

SNIPPETS = [b"{", b"}", b"[", b"]", b": ", b"- ", b"&a ", b"*a", b"!!binary ", b"\t", b"\xff\xfe", b"\x00",
            b"'", b'"', b"\n  ", b"<<: ", b"~", b"? ", b"%YAML 1.1\n", b"---\n", b"...\n", b"1e99999", b"0o777"]


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
        prepared = prepare(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
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
    prepared = prepare(tree / "schools", tree / "shared_data", only=("deep-school",))
    assert [e.path for e in prepared.errors] == ["schools/deep-school.yaml"]


def test_mangled_dataset_editions_never_crash_the_loader(tree: Path) -> None:
    rng = random.Random(7)
    path = tree / "shared_data" / "dfe-recipients" / "2026-1.yaml"
    original = path.read_bytes()
    reported = 0
    for _ in range(150):
        path.write_bytes(_mangle(original, rng))
        prepared = prepare(tree / "schools", tree / "shared_data", only=("oakfield-primary",))
        if prepared.errors:
            reported += 1
            assert prepared.notices == ()  # a broken edition blocks every school, and says why
            assert all(e.message for e in prepared.errors)
    assert reported > 50
