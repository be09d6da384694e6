"""Nothing left running: a `notices publish` SIGKILLed at any moment of start-up leaves no process.

The command runs as `notices publish` first runs on a fresh machine: Prefect's ephemeral mode (no
``PREFECT_API_URL`` and no local Prefect server: it starts Prefect's temporary server), the embedded S3 not yet running
(the command starts ``weed``) and PDF worker processes. The test gives it a marker of its
own in the environment (``NOTICES_RUN_MARKER``), which every process it starts inherits, kills
it at a milestone of start-up seen from outside (a process appearing, a line on stderr, or a
pause after one), and then waits a bounded time for every process carrying the marker to end.
The marker is the test's own, not the run token the command sets (``flows.runs.guard``), so
the check does not rely on the mechanism it checks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from flows.runs.ephemeral import SERVER_MARK

from .conftest import _free_base_port

NOTICES = str(Path(sys.executable).parent / "notices")
MARKER_VAR = "NOTICES_RUN_MARKER"
GONE_WITHIN_S = 15.0
POLL_S = 0.05


def _kind(cmdline: bytes) -> str:
    """What a process of the run is, from its command line."""
    if b"flows.runs.guard" in cmdline:
        return "guard"
    if SERVER_MARK in cmdline:
        return "server"
    if cmdline.split(b"\0")[0].endswith(b"weed"):
        return "weed"
    if b"resource_tracker" in cmdline:
        return "resource tracker"
    if b"multiprocessing.spawn" in cmdline or b"spawn_main" in cmdline:
        return "pdf worker"
    return "command" if b"notices" in cmdline else "other"


def marked(marker: str) -> dict[int, str]:
    """Every live process whose environment carries ``marker``, with its kind (zombies excluded)."""
    needle = f"{MARKER_VAR}={marker}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                found[int(entry.name)] = _kind((entry / "cmdline").read_bytes())
        except OSError:  # gone, or a zombie (its environ reads empty)
            continue
    return found


@dataclass
class Watch:
    """What has been seen of one run so far: kinds of process (first time each) and stderr lines."""

    started: float = field(default_factory=time.monotonic)
    seen: dict[str, float] = field(default_factory=dict)
    lines: list[tuple[float, str]] = field(default_factory=list)
    killed: bool = False

    def note(self, kinds: set[str]) -> None:
        now = time.monotonic() - self.started
        for kind in kinds:
            self.seen.setdefault(kind, now)

    def line_at(self, text: str) -> float | None:
        return next((t for t, line in list(self.lines) if text in line), None)


Milestone = Callable[[Watch], bool]


def after(kind: str, delay: float = 0.0) -> Milestone:
    """``delay`` seconds after a process of ``kind`` first appeared."""
    return lambda w: kind in w.seen and time.monotonic() - w.started >= w.seen[kind] + delay


def on_line(text: str, delay: float = 0.0) -> Milestone:
    """``delay`` seconds after a stderr line containing ``text``."""

    def reached(w: Watch) -> bool:
        at = w.line_at(text)
        return at is not None and time.monotonic() - w.started >= at + delay

    return reached


MOMENTS: list[tuple[str, Milestone]] = [
    ("at once", lambda w: True),
    ("0.3 s in (loading the configuration)", lambda w: time.monotonic() - w.started >= 0.3),
    ("the guard appeared", after("guard")),
    ("weed appeared", after("weed")),
    ("weed appeared + 0.4 s (starting)", after("weed", 0.4)),
    ("the embedded S3 answered", on_line("started the embedded S3")),
    ("Prefect's server appeared", after("server")),
    ("Prefect's server appeared + 1.5 s (starting)", after("server", 1.5)),
    ("PDF workers appeared (the flow runs)", after("pdf worker")),
    ("PDF workers appeared + 0.5 s", after("pdf worker", 0.5)),
]


def _read_lines(stream: object, watch: Watch) -> None:
    for line in stream:  # type: ignore[attr-defined]
        watch.lines.append((time.monotonic() - watch.started, line.rstrip("\n")))


def run_until(env: dict[str, str], cwd: Path, marker: str, moment: Milestone | None, limit_s: float = 180) -> Watch:
    """Start `notices publish`; SIGKILL it when ``moment`` is reached (None: let it finish)."""
    watch = Watch()
    process = subprocess.Popen(
        [NOTICES, "publish"], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # Prefect's server inherits stderr: read it on the side, never waiting for its end.
    threading.Thread(target=_read_lines, args=(process.stderr, watch), daemon=True).start()
    deadline = time.monotonic() + limit_s
    while process.poll() is None and time.monotonic() < deadline:
        if moment is not None and moment(watch):
            os.kill(process.pid, signal.SIGKILL)
            break
        watch.note(set(marked(marker).values()) - {"command"})
        time.sleep(POLL_S)
    process.wait(timeout=30)
    watch.killed = process.returncode == -signal.SIGKILL
    watch.seen["exit"] = time.monotonic() - watch.started
    return watch


def leftovers(marker: str, within_s: float = GONE_WITHIN_S, kept: frozenset[str] = frozenset()) -> dict[int, str]:
    """The processes of the run (but those of a ``kept`` kind) still alive after waiting up to ``within_s``."""
    deadline = time.monotonic() + within_s
    while (left := {p: k for p, k in marked(marker).items() if k not in kept}) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def publish_env(tree: Path, tmp_path: Path) -> dict[str, str]:
    """A fresh machine's first `notices publish`: ephemeral Prefect (a home of this test's own), no store yet."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "NOTICES_S3_", "AWS_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        NOTICES_S3_PORT=str(_free_base_port()),
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
        NOTICES_PDF_WORKERS="2",
    )
    return env


def _run_env(base: dict[str, str], tmp_path: Path, marker: str) -> dict[str, str]:
    # A store folder of each run's own: a weed killed while it set one up leaves it half made.
    # A short name: weed's unix socket paths under it must fit in 108 bytes.
    return dict(base, NOTICES_STATE_DIR=str(tmp_path / f"s{marker[:6]}"), **{MARKER_VAR: marker})


def _stop_store(env: dict[str, str]) -> None:
    subprocess.run([NOTICES, "s3", "stop"], env=env, capture_output=True, timeout=60)


def test_a_publish_killed_at_any_moment_of_start_up_leaves_no_process(
    publish_env: dict[str, str], tree: Path, tmp_path: Path
) -> None:
    # A first, whole run migrates Prefect's new database (a kill mid-migration is not what is
    # tested) and shows the milestones. It leaves the store it started, as `make run` does;
    # once that is stopped nothing of the run remains.
    marker = uuid.uuid4().hex
    env = _run_env(publish_env, tmp_path, marker)
    whole = run_until(env, tree, marker, None)
    assert whole.seen.keys() >= {"guard", "weed", "server", "pdf worker"}, (whole.seen, whole.lines)
    assert not leftovers(marker, kept=frozenset({"weed"})), "a finished publish leaves only the store"
    _stop_store(env)
    assert not leftovers(marker), "processes outlived a finished publish"
    print(f"\nwhole run: {whole.seen}")
    results = {}
    for name, moment in MOMENTS:
        marker = uuid.uuid4().hex
        env = _run_env(publish_env, tmp_path, marker)
        watch = run_until(env, tree, marker, moment)
        killed_at = time.monotonic()
        left = leftovers(marker)
        results[name] = (watch, left, time.monotonic() - killed_at)
        for pid in left:
            os.kill(pid, signal.SIGKILL)  # ours (they carry our marker): never left for the next run
        _stop_store(env)
    for name, (watch, left, gone_in) in results.items():
        seen = sorted(watch.seen, key=watch.seen.__getitem__)
        print(
            f"{name:<46} killed at {watch.seen['exit']:4.1f} s, seen {seen}; left {sorted(left.values()) or f'nothing after {gone_in:.1f} s'}"
        )
    assert all(watch.killed for watch, _, _ in results.values()), "a run finished before its moment"
    assert not {name: left for name, (_, left, _) in results.items() if left}, "processes outlived a killed publish"


def test_a_killed_publish_leaves_the_store_that_s3_start_started(publish_env: dict[str, str], tree: Path, tmp_path: Path) -> None:
    """`notices s3 start` finished, so its ``weed`` is not the killed publish's to stop; the server is."""
    env = _run_env(publish_env, tmp_path, uuid.uuid4().hex)
    started = subprocess.run([NOTICES, "s3", "start"], env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        marker = uuid.uuid4().hex
        watch = run_until(dict(env, **{MARKER_VAR: marker}), tree, marker, after("server", 0.5))
        assert watch.killed and "server" in watch.seen and "weed" not in watch.seen  # it used the running store
        assert not leftovers(marker)
        status = subprocess.run([NOTICES, "s3", "status"], env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0, "the store `notices s3 start` started was stopped"
    finally:
        _stop_store(env)
