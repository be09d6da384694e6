"""Crash loop: SIGKILL a real `notices publish` at a spread of moments, then check the site.

A proxy between the publisher and SeaweedFS (both real processes) kills the publisher the
moment a chosen request passes, before or after SeaweedFS applied it: after taking the trust
lock, between edition files, between the edition files and the manifest, between the
manifest and the latest files, before the trust index, before the publish state, and at
seeded random request numbers. After each kill the latest pages must be a complete edition
that the manifest lists; a clean rerun (the flow, in this process) must then converge at
once, and any leftover of the dead run (its lease, its orphan files) must not be mistaken for
a live publisher. No ``v<N>/`` object ever changes or disappears.
"""

from __future__ import annotations

from tests.support.web import read_object

import functools
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from flows.cli import main
from flows.editions.records import Manifest, sha256_hex
from flows.publish import layout
from flows.publish.lease import lease_key
from flows.publish.s3 import make_client

from .killproxy import KillProxy, Trigger

NOTICES = str(Path(sys.executable).parent / "notices")
SCHOOLS = ("brookside-special", "oakfield-primary", "riverside-infant")
APPROVER = "Alex Example (DPO)"


@dataclass(frozen=True)
class Moment:
    """A named moment to kill the publisher: the first request matching ``pattern``."""

    name: str
    method: str
    pattern: str
    after: bool  # True: SeaweedFS applied the request, the publisher never heard back


MOMENTS = (
    Moment("just after taking the trust lock", "PUT", r"/lock\.json$", after=True),
    Moment("after an edition's first file", "PUT", r"/v\d+/notice\.json$", after=True),
    Moment("between edition files", "PUT", r"/v\d+/notice\.pdf$", after=False),
    Moment("between the edition files and the manifest", "PUT", r"/v\d+/changes\.html$", after=True),
    Moment("just before the manifest", "PUT", r"/manifest\.json$", after=False),
    Moment("while writing the manifest (applied)", "PUT", r"/manifest\.json$", after=True),
    Moment("between the manifest and the latest files", "PUT", r"/privacy-notice/index\.html$", after=False),
    Moment("before the trust index", "PUT", r"/schools\.json$", after=False),
    Moment("between the log's tiles and its checkpoint", "PUT", r"/_log/tile/entries/", after=True),
    Moment("just before the log's checkpoint", "PUT", r"/_log/checkpoint$", after=False),
    Moment("after the log's checkpoint, before its cache", "PUT", r"/log-index\.json$", after=False),
    Moment("before the publish state", "PUT", r"/publish-state\.json$", after=False),
)
RANDOM_KILLS = 2


@pytest.fixture
def crash_env(
    seaweed, tree: Path, prefix: str, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[dict[str, str], KillProxy]]:
    """The environment of a `notices publish` that goes through a kill proxy to SeaweedFS; this
    process gets it too (straight to SeaweedFS), for the clean reruns through the flow."""
    with KillProxy(seaweed.endpoint_url) as proxy:
        env = {
            "PREFECT_API_URL": prefect_api,
            "NOTICES_S3_ENDPOINT": seaweed.endpoint_url,
            "NOTICES_S3_BUCKET": seaweed.bucket,
            "NOTICES_S3_PREFIX": prefix,
            "NOTICES_PUBLIC_BASE_URL": f"{seaweed.endpoint_url}/{seaweed.bucket}/",
            "AWS_ACCESS_KEY_ID": seaweed.access_key,
            "AWS_SECRET_ACCESS_KEY": seaweed.secret_key,
            "NOTICES_SCHOOLS": str(tree / "schools"),
            "NOTICES_SHARED_DATA": str(tree / "shared_data"),
            "NOTICES_RETRY_DELAYS": "0.5",
            "NOTICES_PDF_WORKERS": "0",  # a few PDFs a run: starting worker processes would cost more
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        yield dict(os.environ, NOTICES_S3_ENDPOINT=proxy.url), proxy


def _publish_killed(env: dict[str, str], proxy: KillProxy, trigger: Trigger) -> None:
    """Run a real `notices publish`, which the proxy SIGKILLs at ``trigger``."""
    args = [NOTICES, "publish", "--approved-by", APPROVER, *(a for s in SCHOOLS for a in ("--school", s))]
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proxy.arm(process.pid, trigger)
    try:
        out, err = process.communicate(timeout=120)
    finally:
        proxy.arm(None, None)
    assert process.returncode == -signal.SIGKILL, f"not killed ({proxy.seen} requests seen): {out}{err}"


def _publish_clean() -> dict[str, Any]:
    """A clean run of the flow, in this process, straight to SeaweedFS."""
    from flows.runs.flow import publish_notices
    from flows.runs.parameters import ApprovalOptions, PublishParameters

    params = PublishParameters(schools=list(SCHOOLS), approval=ApprovalOptions(approved_by=APPROVER))
    state = publish_notices(params, return_state=True)
    data: dict[str, Any] = state.result(raise_on_failure=False)
    assert state.is_completed(), f"{state.message}: {[(s['slug'], s['error']) for s in data['schools']]}"
    return data


def _edit(tree: Path, round_no: int) -> None:
    """New words for every school: each run makes a new edition of each."""
    for slug in SCHOOLS:
        path = tree / "schools" / f"{slug}.yaml"
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"(?m)^headteacher: .*$", f"headteacher: Ms Round {round_no} Example", text), encoding="utf-8")


@functools.cache
def _client(seaweed):  # straight to SeaweedFS, not through the proxy; one client (making one takes 0.2 s)
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _get(seaweed, key: str) -> bytes:
    return bytes(read_object(_client(seaweed), Bucket=seaweed.bucket, Key=key))


def _edition_etags(seaweed, prefix: str) -> dict[str, str]:
    pages = _client(seaweed).get_paginator("list_objects_v2").paginate(Bucket=seaweed.bucket, Prefix=prefix + "/")
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", []) if re.search(r"/v\d+/", o["Key"])}


def _check_served(seaweed, prefix: str, slug: str) -> tuple[Manifest, int]:
    """Each latest file is whole and shows an edition the manifest lists; returns the manifest
    and the edition ``notice.json`` shows. (S3 writes one object at a time, so while a run
    writes the latest files, or after it died among them, the page and the JSON may show
    neighbouring editions: each is whole, and the next run aligns them.)"""
    manifest = Manifest.model_validate_json(_get(seaweed, layout.record_key(prefix, slug, "manifest.json")))
    listed = [e.number for e in manifest.editions]
    page = _get(seaweed, layout.latest_key(prefix, slug, "index.html")).decode()
    assert page.rstrip().endswith("</html>"), f"{slug}: the latest page is cut short"
    on_page = re.findall(r"<strong>edition (\d+)</strong>", page)
    assert len(on_page) == 1 and int(on_page[0]) in listed, (
        f"{slug}: the latest page shows edition {on_page}, the manifest lists {listed}"
    )
    shown = json.loads(_get(seaweed, layout.latest_key(prefix, slug, "notice.json")))["edition"]["number"]
    assert shown in listed, f"{slug}: latest notice.json shows v{shown}, the manifest lists {listed}"
    return manifest, shown


def _check_converged(seaweed, prefix: str, slug: str, editions: int | None = None) -> int:
    """Editions 1..N, the newest (or every one) as its manifest records it; latest shows N."""
    manifest, shown = _check_served(seaweed, prefix, slug)
    page = _get(seaweed, layout.latest_key(prefix, slug, "index.html")).decode()
    assert f"<strong>edition {shown}</strong>" in page, f"{slug}: the latest page and notice.json disagree after a clean run"
    numbers = [e.number for e in manifest.editions]
    assert numbers == list(range(1, len(numbers) + 1)), f"{slug}: edition numbers {numbers} (skipped {manifest.skipped})"
    assert shown == numbers[-1], f"{slug}: latest shows v{shown}, the manifest's highest is v{numbers[-1]}"
    for edition in manifest.editions[-(editions or len(numbers)) :]:
        for name, record in edition.files.items():
            body = _get(seaweed, layout.edition_key(prefix, slug, edition.number, name))
            assert sha256_hex(body) == record.sha256, f"{slug}: v{edition.number}/{name} differs from its manifest record"
    assert manifest.latest is not None
    for name, record in manifest.latest.files.items():
        assert sha256_hex(_get(seaweed, layout.latest_key(prefix, slug, name))) == record.sha256, f"{slug}: latest {name} differs"
    return numbers[-1]


def test_a_publisher_killed_at_any_moment_never_shows_half_an_edition_and_the_rerun_converges_at_once(
    seaweed, tree: Path, prefix: str, crash_env: tuple[dict[str, str], KillProxy], tmp_path: Path, capsys
) -> None:
    env, proxy = crash_env
    _publish_clean()
    log_root, reader = f"{seaweed.endpoint_url}/{seaweed.bucket}/{prefix}/", str(tmp_path / "verify")
    edition = 1
    rng = random.Random(20261129)
    triggers: list[tuple[str, Trigger]] = [(m.name, Trigger(m.method, m.pattern, after=m.after)) for m in MOMENTS]
    triggers += [(f"at request {n}", Trigger.nth(n, after=rng.random() < 0.5)) for n in rng.sample(range(2, 45), RANDOM_KILLS)]
    started = time.monotonic()
    for round_no, (moment, trigger) in enumerate(triggers, start=2):
        _edit(tree, round_no)
        before = _edition_etags(seaweed, prefix)
        _publish_killed(env, proxy, trigger)
        for slug in SCHOOLS:
            _check_served(seaweed, prefix, slug)
        data = _publish_clean()  # at once: the dead run's lease must not block it
        edition += 1
        assert {s["slug"]: _check_converged(seaweed, prefix, s["slug"], editions=1) for s in data["schools"]} == dict.fromkeys(
            SCHOOLS, edition
        ), moment
        listing = {s["slug"]: s["edition"] for s in json.loads(_get(seaweed, layout.root_key(prefix, "schools.json")))["schools"]}
        assert {slug: listing[slug] for slug in SCHOOLS} == dict.fromkeys(SCHOOLS, edition), f"{moment}: the trust index lags"
        after = _edition_etags(seaweed, prefix)
        assert not [k for k, etag in before.items() if after.get(k) != etag], f"{moment}: an edition object changed or vanished"
        assert _client(seaweed).list_objects_v2(Bucket=seaweed.bucket, Prefix=lease_key(prefix)).get("KeyCount", 0) == 0, moment
        # The public log: every edition so far logged, and the tree one reader saw grow each round.
        assert main(["verify", log_root, "--state", reader]) == 0, f"{moment}: {capsys.readouterr().err}"
    for slug in SCHOOLS:  # every edition of every school, byte for byte
        assert _check_converged(seaweed, prefix, slug) == edition
    print(f"\ncrash loop: {len(triggers)} SIGKILLs survived, {edition} editions per school, {time.monotonic() - started:.1f} s")
