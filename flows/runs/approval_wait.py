"""A run's approval requests: the first one, the one a resumed run waits on, and each asked again.

The run holds no lock while it waits (``flows.runs.flowrun``): a run from a deployment is
suspended and started again from the top, its saved plan saying which request it waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.publish.context import RunContext
from flows.publish.results import RunResult, SchoolResult
from flows.publish.connect import Connection
from flows.runs import flowrun

Waited = tuple[RunResult, int, Any]
"""The run so far, which request was answered, and the answer (see ``flowrun.wait_for_answer``)."""


@dataclass(frozen=True)
class ApprovalWait:
    """Posts a run's approval requests and waits for their answers, holding nothing."""

    conn: Connection
    ctx: RunContext
    run_id: str
    timeout: int
    """Seconds to wait for each answer."""
    form: Any
    """The answer's form (``flows.runs.parameters.approval_form``): the same on every start."""

    def first(self, run: RunResult) -> Waited:
        """Request 1, for the schools the run held, and its answer."""
        return run, 1, self.ask(run, 1, "")

    def resumed(self, saved: tuple[list[SchoolResult], dict[str, Any]]) -> Waited:
        """A run started again after its suspension: its saved plan says which request was answered."""
        schools, extra = saved
        run = RunResult(self.conn.target, schools, dict(extra.get("requests", {})))
        attempt = int(extra.get("attempt", 1))
        return (
            run,
            attempt,
            flowrun.wait_for_answer(self.form, None, flowrun.approval_key(attempt)),
        )  # Prefect hands the input back

    def ask(self, run: RunResult, attempt: int, why: str) -> Any:
        """Post request ``attempt`` (``why``: why the last answer was refused) and wait for its answer."""
        flowrun.request_approval(self.conn, self.ctx, run, self.run_id, self.timeout, attempt=attempt, why=why)
        return flowrun.wait_for_answer(self.form, self.timeout, flowrun.approval_key(attempt))
