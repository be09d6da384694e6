"""A loopback proxy that SIGKILLs a publisher at a chosen request (tests/test_crash.py).

A ``FaultProxy`` (``tests/faults.py``) that injects no faults but one: when a request matches
the armed trigger, it kills the publisher's process by the PID it was given, either before
forwarding (SeaweedFS never sees the request) or after SeaweedFS answered (the write
happened; the publisher never heard of it).
"""

from __future__ import annotations

import os
import re
import signal
from dataclasses import dataclass

from .faults import FaultProxy


@dataclass(frozen=True)
class Trigger:
    """Kill at the first request whose method and path match, or at request number ``number``."""

    method: str = ""
    pattern: str = ""
    after: bool = False
    number: int = 0

    @classmethod
    def nth(cls, number: int, *, after: bool) -> Trigger:
        """Kill at the ``number``-th request (1-based) of the run."""
        return cls(number=number, after=after)

    def matches(self, method: str, path: str, seen: int) -> bool:
        """True if this request is the moment."""
        if self.number:
            return seen == self.number
        return method == self.method and re.search(self.pattern, path.split("?", 1)[0]) is not None


class KillProxy(FaultProxy):
    """``with KillProxy(upstream) as proxy: proxy.arm(pid, trigger) …``"""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.seen = 0
        self._pid: int | None = None
        self._trigger: Trigger | None = None
        self._victim = 0

    def arm(self, pid: int | None, trigger: Trigger | None) -> None:
        """Kill ``pid`` (a process this test started) at ``trigger``; None disarms."""
        with self._lock:
            self._pid, self._trigger, self.seen = pid, trigger, 0

    def _pick(self, method: str, path: str) -> str | None:
        """``lose`` (kill once SeaweedFS answered) or ``reset`` (killed before) at the moment;
        disarms, so it fires once."""
        with self._lock:
            self.seen += 1
            if self._pid is None or self._trigger is None or not self._trigger.matches(method, path, self.seen):
                self.forwarded += 1
                return None
            pid, after = self._pid, self._trigger.after
            self._trigger = None
        if after:
            self._victim = pid
            return "lose"
        os.kill(pid, signal.SIGKILL)
        return "reset"

    def lost(self) -> None:
        os.kill(self._victim, signal.SIGKILL)
