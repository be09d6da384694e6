"""Benchmark: the publishing pipeline at scale, against its floor and against `aws s3 sync`.

    make bench                                   # N = 100 and 1000, PDF section at N = 300
    make bench BENCH_N=20 BENCH_PDF_N=0          # a quick try (no PDF section)
    .venv/bin/python tests/bench/bench_scale.py --schools 100,1000,21600 --pdf-schools 1000 \
        --aws .venv-bench/bin/aws

Never part of `make test`. Everything runs on 127.0.0.1 with fictional data:

* its own SeaweedFS (``flows.embedded_s3``) in a temp folder, stopped at the end, and the bucket
  configured as `notices setup-bucket` does (``flows.publish.s3.setup_bucket``), less the
  lifecycle rule, whose scan would take a core in the middle of the run (see ``main``);
* a counting proxy (``counting_proxy.py``) between every measured client and SeaweedFS, which
  counts GET, LIST, HEAD, PUT, COPY, DELETE and POST requests and records the keys PUT;
* every measured command runs as its own process under a small wrapper that reports wall
  time, CPU time (user + sys of the whole process tree) and peak RSS (``ru_maxrss``: the
  largest single process of the tree; a sampled sum of the tree is in the JSON too);
* ``notices publish`` uses Prefect's ephemeral mode with a fresh $PREFECT_HOME per N; the
  task runs of each flow run are counted in ``$PREFECT_HOME/prefect.db``;
* the machine's other CPU use during each command is recorded: a ``~`` marks a noisy figure.

The main table runs with the PDF stubbed (``notices_stub_pdf.py``: WeasyPrint takes ~0.4 s per
PDF); the PDF section then runs the bare loop (a process pool, every core) and a first
publish with real PDFs. The table is printed and written, with machine facts, to
bench-results.json at the top of the repository (gitignored).

Scenarios per N: the bare loop (same templates and objects, plain boto3 from 8 threads; no
validation, diff, manifest or Prefect), the first publish, an unchanged rerun, one school
edited, every school changed (a trust-wide DPO change), `notices render` and `aws s3 sync`
(first and second run), `notices validate`, and Prefect's fixed start (a trivial flow in the
same $PREFECT_HOME) next to a one-school publish.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))  # counting_proxy, notices_stub_pdf

from counting_proxy import CountingProxy, Snapshot  # noqa: E402

STUB = HERE / "notices_stub_pdf.py"
SHARED_DATA = REPO / "shared_data"
RESULTS = REPO / "bench-results.json"
DEFAULT_AWS = REPO / ".venv-bench" / "bin" / "aws"
DEFAULT_PORT = 18533
APPROVER = "Bench Example"
BARE_THREADS = 8
SEED = 1
MB = 1024 * 1024

# Runs one command and writes what it cost to a JSON file. Its own cost is not counted:
# RUSAGE_CHILDREN covers the command and every descendant it waited for (Prefect's
# server subprocess included); a thread samples the RSS of the whole tree every 0.2 s.
WRAPPER = r"""
import json, os, resource, subprocess, sys, threading, time
out, cmd = sys.argv[1], sys.argv[2:]
page = os.sysconf("SC_PAGE_SIZE")
tree_peak = [0]
def tree_rss(root):
    children = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(pid))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
        todo += children.get(pid, [])
    return total
started = time.perf_counter()
proc = subprocess.Popen(cmd)
def sample():
    while proc.poll() is None:
        tree_peak[0] = max(tree_peak[0], tree_rss(proc.pid))
        time.sleep(0.2)
threading.Thread(target=sample, daemon=True).start()
rc = proc.wait()
wall = time.perf_counter() - started
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump({"rc": rc, "wall": wall, "user": ru.ru_utime, "sys": ru.ru_stime,
               "maxrss_kb": ru.ru_maxrss, "tree_rss_bytes": tree_peak[0]}, f)
sys.exit(rc)
"""

TRIVIAL_FLOW = """
from prefect import flow, task

@task
def bench_task():
    return 1

@flow(name="bench-prefect-start")
def bench_prefect_start():
    return bench_task()

bench_prefect_start()
"""


# --- Measuring one command ---------------------------------------------------------------


@dataclass
class Measure:
    """What one scenario cost."""

    name: str
    command: list[str]
    rc: int
    wall: float
    cpu: float
    maxrss_mb: float
    tree_rss_mb: float
    proxy_cpu: float
    requests: dict[str, Any]
    put_keys: list[str] = field(default_factory=list)
    task_runs: int | None = None
    flow_run: dict[str, Any] | None = None
    fake_pdfs: int | None = None
    stdout_tail: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        return int(self.requests.get("counts", {}).get(kind, 0))

    @property
    def total_requests(self) -> int:
        return int(self.requests.get("total", 0))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if len(self.put_keys) > 200:  # keep the JSON readable: the full list only when small
            data["put_keys"] = self.put_keys[:50] + [f"... {len(self.put_keys) - 50} more"]
        return data


class Runner:
    """Runs measured commands through the wrapper, with the proxy's counts per scenario."""

    def __init__(
        self, proxy: CountingProxy, logs: Path, workdir: Path, server_pid: int | None = None, server_logs: Path | None = None
    ) -> None:
        self.proxy = proxy
        self.logs = logs
        self.workdir = workdir
        self.server_pid = server_pid
        self.server_logs = server_logs
        self._serial = 0

    def run(self, name: str, command: list[str], env: dict[str, str], *, prefect_home: Path | None = None) -> Measure:
        self._serial += 1
        stem = f"{self._serial:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
        result_file = self.logs / f"{stem}.json"
        before_runs = _flow_run_ids(prefect_home) if prefect_home else set()
        self.proxy.reset()
        cpu_before, busy_before, server_before = _own_cpu(), _machine_busy(), _process_cpu(self.server_pid)
        started_at = dt.datetime.now()
        with open(self.logs / f"{stem}.out", "wb") as out, open(self.logs / f"{stem}.err", "wb") as err:
            subprocess.run(
                [sys.executable, "-c", WRAPPER, str(result_file), *command],
                stdout=out,
                stderr=err,
                env=env,
                cwd=self.workdir,
                check=False,
            )
        proxy_cpu = _own_cpu() - cpu_before
        busy, server_cpu = _machine_busy() - busy_before, _process_cpu(self.server_pid) - server_before
        snap: Snapshot = self.proxy.reset()
        try:
            cost = json.loads(result_file.read_text())
        except (OSError, ValueError):  # the wrapper itself failed (e.g. no such command): see the .err log
            cost = {"rc": -1, "wall": 0.0, "user": 0.0, "sys": 0.0, "maxrss_kb": 0, "tree_rss_bytes": 0}
        stdout = (self.logs / f"{stem}.out").read_text(errors="replace").splitlines()
        stderr = (self.logs / f"{stem}.err").read_text(errors="replace").splitlines()
        measure = Measure(
            name=name,
            command=command,
            rc=cost["rc"],
            wall=cost["wall"],
            cpu=cost["user"] + cost["sys"],
            maxrss_mb=cost["maxrss_kb"] / 1024,
            tree_rss_mb=cost["tree_rss_bytes"] / MB,
            proxy_cpu=proxy_cpu,
            requests=snap.as_dict(),
            put_keys=snap.put_keys,
            stdout_tail=stdout[-4:],
            stderr_tail=stderr[-6:],
        )
        stub = [line for line in stderr if line.startswith("bench-stub-pdf: ")]
        if stub:
            measure.fake_pdfs = int(stub[-1].split()[1])
        batches = [int(b.group(1)) for line in stderr if (b := re.match(r"batch \d+/(\d+):", line))]
        if batches:
            measure.notes["batches"] = batches[-1]
        # CPU the rest of the machine used meanwhile: a shared machine makes timings noisy.
        measure.notes["s3_server_cpu"] = round(server_cpu, 2)
        measure.notes["other_cpu"] = round(busy - measure.cpu - proxy_cpu - server_cpu, 2)
        measure.notes["started_at"] = started_at.isoformat(timespec="seconds")
        if self.server_logs and _lifecycle_scan_overlaps(self.server_logs, started_at, dt.datetime.now()):
            measure.notes["s3_lifecycle_scan"] = True
        if prefect_home is not None:
            facts = _latest_flow_run(prefect_home, before_runs)
            if facts is not None:
                measure.task_runs = facts.pop("task_runs")
                measure.flow_run = facts
        _progress(measure)
        if measure.rc != 0:
            print(f"    ! exit status {measure.rc}; last lines of stderr ({self.logs / stem}.err):", file=sys.stderr)
            for line in stderr[-15:]:
                print(f"    | {line}", file=sys.stderr)
        return measure


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (all cores), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    except (OSError, ValueError):
        return 0.0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _process_cpu(pid: int | None) -> float:
    """CPU seconds of one process (the S3 server), from /proc/PID/stat."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _lifecycle_scan_overlaps(logs: Path, start: dt.datetime, end: dt.datetime) -> bool:
    """Did SeaweedFS's own lifecycle scan run between start and end (local time)?

    ``weed mini`` runs it about five minutes after it starts, then daily: it replays the bucket's
    recent writes (the lifecycle rule's 8 days) and takes a core for minutes after a big run.
    """
    stamp = re.compile(r"^I(\d{2})(\d{2}) (\d{2}:\d{2}:\d{2})")
    scans: list[list[dt.datetime | None]] = []
    for path in sorted(logs.glob("*.INFO.*")):
        for line in path.read_text(errors="replace").splitlines():
            if "lifecycle-daily" not in line and "daily_run:" not in line:
                continue
            found = stamp.match(line)
            if not found:
                continue
            when = dt.datetime.strptime(f"{start.year}-{found[1]}-{found[2]} {found[3]}", "%Y-%m-%d %H:%M:%S")
            if re.search(r"\+ \S*lifecycle-daily\S* local subscribe ", line):
                scans.append([when, None])
            elif "daily_run:" in line and scans:
                scans[-1][1] = when
    return any(s is not None and s <= end and (e is None or e >= start) for s, e in scans)


def noisy(m: Measure) -> bool:
    """Other processes used more than a fifth of a core on average, or SeaweedFS scanned its bucket, meanwhile."""
    return m.notes.get("other_cpu", 0) > 0.2 * m.wall + 1 or bool(m.notes.get("s3_lifecycle_scan"))


def _progress(m: Measure) -> None:
    counts = m.requests.get("counts", {})
    shown = " ".join(f"{k}={v}" for k, v in counts.items() if v)
    tasks = f", {m.task_runs} task runs" if m.task_runs is not None else ""
    other = f" (other processes: {m.notes['other_cpu']:.0f} s CPU)" if m.notes.get("other_cpu", 0) > 0.2 * m.wall + 1 else ""
    other += " (SeaweedFS lifecycle scan meanwhile)" if m.notes.get("s3_lifecycle_scan") else ""
    print(
        f"  {m.name:<34} {m.wall:7.1f} s wall {m.cpu:7.1f} s CPU {m.maxrss_mb:6.0f} MB  {shown or 'no requests'}{tasks}{other}",
        flush=True,
    )


# --- Prefect's database ------------------------------------------------------------------


def _connect_db(home: Path) -> sqlite3.Connection | None:
    db = home / "prefect.db"
    if not db.exists():
        return None
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def _flow_run_ids(home: Path) -> set[str]:
    con = _connect_db(home)
    if con is None:
        return set()
    with con:
        return {row[0] for row in con.execute("SELECT id FROM flow_run")}


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = dt.datetime.fromisoformat
    return (parse(end) - parse(start)).total_seconds()


def _latest_flow_run(home: Path, before: set[str]) -> dict[str, Any] | None:
    """The most recent flow run (made by this scenario) and how many task runs it has."""
    con = _connect_db(home)
    if con is None:
        return None
    with con:
        row = con.execute(
            "SELECT id, name, state_type, start_time, end_time FROM flow_run ORDER BY created DESC LIMIT 1"
        ).fetchone()
        if row is None or row[0] in before:
            return None
        run_id, name, state, start, end = row
        names: dict[str, int] = {}
        states: dict[str, int] = {}
        for task_name, task_state in con.execute("SELECT name, state_type FROM task_run WHERE flow_run_id = ?", (run_id,)):
            base = (
                task_name
                if task_name in ("publish-trust-index", "load-and-validate")
                else re.sub(r"^publish-.*", "publish-<batch>", task_name)
            )
            names[base] = names.get(base, 0) + 1
            states[str(task_state)] = states.get(str(task_state), 0) + 1
    # Task runs whose last events the ephemeral server never stored (the process had exited) stay
    # RUNNING or are missing: the count is what the database (and so the Prefect UI) holds.
    return {
        "id": run_id,
        "name": name,
        "state": state,
        "seconds": _seconds(start, end),
        "task_runs": sum(states.values()),
        "task_states": states,
        "task_names": names,
    }


# --- The environment ---------------------------------------------------------------------


def free_port(start: int) -> int:
    """A port p such that p..p+3 and their gRPC twins (+10000) are free on 127.0.0.1."""
    from flows.embedded_s3 import port_free as free

    for base in range(start, start + 400, 10):
        if all(free(p) and free(p + 10000) for p in range(base, base + 4)):
            return base
    raise RuntimeError(f"no free block of ports from {start}")


@dataclass
class Target:
    """The embedded S3, the proxy in front of it and the credentials."""

    endpoint: str  # SeaweedFS itself (setup and checks; never measured)
    proxy_url: str
    bucket: str
    access_key: str
    secret_key: str

    def client(self, *, through_proxy: bool = False) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.proxy_url if through_proxy else self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 3}),
        )


def base_env(target: Target, state_dir: Path) -> dict[str, str]:
    """What every measured command sees: the proxy as endpoint, no AWS or Prefect config of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PREFECT_", "NOTICES_"))}
    env.update(
        AWS_ACCESS_KEY_ID=target.access_key,
        AWS_SECRET_ACCESS_KEY=target.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(state_dir / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(state_dir / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        NOTICES_S3_ENDPOINT=target.proxy_url,
        NOTICES_S3_BUCKET=target.bucket,
        NOTICES_PUBLIC_BASE_URL=f"{target.endpoint}/{target.bucket}/",
        NOTICES_STATE_DIR=str(state_dir),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
        # Only so that a loaded 2-core machine does not fail the run; it changes no timing.
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def notices_cmd(*args: str, stub: bool = True) -> list[str]:
    """``notices ARGS``: through the PDF stub, or the real console script."""
    if stub:
        return [sys.executable, str(STUB), *args]
    script = Path(sys.executable).parent / "notices"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "flows.cli", *args]


def publish_cmd(trust: Path, *extra: str, stub: bool = True) -> list[str]:
    return notices_cmd(
        "publish", "--schools", str(trust), "--shared-data", str(SHARED_DATA), "--approved-by", APPROVER, *extra, stub=stub
    )


def bare_cmd(trust: Path, target: Target, prefix: str, *, real_pdf: bool = False) -> list[str]:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "bare",
        "--schools-dir",
        str(trust),
        "--prefix",
        prefix,
        "--endpoint",
        target.proxy_url,
        "--bucket",
        target.bucket,
    ]
    return cmd + (["--real-pdf", "--workers", str(os.cpu_count() or 1)] if real_pdf else [])


def generate(trust: Path, count: int) -> list[str]:
    """A synthetic trust of ``count`` schools; returns the slugs."""
    from flows.config.synthetic import generate_trust

    return list(generate_trust(count, trust, seed=SEED).slugs)


def edit_school(trust: Path, slug: str) -> None:
    """A new headteacher at one school: a new edition of its notice."""
    path = trust / f"{slug}.yaml"
    text, count = re.subn(r"(?m)^headteacher:.*$", "headteacher: Dr Jordan Benchmark-Example", path.read_text(encoding="utf-8"))
    if count != 1:
        raise RuntimeError(f"{path}: no headteacher line to edit")
    path.write_text(text, encoding="utf-8")


def edit_dpo(trust: Path) -> None:
    """A new DPO for the trust: every school's notice changes (a material change)."""
    path = trust / "_trust.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("dpo:\n")
    done = set()
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith("  "):
            break
        for field_name, value in (("name", "Sam Benchmark-Example"), ("email", "privacy@trust.example.org")):
            if lines[i].startswith(f"  {field_name}:"):
                lines[i] = f"  {field_name}: {value}\n"
                done.add(field_name)
    if done != {"name", "email"}:
        raise RuntimeError(f"{path}: could not find the DPO's name and email")
    path.write_text("".join(lines), encoding="utf-8")


def count_objects(target: Target, prefix: str) -> int:
    """Objects under a prefix, read straight from SeaweedFS (not counted)."""
    client = target.client()
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=prefix):
        total += page.get("KeyCount", len(page.get("Contents", [])))
    return total


# --- The scenarios of one N --------------------------------------------------------------


@dataclass
class Setup:
    target: Target
    runner: Runner
    tmp: Path
    state_dir: Path
    aws: Path | None


LARGE_N = 5000  # above this, only a first publish and an unchanged rerun


def run_n(setup: Setup, n: int) -> dict[str, Any]:
    """Every scenario for a trust of ``n`` schools; returns measures, checks and targets."""
    print(f"\n== N = {n} schools ==", flush=True)
    tmp, target, runner = setup.tmp, setup.target, setup.runner
    trust = tmp / f"trust-n{n}"
    started = time.perf_counter()
    slugs = generate(trust, n)
    print(f"  generated the trust in {time.perf_counter() - started:.1f} s: {trust}", flush=True)
    home = tmp / f"prefect-n{n}"
    env = base_env(target, setup.state_dir) | {"PREFECT_HOME": str(home), "NOTICES_S3_PREFIX": f"n{n}"}
    m: dict[str, Measure] = {}
    checks: dict[str, Any] = {}

    def run(key: str, name: str, command: list[str], *, prefect: bool = False) -> Measure:
        m[key] = runner.run(name, command, env, prefect_home=home if prefect else None)
        return m[key]

    run("prefect_cold", "Prefect start, new $PREFECT_HOME", [sys.executable, "-c", TRIVIAL_FLOW], prefect=True)
    run(
        "validate",
        "notices validate (no Prefect, no S3)",
        notices_cmd("validate", "--schools", str(trust), "--shared-data", str(SHARED_DATA)),
    )
    if n <= LARGE_N:
        run("bare", "bare loop (8 threads, plain boto3)", bare_cmd(trust, target, f"bare/n{n}"))
    first = run("first", "publish: first", publish_cmd(trust), prefect=True)
    checks["objects_after_first"] = count_objects(target, f"n{n}/")
    checks["pdf_stub_in_objects"] = _stub_pdf_stored(target, f"n{n}/{slugs[0]}/privacy-notice/notice.pdf")
    if first.fake_pdfs == 0:
        print("  ! the PDF stub was never called during the first publish: the table is not a stubbed run", file=sys.stderr)
    run("unchanged", "publish: unchanged rerun", publish_cmd(trust), prefect=True)
    if n > LARGE_N:  # the 21,600 case: one first publish and one rerun (the rest would take hours here)
        return {
            "n": n,
            "edited_school": None,
            "measures": {k: v.as_dict() for k, v in m.items()},
            "checks": checks,
            "targets": targets(n, m, checks),
            "_m": m,
        }
    edited = slugs[len(slugs) // 2]
    edit_school(trust, edited)
    one = run("one_edited", "publish: one school edited", publish_cmd(trust), prefect=True)
    checks["one_edited"] = classify_keys(one.put_keys, f"n{n}", edited)
    edit_dpo(trust)
    run("all_changed", "publish: all changed (new DPO)", publish_cmd(trust), prefect=True)
    checks["all_changed_keys"] = {
        k: len(v) for k, v in classify_keys(m["all_changed"].put_keys, f"n{n}", None).items() if isinstance(v, list)
    }
    site = tmp / f"site-n{n}"
    run(
        "render",
        "notices render (stub PDF)",
        notices_cmd("render", "--schools", str(trust), "--shared-data", str(SHARED_DATA), "--out", str(site)),
    )
    if setup.aws is not None:
        sync = [
            str(setup.aws),
            "s3",
            "sync",
            str(site),
            f"s3://{target.bucket}/sync{n}/",
            "--endpoint-url",
            target.proxy_url,
            "--only-show-errors",
            "--no-progress",
        ]
        run("sync_first", "aws s3 sync: first", sync)
        run("sync_second", "aws s3 sync: second (no change)", sync)
        checks["objects_synced"] = count_objects(target, f"sync{n}/")
    run("prefect_warm", "Prefect start (trivial flow)", [sys.executable, "-c", TRIVIAL_FLOW], prefect=True)
    run("one_school", "publish --school (1, unchanged)", publish_cmd(trust, "--school", slugs[0]), prefect=True)
    return {
        "n": n,
        "edited_school": edited,
        "measures": {k: v.as_dict() for k, v in m.items()},
        "checks": checks,
        "targets": targets(n, m, checks),
        "_m": m,
    }


def _stub_pdf_stored(target: Target, key: str) -> bool | None:
    from notices_stub_pdf import MARKER

    try:
        body = target.client().get_object(Bucket=target.bucket, Key=key)["Body"].read(len(MARKER))
    except Exception:
        return None
    return body == MARKER


def classify_keys(keys: Sequence[str], prefix: str, slug: str | None) -> dict[str, Any]:
    """Split the keys a run wrote: the edited school's, the trust's root pages, private run files, others."""
    root = {f"{prefix}/index.html", f"{prefix}/schools.json", f"{prefix}/error.html"}
    school_prefix = f"{prefix}/{slug}/privacy-notice/" if slug else None
    groups: dict[str, list[str]] = {"school": [], "root": [], "private": [], "other_schools": [], "other": []}
    for key in keys:
        if school_prefix and key.startswith(school_prefix):
            groups["school"].append(key)
        elif key in root:
            groups["root"].append(key)
        elif key.startswith("_private/"):
            groups["private"].append(key)
        elif key.startswith(f"{prefix}/") and "/privacy-notice/" in key:
            groups["other_schools"].append(key)
        else:
            groups["other"].append(key)
    ok = bool(groups["school"]) and not groups["other_schools"] and not groups["other"]
    return {**groups, "ok": ok, "puts_per_new_edition": len(groups["school"])}


# --- Targets -----------------------------------------------------------------------------


def _ratio(a: Measure | None, b: float | None) -> float | None:
    return a.wall / b if a and b else None


def _kinds(m: Measure) -> str:
    return ", ".join(f"{v} {k}" for k, v in m.requests.get("counts", {}).items() if v) or "none"


def targets(n: int, m: dict[str, Measure], checks: dict[str, Any]) -> list[dict[str, Any]]:
    """The stated targets, each with its measured value and ✓/✗ (None: not measured)."""
    out: list[dict[str, Any]] = []

    def add(name: str, ok: bool | None, value: str) -> None:
        out.append({"target": name, "ok": ok, "value": value})

    bare, first, unchanged = m.get("bare"), m.get("first"), m.get("unchanged")
    ratio = _ratio(first, bare.wall if bare else None)
    add(
        "first publish ≤ 2× bare loop (stubbed PDF)",
        None if ratio is None else ratio <= 2.0,
        f"{ratio:.2f}× ({first.wall:.1f} s vs {bare.wall:.1f} s)" if ratio and first and bare else "not measured",
    )
    if unchanged:
        objects = checks.get("objects_after_first") or 0
        allowed = 1 + 2 * math.ceil(objects / 1000)  # one state read, and 2 per started thousand objects
        total = unchanged.total_requests
        add(
            "unchanged rerun ≤ 2 requests per 1,000 objects beyond one state read",
            total <= allowed,
            f"{total} requests ({_kinds(unchanged)}) for {objects} objects, allowed 1 + 2 × ⌈{objects}/1000⌉ = {allowed}; "
            f"{total / n:.2f} per school",
        )
        sync2, prefect = m.get("sync_second"), m.get("prefect_warm")
        if sync2 and prefect:
            floor = sync2.wall + prefect.wall
            add(
                "unchanged rerun faster than aws s3 sync (second run) + Prefect start",
                unchanged.wall < floor,
                f"{unchanged.wall:.1f} s vs {sync2.wall:.1f} + {prefect.wall:.1f} = {floor:.1f} s ({unchanged.wall / floor:.2f}×)",
            )
        else:
            add("unchanged rerun faster than aws s3 sync (second run) + Prefect start", None, "aws s3 sync not run")
        add("unchanged rerun writes nothing", unchanged.count("PUT") == 0, f"{unchanged.count('PUT')} PUT")
    one = checks.get("one_edited")
    if one:
        extra = one["other_schools"] + one["other"]
        add(
            "one school edited: only its objects + the trust index/schools.json written",
            one["ok"],
            f"{len(one['school'])} of the school's, {len(one['root'])} root ({', '.join(k.rsplit('/', 1)[1] for k in one['root'])}), "
            f"{len(one['private'])} private ({', '.join(k.split('/', 2)[2] for k in one['private'])}), {len(extra)} other"
            + (f": {extra[:3]}" if extra else ""),
        )
        every = checks.get("all_changed_keys", {}).get("other_schools")
        add(
            "PUTs per new edition (reported)",
            None,
            f"{one['puts_per_new_edition']} (one school edited)"
            + (f"; {every / n:.2f} per school when every school changed" if every is not None else ""),
        )
    publishes = [x for k, x in m.items() if k in ("first", "unchanged", "one_edited", "all_changed", "one_school")]
    runs = [x.task_runs for x in publishes if x.task_runs is not None]
    if runs:
        unfinished = sum(
            n for x in publishes for state, n in (x.flow_run or {}).get("task_states", {}).items() if state != "COMPLETED"
        )
        batches = [x.notes["batches"] for x in publishes if "batches" in x.notes]
        add(
            "task runs per flow run ≤ 300 (stated for 21,600)",
            max(runs + batches) <= 300,
            f"max {max(runs)} in prefect.db ({', '.join(str(r) for r in runs)})"
            + (f"; publishing batches per run (progress lines): {', '.join(map(str, batches))}" if batches else "")
            + (f"; {unfinished} task run(s) never recorded as finished" if unfinished else ""),
        )
    if publishes:
        peak = max(x.maxrss_mb for x in publishes)
        add("peak RSS ≤ 1 GB (stated for 21,600)", peak <= 1024, f"{peak:.0f} MB (largest process of any publish)")
    return out


# --- The PDF section ---------------------------------------------------------------------


def run_pdf(setup: Setup, n: int, stubbed: dict[str, Measure] | None) -> dict[str, Any]:
    """The bare loop with real PDFs (a process pool) and a first publish with real PDFs."""
    print(f"\n== PDF section: N = {n} schools, real PDFs ==", flush=True)
    tmp, target, runner = setup.tmp, setup.target, setup.runner
    trust = tmp / f"trust-pdf{n}"
    generate(trust, n)
    home = tmp / f"prefect-pdf{n}"
    env = base_env(target, setup.state_dir) | {"PREFECT_HOME": str(home), "NOTICES_S3_PREFIX": f"pdf/n{n}"}
    m: dict[str, Measure] = {}
    m["prefect_cold"] = runner.run(
        "Prefect start, new $PREFECT_HOME", [sys.executable, "-c", TRIVIAL_FLOW], env, prefect_home=home
    )
    m["bare"] = runner.run(
        f"bare loop, real PDF ({os.cpu_count()} processes)", bare_cmd(trust, target, f"bare-pdf/n{n}", real_pdf=True), env
    )
    m["first"] = runner.run("publish: first, real PDF", publish_cmd(trust, stub=False), env, prefect_home=home)
    bare, first = m["bare"], m["first"]
    ratio = first.wall / bare.wall if bare.wall else None
    per_pdf = {"bare_loop_s_per_school": bare.wall / n, "publish_s_per_school": first.wall / n}
    if stubbed and "first" in stubbed and "bare" in stubbed:
        per_pdf["publish_extra_s_per_pdf"] = (first.wall - stubbed["first"].wall) / n
        per_pdf["bare_extra_s_per_pdf"] = (bare.wall - stubbed["bare"].wall) / n
        per_pdf["publish_extra_cpu_s_per_pdf"] = (first.cpu - stubbed["first"].cpu) / n
    target_row = {
        "target": "first publish with PDFs ≤ 1.5× bare loop with PDFs",
        "ok": None if ratio is None else ratio <= 1.5,
        "value": f"{ratio:.2f}× ({first.wall:.1f} s vs {bare.wall:.1f} s)" if ratio else "not measured",
    }
    return {
        "n": n,
        "measures": {k: v.as_dict() for k, v in m.items()},
        "seconds_per_pdf": per_pdf,
        "targets": [target_row],
        "_m": m,
    }


# --- Printing ----------------------------------------------------------------------------

LEGEND = """wall s: the command, start to exit; flow s: the flow run itself (start to end in prefect.db);
CPU s: user + sys of the command's whole process tree; RSS MB: ru_maxrss, its largest single process;
GET…DEL: requests through the counting proxy (LIST: bucket listings); task runs: rows in prefect.db.
~ after a wall time: a noisy figure: other processes on the machine used over a fifth of a core meanwhile,
  or SeaweedFS ran its own lifecycle scan of the bucket (see notes in the JSON)."""

ROWS = [
    ("bare", "bare loop (floor)"),
    ("first", "publish: first"),
    ("unchanged", "publish: unchanged rerun"),
    ("one_edited", "publish: one school edited"),
    ("all_changed", "publish: all changed (DPO)"),
    ("render", "notices render (stub PDF)"),
    ("sync_first", "aws s3 sync: first"),
    ("sync_second", "aws s3 sync: second"),
    ("validate", "notices validate"),
    ("prefect_cold", "Prefect start, new home"),
    ("prefect_warm", "Prefect start (trivial flow)"),
    ("one_school", "publish --school (1 school)"),
]


def ratio_text(key: str, m: dict[str, Measure]) -> str:
    """The ratio column: each row against what it should be compared with."""
    wall = {k: v.wall for k, v in m.items()}
    refs: dict[str, tuple[float | None, str]] = {
        "bare": (wall.get("bare"), "floor"),
        "first": (wall.get("bare"), "bare"),
        "unchanged": (
            (wall["sync_second"] + wall["prefect_warm"]) if "sync_second" in wall and "prefect_warm" in wall else None,
            "sync2+Prefect",
        ),
        "one_edited": (wall.get("unchanged"), "unchanged"),
        "all_changed": (wall.get("bare"), "bare"),
        "sync_first": (wall.get("bare"), "bare"),
        "sync_second": (wall.get("unchanged"), "unchanged"),
        "one_school": (wall.get("prefect_warm"), "Prefect"),
    }
    ref, label = refs.get(key, (None, ""))
    if key not in wall or not ref:
        return ""
    return "1.00× (floor)" if key == "bare" else f"{wall[key] / ref:.2f}× {label}"


def print_table(title: str, m: dict[str, Measure], rows: Sequence[tuple[str, str]] = ROWS) -> None:
    head = ("scenario", "wall s", "flow s", "CPU s", "RSS MB", "GET", "LIST", "HEAD", "PUT", "COPY", "DEL", "task runs", "ratio")
    lines = []
    for key, label in rows:
        x = m.get(key)
        if x is None:
            continue
        tasks = "" if x.task_runs is None else str(x.task_runs)
        running = (x.flow_run or {}).get("task_states", {}).get("RUNNING", 0)
        tasks += f" ({running} RUNNING)" if running else ""
        flow_s = (x.flow_run or {}).get("seconds")
        lines.append(
            (
                label + (" ✗rc" if x.rc else ""),
                f"{x.wall:.1f}" + ("~" if noisy(x) else ""),
                "" if flow_s is None else f"{flow_s:.1f}",
                f"{x.cpu:.1f}",
                f"{x.maxrss_mb:.0f}",
                *(str(x.count(k)) for k in ("GET", "LIST", "HEAD", "PUT", "COPY", "DELETE")),
                tasks,
                ratio_text(key, m),
            )
        )
    widths = [max(len(str(r[i])) for r in (head, *lines)) for i in range(len(head))]
    print(f"\n{title}")
    fmt = lambda r: "  ".join(
        str(c).ljust(w) if i in (0, len(head) - 1) else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
    )  # noqa: E731
    print(fmt(head))
    print("  ".join("-" * w for w in widths))
    for line in lines:
        print(fmt(line))


def print_targets(rows: Sequence[dict[str, Any]]) -> None:
    for row in rows:
        mark = "✓" if row["ok"] else ("✗" if row["ok"] is False else "·")
        print(f"  {mark} {row['target']}: {row['value']}")


# --- The bare loop (runs as its own process: `bench_scale.py bare ...`) --------------------

_bare: dict[str, Any] = {}


def _bare_init(dataset: Any, trust_name: str, prefix: str, published_at: str, stub: bool) -> None:
    """Per process: the template environment and the dataset's text, once."""
    if stub:
        import notices_stub_pdf

        notices_stub_pdf.install()
    from flows.notice.dataset_text import render_dataset_text
    from flows.notice.render import build_environment
    from flows.notice.prepare import TEMPLATES_DIR

    _bare.update(
        env=build_environment(TEMPLATES_DIR),
        text=render_dataset_text(dataset),
        trust_name=trust_name,
        prefix=prefix,
        at=published_at,
    )


def _bare_files(notice: Any) -> list[tuple[str, bytes, str, str]]:
    """One school's objects, as a first publish writes them: v1/ (6 files) and the latest (5 files)."""
    from flows.pdf import weasy as pdf
    from flows.editions.records import Edition
    from flows.publish import layout
    from flows.publish.pages import render_changes_page
    from flows.notice.render import EditionStamp, render_notice

    env, text, prefix, at = _bare["env"], _bare["text"], _bare["prefix"], _bare["at"]
    edition_files = dict(render_notice(env, notice, text, pdf=False, stamp=EditionStamp(1, at, "edition")).files)
    edition_files["notice.pdf"] = pdf.html_to_pdf(edition_files["index.html"].decode("utf-8"))
    edition = Edition(
        number=1,
        content_hash="bench",
        presentation_hash="bench",
        dataset_edition=notice.dataset.id,
        template_version="bench",
        published_at=at,
        change_class="first",
    )
    edition_files["changes.html"] = render_changes_page(
        env,
        trust_name=_bare["trust_name"],
        colour=notice.branding.colour,
        school_name=notice.school.name,
        redline=None,
        changes=(),
        change_class="first",
        edition=edition,
    )
    latest = dict(render_notice(env, notice, text, pdf=False, stamp=EditionStamp(1, at, "latest")).files)
    latest["notice.pdf"] = edition_files["notice.pdf"]
    objects = [
        (layout.edition_key(prefix, notice.slug, 1, name), edition_files[name], layout.IMMUTABLE_CACHE)
        for name in layout.EDITION_FILES
    ]
    objects += [(layout.latest_key(prefix, notice.slug, name), latest[name], layout.LATEST_CACHE) for name in layout.LATEST_FILES]
    return [(key, body, layout.content_type(key), cache) for key, body, cache in objects]


def bare_main(argv: Sequence[str]) -> int:
    """Load, render and PUT every school's objects with plain boto3: the floor of a first publish."""
    parser = argparse.ArgumentParser(prog="bench_scale.py bare")
    parser.add_argument("--schools-dir", type=Path, required=True)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--threads", type=int, default=BARE_THREADS)
    parser.add_argument("--real-pdf", action="store_true", help="WeasyPrint PDFs (else the stub)")
    parser.add_argument("--workers", type=int, default=1, help="render processes (1: render in this process)")
    args = parser.parse_args(argv)
    import boto3
    from botocore.config import Config

    from flows.notice.prepare import load_and_compose

    started = time.perf_counter()
    prepared = load_and_compose(args.schools_dir, args.shared_data)
    if prepared.errors or prepared.valid is None:
        print(f"bare loop: the trust has errors: {prepared.errors[:3]}", file=sys.stderr)
        return 1
    loaded = time.perf_counter() - started
    client = boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"}, max_pool_connections=args.threads, retries={"mode": "standard", "max_attempts": 3}
        ),
    )
    at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    init_args = (prepared.valid.dataset, prepared.valid.trust.name, args.prefix, at, not args.real_pdf)
    in_flight = threading.BoundedSemaphore(256)  # bodies waiting for a PUT: bounded, so memory is too
    futures: list[Future[Any]] = []

    def put(key: str, body: bytes, content_type: str, cache: str) -> None:
        try:
            client.put_object(Bucket=args.bucket, Key=key, Body=body, ContentType=content_type, CacheControl=cache)
        finally:
            in_flight.release()

    def each_school(rendered: Iterable[list[tuple[str, bytes, str, str]]]) -> None:
        for files in rendered:
            for item in files:
                in_flight.acquire()
                futures.append(puts.submit(put, *item))

    with ThreadPoolExecutor(args.threads) as puts:
        if args.workers > 1:
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(args.workers, initializer=_bare_init, initargs=init_args) as pool:
                each_school(pool.map(_bare_files, prepared.notices, chunksize=1))
        else:
            _bare_init(*init_args)
            each_school(_bare_files(notice) for notice in prepared.notices)
    for future in futures:
        future.result()  # raises the first failed PUT
    print(
        json.dumps(
            {
                "schools": len(prepared.notices),
                "objects": len(futures),
                "load_s": round(loaded, 2),
                "total_s": round(time.perf_counter() - started, 2),
                "real_pdf": args.real_pdf,
                "workers": args.workers,
            }
        )
    )
    if not args.real_pdf:
        import notices_stub_pdf

        print(f"bench-stub-pdf: {notices_stub_pdf.calls()}", file=sys.stderr)
    return 0


# --- Main --------------------------------------------------------------------------------


def _int_list(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def machine_facts(aws: Path | None) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    try:
        kb = int(next(line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")).split()[1])
        facts["memory_gb"] = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    for name in ("prefect", "boto3", "weasyprint"):
        try:
            from importlib.metadata import version

            facts[name] = version(name)
        except Exception:
            pass
    try:
        facts["git_commit"] = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        facts["git_dirty"] = bool(
            subprocess.run(
                ["git", "-C", str(REPO), "status", "--porcelain", "--", "flows"], capture_output=True, text=True
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):
        pass
    if aws is not None:
        facts["awscli"] = subprocess.run([str(aws), "--version"], capture_output=True, text=True).stdout.strip()
    return facts


def _strip(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if not k.startswith("_")}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bare"]:
        return bare_main(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--schools",
        type=_int_list,
        default=_int_list(os.environ.get("BENCH_N") or "100,1000"),
        help="comma-separated trust sizes (default $BENCH_N, else 100,1000)",
    )
    parser.add_argument(
        "--pdf-schools",
        type=int,
        default=int(os.environ.get("BENCH_PDF_N") or 300),
        help="N of the real-PDF section; 0 skips it (default $BENCH_PDF_N, else 100)",
    )
    parser.add_argument(
        "--aws", type=Path, default=DEFAULT_AWS, help="the aws CLI (default: .venv-bench/bin/aws; made by make bench)"
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("NOTICES_S3_PORT") or DEFAULT_PORT), help="first S3 port to try"
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="results file (default: bench-results.json at the repository root)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, trusts, Prefect homes)")
    args = parser.parse_args(argv)
    aws: Path | None = args.aws.resolve() if args.aws and args.aws.exists() else None
    if aws is None:
        print(
            f"note: {args.aws} not found: the aws s3 sync rows are skipped (make bench installs it into .venv-bench)",
            file=sys.stderr,
        )

    from flows import embedded_s3 as local_s3
    from flows.publish.s3 import setup_bucket

    tmp = Path(tempfile.mkdtemp(prefix="notices-bench-"))
    state_dir = tmp / "state"
    logs = tmp / "logs"
    logs.mkdir(parents=True)
    (tmp / "work").mkdir()
    port = free_port(args.port)
    os.environ.update(NOTICES_STATE_DIR=str(state_dir), NOTICES_S3_PORT=str(port))
    results: dict[str, Any] = {
        "machine": machine_facts(aws),
        "config": {"schools": args.schools, "pdf_schools": args.pdf_schools, "bare_threads": BARE_THREADS, "seed": SEED},
        "runs": [],
        "pdf": None,
    }
    print(
        f"bench: N = {args.schools}, PDF section N = {args.pdf_schools or 'skipped'}; "
        f"{results['machine']['cpu_count']} cores, Python {results['machine']['python']}; temp folder {tmp}",
        flush=True,
    )
    info = None
    try:
        info = local_s3.start(state_dir / "s3", port=port)
        setup_client = Target(info.endpoint_url, "", info.bucket, info.access_key, info.secret_key).client()
        for warning in setup_bucket(setup_client, info.bucket):
            print(f"  setup-bucket: {warning}")
        # The expiry rule for _private/ makes `weed mini` replay every write of the last 8 days about
        # five minutes after it starts (~10 ms of CPU per object written): minutes of a core in the
        # middle of the N = 1000 rows. Publishing never reads the rule (each run sweeps _private/ itself).
        setup_client.delete_bucket_lifecycle(Bucket=info.bucket)
        with CountingProxy(info.endpoint_url) as proxy:
            target = Target(info.endpoint_url, proxy.url, info.bucket, info.access_key, info.secret_key)
            print(f"  SeaweedFS at {info.endpoint_url}, counting proxy at {proxy.url}, bucket {info.bucket}", flush=True)
            setup = Setup(target, Runner(proxy, logs, tmp / "work", info.pid, Path(info.state_dir) / "logs"), tmp, state_dir, aws)
            by_n: dict[int, dict[str, Measure]] = {}
            for n in args.schools:
                section = run_n(setup, n)
                by_n[n] = section["_m"]
                results["runs"].append(_strip(section))
                print_table(f"N = {n} schools (PDF stubbed)", section["_m"])
                print_targets(section["targets"])
                _write(args.out, results)
            if args.pdf_schools:
                pdf = run_pdf(setup, args.pdf_schools, by_n.get(args.pdf_schools))
                results["pdf"] = _strip(pdf)
                _write(args.out, results)
        print("\n================ summary ================")
        print(LEGEND)
        for section, m in zip(results["runs"], by_n.values(), strict=True):
            print_table(f"N = {section['n']} schools (PDF stubbed)", m)
            print_targets(section["targets"])
        if results["pdf"]:
            pdf_m = pdf["_m"]
            print_table(
                f"PDF section: N = {args.pdf_schools}, real PDFs",
                pdf_m,
                [
                    ("bare", f"bare loop, real PDF ({os.cpu_count()} proc.)"),
                    ("first", "publish: first, real PDF"),
                    ("prefect_cold", "Prefect start, new home"),
                ],
            )
            for name, value in results["pdf"]["seconds_per_pdf"].items():
                print(f"  {name.replace('_', ' ')}: {value:.3f}")
            print_targets(results["pdf"]["targets"])
        print(f"\nwritten: {args.out}")
    finally:
        if info is not None:
            local_s3.stop(Path(info.state_dir))
        failed = [x["name"] for s in results["runs"] for x in s["measures"].values() if x["rc"]]
        if results["pdf"]:
            failed += [x["name"] for x in results["pdf"]["measures"].values() if x["rc"]]
        if args.keep or failed:
            print(f"kept {tmp} (logs in {logs})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failed:
        print(f"commands that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _write(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
