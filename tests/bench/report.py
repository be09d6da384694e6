"""What the benchmark reports: the stated targets met or not, the tables, the machine, the JSON."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from measuring import Measure, noisy

REPO = Path(__file__).resolve().parents[2]


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
        "first publish ≤ 1.5× bare loop (stubbed PDF)",
        None if ratio is None else ratio <= 1.5,
        f"{ratio:.2f}× ({first.wall:.1f} s vs {bare.wall:.1f} s)" if ratio and first and bare else "not measured",
    )
    dask = m.get("first_dask")
    if dask and first:
        add(
            "--task-runner dask (local cluster) within 1.1× of threads (first publish, stubbed PDF)",
            dask.rc == 0 and dask.wall <= 1.1 * first.wall and checks.get("pdf_stub_in_dask_objects") is True,
            f"{dask.wall / first.wall:.2f}× ({dask.wall:.1f} s vs {first.wall:.1f} s)"
            + ("" if dask.rc == 0 else f"; exit {dask.rc}")
            + ("" if checks.get("pdf_stub_in_dask_objects") else "; the workers made real PDFs: the stub did not reach them"),
        )
    every = m.get("all_changed")
    changed = _ratio(every, bare.wall if bare else None)
    add(
        "all schools changed (new DPO) ≤ 1.7× bare loop",
        None if changed is None else changed <= 1.7,
        f"{changed:.2f}× ({every.wall:.1f} s vs {bare.wall:.1f} s)" if changed and every and bare else "not measured",
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
        writes = unchanged.count("PUT") + unchanged.count("DELETE") + unchanged.count("COPY")
        add(
            "unchanged rerun writes nothing (no PUT, COPY or DELETE: no lock either)",
            writes == 0,
            f"{unchanged.count('PUT')} PUT, {unchanged.count('COPY')} COPY, {unchanged.count('DELETE')} DELETE",
        )
    _warm_targets(add, m, checks, n)
    one = checks.get("one_edited")
    if one:
        extra = one["other_schools"] + one["other"]
        add(
            "one school edited: only its objects + the trust index/schools.json + the public log written",
            one["ok"],
            f"{len(one['school'])} of the school's, {len(one['root'])} root ({', '.join(k.rsplit('/', 1)[1] for k in one['root'])}), "
            f"{len(one.get('log', []))} of the log ({', '.join(k.split('/_log/', 1)[1] for k in one.get('log', []))}), "
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
    _log_targets(add, checks)
    publishes = [x for k, x in m.items() if k in ("first", "first_dask", "unchanged", "one_edited", "all_changed", "one_school")]
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


def _warm_targets(add: Any, m: dict[str, Measure], checks: dict[str, Any], n: int) -> None:
    """Issue 22's warm path (a running local Prefect server) and the trust index's weight."""
    warm, sync2, one = m.get("unchanged_warm"), m.get("sync_second"), m.get("one_school_warm")
    if warm and sync2:
        cold = f" (with Prefect's temporary server: {m['unchanged'].wall:.1f} s)" if "unchanged" in m else ""
        add(
            "unchanged rerun, local Prefect server ≤ aws s3 sync (second run) + 2 s",
            warm.wall <= sync2.wall + 2.0,
            f"{warm.wall:.1f} s vs {sync2.wall:.1f} + 2 = {sync2.wall + 2:.1f} s{cold}",
        )
    if one:
        cold = m.get("one_school")
        add(
            "publish --school X, nothing changed, local Prefect server ≤ 3 s",
            one.wall <= 3.0,
            f"{one.wall:.1f} s"
            + (f" (temporary server: {cold.wall:.1f} s)" if cold else "")
            + (f"; the server started in {checks['prefect_server_start_s']} s" if "prefect_server_start_s" in checks else ""),
        )
    size = checks.get("index_bytes")
    if size:
        add(
            "trust index < 200 KB raw at N = 1,000 (reported below 1,000)",
            size < 200_000 * max(1, n // 1000) if n >= 1000 else None,
            f"{size / 1000:.0f} KB at N = {n} ({size / n / 1000:.2f} KB a school), "
            f"{checks.get('index_served_bytes', 0) / 1000:.0f} KB sent",
        )
    page = checks.get("school_page_bytes")
    if page:
        served = checks.get("school_page_served_bytes", page)
        add(
            "text objects served gzip-compressed (a school's page, sent vs read)",
            served < page,
            f"{served / 1000:.1f} KB sent for {page / 1000:.1f} KB",
        )


def _log_targets(add: Any, checks: dict[str, Any]) -> None:
    """The public log: objects written per run (O(N/256 + log N), none when unchanged) and verify's cost."""
    puts = checks.get("log_puts")
    if puts:
        entries = puts["entries_first"]
        levels = max(1, math.ceil(math.log(max(entries, 2), 256)))
        bound = 2 * math.ceil(entries / 256) + 2 * levels + 4  # bundles and hash tiles, plus checkpoint, key, witnesses, cache
        add(
            "public log: a first publish writes O(N/256 + log N) log objects",
            puts["first"] <= bound,
            f"{puts['first']} objects for {entries} entries (bound {bound}); one school edited: {puts.get('one_edited', '–')}, "
            f"all changed: {puts.get('all_changed', '–')}",
        )
        add("public log: an unchanged rerun writes nothing to it", puts.get("unchanged") == 0, f"{puts.get('unchanged')} objects")
    for key, label in (("verify_one", "notices verify, one school"), ("verify_all", "notices verify, the whole trust")):
        found = (checks.get("verify") or {}).get(key)
        if found:
            add(
                f"{label}: passes (reported)",
                found["ok"],
                f"{found['wall']:.1f} s, {found['requests']} requests, {(found['bytes'] or 0) / 1e6:.1f} MB fetched",
            )


LEGEND = """wall s: the command, start to exit; flow s: the flow run itself (start to end in prefect.db);
CPU s: user + sys of the command's whole process tree; RSS MB: ru_maxrss, its largest single process;
GET…DEL: requests through the counting proxy (LIST: bucket listings); task runs: rows in prefect.db.
~ after a wall time: a noisy figure: other processes on the machine used over a fifth of a core meanwhile,
  or SeaweedFS ran its own lifecycle scan of the bucket (see notes in the JSON)."""

ROWS = [
    ("bare", "bare loop (floor)"),
    ("first", "publish: first"),
    ("first_dask", "publish: first, Dask local cluster"),
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
    ("unchanged_warm", "unchanged rerun, warm Prefect"),
    ("one_school_warm", "publish --school, warm Prefect"),
    ("verify_one", "notices verify (1 school)"),
    ("verify_all", "notices verify (whole trust)"),
]


def ratio_text(key: str, m: dict[str, Measure]) -> str:
    """The ratio column: each row against what it should be compared with."""
    wall = {k: v.wall for k, v in m.items()}
    refs: dict[str, tuple[float | None, str]] = {
        "bare": (wall.get("bare"), "floor"),
        "first": (wall.get("bare"), "bare"),
        "first_dask": (wall.get("first"), "threads"),
        "unchanged": (
            (wall["sync_second"] + wall["prefect_warm"]) if "sync_second" in wall and "prefect_warm" in wall else None,
            "sync2+Prefect",
        ),
        "one_edited": (wall.get("unchanged"), "unchanged"),
        "all_changed": (wall.get("bare"), "bare"),
        "sync_first": (wall.get("bare"), "bare"),
        "sync_second": (wall.get("unchanged"), "unchanged"),
        "one_school": (wall.get("prefect_warm"), "Prefect"),
        "unchanged_warm": ((wall["sync_second"] + 2.0) if "sync_second" in wall else None, "sync2+2s"),
        "one_school_warm": (wall.get("one_school"), "temporary server"),
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
        from aws_sync import aws_version

        facts["awscli"] = aws_version(aws)
    return facts


def _strip(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if not k.startswith("_")}


def write_results(path: Path, results: dict[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
