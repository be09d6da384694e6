"""The benchmark's world: its own SeaweedFS, the synthetic trusts, and what every command sees.

SeaweedFS (``flows.embedded_s3``) runs in the benchmark's temp folder with the bucket set up as
`notices setup-bucket` does, less the lifecycle rule (see ``start_seaweedfs``). Trusts come from
``flows.config.synthetic`` with a fixed seed; ``edit_school`` and ``edit_dpo`` make the changes the
scenarios publish.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from measuring import Runner

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED_DATA = REPO / "shared_data"
DEFAULT_PORT = 18533
SEED = 1


def free_port(start: int) -> int:
    """A port p such that p..p+3 and their gRPC twins (+10000) are free on 127.0.0.1."""
    from flows.embedded_s3 import port_free as free

    for base in range(start, start + 400, 10):
        if all(free(p) and free(p + 10000) for p in range(base, base + 4)):
            return base
    raise RuntimeError(f"no free block of ports from {start}")


@dataclass
class Target:
    """The embedded S3, the proxy in front of it and the credentials."""

    endpoint: str  # SeaweedFS itself (setup and checks; never measured)
    proxy_url: str
    bucket: str
    access_key: str
    secret_key: str

    def client(self, *, through_proxy: bool = False) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.proxy_url if through_proxy else self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, retries={"mode": "standard", "max_attempts": 3}),
        )


def base_env(target: Target, state_dir: Path) -> dict[str, str]:
    """What every measured command sees: the proxy as endpoint, no AWS or Prefect config of the user's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PREFECT_", "NOTICES_"))}
    env.update(
        AWS_ACCESS_KEY_ID=target.access_key,
        AWS_SECRET_ACCESS_KEY=target.secret_key,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(state_dir / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(state_dir / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        NOTICES_S3_ENDPOINT=target.proxy_url,
        NOTICES_S3_BUCKET=target.bucket,
        NOTICES_PUBLIC_BASE_URL=f"{target.endpoint}/{target.bucket}/",
        NOTICES_STATE_DIR=str(state_dir),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="ERROR",
        # Only so that a loaded 2-core machine does not fail the run; it changes no timing.
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def generate(trust: Path, count: int) -> list[str]:
    """A synthetic trust of ``count`` schools; returns the slugs."""
    from flows.config.synthetic import generate_trust

    return list(generate_trust(count, trust, seed=SEED).slugs)


def edit_school(trust: Path, slug: str) -> None:
    """A new headteacher at one school: a new edition of its notice."""
    path = trust / f"{slug}.yaml"
    text, count = re.subn(r"(?m)^headteacher:.*$", "headteacher: Dr Jordan Benchmark-Example", path.read_text(encoding="utf-8"))
    if count != 1:
        raise RuntimeError(f"{path}: no headteacher line to edit")
    path.write_text(text, encoding="utf-8")


def edit_dpo(trust: Path) -> None:
    """A new DPO for the trust: every school's notice changes (a material change)."""
    path = trust / "_trust.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("dpo:\n")
    done = set()
    for i in range(start + 1, len(lines)):
        if not lines[i].startswith("  "):
            break
        for field_name, value in (("name", "Sam Benchmark-Example"), ("email", "privacy@trust.example.org")):
            if lines[i].startswith(f"  {field_name}:"):
                lines[i] = f"  {field_name}: {value}\n"
                done.add(field_name)
    if done != {"name", "email"}:
        raise RuntimeError(f"{path}: could not find the DPO's name and email")
    path.write_text("".join(lines), encoding="utf-8")


def count_objects(target: Target, prefix: str) -> int:
    """Objects under a prefix, read straight from SeaweedFS (not counted)."""
    client = target.client()
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=prefix):
        total += page.get("KeyCount", len(page.get("Contents", [])))
    return total


@dataclass
class Setup:
    target: Target
    runner: Runner
    tmp: Path
    state_dir: Path
    aws: Path | None


def start_seaweedfs(state_dir: Path, port: int) -> Any:
    """SeaweedFS in ``state_dir``, its bucket set up as `notices setup-bucket` does; returns its ``S3Info``.

    The expiry rule for _private/ makes `weed mini` replay every write of the last 8 days about
    five minutes after it starts (~10 ms of CPU per object written): minutes of a core in the
    middle of the N = 1000 rows. Publishing never reads the rule (each run sweeps _private/ itself),
    so it is removed. The caller stops the server (``flows.embedded_s3.stop``).
    """
    from flows import embedded_s3 as local_s3
    from flows.publish.s3 import setup_bucket

    info = local_s3.start(state_dir, port=port)
    try:
        setup_client = Target(info.endpoint_url, "", info.bucket, info.access_key, info.secret_key).client()
        for warning in setup_bucket(setup_client, info.bucket):
            print(f"  setup-bucket: {warning}")
        setup_client.delete_bucket_lifecycle(Bucket=info.bucket)
    except BaseException:
        local_s3.stop(Path(info.state_dir))
        raise
    return info
