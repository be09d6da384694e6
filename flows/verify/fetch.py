"""GET over plain HTTP(S) with the stdlib: connect and read timeouts, every failure named.

No credentials and no configuration: the log and the pages are public static files, so the same
client reads an S3 website endpoint, a CDN or ``python -m http.server``. Each failure becomes a
``FetchError`` naming the URL and the cause; a 404 (or S3's 403 for a key it will not list) is
an answer of its own (``None``), because a missing file is something a check reports, not a broken network.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flows.verify.problems import FetchError, Missing

MAX_BODY = 256 * 1024 * 1024  # a PDF is a few MB; anything this large is not ours
USER_AGENT = "trust-notices-verify/1"


def _read_timeout_connection(base: type[http.client.HTTPConnection], read_timeout: float) -> Any:
    """An HTTP(S) connection class that connects within its own timeout, then reads within ``read_timeout``."""

    class Connection(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            """Connect (within the connect timeout), then switch the socket to the read timeout."""
            super().connect()
            # urllib has a single timeout; a stalled body must fail by the read timeout,
            # while a dead host fails by the (shorter) connect timeout.
            self.sock.settimeout(read_timeout)

    return Connection


class _Http(urllib.request.HTTPHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._conn = _read_timeout_connection(http.client.HTTPConnection, read_timeout)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """Open with the two-timeout connection."""
        return self.do_open(self._conn, req)


class _Https(urllib.request.HTTPSHandler):
    def __init__(self, read_timeout: float) -> None:
        super().__init__()
        self._conn = _read_timeout_connection(http.client.HTTPSConnection, read_timeout)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        """Open with the two-timeout connection (certificates checked as urllib checks them)."""
        return self.do_open(self._conn, req, context=self._context)  # type: ignore[attr-defined]


@dataclass
class Fetcher:
    """Counts what it fetched (``requests``, ``received`` bytes) for the summary."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    requests: int = 0
    received: int = 0
    workers: int = 8  # files hashed at once: a trust's editions are thousands of small GETs
    _opener: urllib.request.OpenerDirector = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._opener = urllib.request.build_opener(_Http(self.read_timeout), _Https(self.read_timeout))

    def digests(self, urls: Iterable[str]) -> dict[str, str | None]:
        """The SHA-256 hex of each URL's body (None for a 404), fetched ``workers`` at a time."""
        wanted = list(dict.fromkeys(urls))

        def digest(url: str) -> str | None:
            body = self.get(url)
            return None if body is None else hashlib.sha256(body).hexdigest()

        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            return dict(zip(wanted, pool.map(digest, wanted), strict=True))

    def get(self, url: str, fresh: bool = False) -> bytes | None:
        """The body at ``url``, or None for a 404 or 403; ``fresh`` asks caches to revalidate (checkpoint, latest.json)."""
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"}
        if fresh:
            headers["Cache-Control"] = "no-cache"
        with self._lock:
            self.requests += 1
        try:
            with self._opener.open(urllib.request.Request(url, headers=headers), timeout=self.connect_timeout) as response:
                if int(response.headers.get("Content-Length") or 0) > MAX_BODY:
                    raise FetchError(url, f"larger than {MAX_BODY} bytes")
                body = response.read()  # read() to the end: a short body raises IncompleteRead, read(n) would not
                if response.headers.get("Content-Encoding", "").strip().lower() == "gzip":
                    body = _gunzip(url, body)
        except urllib.error.HTTPError as exc:
            # S3 answers 403, not 404, for a missing key when anonymous readers may not list the
            # bucket (the trust's policy: GET only), so both mean "not there" to a reader.
            if exc.code in (403, 404):
                return None
            kind = "server error" if exc.code >= 500 else "unexpected answer"
            raise FetchError(url, f"{kind} HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise FetchError(url, _cause(exc.reason)) from None
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(url, _cause(exc)) from None
        with self._lock:
            self.received += len(body)
        return body

    def need(self, url: str, fresh: bool = False) -> bytes:
        """The body at ``url``; a 404 is a ``Missing`` error."""
        body = self.get(url, fresh=fresh)
        if body is None:
            raise Missing(url)
        return body


def _gunzip(url: str, body: bytes) -> bytes:
    """The plain bytes of a gzip body (what the manifest's hashes are of), at most ``MAX_BODY``."""
    unzip = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
    try:
        plain = unzip.decompress(body, MAX_BODY + 1)
    except zlib.error as exc:
        raise FetchError(url, f"a gzip body that does not decompress ({exc})") from None
    if len(plain) > MAX_BODY:
        raise FetchError(url, f"larger than {MAX_BODY} bytes once decompressed")
    if not unzip.eof:
        raise FetchError(url, "a gzip body cut short")
    return plain


def _cause(exc: object) -> str:
    """A short, human cause for a network error (no traceback, no class paths)."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out (no answer within the timeout)"
    if isinstance(exc, http.client.IncompleteRead):
        return f"the body was cut short ({len(exc.partial)} bytes read, {exc.expected} more expected)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve the host name ({exc.strerror})"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
