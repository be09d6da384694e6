"""`notices generate-trust`: valid, varied and the same for the same seed."""

from __future__ import annotations

from pathlib import Path

from flows.cli import main
from flows.notice.prepare import load_and_compose

from .conftest import SHARED


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_synthetic_trust_is_valid_varied_and_repeatable(tmp_path: Path) -> None:
    assert main(["generate-trust", "36", "--out", str(tmp_path / "a"), "--seed", "7"]) == 0
    assert main(["generate-trust", "36", "--out", str(tmp_path / "b"), "--seed", "7"]) == 0
    assert main(["generate-trust", "36", "--out", str(tmp_path / "c"), "--seed", "8"]) == 0
    assert _files(tmp_path / "a") == _files(tmp_path / "b") and _files(tmp_path / "a") != _files(tmp_path / "c")
    prepared = load_and_compose(tmp_path / "a", SHARED)
    assert prepared.errors == () and len(prepared.notices) == 36
    phases = {n.school.phase for n in prepared.notices}
    assert phases == {
        "Nursery",
        "Primary",
        "Middle deemed primary",
        "Middle deemed secondary",
        "Secondary",
        "16 plus",
        "All-through",
        "Not applicable",
    }
    assert any(n.school.recipient_overrides for n in prepared.notices)
    assert any(n.school.local_recipients for n in prepared.notices)
    assert len({n.school.urn for n in prepared.notices}) == 36
