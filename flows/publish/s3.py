"""``Publisher`` over boto3: AWS S3 or any S3-compatible endpoint (SeaweedFS included).

Retries use botocore's standard mode (throttling, 5xx and transport errors, with backoff),
bounded by connect and read timeouts, behind a circuit breaker per endpoint
(``flows.publish.transport``); every error that escapes names the key, the endpoint and the
cause. Requests are counted, which is how tests prove that an unchanged rerun makes zero PUT
requests.

Every answer's body is read inside botocore's attempt (``flows.publish.answers``).
"""

from __future__ import annotations

import datetime
import gzip
import threading
import zlib
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from botocore.exceptions import ClientError
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from flows.publish.answers import read_bodies_in_attempt
from flows.publish.base import ObjectHead, PreconditionFailed, PublishError, RequestCounts, StoredObject
from flows.publish.bucket import PRIVATE_EXPIRY_DAYS, setup_bucket
from flows.publish.layout import PRIVATE_ROOT, compressible
from flows.publish.transport import (
    NETWORK_ERRORS,
    Breaker,
    breaker_for,
    count_attempts,
    fail,
    lift_retry_quota,
    status_of,
    transport_settings,
)

SHA256_META = "sha256"  # x-amz-meta-sha256: the body's SHA-256, to skip unchanged uploads
T = TypeVar("T")
_SESSION: Any = None  # the process's boto3 session (``_session``)
_SESSION_LOCK = threading.Lock()
__all__ = [
    "PRIVATE_EXPIRY_DAYS",
    "S3Publisher",
    "gzip_bytes",
    "make_client",
    "parse_timestamp",
    "setup_bucket",
]  # bucket setup moved


def make_client(endpoint_url: str | None, region: str | None, access_key: str | None = None, secret_key: str | None = None):
    """A boto3 S3 client with standard retries and timeouts (``transport_settings()``);
    credentials from the standard chain unless given."""
    from botocore.config import Config

    settings = transport_settings()
    config = Config(
        signature_version="s3v4",  # presigned preview links must be SigV4 (SeaweedFS and AWS)
        # total_max_attempts counts the first try; botocore's "max_attempts" would mean retries.
        retries={"mode": "standard", "total_max_attempts": settings.attempts},
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        # Local and S3-compatible servers want path-style keys; AWS prefers virtual-hosted.
        s3={"addressing_style": "path"} if endpoint_url and "amazonaws.com" not in endpoint_url else {},
    )
    kwargs: dict[str, Any] = {"endpoint_url": endpoint_url, "region_name": region or "us-east-1", "config": config}
    if access_key and secret_key:
        kwargs.update(aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    with _SESSION_LOCK:  # creating clients from one session is not thread-safe
        client = _session().client("s3", **kwargs)
    client.meta.events.register("before-send.s3.PutObject", _send_without_expect)
    count_attempts(client, settings)
    lift_retry_quota(client)
    read_bodies_in_attempt(client)
    return client


def _session() -> Any:
    """One boto3 session per process: each new session loaded and parsed S3's service model
    again (~0.25 s a client, three clients a run); one session loads it once."""
    global _SESSION
    if _SESSION is None:
        import boto3
        import botocore.session

        core = botocore.session.get_session()
        core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
        _SESSION = boto3.session.Session(botocore_session=core)
    return _SESSION


def _send_without_expect(request: Any, **_: Any) -> None:
    """Send PUT bodies at once rather than after a ``100 Continue``: our objects are small (a PDF
    of a few hundred KB at most), so a refused upload wastes little, while waiting for the
    interim answer cost a round trip on every PUT (13 % of PUT time on loopback). ``Expect`` is
    never signed, so removing it leaves the signature valid."""
    request.headers.pop("Expect", None)


def gzip_bytes(body: bytes) -> bytes:
    """``body`` gzip-compressed with no time or file name in the header (``mtime=0``), so the
    same words give the same bytes on every run (with the same zlib). Level 6: on a sample
    notice's text files (109 KB → 34 KB) level 9 saved 0.1 % more for 10 % more CPU. Whether to upload is
    decided on the plain bytes' SHA-256, never on these bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def _gunzip(key: str, body: bytes) -> bytes:
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
        raise PublishError(f"{key}: its stored gzip body does not decompress ({exc}): cut short on the way?") from exc


def parse_timestamp(value: str) -> datetime.datetime:
    """ISO 8601 times (every key of a LIST) by the standard library, the rest by botocore's parser.

    botocore parses every timestamp with dateutil: a third of an unchanged rerun's CPU went on
    the LastModified of the trust's LIST pages.
    """
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMESTAMP_PARSER(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


class S3Publisher:
    """Publishes objects to one bucket.

    With ``compress`` (the trust's ``publishing.compress``, on by default) text objects are
    stored gzip-compressed and served with ``Content-Encoding: gzip`` (``layout.compressible``);
    the caller always hands over and gets back the plain bytes, and the ``sha256`` metadata is
    the plain bytes' hash, so a manifest, a skip of an unchanged upload and ``notices verify``
    mean the same words whether or not an object is compressed.
    """

    def __init__(self, client: Any, bucket: str, public_base_url: str, *, compress: bool = True) -> None:
        self.client = client
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") + "/"
        self.compress = compress
        self.counts = RequestCounts()
        self.etags: dict[str, str] = {}
        self.settings = transport_settings()
        self.endpoint = str(client.meta.endpoint_url)
        self.breaker: Breaker = breaker_for(self.endpoint)

    def _request(self, op: str, key: str, call: Callable[[], T]) -> T:
        """One request through the endpoint's circuit: refused at once while it is open.

        The one place a request's failure is converted: an S3 error answer (``ClientError``)
        goes back to the caller, for whom a 404 or a 412 is an answer; every other failure
        (botocore's, or anything a broken connection raises) leaves as a ``PublishError``
        naming the key, the operation, the endpoint and the cause.
        """
        self.breaker.admit(key, op)
        try:
            result = call()
        except ClientError as exc:
            self.breaker.record(exc, self.settings)
            raise
        except NETWORK_ERRORS as exc:
            self.breaker.record(exc, self.settings)
            raise self._fail(key, op, exc) from exc
        self.breaker.succeeded()
        return result

    def _check_headers(self, key: str, op: str, response: dict[str, Any], *names: str) -> None:
        """Refuse an answer without the headers every S3 server sends: http.client takes a
        connection closed inside the header block as its end, so a 200 can arrive half-told."""
        missing = [name for name in names if not response.get(name)]
        if missing:
            cause = f"the answer had no {' or '.join(missing)} header: cut short on the way"
            self.breaker.failed(cause)
            raise PublishError(f"{key}: {op} failed at {self.endpoint}/{self.bucket}: {cause}")

    def _fail(self, key: str, op: str, exc: BaseException) -> PublishError:
        return fail(key, op, f"{self.endpoint}/{self.bucket}", exc, self.settings, self.breaker.last_attempt())

    def blocked(self) -> str | None:
        return self.breaker.open_reason()

    def get(self, key: str) -> StoredObject | None:
        self.counts.get += 1

        def call() -> tuple[dict[str, Any], bytes]:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            return response, response["Body"].read()  # read already, inside botocore's attempt

        try:
            response, body = self._request("GET", key, call)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404") or status_of(exc) == 404:
                return None
            raise self._fail(key, "GET", exc) from exc
        self._check_headers(key, "GET", response, "ETag", "LastModified")
        self.etags[key] = response["ETag"]
        if response.get("ContentEncoding") == "gzip":
            body = _gunzip(key, body)
        return StoredObject(
            body,
            response["ETag"],
            response.get("ContentType", ""),
            response.get("CacheControl", ""),
            response["LastModified"].timestamp(),
        )

    def head(self, key: str) -> ObjectHead | None:
        self.counts.head += 1
        try:
            response = self._request("HEAD", key, lambda: self.client.head_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            if status_of(exc) == 404 or exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise self._fail(key, "HEAD", exc) from exc
        self._check_headers(key, "HEAD", response, "ETag", "LastModified")
        self.etags[key] = response["ETag"]
        return ObjectHead(
            etag=response["ETag"],
            content_type=response.get("ContentType", ""),
            cache_control=response.get("CacheControl", ""),
            sha256=response.get("Metadata", {}).get(SHA256_META),
            last_modified_epoch=response["LastModified"].timestamp(),
            content_encoding=response.get("ContentEncoding", ""),
        )

    def put(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str,
        cache_control: str,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        import hashlib

        self.counts.put += 1
        self.counts.by_key.append(key)
        kwargs: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "CacheControl": cache_control,
            "Metadata": {SHA256_META: hashlib.sha256(body).hexdigest()},  # of the plain bytes
        }
        if self.encoding_for(key, content_type) == "gzip":
            kwargs.update(Body=gzip_bytes(body), ContentEncoding="gzip")
        if if_match:
            kwargs["IfMatch"] = if_match
        if if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            response = self._request("PUT", key, lambda: self.client.put_object(**kwargs))
            self._check_headers(key, "PUT", response, "ETag")
            etag: str = response["ETag"]
            self.etags[key] = etag
            return etag
        except ClientError as exc:
            if status_of(exc) == 412 or exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PreconditionFailed(key) from exc
            raise self._fail(key, "PUT", exc) from exc

    def encoding_for(self, key: str, content_type: str) -> str:
        return "gzip" if self.compress and compressible(key, content_type) else ""

    def url(self, key: str) -> str:
        return self.public_base_url + quote(key)

    def list(self, prefix: str, *, start_after: str = "", until: str | None = None) -> list[ObjectHead]:
        extra = {"StartAfter": start_after} if start_after else {}

        def call() -> list[ObjectHead]:
            found: list[ObjectHead] = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix, **extra):
                self.counts.listed += 1
                for item in page.get("Contents", []):
                    if until is not None and item["Key"] >= until:
                        return found
                    found.append(ObjectHead(item["ETag"], "", "", None, item["LastModified"].timestamp(), item["Key"]))
            return found

        try:
            return self._request("LIST", prefix, call)
        except ClientError as exc:
            raise self._fail(prefix, "LIST", exc) from exc

    def delete(self, key: str) -> None:
        if not key.startswith(PRIVATE_ROOT + "/"):
            # Editions are permanent: nothing outside the private prefix is ever deleted.
            raise PublishError(f"{key}: refusing to delete a public object", transient=False)
        self.counts.delete += 1
        try:
            self._request("DELETE", key, lambda: self.client.delete_object(Bucket=self.bucket, Key=key))
        except ClientError as exc:
            raise self._fail(key, "DELETE", exc) from exc

    def presign(self, key: str, seconds: int) -> str:
        return str(
            self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds)
        )

    def publicly_readable(self, key: str) -> bool:
        import boto3
        from botocore import UNSIGNED
        from botocore.config import Config

        anonymous = boto3.client(
            "s3",
            endpoint_url=self.client.meta.endpoint_url,
            region_name=self.client.meta.region_name,
            config=self.client.meta.config.merge(Config(signature_version=UNSIGNED, retries={"max_attempts": 1})),
        )
        try:
            anonymous.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if status_of(exc) in (401, 403, 404):  # refused: private
                return False
            raise self._fail(key, "anonymous HEAD", exc) from exc  # unknown is not private
        except NETWORK_ERRORS as exc:
            raise self._fail(key, "anonymous HEAD", exc) from exc
        return True
