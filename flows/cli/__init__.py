"""The ``notices`` command: a thin layer over the library.

Commands that read the configuration take ``--schools`` and ``--shared-data`` (default:
``schools/`` and ``shared_data/`` in the current directory, else $NOTICES_SCHOOLS /
$NOTICES_SHARED_DATA), so a trust keeps its configuration in a folder of its own.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from flows.config.discovery import display_path
from flows.config.errors import ConfigError
from flows.cli.parser import build_parser as _parser  # the name tests and tools know

EXIT_OK = 0
EXIT_INVALID = 1


def _print_errors(errors: Sequence[ConfigError]) -> None:
    for error in errors:
        print(error, file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    from flows.runs.selection import prepare_selected

    prepared = prepare_selected(args.schools, args.shared_data, args.school, dataset_edition=args.dataset_edition)
    _print_errors(prepared.errors)
    skipped = prepared.inputs.skipped
    for item in skipped:  # named like errors, but they do not fail the run
        print(item, file=sys.stderr)
    valid = [n.slug for n in prepared.notices]
    if args.json:
        print(
            json.dumps(
                {
                    "valid": valid,
                    "broken": list(prepared.broken),
                    "skipped": [{"path": k.path, "reason": k.reason} for k in skipped],
                    "errors": [{"path": e.path, "line": e.line, "field": e.field, "message": e.message} for e in prepared.errors],
                },
                indent=2,
            )
        )
    else:
        edition = prepared.inputs.dataset.id if prepared.inputs.dataset else "none"
        passed = f", {len(skipped)} skipped: {', '.join(k.path for k in skipped)}" if skipped else ""
        print(f"{len(valid)} school(s) valid, {len(prepared.broken)} broken{passed}; dataset edition {edition}")
        if not prepared.errors:  # reminders for a clean run; errors come first
            _print_dataset_notes(prepared)
        if args.readability:
            from flows.notice.readability_report import report_lines

            # Advice for the DPO, not a check: hard wording is not a broken file, so the exit
            # status stays that of the checks above (the tests hold the sample trust to the limits).
            print("\n".join(report_lines(prepared.notices)))
    return EXIT_INVALID if prepared.errors or prepared.broken else EXIT_OK


def _print_dataset_notes(prepared: Any) -> None:
    """What a DPO should know about the edition even when nothing is wrong: bodies kept knowingly, facts to check."""
    trust = prepared.valid.trust if prepared.valid else None
    kept = {a.body: a.reason for a in trust.dataset_acknowledgements} if trust else {}
    for finding in prepared.inputs.stale:
        if finding.mention.body_id in kept:
            print(
                f"{finding.place} Kept knowingly ({prepared.valid.trust_path}): {kept[finding.mention.body_id]}", file=sys.stderr
            )
    dataset = prepared.inputs.dataset
    for check in dataset.checks if dataset else ():
        print(f"dataset edition {dataset.id} asks you to check: {' '.join(check.what.split())} ({check.where})", file=sys.stderr)


def _render(args: argparse.Namespace) -> int:
    from flows.runs.selection import prepare_selected
    from flows.publish.folder import render_all

    started = time.perf_counter()
    prepared = prepare_selected(args.schools, args.shared_data, args.school, dataset_edition=args.dataset_edition)
    _print_errors(prepared.errors)
    publishing = prepared.valid.trust.publishing if prepared.valid else None
    report = render_all(prepared.notices, args.out, pdf=not args.no_pdf, publishing=publishing)
    for slug, folder in report.written.items():
        print(f"rendered {slug}: {display_path(folder / 'index.html')} ({report.seconds[slug] * 1000:.0f} ms)")
    for slug in prepared.broken:
        print(f"not rendered {slug}: see the errors above", file=sys.stderr)
    took = time.perf_counter() - started
    print(f"{len(report.written)} rendered, {len(prepared.broken)} broken, in {took:.1f} s")
    return EXIT_INVALID if prepared.errors or prepared.broken else EXIT_OK


def _generate(args: argparse.Namespace) -> int:
    from flows.config.synthetic import generate_trust

    if args.count < 1:
        print("notices generate-trust: N must be at least 1", file=sys.stderr)
        return EXIT_INVALID
    made = generate_trust(args.count, args.out, seed=args.seed)
    print(f"wrote {len(made.slugs)} schools and _trust.yaml to {display_path(made.folder)}")
    return EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from flows.config.schema import config_schema

    print(json.dumps(config_schema("trust" if args.trust else "school"), indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``notices`` command; returns the exit status."""
    from flows.cli import editions as edition_commands
    from flows.cli import publishing as commands
    from flows.cli.prefect_server import prefect

    from flows.config.paths import ConfigNotFound, find_config
    from flows.settings import SettingsError, read_settings

    args = _parser().parse_args(argv)
    try:  # every command, so a bad $NOTICES_* value is one line naming it, never a traceback later
        read_settings()
    except SettingsError as exc:
        print(f"notices {args.command}: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if hasattr(args, "schools"):
        try:
            args.schools, args.shared_data = find_config(args.schools, args.shared_data)
        except (ConfigNotFound, SettingsError) as exc:  # one line naming the folder or the variable
            print(f"notices {args.command}: {exc}", file=sys.stderr)
            return EXIT_INVALID
    handlers = {
        "validate": _validate,
        "render": _render,
        "schema": _schema,
        "generate-trust": _generate,
        "s3": commands.s3,
        "prefect": prefect,
        "setup-bucket": commands.setup_bucket,
        "publish": commands.publish,
        "diff": edition_commands.diff,
        "history": edition_commands.history,
        "serve": commands.serve,
        "import-gias": commands.import_gias,
    }
    handler = getattr(args, "handler", None) or handlers[args.command]  # a command group may set its own
    if not _starts_processes(args):
        return int(handler(args))
    from flows.runs.guard import guarded

    with guarded():  # whatever it starts ends if it dies, at any moment (flows.runs.guard)
        return int(handler(args))


def _starts_processes(args: argparse.Namespace) -> bool:
    """True for the commands that may start processes: the embedded S3, Prefect's server, PDF workers."""
    if args.command in ("s3", "prefect"):
        return bool(args.action == "start")
    return args.command in ("render", "setup-bucket", "publish", "serve")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
