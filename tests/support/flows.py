"""The publishing flow as tests drive it: its parameters, a run in a thread, a paused run, its artifacts."""

from __future__ import annotations

import threading
import time
from uuid import UUID


def _params(**values):
    from flows.runs.parameters import PublishParameters

    return PublishParameters(**values)


def _artifacts(flow_run_id: UUID) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))


def _run_in_thread(params):
    from flows.runs.flow import publish_notices

    box: dict = {}

    def target() -> None:
        box["state"] = publish_notices(params, return_state=True)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, box


def _wait_paused(name_prefix: str, timeout: float = 60) -> UUID:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
            )
            for run in runs:
                if run.name.startswith(name_prefix):
                    return run.id
            time.sleep(0.5)
    raise AssertionError("the flow run never paused")
