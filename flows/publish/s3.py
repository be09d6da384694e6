"""``Publisher`` over boto3: AWS S3 or any S3-compatible endpoint (SeaweedFS included).

Retries use botocore's standard mode (throttling and 5xx, with backoff); every error
that escapes names the key. Requests are counted, which is how tests prove that an
unchanged rerun makes zero PUT requests.
"""

from __future__ import annotations

import datetime
import json
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

from flows.publish.base import ObjectHead, PreconditionFailed, PublishError, RequestCounts, StoredObject
from flows.publish.layout import PRIVATE_ROOT

PRIVATE_EXPIRY_DAYS = 8  # the longest approval wait (7 days) and a day to read the outcome
SHA256_META = "sha256"  # x-amz-meta-sha256: the body's SHA-256, to skip unchanged uploads


def make_client(endpoint_url: str | None, region: str | None, access_key: str | None = None, secret_key: str | None = None):
    """A boto3 S3 client with standard retries; credentials from the standard chain unless given."""
    import boto3
    import botocore.session
    from botocore.config import Config

    config = Config(
        signature_version="s3v4",  # presigned preview links must be SigV4 (SeaweedFS and AWS)
        retries={"mode": "standard", "max_attempts": 5},
        connect_timeout=5,
        read_timeout=30,
        # Local and S3-compatible servers want path-style keys; AWS prefers virtual-hosted.
        s3={"addressing_style": "path"} if endpoint_url and "amazonaws.com" not in endpoint_url else {},
    )
    kwargs: dict[str, Any] = {"endpoint_url": endpoint_url, "region_name": region or "us-east-1", "config": config}
    if access_key and secret_key:
        kwargs.update(aws_access_key_id=access_key, aws_secret_access_key=secret_key)
    core = botocore.session.get_session()
    core.get_component("response_parser_factory").set_parser_defaults(timestamp_parser=parse_timestamp)
    client = boto3.session.Session(botocore_session=core).client("s3", **kwargs)
    client.meta.events.register("before-send.s3.PutObject", _send_without_expect)
    return client


def _send_without_expect(request: Any, **_: Any) -> None:
    """Send PUT bodies at once rather than after a ``100 Continue``: our objects are small (a PDF
    of a few hundred KB at most), so a refused upload wastes little, while waiting for the
    interim answer cost a round trip on every PUT (13 % of PUT time on loopback). ``Expect`` is
    never signed, so removing it leaves the signature valid."""
    request.headers.pop("Expect", None)


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


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3Publisher:
    """Publishes objects to one bucket."""

    def __init__(self, client: Any, bucket: str, public_base_url: str) -> None:
        self.client = client
        self.bucket = bucket
        self.public_base_url = public_base_url.rstrip("/") + "/"
        self.counts = RequestCounts()
        self.etags: dict[str, str] = {}

    def get(self, key: str) -> StoredObject | None:
        self.counts.get += 1
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404") or _status(exc) == 404:
                return None
            raise PublishError(f"{key}: GET failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"{key}: GET failed: {exc}") from exc
        self.etags[key] = response["ETag"]
        return StoredObject(
            body, response["ETag"], response.get("ContentType", ""), response.get("CacheControl", ""), response["LastModified"].timestamp()
        )

    def head(self, key: str) -> ObjectHead | None:
        self.counts.head += 1
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404 or exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise PublishError(f"{key}: HEAD failed: {exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"{key}: HEAD failed: {exc}") from exc
        self.etags[key] = response["ETag"]
        return ObjectHead(
            etag=response["ETag"],
            content_type=response.get("ContentType", ""),
            cache_control=response.get("CacheControl", ""),
            sha256=response.get("Metadata", {}).get(SHA256_META),
            last_modified_epoch=response["LastModified"].timestamp(),
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
            "Metadata": {SHA256_META: hashlib.sha256(body).hexdigest()},
        }
        if if_match:
            kwargs["IfMatch"] = if_match
        if if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            etag: str = self.client.put_object(**kwargs)["ETag"]
            self.etags[key] = etag
            return etag
        except ClientError as exc:
            if _status(exc) == 412 or exc.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise PreconditionFailed(key) from exc
            raise PublishError(f"{key}: PUT failed: {exc.response['Error'].get('Message') or exc}") from exc
        except BotoCoreError as exc:
            raise PublishError(f"{key}: PUT failed: {exc}") from exc

    def url(self, key: str) -> str:
        return self.public_base_url + quote(key)

    def list(self, prefix: str, *, start_after: str = "", until: str | None = None) -> list[ObjectHead]:
        found: list[ObjectHead] = []
        extra = {"StartAfter": start_after} if start_after else {}
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix, **extra):
                self.counts.listed += 1
                for item in page.get("Contents", []):
                    if until is not None and item["Key"] >= until:
                        return found
                    found.append(ObjectHead(item["ETag"], "", "", None, item["LastModified"].timestamp(), item["Key"]))
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"{prefix}: LIST failed: {exc}") from exc
        return found

    def delete(self, key: str) -> None:
        if not key.startswith(PRIVATE_ROOT + "/"):
            # Editions are permanent: nothing outside the private prefix is ever deleted.
            raise PublishError(f"{key}: refusing to delete a public object", transient=False)
        self.counts.delete += 1
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise PublishError(f"{key}: DELETE failed: {exc}") from exc

    def presign(self, key: str, seconds: int) -> str:
        return str(self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=seconds))

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
        except ClientError:
            return False
        return True


def setup_bucket(client: Any, bucket: str, *, index: str = "index.html", error: str = "error.html", expire_private: bool = True) -> list[str]:
    """Create and configure a public notice bucket; returns warnings for unsupported APIs.

    Versioning keeps every overwritten object; the policy allows anonymous GET of everything
    except the private prefix (approval previews, saved plans, run reports);
    CORS lets school websites fetch the JSON and fragments; the website configuration
    serves index and error documents where the server supports it.
    """
    warnings: list[str] = []
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        region = client.meta.region_name
        if region and region != "us-east-1":  # AWS wants the region named, except for us-east-1
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        else:
            client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadNotices",
                "Effect": "Allow",
                "Principal": "*",
                "Action": ["s3:GetObject"],
                # NotResource, not a Deny: a Deny for "*" would lock the publisher out too.
                "NotResource": [f"arn:aws:s3:::{bucket}/{PRIVATE_ROOT}/*"],
            }
        ],
    }
    try:
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    except ClientError as exc:
        warnings.append(f"bucket policy not set ({exc.response['Error']['Code']}): objects may not be publicly readable")
    try:
        client.put_bucket_cors(
            Bucket=bucket,
            CORSConfiguration={
                "CORSRules": [
                    {"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 3600}
                ]
            },
        )
    except ClientError as exc:
        warnings.append(f"CORS not set ({exc.response['Error']['Code']}): school websites cannot fetch JSON from the browser")
    warnings += _expire_private_files(client, bucket) if expire_private else _keep_private_files(client, bucket)
    try:
        client.put_bucket_website(
            Bucket=bucket,
            WebsiteConfiguration={"IndexDocument": {"Suffix": index}, "ErrorDocument": {"Key": error}},
        )
    except ClientError as exc:
        warnings.append(
            f"website configuration not supported by this server ({exc.response['Error']['Code']}); "
            "pages link to explicit index.html files, so they still work over the REST endpoint"
        )
    return warnings


def _expire_private_files(client: Any, bucket: str) -> list[str]:
    """A lifecycle rule expiring the private prefix (runs also sweep it themselves)."""
    try:
        client.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-private-run-files",
                        "Filter": {"Prefix": f"{PRIVATE_ROOT}/"},
                        "Status": "Enabled",
                        "Expiration": {"Days": PRIVATE_EXPIRY_DAYS},
                    }
                ]
            },
        )
    except ClientError as exc:
        return [
            f"lifecycle rule not set ({exc.response['Error']['Code']}): each run removes private files older than "
            f"{PRIVATE_EXPIRY_DAYS} days itself"
        ]
    return []


def _keep_private_files(client: Any, bucket: str) -> list[str]:
    """No lifecycle rule: the embedded SeaweedFS replays every write of the last 8 days to apply
    one (~10 ms of CPU per object, daily), so there runs sweep their private files themselves."""
    try:
        client.delete_bucket_lifecycle(Bucket=bucket)
    except ClientError:
        pass  # there was none
    return []
