"""Flags and subcommands shared by the ``notices`` commands (``flows.cli.parser`` builds them)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def config_flags(parser: argparse.ArgumentParser) -> None:
    """--schools, --shared-data and --dataset-edition: where the configuration is, and which dataset."""
    parser.add_argument(
        "--schools",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder with _trust.yaml and one <slug>.yaml per school (default: ./schools, else $NOTICES_SCHOOLS)",
    )
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder with the DfE recipient dataset (default: ./shared_data, else $NOTICES_SHARED_DATA)",
    )
    parser.add_argument(
        "--dataset-edition",
        metavar="ID",
        default=None,
        help="use this dataset edition instead of the latest (e.g. 2026-1)",
    )


def subcommand(commands: Any, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with ``Example:`` and ``example``."""
    return commands.add_parser(
        name,
        allow_abbrev=False,
        help=summary,
        description=description,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def target_flags(parser: argparse.ArgumentParser) -> None:
    """The publishing-target flags, each overriding the trust file's setting (and its $NOTICES_* variable)."""
    group = parser.add_argument_group("publishing target (default: the trust file's `publishing`, else the embedded S3)")
    group.add_argument(
        "--endpoint-url",
        metavar="URL",
        help="S3 endpoint ($NOTICES_S3_ENDPOINT), e.g. https://s3.eu-west-2.amazonaws.com; none: the embedded S3",
    )
    group.add_argument("--bucket", metavar="NAME", help="bucket ($NOTICES_S3_BUCKET)")
    group.add_argument("--region", metavar="REGION", help="region ($NOTICES_S3_REGION)")
    group.add_argument("--prefix", metavar="PREFIX", help="key prefix ($NOTICES_S3_PREFIX)")
    group.add_argument("--public-base-url", metavar="URL", help="public URL of the bucket root ($NOTICES_PUBLIC_BASE_URL)")
