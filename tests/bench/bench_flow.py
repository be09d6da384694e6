"""Benchmark: one Prefect flow run over a synthetic trust, counting its task runs.

    .venv/bin/python tests/bench/bench_flow.py --schools 1000 [--dry-run]

Starts its own embedded S3 (in a temp folder) and uses Prefect's ephemeral mode unless
$PREFECT_API_URL is set. Prints wall time, task runs in the flow run and requests made.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schools", type=int, default=1000)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "schools").mkdir()
        from bench_render import make_trust  # same folder

        from flows import local_s3

        make_trust(base / "schools", args.schools)
        os.environ.update(
            NOTICES_STATE_DIR=str(base / "state"),
            NOTICES_SCHOOLS=str(base / "schools"),
            NOTICES_S3_PORT=os.environ.get("NOTICES_S3_PORT", "18433"),
        )
        info = local_s3.start()
        try:
            from prefect.client.orchestration import get_client
            from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

            from flows.pipeline import ApprovalOptions, PublishParameters, publish_notices

            started = time.perf_counter()
            params = PublishParameters(dry_run=args.dry_run, approval=ApprovalOptions(approved_by="Bench Example", wait=False))
            state = publish_notices(params, return_state=True)
            wall = time.perf_counter() - started
            data = state.result(raise_on_failure=False)
            with get_client(sync_client=True) as client:
                run_filter = FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id]))
                tasks = []
                while True:  # the API returns at most 200 per page
                    page = client.read_task_runs(flow_run_filter=run_filter, limit=200, offset=len(tasks))
                    tasks += page
                    if len(page) < 200:
                        break
            statuses: dict[str, int] = {}
            for school in data["schools"]:
                statuses[school["status"]] = statuses.get(school["status"], 0) + 1
            print(f"schools: {args.schools}{' (dry run)' if args.dry_run else ''}; state: {state.type.value}")
            print(f"task runs in the flow run: {len(tasks)}")
            print(f"wall time: {wall:.1f} s ({wall / args.schools * 1000:.0f} ms/school)")
            print(f"results: {statuses}; requests: {data['requests']}")
        finally:
            local_s3.stop(Path(info.state_dir))


if __name__ == "__main__":
    main()
