"""Selecting schools, and reusing a check of unchanged inputs within one process."""

from __future__ import annotations

from pathlib import Path

from flows.runs.selection import prepare_selected


def test_a_second_check_reuses_the_first_until_a_file_changes(tree: Path) -> None:
    schools, shared = tree / "schools", tree / "shared_data"
    first = prepare_selected(schools, shared, [])
    assert prepare_selected(schools, shared, []) is first  # the CLI's check, reused by the flow's task
    assert prepare_selected(schools, shared, ["oakfield-primary"]) is not first  # another selection
    school = schools / "oakfield-primary.yaml"
    text = school.read_text(encoding="utf-8")
    school.write_text(text + "# edited\n", encoding="utf-8")
    assert prepare_selected(schools, shared, []) is not first
    (schools / "new-school.yaml").write_text("name: [broken\n", encoding="utf-8")
    assert "new-school" in prepare_selected(schools, shared, []).broken
