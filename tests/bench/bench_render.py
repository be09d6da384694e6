"""Benchmark: load + compose + render time per school, for a synthetic trust.

Run with `make bench` (never part of `make test`). Builds a trust of N schools by copying
the six samples with new slugs and URNs into a temp folder, then times each stage.

    .venv/bin/python tests/bench/bench_render.py --schools 300
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from flows.render import build_environment, render_dataset_text, render_notice
from flows.site import DEFAULT_SCHOOLS, DEFAULT_SHARED_DATA, TEMPLATES_DIR, prepare


def make_trust(folder: Path, count: int) -> None:
    """Write `count` school files (copies of the samples) plus the trust file."""
    shutil.copy(DEFAULT_SCHOOLS / "_trust.yaml", folder / "_trust.yaml")
    samples = sorted(p for p in DEFAULT_SCHOOLS.glob("*.yaml") if p.name != "_trust.yaml")
    for i in range(count):
        source = samples[i % len(samples)]
        text = source.read_text(encoding="utf-8")
        urn = next(line for line in text.splitlines() if line.startswith("urn:")).split(":")[1].strip()
        text = text.replace(f"urn: {urn}", f"urn: {900000 + i}")
        (folder / f"{source.stem}-{i:05d}.yaml").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=300)
    parser.add_argument("--pdf-sample", type=int, default=30, help="schools to time with the PDF")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        make_trust(folder, args.schools)
        started = time.perf_counter()
        prepared = prepare(folder, DEFAULT_SHARED_DATA)
        load_s = time.perf_counter() - started
        assert not prepared.errors, prepared.errors[:3]
        env = build_environment(TEMPLATES_DIR)
        text = render_dataset_text(prepared.notices[0].dataset)
        html_ms = []
        for notice in prepared.notices:
            t = time.perf_counter()
            render_notice(env, notice, text, pdf=False)
            html_ms.append((time.perf_counter() - t) * 1000)
        pdf_ms = []
        for notice in prepared.notices[: args.pdf_sample]:
            t = time.perf_counter()
            render_notice(env, notice, text, pdf=True)
            pdf_ms.append((time.perf_counter() - t) * 1000)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n = len(prepared.notices)
    print(f"schools: {n}")
    print(f"load + validate + compose: {load_s:.2f} s total, {load_s / n * 1000:.2f} ms/school")
    print(f"render HTML+fragment+MD+JSON: median {statistics.median(html_ms):.2f} ms/school, p95 {sorted(html_ms)[int(n * 0.95) - 1]:.2f} ms")
    print(f"render with PDF: median {statistics.median(pdf_ms):.0f} ms/school (first {len(pdf_ms)} schools)")
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
