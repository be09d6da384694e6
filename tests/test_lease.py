"""The trust lock (a lease object on the real S3) and Prefect's temporary server after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from flows.publish import lease as lease_module
from flows.publish.lease import Holder, LeaseError, TrustLease, lease_key
from flows.publish.s3 import S3Publisher, make_client
from flows.runs.ephemeral import SERVER_MARK

from .killproxy import KillProxy, Trigger

NOTICES = str(Path(sys.executable).parent / "notices")


def _pub(seaweed) -> S3Publisher:
    client = make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)
    return S3Publisher(client, seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")


def _plant(seaweed, prefix: str, holder: Holder) -> None:
    """A lease left by someone else (a dead run, or one on another machine)."""
    _pub(seaweed).put(
        lease_key(prefix), json.dumps(holder.__dict__).encode(), content_type="application/json", cache_control="no-store"
    )


def _stranger(**changes: object) -> Holder:
    now = time.time()
    base = {
        "run": "other-run",
        "host": "elsewhere.example.org",
        "boot": "b",
        "pid": 1,
        "process_start": "1",
        "taken_at": now,
        "expires_at": now + 60,
    }
    return Holder(**{**base, **changes})  # type: ignore[arg-type]


def test_a_second_run_waits_and_names_the_holder_then_times_out(seaweed, prefix: str) -> None:
    told: list[str] = []
    with TrustLease(_pub(seaweed), prefix, "run-one"):
        with pytest.raises(LeaseError) as failed:
            TrustLease(_pub(seaweed), prefix, "run-two", timeout_s=1.5, notify=told.append).acquire()
    assert "still held by run run-one" in str(failed.value) and f"pid {os.getpid()}" in str(failed.value)
    assert told and "run run-one" in told[0]
    assert _pub(seaweed).get(lease_key(prefix)) is None  # released on exit


def test_a_holder_whose_process_ended_on_this_machine_is_taken_over_at_once(seaweed, prefix: str) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    me = Holder.me("dead-run", time.time())
    _plant(seaweed, prefix, Holder(**{**me.__dict__, "pid": int(dead.stdout), "process_start": "12345"}))
    started = time.monotonic()
    with TrustLease(_pub(seaweed), prefix, "next-run", timeout_s=30):
        assert time.monotonic() - started < 5  # not the 60 s lease
        assert json.loads(_pub(seaweed).get(lease_key(prefix)).body)["run"] == "next-run"  # type: ignore[union-attr]


def test_a_live_holder_elsewhere_is_waited_for_until_its_lease_expires(seaweed, prefix: str) -> None:
    _plant(seaweed, prefix, _stranger(expires_at=time.time() + 2.5))
    started = time.monotonic()
    with TrustLease(_pub(seaweed), prefix, "patient-run", timeout_s=30):
        waited = time.monotonic() - started
    assert 1.0 < waited < 15, waited


def test_a_live_holder_on_this_machine_is_not_taken_over(seaweed, prefix: str) -> None:
    # This very process: alive, same host and boot, so only the expiry could free it.
    _plant(seaweed, prefix, Holder.me("live-run", time.time()))
    with pytest.raises(LeaseError, match="still held by run live-run"):
        TrustLease(_pub(seaweed), prefix, "eager-run", timeout_s=1.0).acquire()


def test_the_holder_renews_its_lease_and_notices_a_takeover(seaweed, prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lease_module, "RENEW_S", 0.3)
    held = TrustLease(_pub(seaweed), prefix, "long-run")
    held.acquire()
    first = json.loads(_pub(seaweed).get(lease_key(prefix)).body)["expires_at"]  # type: ignore[union-attr]
    time.sleep(1.0)
    assert json.loads(_pub(seaweed).get(lease_key(prefix)).body)["expires_at"] > first  # type: ignore[union-attr]
    _plant(seaweed, prefix, _stranger(run="usurper"))  # someone decided we were dead
    deadline = time.monotonic() + 5
    while held.lost is None and time.monotonic() < deadline:
        time.sleep(0.1)
    held.release()
    assert held.lost and "took over" in held.lost
    assert json.loads(_pub(seaweed).get(lease_key(prefix)).body)["run"] == "usurper"  # type: ignore[union-attr]  # not deleted


def test_two_runs_never_hold_the_lock_together(seaweed, prefix: str) -> None:
    inside, most, errors = [0], [0], []
    guard = threading.Lock()

    def run(name: str) -> None:
        try:
            for _ in range(3):
                with TrustLease(_pub(seaweed), prefix, name, timeout_s=60):
                    with guard:
                        inside[0] += 1
                        most[0] = max(most[0], inside[0])
                    time.sleep(0.05)
                    with guard:
                        inside[0] -= 1
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and most[0] == 1


def _servers_of(pid: int) -> list[int]:
    """Prefect temporary servers whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes().rsplit(b")", 1)[1].split()
            if int(stat[1]) == pid and SERVER_MARK in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def test_a_killed_publish_leaves_no_prefect_server_and_never_blocks_the_next(
    seaweed, tree: Path, prefix: str, tmp_path: Path
) -> None:
    """Ephemeral mode (no PREFECT_API_URL, no local server), as a first `notices publish` uses it: killed while holding the lock."""
    with KillProxy(seaweed.endpoint_url) as proxy:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update(
            PREFECT_HOME=str(tmp_path / "prefect-home"),
            NOTICES_S3_ENDPOINT=proxy.url,
            NOTICES_S3_BUCKET=seaweed.bucket,
            NOTICES_S3_PREFIX=prefix,
            NOTICES_PUBLIC_BASE_URL=f"{seaweed.endpoint_url}/{seaweed.bucket}/",
            AWS_ACCESS_KEY_ID=seaweed.access_key,
            AWS_SECRET_ACCESS_KEY=seaweed.secret_key,
            NOTICES_SCHOOLS=str(tree / "schools"),
            NOTICES_SHARED_DATA=str(tree / "shared_data"),
        )
        args = [NOTICES, "publish", "--school", "oakfield-primary"]
        process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        servers: list[int] = []

        def watch() -> None:  # note the temporary server while its parent lives
            while process.poll() is None:
                servers.extend(s for s in _servers_of(process.pid) if s not in servers)
                time.sleep(0.2)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        proxy.arm(process.pid, Trigger("PUT", r"/lock\.json$", after=True))
        process.communicate(timeout=180)
        watcher.join(timeout=5)
        assert process.returncode == -signal.SIGKILL
        assert servers, "no temporary Prefect server was seen"
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(
            Path(f"/proc/{s}").exists() and SERVER_MARK in Path(f"/proc/{s}/cmdline").read_bytes() for s in servers
        ):
            time.sleep(0.2)
        orphans = [s for s in servers if Path(f"/proc/{s}").exists() and SERVER_MARK in Path(f"/proc/{s}/cmdline").read_bytes()]
        assert not orphans, f"Prefect server(s) {orphans} outlived the killed command"
        started = time.monotonic()
        again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
        assert again.returncode == 0, again.stdout + again.stderr
        assert "oakfield-primary" in again.stdout
        print(f"\nnext run after the kill: {time.monotonic() - started:.1f} s (ephemeral Prefect start included)")
