"""Starting the embedded S3 (``flows/embedded_s3/process.py`` is the rest): each attempt, its retries, and readiness.

`start` returns only when stored objects read back. A ``weed`` that exits during start-up is
started again, a fresh process each time: on a busy machine about 1 start in 5 ended with
status 2 and a Go nil-pointer panic in the master's log, and the next start worked. The
attempts are bounded (``START_ATTEMPTS``); the error after the last quotes the log's last
lines. A start that does not answer within ``READY_TIMEOUT_S`` is not retried: it has had
its minute, and a retry would triple the wait.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from flows.embedded_s3.process import (
    DEFAULT_BUCKET,
    _SECRET_FIELDS,
    READY_TIMEOUT_S,
    LocalS3,
    LocalS3Error,
    _command,
    check_ports_free,
    _ports,
    s3_client,
    default_state_dir,
    status,
    stop,
)
from flows.embedded_s3.tls import s3_credentials, write_private, write_security
from flows.settings import read_settings

START_ATTEMPTS = 3
SOCKET_PATH_MAX = 107  # a unix socket's path holds 108 bytes on Linux, its terminating NUL included
RETRY_PAUSES_S = (1.0, 2.0)  # before the second and the third attempt
LOG_LINES = 20


class WeedExited(LocalS3Error):
    """``weed`` ended before it answered: the attempt is retried."""


def start(state_dir: Path | None = None, *, port: int | None = None, bucket: str = DEFAULT_BUCKET) -> LocalS3:
    """Start the embedded S3 unless it is already running; wait until it answers.

    A ``weed`` that exits during start-up is started again, a fresh process each time
    (``flows.embedded_s3.ready.START_ATTEMPTS`` in all); the error that ends it quotes the log.
    """
    state = (state_dir or default_state_dir()).resolve()
    running = status(state)
    if running is not None:
        return running
    port = port or read_settings().s3_port
    check_ports_free(port)  # before anything is written: a taken port or too long a folder is said at once
    check_socket_paths(state)
    for sub in ("data", "logs", "run"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o700)
    access, secret = s3_credentials(state)
    info = LocalS3(
        endpoint_url=f"http://127.0.0.1:{port}",
        bucket=bucket,
        access_key=access,
        secret_key=secret,
        pid=0,  # set by each attempt
        port=port,
        state_dir=str(state),
    )
    return start_with_retries(info)


def check_socket_paths(state: Path) -> None:
    """Refuse a state folder too long for weed's unix sockets (``run/filer.sock``), which
    otherwise failed every start-up attempt with a Go error in its log."""
    longest = state / "run" / "filer.sock"
    length = len(str(longest).encode())
    if length > SOCKET_PATH_MAX:
        raise LocalS3Error(
            f"the embedded S3's state folder is too long a path for its unix sockets ({longest} is {length} bytes; "
            f"at most {SOCKET_PATH_MAX}): set NOTICES_STATE_DIR to a shorter folder"
        )


def start_with_retries(info: LocalS3) -> LocalS3:
    """Start ``weed`` for ``info`` until one answers (``START_ATTEMPTS`` at most); the running store."""
    state = Path(info.state_dir)
    for attempt in range(1, START_ATTEMPTS + 1):
        running, process = launch(info)
        try:
            wait_ready(running, process)
            return running
        except LocalS3Error as exc:
            stop(state)
            if not isinstance(exc, WeedExited) or attempt == START_ATTEMPTS:
                raise LocalS3Error(f"{exc}{_attempts(attempt)}; {log_tail(state)}") from exc
            pause = RETRY_PAUSES_S[attempt - 1]
            print(
                f"{exc} during start-up; starting it again in {pause:.0f} s (attempt {attempt + 1} of {START_ATTEMPTS})",
                file=sys.stderr,
            )
        time.sleep(pause)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _attempts(made: int) -> str:
    return f" (after {made} attempts)" if made > 1 else ""


def log_tail(state: Path, lines: int = LOG_LINES) -> str:
    """The last ``lines`` lines of ``logs/weed.out``, introduced and indented, for an error message."""
    path = state / "logs" / "weed.out"
    try:
        text = path.read_bytes()[-64_000:].decode(errors="replace")
    except OSError:
        return f"no log at {path}"
    tail = text.splitlines()[-lines:]
    return f"the last {len(tail)} lines of {path}:\n" + "\n".join(f"    {line}" for line in tail)


def launch(info: LocalS3) -> tuple[LocalS3, subprocess.Popen[bytes]]:
    """One attempt: check every port, start ``weed`` and record its PID (without waiting for it)."""
    state = Path(info.state_dir)
    check_ports_free(info.port)  # again: the port of a failed attempt may have been taken since
    write_security(state)  # fresh keys for each process
    with open(state / "logs" / "weed.out", "ab") as log:  # the child has its own copy of the fd
        process = subprocess.Popen(  # noqa: S603 - our weed binary, our flags
            _command(state, _ports(info.port)),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=state,
            start_new_session=True,  # keeps serving after `notices s3 start` returns
        )
    info = replace(info, pid=process.pid)
    # The keys stay in credentials.json only: state.json says where and which process.
    write_private(state / "state.json", json.dumps({k: v for k, v in asdict(info).items() if k not in _SECRET_FIELDS}))
    (state / "weed.pid").write_text(f"{process.pid}\n")
    return info, process


def wait_ready(info: LocalS3, process: subprocess.Popen[bytes]) -> None:
    """Return once S3 answers *and* every stored volume is served again.

    After a restart the S3 port answers before the volume server has loaded its volumes and
    told the master (and so the filer); a GET then fails with 500 "volume id not found" for a
    few seconds.
    """
    client = s3_client(info, attempts=1)
    volumes = len(list((Path(info.state_dir) / "data").glob("*.dat")))  # what was stored before
    deadline = time.monotonic() + READY_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise WeedExited(f"SeaweedFS exited with status {process.returncode}")
        try:
            _check_readable(client, info.port, volumes)
            return
        except Exception as exc:  # not listening yet, electing a leader, or loading volumes
            last = str(exc)
        time.sleep(0.25)
    raise LocalS3Error(f"SeaweedFS did not answer within {READY_TIMEOUT_S:.0f} s ({last})")


def _check_readable(client: Any, port: int, volumes: int) -> None:
    """Raise unless the volume server serves ``volumes`` volumes and one object of each bucket reads back.

    The volume server loads every volume before its first heartbeat, which carries them all to
    the master (and on to the filer) at once; so one object read through S3 proves the rest.
    (The master's /dir/status is gone with ``-disableHttp``; the volume server's /status stays.)
    """
    buckets = [b["Name"] for b in client.list_buckets().get("Buckets", [])]
    if volumes:
        with urllib.request.urlopen(f"http://127.0.0.1:{_ports(port)['volume']}/status", timeout=2) as resp:
            known = len(json.load(resp).get("Volumes") or [])
        if known < volumes:
            raise LocalS3Error(f"{known} of {volumes} volumes loaded")
    for bucket in buckets:  # one bucket is one collection; a real GET goes S3 -> filer -> volume
        for item in client.list_objects_v2(Bucket=bucket, MaxKeys=1).get("Contents", []):
            client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
