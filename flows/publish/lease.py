"""The trust lock: a lease object in the bucket that names its holder and when it expires.

Runs of one trust publish one at a time. The lock lives beside what it protects, at
``_private/<prefix>/lock.json``, so it holds across Prefect servers, ephemeral CLI runs and
machines alike. It is taken with a create-only PUT and renewed by its holder every
``RENEW_S`` with a PUT conditional on its ETag; a holder that stops renewing loses it at
``expires_at``. A holder that died is recognised at once, without waiting for the expiry,
when it ran on this machine (same host and boot) and its process is gone: a SIGKILLed
publisher never blocks the next run. The manifest's conditional writes keep every edition
safe even if two runs ever publish at once (a lease lost to a long pause).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType

from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError

LEASE_S = 60.0  # a holder that has not renewed for this long is presumed dead, wherever it ran
RENEW_S = 15.0
WAIT_TIMEOUT_S = 3600.0  # waiting behind another run's publishing (never behind a person)

log = logging.getLogger(__name__)


def lease_key(prefix: str) -> str:
    """``_private/<prefix>/lock.json``: private, so the bucket policy never serves it."""
    return layout.private_key(prefix, "lock.json")


def _boot_id() -> str:
    """This boot of this machine, and this PID namespace (containers share a boot but not PIDs)."""
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip() + "/" + os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a reused PID from ours)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22 of stat(5), counted after "pid (comm)"
    except (OSError, IndexError):
        return ""


@dataclass(frozen=True)
class Holder:
    """Who holds the trust lock, and until when (what ``lock.json`` says)."""

    run: str
    host: str
    boot: str
    pid: int
    process_start: str
    taken_at: float
    expires_at: float

    @classmethod
    def me(cls, run: str, now: float) -> Holder:
        """This process, holding the lock from ``now``."""
        pid = os.getpid()
        return cls(run, socket.gethostname(), _boot_id(), pid, _process_start(pid), now, now + LEASE_S)

    def describe(self) -> str:
        """``run 1f2e… (pid 4242 on host web-1), expires 12:03:04 UTC``."""
        until = time.strftime("%H:%M:%S UTC", time.gmtime(self.expires_at))
        return f"run {self.run} (pid {self.pid} on host {self.host}), lease until {until}"

    def is_me(self, run: str) -> bool:
        """True if this process, for ``run``, wrote this lease: a PUT that took the lock but
        whose answer was lost on the way (its retry then finds the lock taken, by us)."""
        me = Holder.me(run, 0.0)
        return (self.run, self.host, self.boot, self.pid, self.process_start) == (
            me.run,
            me.host,
            me.boot,
            me.pid,
            me.process_start,
        ) and bool(me.boot)

    def dead(self, now: float) -> str | None:
        """Why this holder is certainly gone (its lease expired, or its process on this
        machine ended), or None while it may still be at work."""
        if now >= self.expires_at:
            return "its lease expired"
        if self.boot and self.host == socket.gethostname() and self.boot == _boot_id():
            started = _process_start(self.pid)
            if not started or (self.process_start and started != self.process_start):
                return "its process has ended"
        return None


def _parse(body: bytes, modified: float) -> Holder:
    """The holder a lease names; an unreadable lease counts as one taken when it was written."""
    try:
        return Holder(**json.loads(body))
    except (ValueError, TypeError):
        return Holder("unknown", "", "", 0, "", modified, modified + LEASE_S)


class LeaseError(PublishError):
    """The trust lock could not be taken (the endpoint failed, or another run held it too long)."""


class TrustLease:
    """``with TrustLease(pub, prefix, run_id): …`` publishes holding the trust lock.

    ``notify`` is told once when the run has to wait, naming the holder.
    """

    def __init__(
        self,
        pub: Publisher,
        prefix: str,
        run: str,
        *,
        timeout_s: float = WAIT_TIMEOUT_S,
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.pub, self.key, self.run = pub, lease_key(prefix), run
        self.timeout_s, self.notify = timeout_s, notify
        self.etag: str | None = None
        self.lost: str | None = None
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> TrustLease:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()

    def _write(self, holder: Holder, *, replacing: str | None) -> str:
        body = json.dumps(asdict(holder), indent=2).encode() + b"\n"
        return self.pub.put(
            self.key,
            body,
            content_type=layout.content_type(self.key),
            cache_control="no-store",
            if_match=replacing,
            if_none_match=replacing is None,
        )

    def acquire(self) -> None:
        """Take the lock: create it, or take over from a dead holder; else wait for it."""
        deadline = time.monotonic() + self.timeout_s
        told = ""
        while True:
            now = time.time()
            try:
                self.etag = self._write(Holder.me(self.run, now), replacing=None)
                break
            except PreconditionFailed:
                pass
            stored = self.pub.get(self.key)
            if stored is None:
                continue  # released between our PUT and GET
            holder = _parse(stored.body, stored.last_modified_epoch)
            why = "it is this run's own, taken by a request whose answer was lost" if holder.is_me(self.run) else holder.dead(now)
            if why is not None:
                try:
                    self.etag = self._write(Holder.me(self.run, now), replacing=stored.etag)
                    log.warning("took over the trust lock from %s: %s", holder.describe(), why)
                    break
                except PreconditionFailed:
                    continue  # another run took it over first: look again
            if time.monotonic() >= deadline:
                raise LeaseError(
                    f"{self.key}: still held by {holder.describe()} after waiting {self.timeout_s:.0f} s", transient=False
                )
            if self.notify and told != holder.run:
                self.notify(f"waiting for the trust lock, held by {holder.describe()}")
                told = holder.run
            time.sleep(min(2.0, max(0.2, deadline - time.monotonic())))
        self._renewer = threading.Thread(target=self._renew, name="trust-lease", daemon=True)
        self._renewer.start()

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_S):
            try:
                self.etag = self._write(Holder.me(self.run, time.time()), replacing=self.etag)
            except PreconditionFailed:
                # Someone took over: we looked dead (a pause longer than the lease). The
                # manifests' conditional writes still keep every edition; say so loudly.
                self.lost = "another run took over the trust lock while this run was publishing"
                log.error("%s: %s", self.key, self.lost)
                return
            except PublishError as exc:  # try again next time; the lease is still ours until it expires
                log.warning("%s: could not renew the trust lock: %s", self.key, exc)

    def release(self) -> None:
        """Stop renewing and remove the lease, if it is still ours."""
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        if self.etag is None or self.lost:
            return
        try:
            head = self.pub.head(self.key)
            if head is not None and head.etag == self.etag:
                self.pub.delete(self.key)
        except PublishError as exc:  # it expires on its own
            log.warning("%s: could not release the trust lock (it expires by itself): %s", self.key, exc)
