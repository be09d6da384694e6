"""Trust on first use: what a verifier (or a witness) remembers of each log, one JSON file per origin.

The first run remembers the trust's key and the checkpoint it saw; every later run checks the
new checkpoint against both, so a log that is rolled back, forked or re-signed by another key is
caught even though the site itself looks consistent. Files are written atomically (a temporary
file renamed over the old one), so an interrupted run never leaves half a state.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flows.settings import read_settings

from flows.verify.problems import VerifyError

STATE_FORMAT = "trust-notices/verify-state/1"


class StateError(VerifyError):
    """The state folder holds a file that cannot be used."""


def default_state_dir() -> Path:
    """``$NOTICES_STATE_DIR/verify`` if set (as the embedded S3's state), else
    ``$XDG_STATE_HOME/trust-notices/verify``, else ``~/.local/state/trust-notices/verify``."""
    return read_settings().state_base() / "verify"  # flows.settings is the one reader of the environment


def origin_file_name(origin: str) -> str:
    """A file name for an origin: ``/`` and anything unsafe become ``_`` (``a.example.org/notices`` → ``a.example.org_notices``)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", origin).lstrip(".") or "_"


@dataclass(frozen=True)
class Seen:
    """The key and the checkpoint remembered for one origin."""

    origin: str
    key: str
    size: int
    root: bytes
    checkpoint: str


def load_seen(state_dir: Path, origin: str) -> Seen | None:
    """What was remembered for ``origin``, or None on first use."""
    path = state_dir / f"{origin_file_name(origin)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: cannot read the remembered state ({exc}); move it away to start again") from None
    try:
        return Seen(data["origin"], data["key"], int(data["size"]), base64.b64decode(data["root"]), data["checkpoint"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StateError(f"{path}: not a verify state file ({exc}); move it away to start again") from None


def save_seen(state_dir: Path, seen: Seen) -> Path:
    """Remember ``seen`` (atomically); returns the file written."""
    record = {
        "format": STATE_FORMAT,
        "origin": seen.origin,
        "key": seen.key,
        "size": seen.size,
        "root": base64.b64encode(seen.root).decode("ascii"),
        "checkpoint": seen.checkpoint,
    }
    path = state_dir / f"{origin_file_name(seen.origin)}.json"
    write_atomic(path, (json.dumps(record, indent=2) + "\n").encode("utf-8"))
    return path


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
