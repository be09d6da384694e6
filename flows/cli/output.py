"""How the ``notices`` commands print: notes on stderr, results on stdout, never a raw control character.

Notes for the person go to stderr so that ``--json`` output on stdout stays parseable.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flows.config.text_rules import visible

EXIT_OK, EXIT_FAILED = 0, 1

# The logger the library writes a long run's progress lines to (one line each).
PROGRESS_LOGGER = "flows.progress"


def flags(args: argparse.Namespace) -> dict[str, str | None]:
    """The publishing-target flags of a command, by setting name (None where not given)."""
    return {
        "endpoint_url": args.endpoint_url,
        "bucket": args.bucket,
        "region": args.region,
        "prefix": args.prefix,
        "public_base_url": args.public_base_url,
    }


def err(*lines: object) -> None:
    """Print notes for the person to stderr, one per line (stdout stays parseable)."""
    for line in lines:
        print(line, file=sys.stderr)


def json_for_terminal(data: Any) -> str:
    """``data`` as indented JSON that shows no raw control or bidi character on a terminal."""
    # json.dumps escapes C0 controls itself; C1 controls and bidi characters it leaves raw
    # with ensure_ascii=False, so those become JSON escapes (the same text to a parser).
    text = json.dumps(data, indent=2, ensure_ascii=False)
    return re.sub("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]", lambda m: f"\\u{ord(m.group()):04x}", text)


def show(text: str = "", end: str = "\n") -> None:
    """Print ``text`` to stdout with any control character shown as an escape."""
    # What diff and history print comes from stored manifests and editions, which may hold
    # control characters (older versions accepted them): show them as escapes, never raw.
    print(visible(text, keep="\n\t"), end=end)


class _ToStderr(logging.Handler):
    """Each record's message alone on stderr: the person sees the line, not a log format."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            err(record.getMessage())
        except Exception:  # a closed stderr must not fail the run
            self.handleError(record)


@contextmanager
def progress_to_stderr() -> Iterator[None]:
    """While the body runs, print each line logged to ``flows.progress`` on stderr."""
    logger = logging.getLogger(PROGRESS_LOGGER)
    handler, level, propagate = _ToStderr(logging.INFO), logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # whatever level Prefect's configuration gives the root logger
    logger.propagate = False  # printed once, by us: not again by a root handler in a log format
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
