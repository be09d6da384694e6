"""The ``notices`` command: a thin layer over the library.

Every command takes ``--schools`` and ``--shared-data`` (default: this repository's
``schools/`` and ``shared_data/``, or $NOTICES_SCHOOLS / $NOTICES_SHARED_DATA), so a
trust can keep its configuration anywhere.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from flows.errors import ConfigError
from flows.loading import display_path

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


def _common(parser: argparse.ArgumentParser) -> None:
    from flows.site import DEFAULT_SCHOOLS, DEFAULT_SHARED_DATA

    parser.add_argument(
        "--schools",
        type=Path,
        default=Path(os.environ.get("NOTICES_SCHOOLS", DEFAULT_SCHOOLS)),
        metavar="DIR",
        help="folder with _trust.yaml and one <slug>.yaml per school (default: %(default)s)",
    )
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=Path(os.environ.get("NOTICES_SHARED_DATA", DEFAULT_SHARED_DATA)),
        metavar="DIR",
        help="folder with the DfE recipient dataset (default: %(default)s)",
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
        description="Render and check the pupil privacy notices of a multi-academy trust.",
        epilog="Example:\n  notices validate && notices render --out site",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    validate = commands.add_parser(
        "validate",
        help="check the dataset, the trust file and every school; report every problem",
        description="Check the dataset, the trust file and every school file. Every problem is "
        "printed on stderr as FILE:LINE: FIELD: MESSAGE; the exit status is 1 if there is any.",
        epilog="Example:\n  notices validate --schools schools --shared-data shared_data",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(validate)
    validate.add_argument("--json", action="store_true", help="print the result as JSON on stdout")

    render = commands.add_parser(
        "render",
        help="render each valid school's notice to OUT/<slug>/",
        description="Render index.html, fragment.html, notice.md, notice.json and notice.pdf for "
        "every valid school into OUT/<slug>/. Broken schools are named on stderr and the exit "
        "status is 1, but every valid school is still rendered.",
        epilog="Example:\n  notices render --school oakfield-primary --out site",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _common(render)
    render.add_argument("--school", action="append", default=[], metavar="SLUG", help="render only this school (repeatable)")
    render.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    render.add_argument("--no-pdf", action="store_true", help="skip the PDF (faster previews)")

    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of school files (or of the trust file)",
        description="Print a JSON Schema so editors (VS Code YAML, JetBrains) validate as you type.",
        epilog="Example:\n  notices schema > school.schema.json\n  notices schema --trust > trust.schema.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    schema.add_argument("--trust", action="store_true", help="the trust file's schema instead of a school file's")
    return parser


def _print_errors(errors: Sequence[ConfigError]) -> None:
    for error in errors:
        print(error, file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    from flows.site import prepare

    prepared = prepare(args.schools, args.shared_data, dataset_edition=args.dataset_edition)
    _print_errors(prepared.errors)
    valid = [n.slug for n in prepared.notices]
    if args.json:
        print(
            json.dumps(
                {
                    "valid": valid,
                    "broken": list(prepared.broken),
                    "errors": [
                        {"path": e.path, "line": e.line, "field": e.field, "message": e.message} for e in prepared.errors
                    ],
                },
                indent=2,
            )
        )
    else:
        edition = prepared.inputs.dataset.id if prepared.inputs.dataset else "none"
        print(f"{len(valid)} school(s) valid, {len(prepared.broken)} broken; dataset edition {edition}")
    return EXIT_INVALID if prepared.errors else EXIT_OK


def _render(args: argparse.Namespace) -> int:
    from flows.site import prepare, render_all

    started = time.perf_counter()
    prepared = prepare(args.schools, args.shared_data, only=tuple(args.school), dataset_edition=args.dataset_edition)
    _print_errors(prepared.errors)
    report = render_all(prepared.notices, args.out, pdf=not args.no_pdf)
    for slug, folder in report.written.items():
        print(f"rendered {slug}: {display_path(folder / 'index.html')} ({report.seconds[slug] * 1000:.0f} ms)")
    for slug in prepared.broken:
        print(f"not rendered {slug}: see the errors above", file=sys.stderr)
    took = time.perf_counter() - started
    print(f"{len(report.written)} rendered, {len(prepared.broken)} broken, in {took:.1f} s")
    return EXIT_INVALID if prepared.errors else EXIT_OK


def _schema(args: argparse.Namespace) -> int:
    from flows.schema import config_schema

    print(json.dumps(config_schema("trust" if args.trust else "school"), indent=2))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``notices`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    handlers = {"validate": _validate, "render": _render, "schema": _schema}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
