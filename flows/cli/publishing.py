"""The publishing commands of ``notices`` (s3, setup-bucket, publish, serve, import-gias).

``diff`` and ``history``, which read published editions, are in ``flows.cli.editions``.

Each is a thin layer: parse nothing, call the library, print for a person (or JSON); how
they print is ``flows.cli.output``, what a run's lines say is ``flows.cli.run_report``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from typing import Any

from flows.cli import approving as approve_commands
from flows import embedded_s3 as local_s3
from flows.cli.prefect_server import use_local_server
from flows.cli.output import EXIT_FAILED, EXIT_OK, err, flags, progress_to_stderr, show
from flows.notice.prepare import Prepared, ValidInputs
from flows.config.text_rules import visible


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
    from flows.publish.connect import connect

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


def publish(args: argparse.Namespace) -> int:
    """`notices publish`: validate, then run the Prefect flow ($PREFECT_API_URL, the local server, or a temporary one).

    A change that needs approval is published only under an approval of the exact words it
    shows (``flows.cli.approving``): the first run holds those schools, the approval names
    their content hashes, and a second run publishes the ones whose words are unchanged.
    Without an approver they stay held and the exit status is 1.
    """
    prepared = prepare(args, tuple(args.school))
    valid = _valid(prepared)
    if valid is None:
        return EXIT_FAILED
    approval = _approval_flags(args, valid)
    if approval is None:
        return EXIT_FAILED
    approver, approved_file = approval
    if not prepared.notices:
        err("no valid school to publish")
        return EXIT_FAILED
    if not _announce_target(args, valid):
        return EXIT_FAILED
    # Approves no words: what needs an approver is held. A named move is approved by its approver.
    data = _run_flow(args, list(args.school), approver if args.move_from else None, args.approval_note, {})
    if data is None or not _approve_held(args, data, valid, approver, approved_file):
        return EXIT_FAILED
    return _report(args, data, bool(prepared.errors))


def _approval_flags(args: argparse.Namespace, valid: ValidInputs) -> tuple[str | None, dict[str, str] | None] | None:
    """The checked approver and ``--approve`` file's hashes; None (said on stderr) if they cannot be used."""
    try:
        approver = _approver(args.approved_by, valid) if args.approved_by is not None else None
    except ValueError as exc:
        err(f"notices publish: --approved-by: {exc}")
        return None
    try:
        approved_file = approve_commands.read_review(args.approve) if args.approve else None
    except ValueError as exc:
        err(f"notices publish: --approve: {exc}")
        return None
    if args.move_from is not None and approver is None:
        err("notices publish: --move-from PREFIX needs --approved-by NAME, the person who approves moving those histories")
        return None
    if approved_file is not None and approver is None:
        err("notices publish: --approve FILE needs --approved-by NAME, the person who read that file and approves it")
        return None
    return approver, approved_file


def _announce_target(args: argparse.Namespace, valid: ValidInputs) -> bool:
    """Say where the run publishes, starting the embedded S3 when that is the target; False on a bad flag."""
    from flows.publish.connect import connect

    try:  # a bad flag is refused here, naming it (--prefix: …), before any flow run starts
        err(*connect(valid.trust, flags(args)).notes)
    except local_s3.LocalS3Error as exc:
        err(f"notices publish: {exc}")
        return False
    return True


def _approve_held(
    args: argparse.Namespace, data: dict[str, Any], valid: ValidInputs, approver: str | None, approved: dict[str, str] | None
) -> bool:
    """Write the review file and publish the held changes under an approval; False if that run failed."""
    from flows.cli.run_report import with_status
    from flows.publish.results import Status

    held = with_status(data, Status.HELD)
    if held and args.review:
        approve_commands.write_review(args.review, held)
        err(
            f'wrote {len(held)} held change(s) to {args.review}; after reading it: notices publish --approve {args.review} --approved-by "Your Name"'
        )
    if not held or args.dry_run:
        return True
    check = functools.partial(_approver, valid=valid)  # the prompt's check of a typed name
    return approve_commands.publish_approved(args, data, held, approver, approved, check, _run_flow)


def _report(args: argparse.Namespace, data: dict[str, Any], had_errors: bool) -> int:
    """Print the run (or its JSON) and say what is still held; the exit status."""
    from flows.cli.run_report import print_run, with_status
    from flows.publish.results import Status

    if args.json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        print_run(data, args.dry_run)
    held = with_status(data, Status.HELD)
    if held and not args.dry_run:
        err(
            f"{len(held)} school(s) not published: their change needs a named approver; after checking "
            '`notices diff SLUG` (or `--review FILE`), run again with --approved-by "Your Name" (and --approval-note)'
        )
    failed = bool(with_status(data, Status.FAILED))
    return EXIT_FAILED if failed or (held and not args.dry_run) or had_errors else EXIT_OK


def _approver(name: str, valid: ValidInputs) -> str:
    from flows.editions.approval import check_approver

    return check_approver(name, valid.trust.approval.approvers)


def _run_flow(
    args: argparse.Namespace, schools: list[str], approver: str | None, note: str | None, hashes: dict[str, str] | None = None
) -> dict[str, Any] | None:
    # Writes, not reads (flows.settings reads): Prefect reads these when it is imported just
    # below, and the flow's own lines are the command's output, not Prefect's log.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    use_local_server()  # a running `notices prefect start` saves the temporary server's ~7 s
    from flows.runs import flow as pipeline
    from flows.runs.ephemeral import start_ephemeral_server
    from flows.runs.parameters import ApprovalOptions, PublishParameters, TargetOverrides

    start_ephemeral_server()  # with no server to use: a temporary one that dies with us

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
        target=TargetOverrides(**flags(args)),  # a flow parameter, so the run is told, not the environment
        schools_dir=str(args.schools.resolve()),
        shared_data_dir=str(args.shared_data.resolve()),
    )
    with progress_to_stderr():  # a long run's progress lines, logged to "flows.progress"
        state = pipeline.publish_notices(params, return_state=True)
    data = state.result(raise_on_failure=False) if state.data is not None else None
    if not isinstance(data, dict):
        err(f"notices publish: the flow run ended {state.type.value}: {state.message}")
        return None
    return data


def serve(args: argparse.Namespace) -> int:
    """`notices serve`: serve the trust-wide and rerun deployments from this machine."""
    use_local_server()  # before Prefect loads: $PREFECT_API_URL, else the local server if it answers
    from flows.runs.deployments import serve_deployments

    serve_deployments(cron=args.cron, timezone=args.timezone)
    return EXIT_OK


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
