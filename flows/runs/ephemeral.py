"""Prefect's temporary API server for `notices publish`, started early with a longer allowance.

With no ``PREFECT_API_URL``, Prefect starts a temporary server in a child process and stops
it at exit. A SIGKILLed command never reaches its exit handlers, so the server ran on for
ever (35 orphans after 42 kills). The command's run guard (``flows.runs.guard``, started
before any process) now stops it, as it stops every process the command started; here we
only start that same server ourselves, with a longer start-up allowance (a first start on a
busy machine migrates a new database).
"""

from __future__ import annotations

STARTUP_S = 120  # Prefect's default is 20 s: too short for a first start under load
SERVER_MARK = b"prefect.server.api.server:create_app"  # in the server process's command line


def start_ephemeral_server() -> str | None:
    """Start Prefect's temporary server, if this process would use one.

    Returns the server's API URL, or None when a Prefect server is configured.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's clients use later in this process
    try:
        server.start(timeout=STARTUP_S)
    except RuntimeError as exc:
        raise RuntimeError(
            f"Prefect's temporary API server did not start within {STARTUP_S} s ({exc}); "
            "set PREFECT_API_URL to use a running `prefect server start` instead"
        ) from exc
    return server.api_url
