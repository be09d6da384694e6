"""The bare loop, the floor of a first publish: load, render and PUT every school's objects with
plain boto3 from 8 threads (no validation, diff, manifest or Prefect). Runs as its own process:

    python tests/bench/bare_loop.py --schools-dir DIR --prefix P --endpoint URL --bucket B [--real-pdf --workers N]

With ``--real-pdf`` WeasyPrint makes the PDFs in a pool of processes; else the stub does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED_DATA = HERE.parents[1] / "shared_data"
BARE_THREADS = 8
sys.path.insert(0, str(HERE))  # notices_stub_pdf

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
    """One school's objects, as a first publish writes them: v1/ (``EDITION_FILES``) and the latest (``LATEST_FILES``)."""
    from flows.pdf import weasy as pdf
    from flows.editions.records import Edition
    from flows.publish import layout
    from flows.publish.pages import render_changes_page
    from flows.notice.render import PDF_SOURCES, EditionStamp, render_notice

    env, text, prefix, at = _bare["env"], _bare["text"], _bare["prefix"], _bare["at"]
    edition_files = dict(render_notice(env, notice, text, pdf=False, stamp=EditionStamp(1, at, "edition")).files)
    for name, page in PDF_SOURCES.items():  # notice.pdf and for-pupils.pdf, each from its page
        edition_files[name] = pdf.html_to_pdf(edition_files[page].decode("utf-8"))
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
    latest.update({name: edition_files[name] for name in PDF_SOURCES})
    objects = [
        (layout.edition_key(prefix, notice.slug, 1, name), edition_files[name], layout.IMMUTABLE_CACHE)
        for name in layout.EDITION_FILES
    ]
    objects += [(layout.latest_key(prefix, notice.slug, name), latest[name], layout.LATEST_CACHE) for name in layout.LATEST_FILES]
    return [(key, body, layout.content_type(key), cache) for key, body, cache in objects]


def main(argv: Sequence[str]) -> int:
    """Load, render and PUT every school's objects with plain boto3: the floor of a first publish."""
    parser = argparse.ArgumentParser(prog="bare_loop.py")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
