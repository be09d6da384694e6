"""Where a run publishes: the trust file's ``publishing`` section, $NOTICES_* and flags.

With no endpoint anywhere, the target is the embedded S3 (SeaweedFS on 127.0.0.1), started
when a publishing command needs it; a real endpoint uses the standard boto3 credential chain
and a bucket that ``notices setup-bucket`` prepared.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows import embedded_s3 as local_s3
from flows.config.loading import publishing_override_errors
from flows.config.models import PublishingTarget, TrustFile
from flows.publish.base import Publisher
from flows.publish.bucket import setup_fingerprint
from flows.publish.s3 import S3Publisher, make_client, setup_bucket
from flows.publish.target import Target
from flows.settings import PUBLISHING_VARIABLES, Settings, read_settings


class TargetError(local_s3.LocalS3Error):
    """A publishing setting from the environment or a flag breaks the rules the trust file obeys.

    A ``LocalS3Error`` so that every command already reporting connection problems as one
    line reports this too, instead of a traceback.
    """


def check_overrides(flags: dict[str, str | None], settings: Settings | None = None) -> None:
    """Refuse invalid $NOTICES_* values and flags before they reach boto3; raises ``TargetError``."""
    given = (settings or read_settings()).publishing_overrides()
    given.update(
        {f"--{name.replace('_', '-')}": (name, value) for name, value in flags.items() if value and name in PUBLISHING_VARIABLES}
    )
    problems = publishing_override_errors(given)
    if problems:
        raise TargetError("; ".join(str(p) for p in problems))


def resolve_target(configured: PublishingTarget, flags: dict[str, str | None], embedded_endpoint: str | None) -> Target:
    """Merge the trust file's publishing section with $NOTICES_* variables and flags (flags win).

    Raises ``TargetError`` when a variable or flag breaks the publishing rules (the trust
    file's own values were checked when it was read).
    """
    settings = read_settings()
    check_overrides(flags, settings)
    environment = {name: value for name, value in settings.publishing_overrides().values()}

    def pick(name: str) -> str | None:
        value = flags.get(name) or environment.get(name) or getattr(configured, name)
        return str(value) if value else None

    endpoint = pick("endpoint_url")
    bucket = pick("bucket") or "trust-notices"
    prefix = (pick("prefix") or "").strip("/")
    region = pick("region")
    embedded = endpoint is None
    if embedded:
        endpoint = embedded_endpoint
    base = pick("public_base_url")
    if not base:
        base = f"{endpoint}/{bucket}/" if endpoint else f"https://{bucket}.s3.amazonaws.com/"
    return Target(bucket, prefix, base.rstrip("/") + "/", endpoint, region, embedded, configured.compress)


@dataclass
class Connection:
    """A ready publisher, its target and what the person running it should be told."""

    target: Target
    publisher: Publisher
    notes: list[str] = field(default_factory=list)
    credentials: tuple[str, str] | None = None
    """The embedded S3's generated keys (None: the standard boto3 chain, on every worker)."""

    def fresh(self) -> Publisher:
        """A publisher on the same client with its own request counts (one per task)."""
        pub = self.publisher
        if isinstance(pub, S3Publisher):
            return S3Publisher(pub.client, pub.bucket, pub.public_base_url, compress=pub.compress)
        return pub


def connect(trust: TrustFile, flags: dict[str, str | None], *, start_embedded: bool = True) -> Connection:
    """Resolve the target and open a client.

    With no endpoint in the trust file, $NOTICES_S3_ENDPOINT or ``--endpoint-url``, the
    embedded S3 is used (started if ``start_embedded``; read-only commands pass False) and
    its bucket is set up (policy included) once per configuration, so a bucket made by an older
    version gets the current policy and an unchanged run makes no setup call. A real endpoint
    uses an existing bucket.
    """
    probe = resolve_target(trust.publishing, flags, embedded_endpoint=None)
    notes: list[str] = []
    if not probe.embedded:
        client = make_client(probe.endpoint_url, probe.region)
        return Connection(
            probe, S3Publisher(client, probe.bucket, probe.public_base_url, compress=probe.compress), [probe.describe()]
        )
    info = local_s3.status()
    if info is None:
        if not start_embedded:
            raise local_s3.LocalS3Error(
                f"the embedded S3 is not running (state folder {local_s3.default_state_dir()}): start it with `notices s3 start`"
            )
        info = local_s3.start()
        notes.append(f"started the embedded S3 at {info.endpoint_url} (stop it with `notices s3 stop`)")
    target = resolve_target(trust.publishing, flags, embedded_endpoint=info.endpoint_url)
    client = make_client(info.endpoint_url, "us-east-1", info.access_key, info.secret_key)
    notes.append(f"no endpoint in the trust file: {target.describe()}")
    _set_up_once(client, Path(info.state_dir), target.bucket)
    return Connection(
        target,
        S3Publisher(client, target.bucket, target.public_base_url, compress=target.compress),
        notes,
        (info.access_key, info.secret_key),
    )


SETUP_MARK = "bucket-setup.json"  # in the embedded S3's state folder, beside its data: wiped with it


def _set_up_once(client: Any, state_dir: Path, bucket: str) -> None:
    """Set the embedded bucket up unless the state folder records this exact configuration applied.

    The record lives with SeaweedFS's data, so a wiped store is set up again; a version with
    another policy has another fingerprint. Setup warnings (no website API) do not matter locally.
    """
    mark = state_dir / SETUP_MARK
    wanted = setup_fingerprint(bucket, expire_private=False)
    try:
        applied = json.loads(mark.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        applied = {}
    if isinstance(applied, dict) and applied.get(bucket) == wanted:
        return
    setup_bucket(client, bucket, expire_private=False)
    applied = (applied if isinstance(applied, dict) else {}) | {bucket: wanted}
    partial = mark.with_name(f".{SETUP_MARK}.{os.getpid()}")
    partial.write_text(json.dumps(applied, indent=2) + "\n", encoding="utf-8")
    partial.replace(mark)  # whole or not at all: a half-written record only means one more setup
