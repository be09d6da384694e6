"""The publishing commands of ``notices`` (s3, setup-bucket, publish, serve, import-gias).

``diff`` and ``history``, which read published editions, are in ``flows.cli.editions``.

Each is a thin layer: parse nothing, call the library, print for a person (or JSON).
Notes for the person go to stderr so that ``--json`` output on stdout stays parseable.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
from typing import Any

from flows.cli import approving as approve_commands
from flows import embedded_s3 as local_s3
from flows.notice.prepare import Prepared, ValidInputs
from flows.config.text_rules import visible

EXIT_OK, EXIT_FAILED = 0, 1


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


def s3(args: argparse.Namespace) -> int:
    """`notices s3 start|stop|status`."""
    try:
        if args.action == "start":
            started = local_s3.start(port=args.port)
            print(f"embedded S3 running at {started.endpoint_url} (pid {started.pid}); credentials: notices s3 status --json")
            return EXIT_OK
        if args.action == "stop":
            stopped = local_s3.stop()
            print("embedded S3 stopped" if stopped else "embedded S3 was not running")
            return EXIT_OK
    except local_s3.LocalS3Error as exc:
        err(f"notices s3 {args.action}: {exc}")
        return EXIT_FAILED
    info = local_s3.status()
    if args.json:
        print(json.dumps({"running": info is not None, **(info.as_public_dict() if info else {})}, indent=2))
    elif info is None:
        print(f"embedded S3 is not running (state folder {local_s3.default_state_dir()}; start it with `notices s3 start`)")
    else:
        for key, value in info.as_public_dict().items():
            print(f"{key}: {value}")
    return EXIT_OK if info is not None else EXIT_FAILED


def prepare(args: argparse.Namespace, selectors: tuple[str, ...] = ()) -> Prepared:
    """Load and validate the configuration a command names, printing every problem to stderr."""
    from flows.runs.selection import prepare_selected

    prepared = prepare_selected(args.schools, args.shared_data, selectors, dataset_edition=args.dataset_edition)
    err(*prepared.errors)
    return prepared


def _valid(prepared: Prepared) -> ValidInputs | None:
    if prepared.valid is None:
        err("nothing can be published until the errors above are fixed")
    return prepared.valid


def setup_bucket(args: argparse.Namespace) -> int:
    """`notices setup-bucket`."""
    from flows.publish.s3 import S3Publisher
    from flows.publish.s3 import setup_bucket as configure
    from flows.publish.target import connect

    valid = _valid(prepare(args))
    if valid is None:
        return EXIT_FAILED
    try:  # a bad flag or $NOTICES_* value (TargetError) is one line, not a traceback
        conn = connect(valid.trust, flags(args))
    except local_s3.LocalS3Error as exc:
        err(f"notices setup-bucket: {exc}")
        return EXIT_FAILED
    assert isinstance(conn.publisher, S3Publisher)
    # Not on the embedded S3: SeaweedFS applies a lifecycle rule by replaying every recent write.
    for warning in configure(conn.publisher.client, conn.target.bucket, expire_private=conn.credentials is None):
        err(f"warning: {warning}")
    print(
        f"bucket {conn.target.bucket} ready: versioning on, public GET except _private/, CORS GET; {conn.target.public_base_url}"
    )
    return EXIT_OK


_VERBS = {
    "published": ("published", "would publish"),
    "presentation": ("presentation update", "would update (presentation)"),
    "unchanged": ("unchanged", "unchanged"),
    "held": ("held for approval", "needs approval"),
    "failed": ("failed", "failed"),
}


def _line(result: Any, dry_run: bool) -> str:
    verb = _VERBS[result.status][1 if dry_run else 0]
    if result.status == "failed":
        return f"{verb:<22} {result.slug}: {result.error}"
    edition = f"v{result.edition}" if result.edition else ""
    extra = ""
    if result.status in ("published", "held"):
        extra = f" ({result.change_class}: {'; '.join(result.changes)})" if result.changes else " (first edition)"
    if result.approved_by:
        extra += f" approved by {result.approved_by}"
    notes = "".join(f"\n{'':<23}{note}" for note in result.notes)
    return f"{verb:<22} {result.slug} {edition}{extra} {result.url}{notes}"


def _flags_to_environment(args: argparse.Namespace) -> None:
    # The flow reads its target like a deployment does (trust file, then $NOTICES_*); flags
    # given here become those variables for this process only.
    names = {
        "endpoint_url": "NOTICES_S3_ENDPOINT",
        "bucket": "NOTICES_S3_BUCKET",
        "region": "NOTICES_S3_REGION",
        "prefix": "NOTICES_S3_PREFIX",
        "public_base_url": "NOTICES_PUBLIC_BASE_URL",
    }
    for flag, env in names.items():
        value = getattr(args, flag)
        if value:
            os.environ[env] = value


def publish(args: argparse.Namespace) -> int:
    """`notices publish`: validate, then run the Prefect flow (ephemeral unless $PREFECT_API_URL).

    A change that needs approval is published only under an approval of the exact words it
    shows (``flows.cli.approving``): the first run holds those schools, the approval names
    their content hashes, and a second run publishes the ones whose words are unchanged.
    Without an approver they stay held and the exit status is 1.
    """
    prepared = prepare(args, tuple(args.school))
    valid = _valid(prepared)
    if valid is None:
        return EXIT_FAILED
    try:
        approver = _approver(args.approved_by, valid) if args.approved_by is not None else None
    except ValueError as exc:
        err(f"notices publish: --approved-by: {exc}")
        return EXIT_FAILED
    try:
        approved_file = approve_commands.read_review(args.approve) if args.approve else None
    except ValueError as exc:
        err(f"notices publish: --approve: {exc}")
        return EXIT_FAILED
    if args.move_from is not None and approver is None:
        err("notices publish: --move-from PREFIX needs --approved-by NAME, the person who approves moving those histories")
        return EXIT_FAILED
    if approved_file is not None and approver is None:
        err("notices publish: --approve FILE needs --approved-by NAME, the person who read that file and approves it")
        return EXIT_FAILED
    if not prepared.notices:
        err("no valid school to publish")
        return EXIT_FAILED
    _flags_to_environment(args)
    from flows.publish.target import connect

    try:  # says where it publishes, and starts the embedded S3 when that is the target
        err(*connect(valid.trust, {}).notes)
    except local_s3.LocalS3Error as exc:
        err(f"notices publish: {exc}")
        return EXIT_FAILED
    # Approves no words: what needs an approver is held. A named move is approved by its approver.
    data = _run_flow(args, list(args.school), approver if args.move_from else None, args.approval_note, {})
    if data is None:
        return EXIT_FAILED
    held = [s for s in data["schools"] if s["status"] == "held"]
    if held and args.review:
        approve_commands.write_review(args.review, held)
        err(
            f'wrote {len(held)} held change(s) to {args.review}; after reading it: notices publish --approve {args.review} --approved-by "Your Name"'
        )
    check = functools.partial(_approver, valid=valid)  # the prompt's check of a typed name
    if (
        held
        and not args.dry_run
        and not approve_commands.publish_approved(args, data, held, approver, approved_file, check, _run_flow)
    ):
        return EXIT_FAILED
    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_run(data, args.dry_run)
    held = [s for s in data["schools"] if s["status"] == "held"]
    if held and not args.dry_run:
        err(
            f"{len(held)} school(s) not published: their change needs a named approver; after checking "
            '`notices diff SLUG` (or `--review FILE`), run again with --approved-by "Your Name" (and --approval-note)'
        )
    failed = any(s["status"] == "failed" for s in data["schools"])
    return EXIT_FAILED if failed or (held and not args.dry_run) or prepared.errors else EXIT_OK


def _approver(name: str, valid: ValidInputs) -> str:
    from flows.editions.approval import check_approver

    return check_approver(name, valid.trust.approval.approvers)


def _run_flow(
    args: argparse.Namespace, schools: list[str], approver: str | None, note: str | None, hashes: dict[str, str] | None = None
) -> dict[str, Any] | None:
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")  # our own lines are the output
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.runs import flow as pipeline
    from flows.runs.ephemeral import start_ephemeral_server
    from flows.runs.parameters import ApprovalOptions, PublishParameters

    start_ephemeral_server()  # with no PREFECT_API_URL: a temporary server that dies with us

    params = PublishParameters(
        schools=schools,
        dry_run=args.dry_run,
        force=args.force,
        move_from=args.move_from,
        dataset_edition=args.dataset_edition,
        # The command line never waits: a change without an approver is held and reported.
        approval=ApprovalOptions(
            approved_by=approver, approval_note=note, wait=False, content_hashes=hashes if approver else None
        ),
        task_runner=args.task_runner,
        schools_dir=str(args.schools.resolve()),
        shared_data_dir=str(args.shared_data.resolve()),
    )
    state = pipeline.publish_notices(params, return_state=True)
    data = state.result(raise_on_failure=False) if state.data is not None else None
    if not isinstance(data, dict):
        err(f"notices publish: the flow run ended {state.type.value}: {state.message}")
        return None
    return data


def _print_run(data: dict[str, Any], dry_run: bool) -> None:
    schools = data["schools"]
    for school in schools:
        print(_line(argparse.Namespace(**school), dry_run))
    counts = data["requests"]
    done = {s: sum(1 for r in schools if r["status"] == s) for s in _VERBS}
    print(
        f"{len(schools)} schools: {done['published']} published, {done['presentation']} presentation updates, "
        f"{done['unchanged']} unchanged, {done['held']} held, {done['failed']} failed; requests: {counts.get('put', 0)} PUT, "
        f"{counts.get('head', 0)} HEAD, {counts.get('get', 0)} GET, {counts.get('list', 0)} LIST{' (dry run: nothing uploaded)' if dry_run else ''}"
    )
    if schools and not done["failed"] and not done["held"]:
        target = data["target"]
        print(f"all schools: {target['base_url']}{_root(target['prefix'])}index.html")


def serve(args: argparse.Namespace) -> int:
    """`notices serve`: serve the trust-wide and rerun deployments from this machine."""
    from flows.runs.deployments import serve_deployments

    serve_deployments(cron=args.cron, timezone=args.timezone)
    return EXIT_OK


def _root(prefix: str) -> str:
    return f"{prefix}/" if prefix else ""


def import_gias(args: argparse.Namespace) -> int:
    """`notices import-gias CSV --trust NAME --out DIR [--update]`: a thin layer over ``flows.gias.importer``."""
    from flows.gias.export import EXIT_BAD_INPUT, GiasError
    from flows.gias.importer import import_gias as run_import

    try:
        report = run_import(args.csv, args.trust, args.out, update=args.update)
    except GiasError as exc:
        err(f"notices import-gias: {visible(str(exc))}")
        return EXIT_BAD_INPUT
    for outcome in report.outcomes:
        changes = ", ".join(outcome.changes)
        if outcome.action == "kept":
            extra = f"; GIAS differs in {changes} (--update changes it)" if changes else ""
            line = f"kept {outcome.path} (URN {outcome.urn}): exists{extra}"
        else:
            line = f"{outcome.action} {outcome.path} (URN {outcome.urn})" + (f": {changes}" if changes else "")
        show(line)
    err(*(f"warning: {visible(w)}" for w in report.warnings))
    if report.trust_file is not None:
        show(f"wrote {report.trust_file}: trust name from GIAS, defaults from the sample trust, TODOs for the rest")
    show(report.summary())
    if report.count("created") or report.trust_file is not None:
        show(f"next: fill in every TODO that `notices validate --schools {args.out}` lists")
    return EXIT_OK
