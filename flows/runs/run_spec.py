"""The ``RunSpec`` a flow run publishes with, from its parameters (``flows.publish.spec``)."""

from __future__ import annotations

from flows.notice.prepare import ValidInputs
from flows.publish.context import Approval
from flows.publish.spec import RunSpec, started_now
from flows.publish.connect import Connection
from flows.runs import flowrun
from flows.runs.parameters import PublishParameters


def spec_for(params: PublishParameters, conn: Connection, valid: ValidInputs, templates_dir: str) -> RunSpec:
    """What every task of this run receives. Raises ValueError if the inline approver is not
    one the trust lists (every approval the flow records is checked: ``flowrun.approver``)."""
    options = params.approval
    inline = flowrun.approver(options.approved_by, valid.trust.approval) if options.approved_by else None
    return RunSpec(
        conn.target,
        valid.trust,
        valid.dataset,
        templates_dir,
        conn.credentials,
        dry_run=params.dry_run,
        force=params.force,
        approval=Approval(inline, options.approval_note) if inline else None,
        expected=dict(options.content_hashes) if inline and options.content_hashes is not None else None,
        move_from=None if params.move_from is None else params.move_from.strip("/"),
        started_at=started_now(),
    )
