"""`notices publish` approves exactly the words it showed: a real terminal, real processes, real S3."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import time
from pathlib import Path

from .conftest import NOTICES

SCHOOL = "oakfield-primary"
RECIPIENT = """  - name: Oakfield after-school club
    purpose: running the after-school club
    lawful_basis: public_task
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NOTICES, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _add_recipient(tree: Path, school: str = SCHOOL) -> None:
    """A material change: a new local recipient (a school that inherits the trust's list gets its own)."""
    path = tree / "schools" / f"{school}.yaml"
    text = path.read_text(encoding="utf-8")
    if "local_recipients:\n" not in text:
        text += "local_recipients:\n"
    path.write_text(text.replace("local_recipients:\n", "local_recipients:\n" + RECIPIENT, 1), encoding="utf-8")


def _editions(tree: Path, env: dict[str, str], school: str = SCHOOL) -> list[dict]:
    history = _run(["history", school, "--json"], tree, env)
    assert history.returncode == 0, history.stderr
    return json.loads(history.stdout)


def _read_until(fd: int, marker: str, seen: list[str], timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while marker not in "".join(seen):
        assert time.monotonic() < deadline, f"no {marker!r} in {''.join(seen)[-2000:]}"
        ready, _, _ = select.select([fd], [], [], 1)
        if ready:
            try:
                seen.append(os.read(fd, 65536).decode("utf-8", "replace"))
            except OSError:  # the child closed the terminal
                return


def test_edits_made_while_the_prompt_is_open_are_not_published(tree: Path, embedded_env: dict[str, str]) -> None:
    """Bypass 1: the prompt showed one change, then re-read the files: edits made while it was
    open (another DPO email, a hidden recipient) went live 'approved'."""
    assert _run(["publish", "--school", SCHOOL], tree, embedded_env).returncode == 0
    _add_recipient(tree)
    master, slave = pty.openpty()
    child = subprocess.Popen(
        [NOTICES, "publish", "--school", SCHOOL], cwd=tree, env=embedded_env, stdin=slave, stdout=slave, stderr=slave
    )
    os.close(slave)
    seen: list[str] = []
    try:
        _read_until(master, "Your full name", seen)
        assert "Local recipient added: Oakfield after-school club" in "".join(seen)
        # While the approver reads: the DPO's email changes and a second recipient slips in.
        trust = tree / "schools" / "_trust.yaml"
        trust.write_text(
            trust.read_text(encoding="utf-8").replace("dpo@trust.example.org", "dpo@elsewhere.example.org", 1), encoding="utf-8"
        )
        path = tree / "schools" / f"{SCHOOL}.yaml"
        hidden = "local_recipients:\n  - name: Example data brokers\n    purpose: marketing\n    lawful_basis: public_task\n"
        path.write_text(path.read_text(encoding="utf-8").replace("local_recipients:\n", hidden, 1), encoding="utf-8")
        os.write(master, b"Alex Example (DPO)\n")
        _read_until(master, "A note", seen)
        os.write(master, b"checked\n")
        assert child.wait(timeout=300) == 1
        _read_until(master, "not published", seen, timeout=5)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(master)
    output = "".join(seen)
    assert "the notice changed again after the approval request" in output, output[-3000:]
    assert [e["number"] for e in _editions(tree, embedded_env)] == [1]


def test_approved_by_shows_every_change_it_approves_and_records_the_person_as_listed(
    tree: Path, embedded_env: dict[str, str]
) -> None:
    assert _run(["publish", "--school", SCHOOL, "--school", "riverside-infant"], tree, embedded_env).returncode == 0
    _add_recipient(tree)
    _add_recipient(tree, "riverside-infant")
    result = _run(["publish", "--approved-by", "alex example", "--approval-note", "checked"], tree, embedded_env)
    assert result.returncode == 0, result.stderr
    for school in (SCHOOL, "riverside-infant"):  # shown before they are published: each school, grouped by change
        assert f"  {school} (URN" in result.stderr
    assert "+| Oakfield after-school club | running the after-school club |" in result.stderr  # the change and its diff
    edition = _editions(tree, embedded_env)[-1]
    assert (edition["number"], edition["approved_by"], edition["approval_note"]) == (2, "Alex Example (DPO)", "checked")


def test_an_approval_file_publishes_exactly_the_words_it_shows(tree: Path, embedded_env: dict[str, str]) -> None:
    assert _run(["publish", "--school", SCHOOL, "--school", "riverside-infant"], tree, embedded_env).returncode == 0
    _add_recipient(tree)
    _add_recipient(tree, "riverside-infant")
    review = tree / "review.json"
    dry = _run(["publish", "--dry-run", "--review", str(review)], tree, embedded_env)
    assert dry.returncode == 0, dry.stderr
    assert {s["slug"] for s in json.loads(review.read_text())["schools"]} == {SCHOOL, "riverside-infant"}
    # After the file was written, riverside's words change again.
    path = tree / "schools" / "riverside-infant.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("running the after-school club", "running the club and selling photos"),
        encoding="utf-8",
    )
    result = _run(["publish", "--approve", str(review), "--approved-by", "Alex Example (DPO)"], tree, embedded_env)
    assert result.returncode == 1
    assert "riverside-infant: its words changed after the approval file was written" in result.stderr
    assert [e["number"] for e in _editions(tree, embedded_env)] == [1, 2]
    assert [e["number"] for e in _editions(tree, embedded_env, "riverside-infant")] == [1]


def test_a_look_alike_or_unlisted_name_is_refused(tree: Path, embedded_env: dict[str, str]) -> None:
    """Bypass 5: `rооt` (Cyrillic о) published a material edition."""
    assert _run(["publish", "--school", SCHOOL], tree, embedded_env).returncode == 0
    _add_recipient(tree)
    for name in (
        "r\u043e\u043et",
        "\uff52\uff4f\uff4f\uff54",
        "x",
        "approved",
        "github-actions[bot]",
        "Alex Examp1e (DPO)",
        "Jo Bloggs",
    ):
        result = _run(["publish", "--school", SCHOOL, "--approved-by", name], tree, embedded_env)
        assert result.returncode == 1 and "--approved-by" in result.stderr, (name, result.stderr)
    assert [e["number"] for e in _editions(tree, embedded_env)] == [1]
