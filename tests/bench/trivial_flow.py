"""Prefect's fixed start: a trivial flow of one task, run as its own process by the benchmark
(``python trivial_flow.py``, in the $PREFECT_HOME of the scenarios it is compared with)."""

from prefect import flow, task


@task
def bench_task():
    return 1


@flow(name="bench-prefect-start")
def bench_prefect_start():
    return bench_task()


if __name__ == "__main__":
    bench_prefect_start()
