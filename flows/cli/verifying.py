"""``notices verify`` and ``notices witness``: read the trust's log from its public URL (flows.verify).

Exit 0 with a short summary; 1 with each problem on its own line, naming where (a URL or a log
entry); 2 when the site cannot be read at all (the URL and the cause, never a traceback).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flows.cli.arguments import subcommand
from flows.cli.output import EXIT_FAILED, EXIT_OK, err, json_for_terminal, show
from flows.config.text_rules import visible

EXIT_UNREADABLE = 2


def add_verify_commands(commands: Any) -> None:
    """Add ``verify`` and ``witness`` (their handler is ``args.handler``)."""
    _add_verify(commands)
    _add_witness(commands)


def _add_verify(commands: Any) -> None:
    verify_cmd = subcommand(
        commands,
        "verify",
        "check a trust's published notices against its transparency log",
        "Check, from the public URL alone, that every edition and latest file of a school (or, from the trust's "
        "root, of every school) is what the trust's signed, append-only log says it published: the checkpoint's "
        "signature, that it extends the one seen before, each entry's inclusion proof, the edition chain, every "
        "file's SHA-256, and what the witnesses saw. Remembers the trust's key and checkpoint in --state "
        "(default $NOTICES_STATE_DIR/verify, else $XDG_STATE_HOME/trust-notices/verify). "
        "Exit 1 names each problem and where; exit 2 if the site cannot be read.",
        "notices verify https://notices.example.org/notices/oakfield-primary/privacy-notice/\n"
        "  notices verify https://notices.example.org/notices/ --json   # every school\n"
        "  notices verify   # in the trust's folder: its own published root (as make run does)",
    )
    verify_cmd.add_argument(
        "url",
        nargs="?",
        metavar="URL",
        help="a school's latest folder or its index.html, or the trust's root folder (default: the root this "
        "trust's folder publishes to: ./schools or $NOTICES_SCHOOLS, and the running embedded S3)",
    )
    verify_cmd.add_argument("--key", metavar="VKEY", help="the trust's verifier key, as published in _log/key.txt (pins it)")
    verify_cmd.add_argument("--state", type=Path, metavar="DIR", help="where the key and last checkpoint are remembered")
    verify_cmd.add_argument(
        "--witness", action="append", default=[], metavar="VKEY=URL", help="also ask this witness (repeatable)"
    )
    _common(verify_cmd)
    verify_cmd.set_defaults(handler=verify)


def _add_witness(commands: Any) -> None:
    witness_cmd = subcommand(
        commands,
        "witness",
        "cosign a trust's log checkpoint if it extends the one this witness saw before",
        "Fetch the trust's checkpoint and key, check it extends what this witness cosigned before, cosign it with "
        "the witness's own key (made in DIR on first use) and write the cosigned checkpoint to "
        "DIR/public/<origin>/checkpoint for a static web server to serve; list its URL and the printed key in "
        "the trust's witnesses. Exit 1 if the log does not extend what was seen (nothing is cosigned).",
        "notices witness https://notices.example.org/notices/ --state /srv/witness --name witness.example.org",
    )
    witness_cmd.add_argument("url", metavar="URL", help="the trust's root folder, or any school's latest folder")
    witness_cmd.add_argument(
        "--state", type=Path, required=True, metavar="DIR", help="the witness's key, memory and public files"
    )
    witness_cmd.add_argument(
        "--name", default="witness.example.org", help="the witness key's name, on first use (default: %(default)s)"
    )
    _common(witness_cmd)
    witness_cmd.set_defaults(handler=witness)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    parser.add_argument(
        "--timeout", type=float, default=30.0, metavar="SECONDS", help="connect and read timeout (default: %(default)s)"
    )


def verify(args: argparse.Namespace) -> int:
    """``notices verify``."""
    from flows.verify.fetch import Fetcher
    from flows.verify.problems import VerifyError
    from flows.verify.run import verify as run_verify
    from flows.verify.state import default_state_dir
    from flows.verify.witnesses import parse_witness_flag

    fetcher = Fetcher(connect_timeout=args.timeout, read_timeout=args.timeout)
    url = args.url or _own_root()
    if url is None:
        return EXIT_FAILED
    try:
        extra = [parse_witness_flag(w) for w in args.witness]
        outcome = run_verify(url, args.state or default_state_dir(), key=args.key, witnesses=extra, fetcher=fetcher)
    except VerifyError as exc:
        err(visible(f"notices verify: {exc}"))
        return EXIT_UNREADABLE
    if args.json:
        show(json_for_terminal(_verify_json(outcome)))
    for problem in outcome.problems:
        err(visible(str(problem)))
    if not args.json:
        for note in outcome.notes:
            show(note)
        show(_verify_summary(outcome))
    return EXIT_FAILED if outcome.problems else EXIT_OK


def _own_root() -> str | None:
    """The trust root this folder's trust publishes to (None: said why on stderr)."""
    from flows import embedded_s3
    from flows.config.errors import ConfigError
    from flows.config.loading import load_trust
    from flows.config.paths import ConfigNotFound, find_config
    from flows.publish import layout
    from flows.publish.connect import TargetError, resolve_target

    try:
        schools, _shared = find_config(None, None)
    except ConfigNotFound as exc:
        err(f"notices verify: give the URL of a school's notice or of the trust's root ({exc})")
        return None
    errors: list[ConfigError] = []
    trust = load_trust(Path(schools) / "_trust.yaml", errors)
    if trust is None:
        err(*(str(e) for e in errors))
        return None
    running = embedded_s3.status() if trust.publishing.endpoint_url is None else None
    try:
        target = resolve_target(trust.publishing, {}, running.endpoint_url if running else None)
    except TargetError as exc:
        err(f"notices verify: {exc}")
        return None
    if target.embedded and running is None:
        err("notices verify: the embedded S3 is not running (start it with `notices s3 start`), or give a URL")
        return None
    root = layout.root_url(target.public_base_url, target.prefix, "")
    return root + "/" if target.prefix else root


def _verify_summary(outcome: Any) -> str:
    editions = sum(len(s.editions) for s in outcome.schools)
    seen = "; ".join(w.summary() for w in outcome.witnesses) or "no witnesses"
    verdict = f"{len(outcome.problems)} problem(s)" if outcome.problems else "verified"
    return (
        f"{verdict}: {len(outcome.schools)} school(s), {editions} edition(s), {outcome.entries} entries, "
        f"tree size {outcome.size} ({outcome.origin}); {seen}; {outcome.received} bytes in {outcome.requests} requests"
    )


def _verify_json(outcome: Any) -> dict[str, Any]:
    return {
        "ok": not outcome.problems,
        "url": outcome.url,
        "origin": outcome.origin,
        "size": outcome.size,
        "entries": outcome.entries,
        "schools": [
            {"slug": s.slug, "urn": s.urn, "entries": s.entries, "editions": s.editions, "files": s.files}
            for s in outcome.schools
        ],
        "witnesses": [{"name": w.name, "url": w.url, "status": w.status, "size": w.size} for w in outcome.witnesses],
        "problems": [p.as_json() for p in outcome.problems],
        "requests": outcome.requests,
        "bytes": outcome.received,
        "state_file": str(outcome.state_file) if outcome.state_file else None,
        "notes": outcome.notes,
    }


def witness(args: argparse.Namespace) -> int:
    """``notices witness``."""
    from flows.verify.fetch import Fetcher
    from flows.verify.problems import VerifyError
    from flows.verify.witness import witness as run_witness

    fetcher = Fetcher(connect_timeout=args.timeout, read_timeout=args.timeout)
    try:
        outcome = run_witness(args.url, args.state, name=args.name, fetcher=fetcher)
    except VerifyError as exc:
        err(visible(f"notices witness: {exc}"))
        return EXIT_UNREADABLE
    for problem in outcome.problems:
        err(visible(str(problem)))
    if args.json:
        show(
            json_for_terminal(
                {
                    "ok": not outcome.problems,
                    "origin": outcome.origin,
                    "size": outcome.size,
                    "name": outcome.name,
                    "key": outcome.vkey,
                    "path": str(outcome.path) if outcome.path else None,
                    "problems": [p.as_json() for p in outcome.problems],
                }
            )
        )
    elif outcome.path:
        show(f"cosigned {outcome.origin} at size {outcome.size}: {outcome.path}")
        show(f"witness key (list it in the trust's witnesses with the URL that serves that file): {outcome.vkey}")
    else:
        show(f"not cosigned: {len(outcome.problems)} problem(s)")
    return EXIT_FAILED if outcome.problems else EXIT_OK
