"""``notices log keygen``: make the trust's log key, once (``flows.publish.log_key``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flows.cli.arguments import subcommand

EXIT_OK, EXIT_FAILED = 0, 1


def add_log_commands(commands: Any) -> None:
    """log keygen: the key that signs the trust's public log."""
    log = subcommand(
        commands,
        "log",
        "make the key that signs the trust's public log (once)",
        "The trust signs each checkpoint of its public log (every edition of every notice) with a "
        "private key kept out of the bucket. `keygen` makes it once: by default in "
        "$NOTICES_STATE_DIR/log-key, else $XDG_STATE_HOME/trust-notices/log-key (~/.local/state/…), "
        "mode 0600. Keep a copy somewhere safe (a password manager, the CI's secrets as $NOTICES_LOG_KEY); "
        "publishing reads $NOTICES_LOG_KEY, then $NOTICES_LOG_KEY_FILE, then the default file. It "
        "prints the public key, which every run publishes as _log/key.txt.",
        "notices log keygen --if-missing",
    )
    log.add_argument("action", choices=["keygen"])
    log.add_argument(
        "--schools",
        dest="trust_folder",
        type=Path,
        metavar="DIR",
        help="the folder with _trust.yaml, whose website names the log (default: ./schools, else $NOTICES_SCHOOLS)",
    )
    log.add_argument(
        "--out", type=Path, metavar="FILE", help="where to write the key (default: $NOTICES_LOG_KEY_FILE, else the default file)"
    )
    log.add_argument("--origin", metavar="NAME", help="the log's name (default: <the trust website's host>/privacy-notices)")
    log.add_argument("--if-missing", action="store_true", help="do nothing (exit 0) if the key file already exists")
    log.set_defaults(handler=keygen)


def keygen(args: argparse.Namespace) -> int:
    """Make the log key at ``--out`` (or the configured path); print its public key."""
    from flows.publish.log_key import LogKeyError, default_key_path, default_origin, make_log_key
    from flows.settings import read_settings

    settings = read_settings()
    path = args.out or (Path(settings.log_key_file) if settings.log_key_file else default_key_path(settings))
    if args.if_missing and path.exists():
        print(f"the trust's log key is already at {path}", file=sys.stderr)
        return EXIT_OK
    website = "" if args.origin else _trust_website(args.trust_folder or Path(settings.schools or "schools"))
    if not args.origin and not website:
        print("notices log keygen: no _trust.yaml with a website here: give the log's name with --origin", file=sys.stderr)
        return EXIT_FAILED
    try:
        vkey = make_log_key(path, args.origin or default_origin(website))
    except (LogKeyError, ValueError) as exc:
        print(f"notices log keygen: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"notices log keygen: {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_FAILED
    print(
        f'made the trust\'s log key at {path} (keep a copy somewhere safe: losing it is in README "If the log key is lost or changed")',
        file=sys.stderr,
    )
    print(vkey)
    return EXIT_OK


def _trust_website(folder: Path) -> str:
    """The trust file's website, or '' if it cannot be read."""
    import yaml

    try:
        data = yaml.safe_load((folder / "_trust.yaml").read_text(encoding="utf-8"))
        return str(data.get("website", "")) if isinstance(data, dict) else ""
    except (OSError, yaml.YAMLError):
        return ""
