"""Light pages: text objects stored gzip-compressed and served with ``Content-Encoding: gzip``.

Against the real S3 server: what is compressed (pages, Markdown, JSON, the feed, the
stylesheet) and what is not (PDFs, the log); that a reader's decompressed bytes are the ones the
manifest and the log name; that a trust turning compression off (a CDN that compresses) gets
plain latest files on its next run while every edition keeps the bytes it was first served as.
"""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

from flows.config.trust_models import PublishingTarget
from flows.notice.prepare import Prepared
from flows.publish import layout
from flows.publish.connect import resolve_target

from tests.support.publishing import _client, _manifest, _only, _publish
from tests.support.web import read_url

SLUG = "oakfield-primary"


def _compressing(prepared: Prepared, compress: bool) -> Prepared:
    """The same trust with ``publishing.compress`` set as a trust file would set it."""
    trust = prepared.inputs.trust
    assert trust is not None
    publishing = trust.publishing.model_copy(update={"compress": compress})
    inputs = dataclasses.replace(prepared.inputs, trust=trust.model_copy(update={"publishing": publishing}))
    return dataclasses.replace(prepared, inputs=inputs)


def _encodings(client: Any, bucket: str, keys: list[str]) -> dict[str, str]:
    return {key: client.head_object(Bucket=bucket, Key=key).get("ContentEncoding", "") for key in keys}


def _latest_keys(prefix: str) -> list[str]:
    return [layout.latest_key(prefix, SLUG, name) for name in layout.LATEST_FILES]


def test_text_objects_are_gzip_and_pdfs_and_the_log_are_stored_as_they_are(seaweed, sample, prefix: str) -> None:
    _publish(seaweed, _only(sample, SLUG), prefix)
    client = _client(seaweed)
    latest = _encodings(client, seaweed.bucket, _latest_keys(prefix))
    assert {k.rsplit("/", 1)[1]: v for k, v in latest.items() if not v} == {"notice.pdf": "", "for-pupils.pdf": ""}
    assert set(latest.values()) == {"gzip", ""}
    records = [layout.record_key(prefix, SLUG, n) for n in ("history.html", "feed.xml", "latest.json", "manifest.json")]
    root = [layout.root_key(prefix, n) for n in ("index.html", "error.html", "schools.json", "fragment.css")]
    assert set(_encodings(client, seaweed.bucket, records + root).values()) == {"gzip"}
    log = [layout.log_key(prefix, n) for n in ("checkpoint", "key.txt", "witnesses.json")]
    assert set(_encodings(client, seaweed.bucket, log).values()) == {""}
    # A reader (here as a browser asks) gets the words the manifest records, at a fraction of the size.
    page = layout.edition_key(prefix, SLUG, 1, "index.html")
    stored = client.get_object(Bucket=seaweed.bucket, Key=page)["Body"].read()
    body, headers = read_url(f"{seaweed.endpoint_url}/{seaweed.bucket}/{page}")
    assert headers["Content-Encoding"] == "gzip" and headers["Content-Type"] == "text/html; charset=utf-8"
    record = _manifest(seaweed, prefix, SLUG).editions[-1].files["index.html"]
    assert hashlib.sha256(body).hexdigest() == record.sha256 and len(body) == record.size
    assert len(stored) * 3 < len(body), (len(stored), len(body))


def test_turning_compression_off_rewrites_the_latest_files_plain_and_never_an_edition(seaweed, sample, prefix: str) -> None:
    one = _only(sample, SLUG)
    _publish(seaweed, one, prefix)
    client = _client(seaweed)
    edition = [layout.edition_key(prefix, SLUG, 1, n) for n in layout.EDITION_FILES]
    served = {k: client.head_object(Bucket=seaweed.bucket, Key=k)["ETag"] for k in edition}

    plain = _publish(seaweed, _compressing(one, False), prefix)
    school = plain.schools[0]
    assert (school.status, school.edition) == ("presentation", 1)  # the same words: no new edition
    gzipped = [k for k in _latest_keys(prefix) if not k.endswith(".pdf")]
    assert set(gzipped) <= set(school.uploads)
    assert set(_encodings(client, seaweed.bucket, _latest_keys(prefix)).values()) == {""}
    assert {k: client.head_object(Bucket=seaweed.bucket, Key=k)["ETag"] for k in edition} == served
    assert _publish(seaweed, _compressing(one, False), prefix).requests["put"] == 0  # and then it is settled

    again = _publish(seaweed, _compressing(one, True), prefix)
    assert set(gzipped) <= set(again.schools[0].uploads)
    assert set(_encodings(client, seaweed.bucket, gzipped).values()) == {"gzip"}


def test_the_trust_file_setting_reaches_the_target() -> None:
    assert resolve_target(PublishingTarget(), {}, embedded_endpoint="http://127.0.0.1:9").compress is True
    off = resolve_target(PublishingTarget(compress=False), {}, embedded_endpoint="http://127.0.0.1:9")
    assert off.compress is False
