"""How requests to S3 fail: timeouts, attempts, a circuit breaker per endpoint, and error messages.

The retry budget (see README, *Retries and failures*): botocore's standard mode makes up to
``attempts`` tries of each request, each bounded by the connect and read timeouts; a school
whose request still failed is tried again by ``publish_batch`` after each of its delays,
unless the endpoint's circuit is open. The circuit counts consecutive failures: each attempt
that timed out or lost its connection, and each request that still had a 5xx answer after
botocore's attempts (a single 503 or SlowDown is what backoff is for). After
``circuit_failures`` of them it refuses every request at once for ``circuit_cooldown``
seconds; then a single probe request is let through.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from urllib3.exceptions import HTTPError as URLLib3Error
from urllib3.exceptions import ProtocolError as URLLib3ProtocolError
from urllib3.exceptions import ReadTimeoutError as URLLib3ReadTimeoutError

from flows.publish.base import PublishError
from flows.settings import read_settings

# What a request can raise when the network fails it: botocore's errors, and urllib3's or the
# socket's own where botocore lets them through (it did for bodies read after its retry loop).
NETWORK_ERRORS: tuple[type[BaseException], ...] = (BotoCoreError, URLLib3Error, OSError)


@dataclass(frozen=True)
class TransportSettings:
    """Timeouts and limits for S3 requests ($NOTICES_S3_* override each, e.g. for tests)."""

    connect_timeout: float = 3.0
    read_timeout: float = 10.0
    attempts: int = 5
    circuit_failures: int = 8
    circuit_cooldown: float = 30.0


def transport_settings() -> TransportSettings:
    """The defaults, overridden by $NOTICES_S3_CONNECT_TIMEOUT, _READ_TIMEOUT, _ATTEMPTS,
    _CIRCUIT_FAILURES and _CIRCUIT_COOLDOWN.

    Read where a client or a breaker is made, not per request; a bad value raises
    ``flows.settings.SettingsError`` naming its variable (``$NOTICES_S3_READ_TIMEOUT: …``).
    """
    settings = read_settings()
    return TransportSettings(
        settings.s3_connect_timeout,
        settings.s3_read_timeout,
        settings.s3_attempts,
        settings.s3_circuit_failures,
        settings.s3_circuit_cooldown,
    )


class BodyCutShort(ConnectionClosedError):
    """An answer whose body stopped short of its Content-Length (botocore retries it)."""

    fmt = "Connection was closed after {received} of {expected} bytes of the answer from: {endpoint_url}"


class CircuitOpen(PublishError):
    """A request refused without being sent: its endpoint's circuit is open."""


class Breaker:
    """One endpoint's circuit, shared by every thread of the process."""

    def __init__(self, endpoint: str, failures: int, cooldown: float) -> None:
        self.endpoint, self.failures, self.cooldown = endpoint, failures, cooldown
        self.consecutive = 0
        self.last = ""
        self.opened_at: float | None = None
        self.probing = False
        self._lock = threading.Lock()
        self._counted = threading.local()  # the exception an attempt already counted, per thread

    def open_reason(self) -> str | None:
        """Why requests are refused now (None: closed, or ready for its probe)."""
        with self._lock:
            if self.opened_at is None or (not self.probing and time.monotonic() - self.opened_at >= self.cooldown):
                return None
            return (
                f"{self.endpoint} is not answering: circuit open after {self.consecutive} consecutive failures; last: {self.last}"
            )

    def admit(self, key: str, op: str) -> None:
        """Let a request through, or raise ``CircuitOpen``; after the cool-down, one probe at a time."""
        reason = self.open_reason()
        with self._lock:
            if reason is None and self.opened_at is not None:
                if self.probing:  # another thread took the probe meanwhile
                    reason = f"{self.endpoint} is not answering: circuit open (a probe is under way); last: {self.last}"
                else:
                    self.probing = True
                    return
        if reason is not None:
            raise CircuitOpen(f"{key}: {op} not sent: {reason}")

    def succeeded(self) -> None:
        """A whole answer arrived (any status below 500, body included): close the circuit."""
        with self._lock:
            self.consecutive, self.opened_at, self.probing = 0, None, False

    def attempt_ended(self, attempt: int, status: int | None, exc: BaseException | None, settings: TransportSettings) -> None:
        """botocore's ``needs-retry`` event, after every attempt: count a timeout or a lost
        connection. An answer's status alone does not close the circuit: its body may still be
        cut short (a 200 whose body never arrives is a failure), so only a whole request does."""
        self._counted.attempt = attempt
        if exc is not None and is_transport_failure(exc):
            self._counted.exc = exc
            self.failed(describe(exc, settings))

    def record(self, exc: BaseException, settings: TransportSettings) -> None:
        """Count a request that raised, unless its last attempt was counted already: a 5xx
        after botocore's attempts, or a body cut short (read after botocore is done)."""
        if getattr(self._counted, "exc", None) is exc:
            self._counted.exc = None
            with self._lock:
                self.probing = False
        elif is_transport_failure(exc):
            self.failed(describe(exc, settings))
        elif isinstance(exc, ClientError):
            self.succeeded()
        else:  # not sent, or not the server's fault: only free the probe
            with self._lock:
                self.probing = False

    def last_attempt(self) -> int:
        """The number of this thread's last attempt (botocore's retry quota may stop it early)."""
        return int(getattr(self._counted, "attempt", 0))

    def failed(self, cause: str) -> None:
        """A counted failure: an attempt that timed out or lost its connection, or a request
        that still had a 5xx answer (or a cut body) after botocore's attempts."""
        with self._lock:
            self.consecutive += 1
            self.last = cause
            if self.probing or self.consecutive >= self.failures:
                self.opened_at, self.probing = time.monotonic(), False


_breakers: dict[str, Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(endpoint: str) -> Breaker:
    """The process's breaker for ``endpoint`` (made on first use, with the current settings)."""
    with _breakers_lock:
        found = _breakers.get(endpoint)
        if found is None:
            settings = transport_settings()
            found = _breakers[endpoint] = Breaker(endpoint, settings.circuit_failures, settings.circuit_cooldown)
        return found


def any_circuit_open() -> bool:
    """True if any endpoint's circuit in this process refuses requests now."""
    with _breakers_lock:
        breakers = list(_breakers.values())
    return any(b.open_reason() is not None for b in breakers)


def count_attempts(client: object, settings: TransportSettings) -> None:
    """Feed every attempt of ``client`` to its endpoint's breaker (botocore's retry loop)."""
    breaker = breaker_for(str(client.meta.endpoint_url))  # type: ignore[attr-defined]

    def attempt_ended(
        attempts: int = 0,
        response: tuple[object, dict[str, object]] | None = None,
        caught_exception: BaseException | None = None,
        **_: object,
    ) -> None:
        status = getattr(response[0], "status_code", None) if response else None
        breaker.attempt_ended(attempts, status, caught_exception, settings)

    client.meta.events.register("needs-retry.s3", attempt_ended)  # type: ignore[attr-defined]


class _NoQuota:
    """A retry quota that never runs out (see ``lift_retry_quota``)."""

    def acquire_retry_quota(self, context: object) -> bool:
        return True

    def release_retry_quota(self, context: object, http_response: object, **kwargs: object) -> None:
        return None


def lift_retry_quota(client: object) -> bool:
    """Give ``client``'s standard-mode retries no quota; True if it was found and lifted.

    botocore's standard mode also keeps a retry quota per client (500 tokens; 5 a retry, 10 a
    timeout): under many faults it runs dry, and every later request is tried once only ("after
    1 attempt(s)"), a second, hidden budget beside ``attempts``. The circuit breaker is what
    keeps an outage from turning into a retry storm here, so the quota goes. botocore offers no
    setting for it: the handler is found by the unique id botocore registers it under.
    """
    events = client.meta.events  # type: ignore[attr-defined]
    emitter = getattr(events, "_emitter", events)
    entry = getattr(emitter, "_unique_id_handlers", {}).get("retry-config-s3") or {}
    handler = getattr(entry.get("handler"), "__self__", None)
    if handler is None or not hasattr(handler, "_retry_quota"):
        return False
    handler._retry_quota = _NoQuota()
    return True


def status_of(exc: ClientError) -> int:
    """The HTTP status of an S3 error answer (0 if unknown)."""
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def describe(exc: BaseException, settings: TransportSettings, attempts: int = 0) -> str:
    """The cause, in words: the status and S3 error code, or the kind of transport failure.

    botocore's own messages are not used: some of them lose the endpoint ("None").
    """
    tries = f"after {attempts or settings.attempts} attempt(s)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        retried = int(exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0))
        status, code = status_of(exc), str(error.get("Code") or "")
        # A HEAD's answer has no body: botocore then gives the status as the code.
        named = f" {code}" if code and code != str(status) else ""
        message = f": {error['Message']}" if error.get("Message") else ""
        return f"HTTP {status}{named}{message} (after {retried + 1} attempt(s))"
    if isinstance(exc, ReadTimeoutError | URLLib3ReadTimeoutError | TimeoutError):
        return f"read timeout: no answer within {settings.read_timeout:g} s, {tries}"
    if isinstance(exc, ConnectTimeoutError):
        return f"connect timeout: no connection within {settings.connect_timeout:g} s, {tries}"
    if isinstance(exc, EndpointConnectionError):
        return f"connection refused or unreachable, {tries}"
    if isinstance(exc, BodyCutShort):
        got = f"{exc.kwargs['received']} of {exc.kwargs['expected']} bytes"
        return f"response cut short: the connection closed before the whole body arrived ({got}), {tries}"
    if isinstance(exc, ResponseStreamingError | IncompleteReadError) or "IncompleteRead" in str(exc):
        return f"response cut short: the connection closed before the whole body arrived, {tries}"
    if isinstance(exc, ConnectionClosedError | URLLib3ProtocolError | ConnectionError):
        return f"connection reset or closed before a complete answer, {tries}"
    return f"{type(exc).__name__}: {exc}"


def is_transport_failure(exc: BaseException) -> bool:
    """Counts against the circuit: the server did not answer properly (5xx, timeouts, resets)."""
    if isinstance(exc, ClientError):
        return status_of(exc) >= 500
    return isinstance(
        exc, HTTPClientError | BotoConnectionError | IncompleteReadError | ResponseStreamingError | URLLib3Error | OSError
    )


def fail(key: str, op: str, where: str, exc: BaseException, settings: TransportSettings, attempts: int = 0) -> PublishError:
    """The error for a failed request: key, operation, endpoint and bucket, cause."""
    return PublishError(f"{key}: {op} failed at {where}: {describe(exc, settings, attempts)}")
