"""Soak: `notices publish` (the real command, Prefect's ephemeral mode) through a fault proxy.

    make bench-faults                               # 4 runs at each of 10, 20 and 40 %
    .venv/bin/python tests/bench/bench_faults.py --rates 0.1,0.4 --runs 2

Never part of `make test`. Its own SeaweedFS (``flows.embedded_s3``) in a temp folder on
127.0.0.1, stopped at the end; the fault proxy of the tests (``tests/faults.py``) in front of
it, injecting every kind of fault, broken bodies of error answers included, with a read
timeout of 1 s. Per rate, the runs publish into one prefix; the third run follows a wording
change of one school (a new edition under faults). Then a run without faults must find
everything in place: every school unchanged (the public address is fixed, so the proxy's port
changing from run to run changes no page), never failed. Counted per run: the
exit code, tracebacks printed, the faults injected and the time taken.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.faults import BODY_KINDS, KINDS, FaultProxy  # noqa: E402

NOTICES = Path(sys.executable).with_name("notices")


def _run(env: dict[str, str], proxy: FaultProxy) -> tuple[int, int, float, str]:
    """One `notices publish` in the trust's folder: exit code, tracebacks printed, seconds, what it said."""
    started = time.monotonic()
    done = subprocess.run(
        [str(NOTICES), "publish"],
        env=env | {"NOTICES_S3_ENDPOINT": proxy.url},
        cwd=env["NOTICES_SCHOOLS"] + "/..",
        capture_output=True,
        text=True,
        timeout=900,
    )
    took = time.monotonic() - started
    output = done.stdout + done.stderr
    lines = output.splitlines()
    said = [line for line in lines if line.startswith("notices publish:") or " published, " in line]
    for at, line in enumerate(lines):  # what each traceback was, and who printed it
        if line.startswith("Traceback (most recent call last)"):
            end = next((i for i in range(at + 1, len(lines)) if lines[i] and not lines[i].startswith(" ")), at)
            print(f"  traceback after {lines[max(0, at - 1)][:160]!r}: {lines[end][:200]}")
    return done.returncode, output.count("Traceback (most recent call last)"), took, (said[-1] if said else "")[:200]


def _soak(rate: float, runs: int, env: dict[str, str], tree: Path, upstream: str) -> list[tuple[int, int, float, str]]:
    results = []
    school = tree / "schools" / "oakfield-primary.yaml"
    for number in range(1, runs + 1):
        if number == 3:  # a wording change: a new edition made under faults
            school.write_text(school.read_text().replace("Mr Sam Example", "Ms Sam Example"), encoding="utf-8")
        with FaultProxy(upstream, rate=rate, seed=int(rate * 100) * 10 + number, kinds=KINDS + BODY_KINDS, stall_s=1.5) as proxy:
            code, tracebacks, took, last = _run(env, proxy)
        results.append((code, tracebacks, took, last))
        print(
            f"{rate:.0%} run {number}: exit {code}, {tracebacks} traceback(s), {took:.1f} s, "
            f"{sum(proxy.injected.values())} faults of {sum(proxy.injected.values()) + proxy.forwarded} requests: {last}",
            flush=True,
        )
    with FaultProxy(upstream) as clean:
        code, tracebacks, took, last = _run(env, clean)
    print(f"{rate:.0%} converged: exit {code}, {tracebacks} traceback(s), {took:.1f} s: {last}", flush=True)
    results.append((code if "6 unchanged" in last else 1, tracebacks, took, "converged: " + last))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="0.1,0.2,0.4", help="fault rates, e.g. 0.1,0.4")
    parser.add_argument("--runs", type=int, default=4, help="runs per rate before the clean one")
    args = parser.parse_args()
    from flows import embedded_s3 as local_s3

    with tempfile.TemporaryDirectory(prefix="bench-faults-") as temp:
        root = Path(temp)
        port = next(p for p in range(47100, 48000, 20) if all(local_s3.port_free(p + i) for i in range(5)))
        info = local_s3.start(root / "s3", port=port)
        failures = 0
        try:
            for rate in (float(r) for r in args.rates.split(",")):
                tree = root / f"tree-{rate}"
                shutil.copytree(REPO / "schools", tree / "schools")
                shutil.copytree(REPO / "shared_data", tree / "shared_data")
                env = os.environ | {
                    "AWS_ACCESS_KEY_ID": info.access_key,
                    "AWS_SECRET_ACCESS_KEY": info.secret_key,
                    "NOTICES_S3_BUCKET": info.bucket,
                    "NOTICES_S3_PREFIX": f"soak-{int(rate * 100)}",
                    "NOTICES_PUBLIC_BASE_URL": f"{info.endpoint_url}/{info.bucket}",
                    "NOTICES_SCHOOLS": str(tree / "schools"),
                    "NOTICES_SHARED_DATA": str(tree / "shared_data"),
                    "NOTICES_S3_READ_TIMEOUT": "1",
                    "NOTICES_S3_CONNECT_TIMEOUT": "1",
                    "NOTICES_RETRY_DELAYS": "0.5,1,2",
                    "PREFECT_HOME": str(root / f"prefect-{rate}"),
                    "NOTICES_STATE_DIR": str(root / "state"),
                }
                env.pop("PREFECT_API_URL", None)
                results = _soak(rate, args.runs, env, tree, info.endpoint_url)
                failures += sum(t for _, t, _, _ in results) + int(results[-1][0] != 0)
        finally:
            local_s3.stop(Path(info.state_dir))
    print("tracebacks and unconverged rates:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
