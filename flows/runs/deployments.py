"""The two deployments of the publish flow, shared by `notices serve` and deploy/prefect.yaml.

* ``trust-wide``: every school, on a cron schedule in Europe/London, one run at a time;
* ``rerun``: no schedule; a person starts it from the UI (Run → Custom run) for one or a
  few schools, optionally approving inline.

Both wait (suspended, holding nothing) for a named person's approval of material changes,
unless the run names its approver.
"""

from __future__ import annotations

from prefect import serve
from prefect.schedules import Cron

from flows.runs.flow import publish_notices

TRUST_WIDE = "trust-wide"
RERUN = "rerun"


def build_deployments(cron: str = "0 2 * * *", timezone: str = "Europe/London") -> list:
    """The deployment objects (not yet registered)."""
    trust_wide = publish_notices.to_deployment(
        name=TRUST_WIDE,
        description="Publish every school's privacy notice. Material changes wait for approval.",
        schedules=[Cron(cron, timezone=timezone)],
        concurrency_limit=1,
        tags=["trust-notices"],
    )
    rerun = publish_notices.to_deployment(
        name=RERUN,
        description="Publish one or a few schools now, e.g. after a DPO's edit. Choose them under Schools.",
        tags=["trust-notices"],
    )
    return [trust_wide, rerun]


def serve_deployments(cron: str = "0 2 * * *", timezone: str = "Europe/London") -> None:
    """Serve both deployments from this process until interrupted."""
    serve(*build_deployments(cron, timezone))
