"""The yardstick: `aws s3 sync` of the rendered site (first run, then a second with no change).

The aws CLI lives in its own venv (.venv-bench, made by `make bench`): awscli pins a botocore
other than the one our boto3 needs. Without it the sync rows are skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scale_setup import REPO, Target, count_objects

DEFAULT_AWS = REPO / ".venv-bench" / "bin" / "aws"


def sync_cmd(aws: Path, site: Path, target: Target, n: int) -> list[str]:
    """``aws s3 sync SITE s3://BUCKET/syncN/`` through the counting proxy."""
    return [
        str(aws),
        "s3",
        "sync",
        str(site),
        f"s3://{target.bucket}/sync{n}/",
        "--endpoint-url",
        target.proxy_url,
        "--only-show-errors",
        "--no-progress",
    ]


def sync_twice(run: Callable[[str, str, list[str]], Any], aws: Path, site: Path, target: Target, n: int) -> int:
    """The two sync rows, measured with ``run(key, name, command)``; returns the objects synced."""
    sync = sync_cmd(aws, site, target, n)
    run("sync_first", "aws s3 sync: first", sync)
    run("sync_second", "aws s3 sync: second (no change)", sync)
    return count_objects(target, f"sync{n}/")


def aws_version(aws: Path) -> str:
    return subprocess.run([str(aws), "--version"], capture_output=True, text=True).stdout.strip()
