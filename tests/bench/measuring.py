"""What one command costs: wall, CPU, peak RSS, the proxy's request counts, Prefect's task runs.

``Runner.run`` starts the command under ``measure_wrapper.py`` (its own process), resets the
counting proxy around it, and records the CPU the rest of the machine used meanwhile (a noisy
figure is marked) and whether SeaweedFS ran its lifecycle scan.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from counting_proxy import CountingProxy, Snapshot
from prefect_db import flow_run_ids, latest_flow_run

WRAPPER = Path(__file__).resolve().parent / "measure_wrapper.py"
MB = 1024 * 1024


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
        before_runs = flow_run_ids(prefect_home) if prefect_home else set()
        self.proxy.reset()
        cpu_before, busy_before, server_before = _own_cpu(), _machine_busy(), _process_cpu(self.server_pid)
        started_at = dt.datetime.now()
        with open(self.logs / f"{stem}.out", "wb") as out, open(self.logs / f"{stem}.err", "wb") as err:
            subprocess.run(
                [sys.executable, str(WRAPPER), str(result_file), *command],
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
            facts = latest_flow_run(prefect_home, before_runs)
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
