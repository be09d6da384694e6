"""Publishing through a fault proxy (tests/faults.py), and reading back what reached SeaweedFS."""

from __future__ import annotations

from .web import read_object

import time

import pytest

from flows.editions.records import Manifest, sha256_hex
from flows.publish import layout
from flows.publish.s3 import make_client

from ..faults import FaultProxy


def _direct(seaweed):
    """A client straight to SeaweedFS, never through the proxy."""
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _stored(seaweed, prefix: str) -> dict[str, bytes]:
    client = _direct(seaweed)
    objects: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=seaweed.bucket, Prefix=prefix + "/"):
        for item in page.get("Contents", []):
            objects[item["Key"]] = read_object(client, Bucket=seaweed.bucket, Key=item["Key"])
    return objects


def _verify(objects: dict[str, bytes], prefix: str, slug: str) -> tuple[Manifest, int]:
    """Every file of every edition and of the latest record matches its sha256; returns the count."""
    manifest = Manifest.model_validate_json(objects[layout.record_key(prefix, slug, "manifest.json")])
    checked = 0
    for edition in manifest.editions:
        for name, record in edition.files.items():
            body = objects[layout.edition_key(prefix, slug, edition.number, name)]
            assert sha256_hex(body) == record.sha256, f"{slug}: v{edition.number}/{name} differs from its manifest record"
            checked += 1
    assert manifest.latest is not None and manifest.latest.edition == manifest.editions[-1].number, slug
    for name, record in manifest.latest.files.items():
        assert sha256_hex(objects[layout.latest_key(prefix, slug, name)]) == record.sha256, f"{slug}: latest {name} differs"
        checked += 1
    return manifest, checked


def _publish(monkeypatch: pytest.MonkeyPatch, proxy: FaultProxy):
    from flows.runs.flow import publish_notices
    from flows.runs.parameters import PublishParameters

    monkeypatch.setenv("NOTICES_S3_ENDPOINT", proxy.url)
    started = time.monotonic()
    state = publish_notices(PublishParameters(), return_state=True)
    return state, time.monotonic() - started
