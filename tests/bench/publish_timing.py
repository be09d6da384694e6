"""The scenarios: for a trust of N schools, each command publishing (or rendering) it, measured.

Per N (PDF stubbed): Prefect's cold start, `notices validate`, the bare loop (the floor), the
first publish, an unchanged rerun, one school edited, every school changed (a new DPO),
`notices render`, `aws s3 sync` twice (``aws_sync``), Prefect's warm start and a one-school
publish, the first publish again on a local Dask cluster (N ≤ 1,000). The PDF section: the bare
loop and a first publish with real PDFs.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aws_sync import sync_twice
from measuring import Measure
from report import targets
from scale_setup import SHARED_DATA, Setup, Target, base_env, count_objects, edit_dpo, edit_school, generate

HERE = Path(__file__).resolve().parent
STUB = HERE / "notices_stub_pdf.py"
BARE_LOOP = HERE / "bare_loop.py"
TRIVIAL_FLOW = HERE / "trivial_flow.py"


def notices_cmd(*args: str, stub: bool = True) -> list[str]:
    """``notices ARGS``: through the PDF stub, or the real console script."""
    if stub:
        return [sys.executable, str(STUB), *args]
    script = Path(sys.executable).parent / "notices"
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "flows.cli", *args]


def approver(trust: Path) -> str:
    """The trust's first approver (``--approved-by`` must name one; the synthetic trust keeps the sample's)."""
    import yaml

    return yaml.safe_load((trust / "_trust.yaml").read_text(encoding="utf-8"))["approval"]["approvers"][0]["name"]


def publish_cmd(trust: Path, *extra: str, stub: bool = True) -> list[str]:
    return notices_cmd(
        "publish", "--schools", str(trust), "--shared-data", str(SHARED_DATA), "--approved-by", approver(trust), *extra, stub=stub
    )


def bare_cmd(trust: Path, target: Target, prefix: str, *, real_pdf: bool = False) -> list[str]:
    cmd = [
        sys.executable,
        str(BARE_LOOP),
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


LARGE_N = 5000  # above this, only a first publish and an unchanged rerun
DASK_MAX_N = 1000  # the Dask row repeats a first publish: not at 21,600


def run_dask_first(setup: Setup, trust: Path, env: dict[str, str], home: Path, n: int) -> Measure:
    """The first publish again, on a prefix of its own, with ``--task-runner dask`` (a local
    cluster, one worker process per core): the stub reaches the workers as Dask's preload."""
    dask_env = env | {
        "NOTICES_S3_PREFIX": f"n{n}-dask",
        "DASK_DISTRIBUTED__WORKER__PRELOAD": json.dumps([str(STUB)]),
    }
    command = publish_cmd(trust, "--task-runner", "dask")
    return setup.runner.run("publish: first, --task-runner dask", command, dask_env, prefect_home=home)


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
    make_log_key(env)

    def run(key: str, name: str, command: list[str], *, prefect: bool = False) -> Measure:
        m[key] = runner.run(name, command, env, prefect_home=home if prefect else None)
        return m[key]

    run("prefect_cold", "Prefect start, new $PREFECT_HOME", [sys.executable, str(TRIVIAL_FLOW)], prefect=True)
    run(
        "validate",
        "notices validate (no Prefect, no S3)",
        notices_cmd("validate", "--schools", str(trust), "--shared-data", str(SHARED_DATA)),
    )
    if n <= LARGE_N:
        run("bare", "bare loop (8 threads, plain boto3)", bare_cmd(trust, target, f"bare/n{n}"))
    first = run("first", "publish: first", publish_cmd(trust), prefect=True)
    checks["objects_after_first"] = count_objects(target, f"n{n}/")
    checks["log_puts"] = {"first": log_puts(first), "entries_first": 2 * n}
    checks["pdf_stub_in_objects"] = _stub_pdf_stored(target, f"n{n}/{slugs[0]}/privacy-notice/notice.pdf")
    if first.fake_pdfs == 0:
        print("  ! the PDF stub was never called during the first publish: the table is not a stubbed run", file=sys.stderr)
    checks["log_puts"]["unchanged"] = log_puts(run("unchanged", "publish: unchanged rerun", publish_cmd(trust), prefect=True))
    if n <= DASK_MAX_N:
        m["first_dask"] = run_dask_first(setup, trust, env, home, n)
        checks["pdf_stub_in_dask_objects"] = _stub_pdf_stored(target, f"n{n}-dask/{slugs[0]}/privacy-notice/notice.pdf")
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
    checks["log_puts"]["one_edited"] = log_puts(one)
    edit_dpo(trust)
    checks["log_puts"]["all_changed"] = log_puts(
        run("all_changed", "publish: all changed (new DPO)", publish_cmd(trust), prefect=True)
    )
    checks["verify"] = run_verify(run, target, n, slugs[0], tmp)
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
        checks["objects_synced"] = sync_twice(run, setup.aws, site, target, n)
    run("prefect_warm", "Prefect start (trivial flow)", [sys.executable, str(TRIVIAL_FLOW)], prefect=True)
    run("one_school", "publish --school (1, unchanged)", publish_cmd(trust, "--school", slugs[0]), prefect=True)
    checks.update(page_weights(target, n, slugs[0]))
    from warm_prefect import local_prefect

    with local_prefect(env, checks) as warm:  # the same two, with a running local Prefect server
        m["unchanged_warm"] = runner.run("publish: unchanged rerun, local Prefect server", publish_cmd(trust), warm)
        m["one_school_warm"] = runner.run(
            "publish --school (1, unchanged), local Prefect server", publish_cmd(trust, "--school", slugs[0]), warm
        )
    return {
        "n": n,
        "edited_school": edited,
        "measures": {k: v.as_dict() for k, v in m.items()},
        "checks": checks,
        "targets": targets(n, m, checks),
        "_m": m,
    }


def make_log_key(env: dict[str, str]) -> None:
    """The trust's log key, once per state folder (as `make run` does): a publish without one publishes nothing."""
    import subprocess

    subprocess.run(notices_cmd("log", "keygen", "--if-missing", stub=False), env=env, check=True, capture_output=True)


def log_puts(measure: Measure) -> int:
    """The objects of the public log a run wrote (tiles, checkpoint, key, witnesses, its private cache)."""
    return sum(1 for key in measure.put_keys if "/_log/" in key or key.endswith("/log-index.json"))


def run_verify(run: Any, target: Target, n: int, slug: str, tmp: Path) -> dict[str, Any]:
    """`notices verify` of one school and of the whole trust, through the counting proxy, first use (no state)."""
    root = f"{target.proxy_url}/{target.bucket}/n{n}/"
    found: dict[str, Any] = {}
    for key, name, url in (
        ("verify_one", "notices verify (1 school)", f"{root}{slug}/privacy-notice/"),
        ("verify_all", "notices verify (whole trust)", root),
    ):
        measure = run(key, name, notices_cmd("verify", url, "--state", str(tmp / f"{key}-n{n}"), "--timeout", "60", stub=False))
        summary = next((line for line in measure.stdout_tail if line.startswith("verified")), "")
        fetched = re.search(r"(\d+) bytes in (\d+) requests", summary)
        found[key] = {
            "ok": measure.rc == 0,
            "wall": round(measure.wall, 2),
            "bytes": int(fetched.group(1)) if fetched else None,
            "requests": int(fetched.group(2)) if fetched else None,
        }
    return found


def page_weights(target: Target, n: int, slug: str) -> dict[str, int]:
    """Bytes of the trust index and a school's page as stored (gzip) and as read (decompressed)."""
    import gzip

    weights: dict[str, int] = {}
    for name, key in (("index", f"n{n}/index.html"), ("school_page", f"n{n}/{slug}/privacy-notice/index.html")):
        answer = target.client().get_object(Bucket=target.bucket, Key=key)
        stored = answer["Body"].read()
        plain = gzip.decompress(stored) if answer.get("ContentEncoding") == "gzip" else stored
        weights[f"{name}_bytes"], weights[f"{name}_served_bytes"] = len(plain), len(stored)
    return weights


def _stub_pdf_stored(target: Target, key: str) -> bool | None:
    from notices_stub_pdf import MARKER

    try:
        body = target.client().get_object(Bucket=target.bucket, Key=key)["Body"].read(len(MARKER))
    except Exception:
        return None
    return body == MARKER


def classify_keys(keys: Sequence[str], prefix: str, slug: str | None) -> dict[str, Any]:
    """Split the keys a run wrote: the edited school's, the trust's root pages, the public log, private run files, others."""
    root = {f"{prefix}/index.html", f"{prefix}/schools.json", f"{prefix}/error.html"}
    school_prefix = f"{prefix}/{slug}/privacy-notice/" if slug else None
    groups: dict[str, list[str]] = {"school": [], "root": [], "log": [], "private": [], "other_schools": [], "other": []}
    for key in keys:
        if school_prefix and key.startswith(school_prefix):
            groups["school"].append(key)
        elif key.startswith(f"{prefix}/_log/"):  # the public log's new tiles and checkpoint
            groups["log"].append(key)
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
        "Prefect start, new $PREFECT_HOME", [sys.executable, str(TRIVIAL_FLOW)], env, prefect_home=home
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
