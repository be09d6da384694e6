"""Connect to the publishing target: the trust's S3, or the embedded one when none is named."""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from flows import local_s3
from flows.models import TrustFile
from flows.publish.s3 import S3Publisher, make_client, setup_bucket
from flows.publishing import Target, resolve_target


@dataclass
class Connection:
    """A ready publisher, its target and what the person running it should be told."""

    target: Target
    publisher: S3Publisher
    notes: list[str] = field(default_factory=list)


def connect(trust: TrustFile, flags: dict[str, str | None], *, start_embedded: bool = True) -> Connection:
    """Resolve the target and open a client.

    With no endpoint in the trust file, $NOTICES_S3_ENDPOINT or ``--endpoint-url``, the
    embedded S3 is used (started if needed) and its bucket is set up on first use. A real
    endpoint uses the standard boto3 credential chain and an existing bucket
    (``notices setup-bucket`` creates one).
    """
    probe = resolve_target(trust.publishing, flags, embedded_endpoint=None)
    notes: list[str] = []
    if probe.embedded:
        info = local_s3.status()
        if info is None:
            if not start_embedded:
                raise local_s3.LocalS3Error("the embedded S3 is not running: start it with `notices s3 start`")
            info = local_s3.start()
            notes.append(f"started the embedded S3 at {info.endpoint_url} (stop it with `notices s3 stop`)")
        target = resolve_target(trust.publishing, flags, embedded_endpoint=info.endpoint_url)
        client = make_client(info.endpoint_url, "us-east-1", info.access_key, info.secret_key)
        notes.append(f"no endpoint in the trust file: {target.describe()}")
        try:
            client.head_bucket(Bucket=target.bucket)
        except ClientError:
            setup_bucket(client, target.bucket)  # warnings (website API) do not matter locally
            notes.append(f"created bucket {target.bucket} on the embedded S3")
    else:
        target = probe
        client = make_client(target.endpoint_url, target.region)
        notes.append(target.describe())
    return Connection(target, S3Publisher(client, target.bucket, target.public_base_url), notes)
