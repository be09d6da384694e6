"""The publishing target, as the pipeline sees it: a few object operations.

``S3Publisher`` implements it with boto3 for AWS S3 and any S3-compatible server (the
embedded SeaweedFS included). The protocol keeps the publish logic independent of boto3,
so a later target (a local folder for previews, say) plugs in the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class StoredObject:
    """An object read back from the target."""

    body: bytes
    etag: str
    content_type: str
    cache_control: str
    last_modified_epoch: float = 0.0


@dataclass(frozen=True)
class ObjectHead:
    """An object's headers, without its body."""

    etag: str
    content_type: str
    cache_control: str
    sha256: str | None
    last_modified_epoch: float
    key: str = ""
    content_encoding: str = ""  # "gzip" for a compressed text object (HEAD only; a LIST does not say)


@dataclass
class RequestCounts:
    """Requests made, by kind: what a run cost, and proof that a rerun wrote nothing."""

    get: int = 0
    head: int = 0
    put: int = 0
    listed: int = 0
    delete: int = 0
    retried: int = 0
    by_key: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        """The counts as plain numbers (for --json and run reports)."""
        return {"get": self.get, "head": self.head, "put": self.put, "list": self.listed, "delete": self.delete}


class PreconditionFailed(Exception):
    """A conditional write lost: someone else wrote the object first (HTTP 412)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key}: changed by another writer (precondition failed)")
        self.key = key


class PublishError(Exception):
    """A request failed after retries; the message names the key, the endpoint and the cause.

    ``transient`` is False for problems another attempt cannot fix (an unreadable manifest,
    a missing earlier edition), so orchestration does not retry them.
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class Publisher(Protocol):
    """The object operations publishing needs."""

    counts: RequestCounts
    etags: dict[str, str]
    """The ETag of every object this publisher read, checked or wrote, by key (for the publish state)."""

    def get(self, key: str) -> StoredObject | None:
        """The object at ``key``, or None if there is none."""
        ...

    def head(self, key: str) -> ObjectHead | None:
        """The headers of ``key``, or None if there is none."""
        ...

    def put(
        self,
        key: str,
        body: bytes,
        *,
        content_type: str,
        cache_control: str,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write ``key``; returns the new ETag. Raises ``PreconditionFailed`` on 412."""
        ...

    def url(self, key: str) -> str:
        """The public URL of ``key``."""
        ...

    def encoding_for(self, key: str, content_type: str) -> str:
        """The Content-Encoding ``put`` stores ``key`` with ("gzip", or "" for the bytes as given)."""
        ...

    def list(self, prefix: str, *, start_after: str = "", until: str | None = None) -> list[ObjectHead]:
        """Every object under ``prefix`` (``ObjectHead.key`` set), in key order; only keys after
        ``start_after`` and before ``until`` when given (a batch's range of schools)."""
        ...

    def delete(self, key: str) -> None:
        """Delete ``key``; only ever called for keys under the private prefix."""
        ...

    def presign(self, key: str, seconds: int) -> str:
        """A time-limited URL to read a private ``key`` without credentials."""
        ...

    def publicly_readable(self, key: str) -> bool:
        """True if an anonymous GET of ``key`` succeeds (a private object must not be)."""
        ...

    def blocked(self) -> str | None:
        """Why requests are refused at once now (the endpoint's circuit is open), or None."""
        ...
