"""The ``notices`` command line: one function per group of commands, each adding its subcommands.

Every command has a ``--help`` with an example (``Example:`` in its epilog).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from flows.cli.arguments import config_flags, subcommand, target_flags
from flows.cli.verifying import add_verify_commands
from flows.cli.log_commands import add_log_commands


def build_parser() -> argparse.ArgumentParser:
    """The ``notices`` parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="notices",
        allow_abbrev=False,
        description="Check, render and publish the pupil privacy notices of a multi-academy trust.",
        epilog="Example:\n  notices validate && notices publish --dry-run",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_validate_command(commands)
    _add_render_command(commands)
    _add_tool_commands(commands)
    _add_s3_commands(commands)
    _add_publish_command(commands)
    _add_edition_commands(commands)
    _add_serve_command(commands)
    _add_import_command(commands)
    add_log_commands(commands)
    add_verify_commands(commands)
    return parser


def _add_validate_command(commands: Any) -> None:
    """validate: read the configuration, report every problem."""
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
    config_flags(validate)
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


def _add_render_command(commands: Any) -> None:
    """render: every valid school's files, into a folder."""
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
    config_flags(render)
    render.add_argument(
        "--school", action="append", default=[], metavar="SLUG|URN", help="render only this school, by slug or URN (repeatable)"
    )
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    render.add_argument("--no-pdf", action="store_true", help="skip the PDF (faster previews)")


def _add_tool_commands(commands: Any) -> None:
    """schema and generate-trust: help for editors and for trials."""
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


def _add_s3_commands(commands: Any) -> None:
    """s3 and setup-bucket: the embedded S3, and a real bucket's configuration."""
    s3 = subcommand(
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

    prefect = subcommand(
        commands,
        "prefect",
        "start, stop or show the local Prefect server (on 127.0.0.1, reused by every run)",
        "Manage a Prefect server started once and reused, as the embedded S3 is: `notices publish` and "
        "`notices serve` use it when $PREFECT_API_URL is not set and it answers (else Prefect's temporary "
        "server, ~7 s a run). Its database and log live in $NOTICES_STATE_DIR/prefect (else "
        "$XDG_STATE_HOME/trust-notices/prefect); its UI is at the address `start` prints.",
        "notices prefect start && notices publish --school oakfield-primary && notices prefect stop",
    )
    prefect.add_argument("action", choices=["start", "stop", "status"])
    prefect.add_argument("--port", type=int, help="the server's port (default $NOTICES_PREFECT_PORT or 4200)")
    prefect.add_argument("--json", action="store_true", help="status as JSON: running, api_url, ui_url, pid, port")

    setup = subcommand(
        commands,
        "setup-bucket",
        "create and configure the bucket (versioning, public GET, CORS, website)",
        "Create the bucket if needed, enable versioning, allow anonymous GET only, allow CORS GET "
        "for school websites, and set the website index/error documents where the server supports it.",
        "notices setup-bucket --endpoint-url https://s3.eu-west-2.amazonaws.com --bucket my-trust-notices --region eu-west-2",
    )
    config_flags(setup)
    target_flags(setup)


def _add_publish_command(commands: Any) -> None:
    """publish: render, compare and publish every school."""
    publish = subcommand(
        commands,
        "publish",
        "render, diff and publish every school's notice",
        "Publish each valid school: a new edition when its words changed, a presentation update "
        "when only the layout changed, nothing when unchanged. A material change needs a named approver. "
        "One line per school; exit 1 if any failed or was held.",
        'notices publish --school oakfield-primary --approved-by "Alex Example (DPO)"',
    )
    config_flags(publish)
    target_flags(publish)
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
    _approval_flags(publish)


def _approval_flags(parser: argparse.ArgumentParser) -> None:
    """publish's flags for who approves, and how (inline, --review / --approve)."""
    parser.add_argument(
        "--approved-by",
        metavar="NAME",
        help="one of the trust's approvers (approval.approvers), recorded in each new edition; the held changes are "
        "shown, then exactly those words are published (on a terminal you are asked instead; without it they are held)",
    )
    parser.add_argument("--approval-note", metavar="TEXT", help="why, recorded with the approval")
    parser.add_argument(
        "--move-from",
        metavar="PREFIX",
        help="move schools whose history lives under PREFIX of the bucket to this run's prefix (needs --approved-by)",
    )
    parser.add_argument(
        "--review",
        type=Path,
        metavar="FILE",
        help="write every held change (notes, diff, content hash) to FILE for the approver to read (works with --dry-run)",
    )
    parser.add_argument(
        "--approve",
        type=Path,
        metavar="FILE",
        help="with --approved-by: publish exactly the changes FILE (from --review) shows; a school edited since stays held",
    )


def _add_edition_commands(commands: Any) -> None:
    """diff and history: read published editions."""
    diff = subcommand(
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
    config_flags(diff)
    target_flags(diff)
    diff.add_argument("slug", nargs="?", help="the school (its slug); or --all")
    diff.add_argument(
        "--all", action="store_true", help="every school: the grouped summary of what the next publish would change"
    )
    diff.add_argument("--json", action="store_true", help="with --all: {groups, schools, first_editions, unchanged} as JSON")
    diff.add_argument("--from", dest="from_", metavar="N", type=int, help="edition to compare from (default: the latest)")
    diff.add_argument("--to", default="draft", metavar="N|draft", help="edition number, or draft (default)")
    diff.add_argument("--redline", type=Path, metavar="FILE", help="also write a redline HTML page of the two to FILE")

    history = subcommand(
        commands,
        "history",
        "list a school's editions",
        "List every edition of a school's notice with its date, class and change notes.",
        "notices history oakfield-primary --json",
    )
    config_flags(history)
    target_flags(history)
    history.add_argument("slug")
    history.add_argument("--json", action="store_true", help="print the manifest's editions as JSON")


def _add_serve_command(commands: Any) -> None:
    """serve: the Prefect deployments, served from this machine."""
    serve = subcommand(
        commands,
        "serve",
        "serve the Prefect deployments (trust-wide schedule and reruns) from this machine",
        "Serve two deployments of the publish flow: `trust-wide` on a cron schedule (Europe/London, "
        "one run at a time) and `rerun` for manual runs from the Prefect UI. Runs until stopped.",
        "notices prefect start && notices serve   # or PREFECT_API_URL=http://HOST:4200/api notices serve",
    )
    serve.add_argument("--cron", default="0 2 * * *", help="trust-wide schedule (default: %(default)s, nightly at 02:00)")
    serve.add_argument("--timezone", default="Europe/London", help="schedule time zone (default: %(default)s)")


def _add_import_command(commands: Any) -> None:
    gias = subcommand(
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
