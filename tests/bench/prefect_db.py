"""Prefect's database ($PREFECT_HOME/prefect.db), read-only: a scenario's flow run and its task runs."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from pathlib import Path
from typing import Any


def _connect_db(home: Path) -> sqlite3.Connection | None:
    db = home / "prefect.db"
    if not db.exists():
        return None
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def flow_run_ids(home: Path) -> set[str]:
    con = _connect_db(home)
    if con is None:
        return set()
    with con:
        return {row[0] for row in con.execute("SELECT id FROM flow_run")}


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = dt.datetime.fromisoformat
    return (parse(end) - parse(start)).total_seconds()


def latest_flow_run(home: Path, before: set[str]) -> dict[str, Any] | None:
    """The most recent flow run (made by this scenario) and how many task runs it has."""
    con = _connect_db(home)
    if con is None:
        return None
    with con:
        row = con.execute(
            "SELECT id, name, state_type, start_time, end_time FROM flow_run ORDER BY created DESC LIMIT 1"
        ).fetchone()
        if row is None or row[0] in before:
            return None
        run_id, name, state, start, end = row
        names: dict[str, int] = {}
        states: dict[str, int] = {}
        for task_name, task_state in con.execute("SELECT name, state_type FROM task_run WHERE flow_run_id = ?", (run_id,)):
            base = (
                task_name
                if task_name in ("publish-trust-index", "load-and-validate")
                else re.sub(r"^publish-.*", "publish-<batch>", task_name)
            )
            names[base] = names.get(base, 0) + 1
            states[str(task_state)] = states.get(str(task_state), 0) + 1
    # Task runs whose last events the ephemeral server never stored (the process had exited) stay
    # RUNNING or are missing: the count is what the database (and so the Prefect UI) holds.
    return {
        "id": run_id,
        "name": name,
        "state": state,
        "seconds": _seconds(start, end),
        "task_runs": sum(states.values()),
        "task_states": states,
        "task_names": names,
    }
