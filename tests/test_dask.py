"""Publishing tasks on a Dask cluster of worker processes (on loopback), through the real flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SAMPLE_SLUGS
from .support.flows import _params


def test_a_dask_cluster_of_two_worker_processes_publishes_the_sample_trust(flow_env, seaweed, tree: Path) -> None:  # noqa: F811
    distributed = pytest.importorskip("distributed")
    from flows.runs.flow import publish_notices

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        with distributed.Client(cluster) as client:
            state = publish_notices(_params(task_runner=cluster.scheduler_address), return_state=True)
            executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert state.is_completed(), state.message
    assert {s["slug"]: s["status"] for s in state.result()["schools"]} == {s: "published" for s in SAMPLE_SLUGS}
    assert sorted(executed.values())[0] >= 1 and sum(executed.values()) >= 6  # both worker processes took schools


def test_an_unknown_task_runner_is_refused_before_the_run() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="expected threads"):
        _params(task_runner="kubernetes")
