"""A counting HTTP proxy on loopback, between an S3 client and SeaweedFS (used by bench_scale.py).

Every request is forwarded unchanged, the Host header included, so SigV4 signatures still
verify (the technique of tests/faults.py). Each handler thread (one per client connection)
keeps its own keep-alive connection to the upstream, so the proxy adds little per request.

Requests are counted by kind: GET, LIST (a GET with ``list-type=`` or on a bucket with no
key), HEAD, PUT, COPY (a PUT with ``x-amz-copy-source``), DELETE, POST; the keys of PUTs are
recorded, so a benchmark can say exactly which objects a scenario wrote.

    with CountingProxy("http://127.0.0.1:8333") as proxy:
        ...  # point clients at proxy.url
        counts = proxy.reset()  # a Snapshot, and the counters start again from zero
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

KINDS = ("GET", "LIST", "HEAD", "PUT", "COPY", "DELETE", "POST")
SAMPLES_PER_KIND = 10  # the first requests of each kind are kept (path and status), to see what a run asks
# Hop-by-hop headers are the proxy's business, never forwarded. "Expect" is answered by the
# proxy itself (BaseHTTPRequestHandler sends "100 Continue"), and SigV4 never signs it.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade", "expect"}


def classify(method: str, path: str, headers: Any) -> str:
    """The kind of an S3 request (path-style addressing: ``/bucket/key?query``)."""
    parts = urlsplit(path)
    key = parts.path.lstrip("/").partition("/")[2]
    if method == "GET":
        if "list-type" in parse_qs(parts.query, keep_blank_values=True) or not key:
            return "LIST"
        return "GET"
    if method == "PUT" and headers.get("x-amz-copy-source"):
        return "COPY"
    return method if method in KINDS else "OTHER"


def object_key(path: str) -> str:
    """``/bucket/a/b.html?x=1`` → ``a/b.html`` (URL-decoded)."""
    return unquote(urlsplit(path).path.lstrip("/").partition("/")[2])


@dataclass
class Snapshot:
    """What went through the proxy since the last reset."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    statuses: dict[int, int] = field(default_factory=dict)
    put_keys: list[str] = field(default_factory=list)
    bytes_up: int = 0
    bytes_down: int = 0
    samples: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def as_dict(self, *, keys: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "counts": dict(self.counts),
            "total": self.total,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
            "samples": {k: list(v) for k, v in self.samples.items()},
        }
        if keys:
            data["put_keys"] = list(self.put_keys)
        return data


class CountingProxy:
    """``with CountingProxy(upstream) as proxy: … proxy.url … proxy.reset()``."""

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream = urlsplit(upstream)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()
        self._put_keys: list[str] = []
        self._bytes = [0, 0]
        self._samples: dict[str, list[str]] = {}
        server_class = type("Server", (ThreadingHTTPServer,), {"daemon_threads": True, "request_queue_size": 128})
        self._server = server_class((host, port), self._handler())
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="counting-proxy", daemon=True)

    def __enter__(self) -> CountingProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def snapshot(self) -> Snapshot:
        """The counts so far (the counters keep running)."""
        with self._lock:
            return self._snapshot()

    def reset(self) -> Snapshot:
        """The counts so far, and start again from zero."""
        with self._lock:
            snap = self._snapshot()
            self._counts.clear()
            self._statuses.clear()
            self._put_keys.clear()
            self._bytes = [0, 0]
            self._samples = {}
        return snap

    def _snapshot(self) -> Snapshot:
        counts = dict.fromkeys(KINDS, 0) | dict(self._counts)
        samples = {k: list(v) for k, v in self._samples.items()}
        return Snapshot(counts, dict(self._statuses), list(self._put_keys), self._bytes[0], self._bytes[1], samples)

    def _record(self, kind: str, status: int, path: str, up: int, down: int) -> None:
        with self._lock:
            self._counts[kind] += 1
            self._statuses[status] += 1
            if kind == "PUT":
                self._put_keys.append(object_key(path))
            kept = self._samples.setdefault(kind, [])
            if len(kept) < SAMPLES_PER_KIND:
                kept.append(f"{unquote(path)} -> {status}")
            self._bytes[0] += up
            self._bytes[1] += down

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            _upstream: http.client.HTTPConnection | None = None

            def log_message(self, *args: object) -> None:
                pass

            def finish(self) -> None:
                if self._upstream is not None:
                    self._upstream.close()
                super().finish()

            def _read_body(self) -> bytes | None:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    return self._read_chunked()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else None

            def _read_chunked(self) -> bytes:
                # Forwarded as chunked again, byte for byte (aws-chunked payloads keep their framing).
                out = bytearray()
                while True:
                    line = self.rfile.readline()
                    out += line
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        break
                    out += self.rfile.read(size + 2)  # the chunk and its CRLF
                while True:  # trailers, then the empty line
                    line = self.rfile.readline()
                    out += line
                    if line in (b"\r\n", b"\n", b""):
                        return bytes(out)

            def _exchange(self, body: bytes | None) -> tuple[http.client.HTTPResponse, bytes]:
                for attempt in range(2):
                    reused = self._upstream is not None
                    if self._upstream is None:
                        self._upstream = http.client.HTTPConnection(
                            proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=300
                        )
                    conn = self._upstream
                    try:
                        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                        for name, value in self.headers.items():
                            if name.lower() not in _HOP_BY_HOP:
                                conn.putheader(name, value)
                        conn.endheaders(body)
                        response = conn.getresponse()
                        data = response.read()
                    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http.client.CannotSendRequest):
                        conn.close()
                        self._upstream = None
                        if attempt or not reused:  # only a stale kept-alive connection is worth a second try
                            raise
                        continue
                    if response.will_close:
                        conn.close()
                        self._upstream = None
                    return response, data
                raise AssertionError("unreachable")

            def _forward(self) -> None:
                body = self._read_body()
                kind = classify(self.command, self.path, self.headers)
                try:
                    response, data = self._exchange(body)
                except OSError as exc:
                    proxy._record(kind, 502, self.path, len(body or b""), 0)
                    message = f"counting proxy: upstream failed: {exc}".encode()
                    self.send_response(502)
                    self.send_header("Content-Length", str(len(message)))
                    self.end_headers()
                    self.wfile.write(message)
                    return
                proxy._record(kind, response.status, self.path, len(body or b""), len(data))
                self.send_response_only(response.status, response.reason)
                upstream_length = None
                for name, value in response.getheaders():
                    lower = name.lower()
                    if lower == "content-length":
                        upstream_length = value
                    elif lower not in _HOP_BY_HOP and lower != "transfer-encoding":
                        self.send_header(name, value)
                if self.command == "HEAD":
                    # No body follows; the length is the object's size, as S3 says it.
                    self.send_header("Content-Length", upstream_length or "0")
                elif response.status not in (204, 304):
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD" and response.status not in (204, 304):
                    self.wfile.write(data)

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward

        return Handler
