"""The embedded S3's keys never leave its state folder: a real `notices publish`, then a search.

Allowed to hold the keys: credentials.json and s3.json in the state folder (and the output of
`notices s3 status`, which prints them on purpose for the aws CLI; not run here). The access
key *id* may also appear as the ``X-Amz-Credential`` of a presigned link, as SigV4 requires. Searched:
every version of every object in the bucket, every file SeaweedFS wrote (logs, data), the
run's working tree, Prefect's home and result storage, every log line, artifact and flow-run
parameter the Prefect API holds, and the CLI's stdout and stderr.
"""

from __future__ import annotations

from tests.support.web import read_object

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from flows import embedded_s3 as local_s3

NOTICES = str(Path(sys.executable).parent / "notices")
ALLOWED = {"credentials.json", "s3.json"}


def _files_holding(root: Path, needles: list[bytes]) -> list[str]:
    """Files under ``root`` (recursively) whose bytes contain any of ``needles``."""
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                data = path.read_bytes()
            except OSError:  # a socket or a file that vanished meanwhile
                continue
            if any(needle in data for needle in needles):
                found.append(str(path))
    return found


def _without_presigned_credential(text: bytes, access_key: bytes) -> bytes:
    """``text`` minus the access key *id* inside presigned links' ``X-Amz-Credential``.

    SigV4 presigning puts the key id in every link it makes (private run reports are shared
    that way); it is an identifier, useless without the secret key, which must appear nowhere.
    """
    for sep in (b"%2F", b"/"):
        text = text.replace(b"X-Amz-Credential=" + access_key + sep, b"X-Amz-Credential=<id>" + sep)
    return text


def _all_pages(read: Any) -> list[Any]:
    """Every record of a Prefect read_* call, page by page."""
    items: list[Any] = []
    while True:
        page = read(limit=200, offset=len(items))
        items.extend(page)
        if len(page) < 200:
            return items


def _anonymous(method: str, url: str, body: bytes | None = None) -> int:
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_publish_leaves_no_key_outside_the_state_folder(seaweed: local_s3.LocalS3, tree: Path, prefect_api: str) -> None:
    from prefect.client.orchestration import get_client

    needles = [seaweed.access_key.encode(), seaweed.secret_key.encode()]
    state = Path(seaweed.state_dir)
    env = dict(
        os.environ,
        NOTICES_STATE_DIR=str(state.parent),
        PREFECT_API_URL=prefect_api,
        NOTICES_S3_BUCKET=seaweed.bucket,
        NOTICES_S3_PREFIX="secrets-test",
        NOTICES_SCHOOLS=str(tree / "schools"),
        NOTICES_SHARED_DATA=str(tree / "shared_data"),
    )
    runs = [
        subprocess.run([NOTICES, *args], cwd=tree, env=env, capture_output=True, timeout=300)
        for args in (["publish"], ["s3", "start"])
    ]
    assert runs[0].returncode == 0, runs[0].stderr.decode()[-2000:]
    for run in runs:
        for stream in (
            _without_presigned_credential(run.stdout, needles[0]),
            _without_presigned_credential(run.stderr, needles[0]),
        ):
            assert not any(needle in stream for needle in needles), stream.decode()[-2000:]

    # Every version of every object in the bucket.
    client = local_s3.s3_client(seaweed)
    versions = []
    for page in client.get_paginator("list_object_versions").paginate(Bucket=seaweed.bucket):
        versions.extend(page.get("Versions", []))
    assert any(v["Key"].startswith("secrets-test/") for v in versions)
    leaking = []
    for version in versions:
        body = read_object(client, Bucket=seaweed.bucket, Key=version["Key"], VersionId=version["VersionId"])
        if any(needle in body for needle in needles):
            leaking.append(version["Key"])
    assert not leaking

    # Files: SeaweedFS's logs and data, the working tree, Prefect's home and stored results.
    held = _files_holding(state, needles)
    assert sorted(Path(p).relative_to(state).as_posix() for p in held) == sorted(ALLOWED)
    assert list((state / "logs").iterdir())  # there were logs to search
    for root in (tree, Path(os.environ["PREFECT_HOME"]), Path(os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"])):
        assert not _files_holding(root, needles), root

    # The Prefect API: logs, artifacts, flow-run parameters of every run this session made.
    with get_client(sync_client=True) as prefect:
        logs = _all_pages(prefect.read_logs)
        artifacts = _all_pages(prefect.read_artifacts)
        flow_runs = _all_pages(prefect.read_flow_runs)
    assert artifacts and flow_runs
    for record in [*logs, *artifacts, *flow_runs]:
        text = _without_presigned_credential(record.model_dump_json().encode(), needles[0])
        for needle in needles:
            at = text.find(needle)
            assert at < 0, (type(record).__name__, text[max(0, at - 300) : at + 50])

    # Anonymous writes, deletes and listings on the S3 port are refused; reads are not.
    s3 = seaweed.endpoint_url
    key = next(v["Key"] for v in versions if v["Key"].endswith("/latest.json") and v["IsLatest"])
    assert _anonymous("GET", f"{s3}/{seaweed.bucket}/{key}") == 200
    assert _anonymous("PUT", f"{s3}/{seaweed.bucket}/{key}", b"{}") == 403
    assert _anonymous("DELETE", f"{s3}/{seaweed.bucket}/{key}") == 403
    assert _anonymous("GET", f"{s3}/{seaweed.bucket}?list-type=2") == 403
    assert _anonymous("GET", f"{s3}/{seaweed.bucket}") == 403
