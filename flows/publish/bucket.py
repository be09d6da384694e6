"""Preparing a bucket for notices: versioning, the public-read policy, CORS, lifecycle, website.

Used by ``notices setup-bucket``, and for the embedded S3 once per configuration (``setup_fingerprint``).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from botocore.exceptions import ClientError

from flows.publish.layout import PRIVATE_ROOT

PRIVATE_EXPIRY_DAYS = 8  # the longest approval wait (7 days) and a day to read the outcome


# School websites fetch the JSON and fragments: GET and HEAD only (SeaweedFS, with no rule,
# would also advertise PUT and DELETE).
CORS_CONFIGURATION: dict[str, Any] = {
    "CORSRules": [{"AllowedMethods": ["GET", "HEAD"], "AllowedOrigins": ["*"], "AllowedHeaders": ["*"], "MaxAgeSeconds": 3600}]
}


def public_read_policy(bucket: str) -> dict[str, Any]:
    """The bucket policy: anonymous GET of everything except the private prefix."""
    return {
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


def setup_fingerprint(bucket: str, *, index: str = "index.html", error: str = "error.html", expire_private: bool = True) -> str:
    """What ``setup_bucket`` applies to ``bucket``, as a hash: a new version with another policy,
    CORS rule or website documents has another fingerprint, so the bucket is set up again."""
    applied = [public_read_policy(bucket), CORS_CONFIGURATION, index, error, expire_private, PRIVATE_EXPIRY_DAYS, "versioning"]
    return hashlib.sha256(json.dumps(applied, sort_keys=True).encode()).hexdigest()


def setup_bucket(
    client: Any, bucket: str, *, index: str = "index.html", error: str = "error.html", expire_private: bool = True
) -> list[str]:
    """Create and configure a public notice bucket; returns warnings for unsupported APIs.

    Versioning keeps every overwritten object; the policy allows anonymous GET of everything
    except the private prefix (approval previews, saved plans, run reports);
    CORS lets school websites fetch the JSON and fragments (GET and HEAD only: SeaweedFS,
    with no rule, would also advertise PUT and DELETE); the website configuration
    serves index and error documents where the server supports it.
    """
    _create_bucket(client, bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    warnings = _set_access(client, bucket)
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


def _create_bucket(client: Any, bucket: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError:
        region = client.meta.region_name
        if region and region != "us-east-1":  # AWS wants the region named, except for us-east-1
            client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        else:
            client.create_bucket(Bucket=bucket)


def _set_access(client: Any, bucket: str) -> list[str]:
    """The public-read policy and CORS; a warning for each the server refuses."""
    warnings: list[str] = []
    try:
        client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(public_read_policy(bucket)))
    except ClientError as exc:
        warnings.append(f"bucket policy not set ({exc.response['Error']['Code']}): objects may not be publicly readable")
    try:
        client.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS_CONFIGURATION)
    except ClientError as exc:
        warnings.append(
            f"CORS not set ({exc.response['Error']['Code']}): school websites cannot fetch JSON or fragments from the browser (the embed snippet shows its link instead)"
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
