"""Readiness of the embedded S3 (``flows/local_s3.py``): `start` returns only when stored objects read back."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from flows.local_s3 import READY_TIMEOUT_S, LocalS3, LocalS3Error, _ports, s3_client


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
            raise LocalS3Error(f"SeaweedFS exited with status {process.returncode}; see {info.state_dir}/logs/weed.out")
        try:
            _check_readable(client, info.port, volumes)
            return
        except Exception as exc:  # not listening yet, electing a leader, or loading volumes
            last = str(exc)
        time.sleep(0.25)
    raise LocalS3Error(f"SeaweedFS did not answer within {READY_TIMEOUT_S:.0f} s ({last}); see {info.state_dir}/logs/weed.out")


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
