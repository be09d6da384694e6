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
from pathlib import Path
from typing import Any

from flows.config.discovery import display_path
from flows.config.errors import ConfigError

EXIT_OK = 0
EXIT_INVALID = 1


def _common(parser: argparse.ArgumentParser) -> None:
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="notices",
        allow_abbrev=False,
        description="Check, render and publish the pupil privacy notices of a multi-academy trust.",
        epilog="Example:\n  notices validate && notices publish --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        allow_abbrev=False,
        help="check the dataset, the trust file and every school; report every problem",
        description="Check the dataset, the trust file and every school file. Every problem is "
        "printed on stderr as FILE:LINE: FIELD: MESSAGE; the exit status is 1 if there is any.",
        epilog="Example:\n  notices validate --schools schools --shared-data shared_data\n"
        "  notices validate --readability   # each section's reading grade and the hardest sentences",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(validate)
    validate.add_argument(
        "--school",
        action="append",
        default=[],
        metavar="SLUG|URN",
        help="check only this school (and the shared files), by slug or URN (repeatable)",
    )
    validate.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    validate.add_argument(
        "--readability",
        action="store_true",
        help="also print each school's readability: In brief and each section of your own text "
        "(grade and reading ease), and the hardest sentences; the exit status is unchanged",
    )

    render = commands.add_parser(
        "render",
        allow_abbrev=False,
        help="render each valid school's notice to OUT/<slug>/",
        description="Render index.html, fragment.html, notice.md, notice.json and notice.pdf for "
        "every valid school into OUT/<slug>/. Broken schools are named on stderr and the exit "
        "status is 1, but every valid school is still rendered.",
        epilog="Example:\n  notices render --school oakfield-primary --out site",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(render)
    render.add_argument(
        "--school", action="append", default=[], metavar="SLUG|URN", help="render only this school, by slug or URN (repeatable)"
    )
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    render.add_argument("--no-pdf", action="store_true", help="skip the PDF (faster previews)")

    schema = commands.add_parser(
        "schema",
        allow_abbrev=False,
        help="print the JSON Schema of school files (or of the trust file)",
        description="Print a JSON Schema so editors (VS Code YAML, JetBrains) validate as you type.",
        epilog="Example:\n  notices schema > school.schema.json\n  notices schema --trust > trust.schema.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("--trust", action="store_true", help="the trust file's schema instead of a school file's")

    generate = commands.add_parser(
        "generate-trust",
        allow_abbrev=False,
        help="write a synthetic trust of N varied, valid schools (for benchmarks and trials)",
        description="Write _trust.yaml and N fictional school files (every phase and age range, local "
        "recipients, overrides) into DIR; the same seed gives the same files.",
        epilog="Example:\n  notices generate-trust 1000 --out /tmp/big-trust && notices validate --schools /tmp/big-trust",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    generate.add_argument("count", type=int, metavar="N", help="how many schools")
    generate.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the schools folder to write (created if needed)"
    )
    generate.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")

    _add_publishing_commands(commands)
    _add_import_command(commands)
    return parser


def _add_import_command(commands: Any) -> None:
    gias = _sub(
        commands,
        "import-gias",
        "write one school file per open establishment of a trust, from the GIAS export",
        "Read the DfE's Get Information about Schools export (edubasealldata….csv, Windows-1252) and "
        "write DIR/<slug>.yaml for each open establishment of the trust, with TODO markers for what GIAS "
        "does not know (`notices validate` lists them), plus a starter _trust.yaml if DIR has none. "
        "Existing files (matched by URN) are kept; --update refreshes their GIAS fields only. "
        "Exit status 2 if the file or trust name cannot be used.",
        'notices import-gias edubasealldata20261129.csv --trust "Meadowbank Learning Trust" --out schools\n'
        "  notices validate --schools schools   # then fill in each TODO it lists",
    )
    gias.add_argument("csv", type=Path, metavar="CSV", help="the GIAS establishment export, as downloaded")
    gias.add_argument(
        "--trust", required=True, metavar="NAME", help="the trust's name as GIAS spells it (case and spacing do not matter)"
    )
    gias.add_argument("--out", type=Path, required=True, metavar="DIR", help="the schools folder to write (created if needed)")
    gias.add_argument(
        "--update", action="store_true", help="refresh the GIAS fields of existing files, keeping all else (edits, comments)"
    )


def _target_flags(parser: argparse.ArgumentParser) -> None:
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


def _sub(commands: Any, name: str, summary: str, description: str, example: str) -> argparse.ArgumentParser:
    return commands.add_parser(
        name,
        allow_abbrev=False,
        help=summary,
        description=description,
        epilog=f"Example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _add_publishing_commands(commands: Any) -> None:
    s3 = _sub(
        commands,
        "s3",
        "start, stop or show the embedded S3 (SeaweedFS on 127.0.0.1)",
        "Manage the embedded S3 server used when the trust file names no endpoint. Data, logs, "
        "PID file and generated credentials live in one folder per user, found from any working directory: "
        "$NOTICES_STATE_DIR/s3 if set, else $XDG_STATE_HOME/trust-notices/s3 (~/.local/state/trust-notices/s3).",
        "notices s3 start && notices s3 status --json",
    )
    s3.add_argument("action", choices=["start", "stop", "status"])
    s3.add_argument("--port", type=int, help="S3 port (default $NOTICES_S3_PORT or 8333; the next 3 ports are used too)")
    s3.add_argument("--json", action="store_true", help="status as JSON: endpoint_url, bucket, access_key, secret_key")

    setup = _sub(
        commands,
        "setup-bucket",
        "create and configure the bucket (versioning, public GET, CORS, website)",
        "Create the bucket if needed, enable versioning, allow anonymous GET only, allow CORS GET "
        "for school websites, and set the website index/error documents where the server supports it.",
        "notices setup-bucket --endpoint-url https://s3.eu-west-2.amazonaws.com --bucket my-trust-notices --region eu-west-2",
    )
    _common(setup)
    _target_flags(setup)

    publish = _sub(
        commands,
        "publish",
        "render, diff and publish every school's notice",
        "Publish each valid school: a new edition when its words changed, a presentation update "
        "when only the layout changed, nothing when unchanged. A material change needs a named approver. "
        "One line per school; exit 1 if any failed or was held.",
        'notices publish --school oakfield-primary --approved-by "Alex Example (DPO)"',
    )
    _common(publish)
    _target_flags(publish)
    publish.add_argument(
        "--school", action="append", default=[], metavar="SLUG|URN", help="only this school, by slug or URN (repeatable)"
    )
    publish.add_argument("--dry-run", action="store_true", help="render and compare, upload nothing")
    publish.add_argument("--force", action="store_true", help="re-upload the latest files even where they match")
    publish.add_argument("--json", action="store_true", help="print the result as JSON")
    publish.add_argument(
        "--task-runner",
        default="threads",
        metavar="RUNNER",
        help="threads (default), dask (a local Dask cluster, one worker process per core; needs trust-notices[dask]) "
        "or a Dask scheduler address, e.g. tcp://10.0.0.5:8786",
    )
    publish.add_argument(
        "--approved-by",
        metavar="NAME",
        help="one of the trust's approvers (approval.approvers), recorded in each new edition; the held changes are "
        "shown, then exactly those words are published (on a terminal you are asked instead; without it they are held)",
    )
    publish.add_argument("--approval-note", metavar="TEXT", help="why, recorded with the approval")
    publish.add_argument(
        "--move-from",
        metavar="PREFIX",
        help="move schools whose history lives under PREFIX of the bucket to this run's prefix (needs --approved-by)",
    )
    publish.add_argument(
        "--review",
        type=Path,
        metavar="FILE",
        help="write every held change (notes, diff, content hash) to FILE for the approver to read (works with --dry-run)",
    )
    publish.add_argument(
        "--approve",
        type=Path,
        metavar="FILE",
        help="with --approved-by: publish exactly the changes FILE (from --review) shows; a school edited since stays held",
    )

    diff = _sub(
        commands,
        "diff",
        "show what changed between editions, or between the latest edition and a draft",
        "Print the change notes and a unified diff. --to draft (the default) renders the current "
        "configuration without publishing it. --all shows what the next publish would change in "
        "every school as one summary: each school and how it changes (recipients added, removed, "
        "renamed), then each distinct change once, with the diff of one school of its group.",
        "notices diff oakfield-primary --from 1 --to draft --redline changes.html\n"
        "  notices diff --all                          # a trust-wide change, grouped\n"
        "  notices diff --all --dataset-edition 2026-1  # what moving to that dataset edition would change",
    )
    _common(diff)
    _target_flags(diff)
    diff.add_argument("slug", nargs="?", help="the school (its slug); or --all")
    diff.add_argument(
        "--all", action="store_true", help="every school: the grouped summary of what the next publish would change"
    )
    diff.add_argument("--json", action="store_true", help="with --all: {groups, schools, first_editions, unchanged} as JSON")
    diff.add_argument("--from", dest="from_", metavar="N", type=int, help="edition to compare from (default: the latest)")
    diff.add_argument("--to", default="draft", metavar="N|draft", help="edition number, or draft (default)")
    diff.add_argument("--redline", type=Path, metavar="FILE", help="also write a redline HTML page of the two to FILE")

    history = _sub(
        commands,
        "history",
        "list a school's editions",
        "List every edition of a school's notice with its date, class and change notes.",
        "notices history oakfield-primary --json",
    )
    _common(history)
    _target_flags(history)
    history.add_argument("slug")
    history.add_argument("--json", action="store_true", help="print the manifest's editions as JSON")

    serve = _sub(
        commands,
        "serve",
        "serve the Prefect deployments (trust-wide schedule and reruns) from this machine",
        "Serve two deployments of the publish flow: `trust-wide` on a cron schedule (Europe/London, "
        "one run at a time) and `rerun` for manual runs from the Prefect UI. Runs until stopped.",
        "PREFECT_API_URL=http://127.0.0.1:4200/api notices serve",
    )
    serve.add_argument("--cron", default="0 2 * * *", help="trust-wide schedule (default: %(default)s, nightly at 02:00)")
    serve.add_argument("--timezone", default="Europe/London", help="schedule time zone (default: %(default)s)")


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
        "setup-bucket": commands.setup_bucket,
        "publish": commands.publish,
        "diff": edition_commands.diff,
        "history": edition_commands.history,
        "serve": commands.serve,
        "import-gias": commands.import_gias,
    }
    if not _starts_processes(args):
        return handlers[args.command](args)
    from flows.runs.guard import guarded

    with guarded():  # whatever it starts ends if it dies, at any moment (flows.runs.guard)
        return handlers[args.command](args)


def _starts_processes(args: argparse.Namespace) -> bool:
    """True for the commands that may start processes: the embedded S3, Prefect's server, PDF workers."""
    if args.command == "s3":
        return bool(args.action == "start")
    return args.command in ("render", "setup-bucket", "publish", "serve")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
