"""Races between real `notices publish` processes on one trust: nothing lost, nothing duplicated.

Each round starts four publishers at once: two on the same school with different words, and
one each on two other schools. Afterwards every edition of every school is recorded once,
in order, with its bytes; and no ``v<N>/`` object that existed before the round has changed
(its ETag) or gone.
"""

from __future__ import annotations

from tests.support.web import read_object

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from flows.cli import main
from flows.editions.records import Manifest, sha256_hex
from flows.publish import layout
from flows.publish.s3 import make_client

NOTICES = str(Path(sys.executable).parent / "notices")
SAME, OTHERS = "hillcrest-middle", ("northgate-academy", "riverside-infant")
ROUNDS = 2


@functools.cache
def _client(seaweed):  # one client: making one takes 0.2 s
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _etags(seaweed, prefix: str) -> dict[str, str]:
    """Every immutable edition object and its ETag."""
    pages = _client(seaweed).get_paginator("list_objects_v2").paginate(Bucket=seaweed.bucket, Prefix=prefix + "/")
    return {o["Key"]: o["ETag"] for page in pages for o in page.get("Contents", []) if re.search(r"/v\d+/", o["Key"])}


def _folder(tree: Path, name: str, slug: str, headteacher: str) -> Path:
    """A copy of the schools folder where ``slug`` has a new headteacher."""
    folder = tree / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(tree / "schools", folder)
    path = folder / f"{slug}.yaml"
    path.write_text(
        re.sub(r"(?m)^headteacher: .*$", f"headteacher: {headteacher}", path.read_text(encoding="utf-8")), encoding="utf-8"
    )
    return folder


def _get(seaweed, key: str) -> bytes:
    return bytes(read_object(_client(seaweed), Bucket=seaweed.bucket, Key=key))


def _manifest(seaweed, prefix: str, slug: str) -> Manifest:
    return Manifest.model_validate_json(_get(seaweed, layout.record_key(prefix, slug, "manifest.json")))


def test_publishers_racing_on_the_same_and_on_different_schools_lose_and_duplicate_nothing(
    seaweed, tree: Path, prefix: str, prefect_api: str, tmp_path: Path, capsys
) -> None:
    env = dict(
        os.environ,
        PREFECT_API_URL=prefect_api,
        NOTICES_S3_ENDPOINT=seaweed.endpoint_url,
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX=prefix,
        NOTICES_PUBLIC_BASE_URL=f"{seaweed.endpoint_url}/{seaweed.bucket}/",
        AWS_ACCESS_KEY_ID=seaweed.access_key,
        AWS_SECRET_ACCESS_KEY=seaweed.secret_key,
    )
    everyone = (SAME, *OTHERS)
    first = subprocess.run(
        [NOTICES, "publish", *(a for s in everyone for a in ("--school", s))],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    expected = {slug: 1 for slug in everyone}
    heads: dict[str, set[str]] = {slug: set() for slug in everyone}
    for round_no in range(1, ROUNDS + 1):
        before = _etags(seaweed, prefix)
        runs = [
            (SAME, f"Ms Racer {round_no}A"),
            (SAME, f"Mr Racer {round_no}B"),
            *((slug, f"Dr Racer {round_no}") for slug in OTHERS),
        ]
        processes = []
        for index, (slug, head) in enumerate(runs):
            folder = _folder(tree, f"racer-{index}", slug, head)
            args = [NOTICES, "publish", "--schools", str(folder), "--approved-by", "Alex Example (DPO)", "--school", slug]
            processes.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
            heads[slug].add(head)
            expected[slug] += 1
        for process in processes:
            out, _ = process.communicate(timeout=300)
            assert process.returncode == 0, out
        after = _etags(seaweed, prefix)
        changed = {k for k, etag in before.items() if after.get(k) != etag}
        assert not changed, f"round {round_no}: edition objects changed or vanished: {sorted(changed)}"
    listing = {s["slug"]: s["edition"] for s in json.loads(_get(seaweed, layout.root_key(prefix, "schools.json")))["schools"]}
    for slug in everyone:
        manifest = _manifest(seaweed, prefix, slug)
        numbers = [e.number for e in manifest.editions]
        assert numbers == list(range(1, expected[slug] + 1)), f"{slug}: editions {numbers}, skipped {manifest.skipped}"
        published = set()
        for edition in manifest.editions:
            files = {name: _get(seaweed, layout.edition_key(prefix, slug, edition.number, name)) for name in edition.files}
            assert {n: sha256_hex(b) for n, b in files.items()} == {n: r.sha256 for n, r in edition.files.items()}, (
                f"{slug}: v{edition.number}"
            )
            published.add(json.loads(files["notice.json"])["school"]["headteacher"])
        assert heads[slug] <= published, f"{slug}: lost {heads[slug] - published}"
        assert listing[slug] == numbers[-1]
    # The public log after the races: every edition logged once, the tree one that only grew.
    verified = main(["verify", f"{seaweed.endpoint_url}/{seaweed.bucket}/{prefix}/", "--state", str(tmp_path / "verify")])
    assert verified == 0, capsys.readouterr().err
    print(
        f"\nraces: {ROUNDS} rounds of 4 publishers at once; {sum(expected.values())} editions, {len(_etags(seaweed, prefix))} edition objects unchanged"
    )
