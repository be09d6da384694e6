"""`notices prefect start|stop|status`, and which Prefect server a run uses.

A run uses, in order: ``$PREFECT_API_URL`` if set; else the local server `notices prefect
start` (and `make run`) left running, if it answers; else Prefect's temporary server, started
for the command and stopped with it (``flows.runs.ephemeral``).
"""

from __future__ import annotations

import argparse
import json
import os

from flows.cli.output import EXIT_FAILED, EXIT_OK, err
from flows.runs import local_server
from flows.settings import read_settings


def prefect(args: argparse.Namespace) -> int:
    """`notices prefect start|stop|status`: the local Prefect server, started once and reused."""
    try:
        if args.action == "start":
            started = local_server.start(port=args.port)
            print(f"Prefect server running at {started.api_url} (pid {started.pid}); its UI: {started.ui_url}")
            return EXIT_OK
        if args.action == "stop":
            print("Prefect server stopped" if local_server.stop() else "Prefect server was not running")
            return EXIT_OK
    except local_server.LocalPrefectError as exc:
        err(f"notices prefect {args.action}: {exc}")
        return EXIT_FAILED
    info = local_server.status()
    answers = info is not None and local_server.healthy(info.api_url)
    if args.json:
        print(json.dumps({"running": answers, **(vars(info) if info else {})}, indent=2))
    elif info is None:
        print(f"Prefect server is not running (state folder {local_server.default_state_dir()}; `notices prefect start`)")
    else:
        print(f"Prefect server {'running' if answers else 'not answering'} at {info.api_url} (pid {info.pid}); UI {info.ui_url}")
    return EXIT_OK if answers else EXIT_FAILED


def use_local_server() -> str | None:
    """Point this process's Prefect at the local server when no ``PREFECT_API_URL`` is set and
    it answers; returns the URL used, or None (the temporary server then starts).

    Called before Prefect is imported: Prefect reads ``PREFECT_API_URL`` when it loads.
    """
    if read_settings().prefect_api_url:
        return None
    url = local_server.api_url_to_use()
    if url is not None:
        os.environ["PREFECT_API_URL"] = url  # a write, not a read: flows.settings reads
    return url
