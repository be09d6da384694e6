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

The modules, one concern each: ``scale_setup`` (SeaweedFS, the trusts, the environment),
``measuring`` (one command's cost, through ``measure_wrapper.py``; ``prefect_db`` for task runs),
``publish_timing`` (the scenarios), ``bare_loop.py`` (the floor, its own process), ``aws_sync``
(the yardstick), ``report`` (targets, tables, JSON). This file only runs them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))  # the modules beside this one

from aws_sync import DEFAULT_AWS  # noqa: E402
from bare_loop import BARE_THREADS  # noqa: E402
from counting_proxy import CountingProxy  # noqa: E402
from measuring import Measure, Runner  # noqa: E402
from publish_timing import run_n, run_pdf  # noqa: E402
from report import LEGEND, machine_facts, print_table, print_targets, write_results  # noqa: E402
from scale_setup import DEFAULT_PORT, SEED, Setup, Target, free_port, start_seaweedfs  # noqa: E402

RESULTS = REPO / "bench-results.json"


def _int_list(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def _strip(section: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in section.items() if not k.startswith("_")}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bare"]:  # the bare loop's old entry point: bare_loop.py is it now
        from bare_loop import main as bare_main

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
        info = start_seaweedfs(state_dir / "s3", port)  # the lifecycle rule removed: see there
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
                write_results(args.out, results)
            if args.pdf_schools:
                pdf = run_pdf(setup, args.pdf_schools, by_n.get(args.pdf_schools))
                results["pdf"] = _strip(pdf)
                write_results(args.out, results)
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


if __name__ == "__main__":
    sys.exit(main())
