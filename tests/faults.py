"""A fault-injecting HTTP proxy on loopback, between a publisher and SeaweedFS (a real server).

It forwards every request unchanged (the Host header too, so SigV4 signatures still verify),
except the ones it picks to fail:

* ``fail``/``times``: 503 to the first ``times`` PUTs whose path contains ``fail``;
* ``rate``/``seed``: each request fails with probability ``rate`` (seeded, so a run is
  repeatable up to thread timing), in one of ``KINDS`` chosen at random:
  503 ServiceUnavailable, 500 InternalError, 503 SlowDown, a connection reset (TCP RST),
  a stall of ``stall_s`` (past the client's read timeout) before closing without an answer,
  or a truncated answer (forwarded, then cut short: Content-Length promises more than is sent).

``BODY_KINDS`` break an answer's body instead: ``stall-*``, ``cut-*`` or ``reset-*`` send the
status line, the headers and half the body of an answer, then stall (past the read timeout),
close the connection (FIN) or reset it (RST). ``*-404``, ``*-412`` and ``*-503`` are error
answers the proxy makes up (the server never sees the request); ``*-body`` forwards the request
and breaks the server's own answer (the server did the work). A HEAD (or an answer with no
body) has no body to break: its status line is broken instead. ``only`` (a regular expression on ``"METHOD /path"``) limits the faults to
the requests it matches; ``limit`` stops injecting after that many faults.

``lose`` (not among ``KINDS``; for subclasses that pick it) forwards the request, then resets
the connection: the server did the work and the client never hears of it.
Paths matching the regular expression ``spare`` are never faulted. ``injected`` counts each kind injected;
``rate`` may be changed while the proxy runs.
"""

from __future__ import annotations

import http.client
import random
import re
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

KINDS = ("503", "500", "slowdown", "reset", "stall", "truncate")
BODY_KINDS = tuple(f"{how}-{answer}" for how in ("stall", "cut", "reset") for answer in ("404", "412", "503", "body"))
_MADE_UP = {
    "404": (404, "NoSuchKey", "The specified key does not exist."),
    "412": (412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold"),
    "503": (503, "ServiceUnavailable", "Please reduce your request rate."),
}
_ERRORS = {
    "503": (503, "ServiceUnavailable", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
}


class FaultProxy:
    """``with FaultProxy(upstream, rate=0.2, seed=1) as proxy: … proxy.url … proxy.injected``"""

    def __init__(
        self,
        upstream: str,
        *,
        fail: str = "",
        times: int = 0,
        rate: float = 0.0,
        seed: int = 0,
        kinds: Sequence[str] = KINDS,
        stall_s: float = 1.5,
        spare: str = "",
        only: str = "",
        limit: int | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.fail, self.times, self.failed = fail, times, 0
        self.rate, self.kinds, self.stall_s, self.spare = rate, tuple(kinds), stall_s, spare
        self.only, self.limit = only, limit
        self.injected: Counter[str] = Counter()
        self.forwarded = 0
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _pick(self, method: str, path: str) -> str | None:
        """The fault for this request, counted; None to forward it untouched."""
        with self._lock:
            if self.fail and method == "PUT" and self.fail in path and self.failed < self.times:
                self.failed += 1
                self.injected["503"] += 1
                return "503"
            chosen = not (self.spare and re.search(self.spare, path)) and not (
                self.only and not re.search(self.only, f"{method} {path}")
            )
            if self.limit is not None and sum(self.injected.values()) >= self.limit:
                chosen = False
            if self.rate and chosen and self._random.random() < self.rate:
                kind = self._random.choice(self.kinds)
                self.injected[kind] += 1
                return kind
            self.forwarded += 1
        return None

    def lost(self) -> None:
        """Called when a request picked as ``lose`` was done by the server (a hook for subclasses)."""

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _error(self, kind: str) -> None:
                status, code, message = _ERRORS[kind]
                body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", "0" if self.command == "HEAD" else str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _reset(self) -> None:
                # SO_LINGER with a zero timeout: close() sends RST, not FIN ("connection reset by peer").
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                kind = proxy._pick(self.command, self.path)
                if kind in _ERRORS:
                    self._error(kind)
                    return
                if kind == "reset":
                    self._reset()
                    return
                if kind == "stall":  # the request never reaches the server; the client times out
                    time.sleep(proxy.stall_s)
                    self._reset()
                    return
                if kind in BODY_KINDS and not kind.endswith("-body"):  # an error answer made up here
                    status, code, message = _MADE_UP[kind.split("-")[1]]
                    made = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'.encode()
                    self._broken(kind, status, code, [("Content-Type", "application/xml")], made)
                    return
                response, data = self._upstream(body)
                if kind in BODY_KINDS:
                    self._broken(kind, response.status, response.reason, response.getheaders(), data)
                    return
                if kind == "truncate":  # the server did the work; its answer is lost on the way
                    self._truncated(response, data)
                    return
                if kind == "lose":  # the server did the work; the client never hears of it
                    proxy.lost()
                    self._reset()
                    return
                self.send_response(response.status)
                for name, value in response.getheaders():
                    if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _upstream(self, body: bytes | None) -> tuple[http.client.HTTPResponse, bytes]:
                conn = http.client.HTTPConnection(proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=30)
                conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    conn.putheader(name, value)
                conn.endheaders(body)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                return response, data

            def _broken(self, kind: str, status: int, reason: str, headers: list[tuple[str, str]], data: bytes) -> None:
                """Half an answer (its true length announced), then a stall, a FIN or a RST."""
                lines = [f"HTTP/1.1 {status} {reason}"]
                lines += [
                    f"{n}: {v}" for n, v in headers if n.lower() not in ("transfer-encoding", "connection", "content-length")
                ]
                lines.append(f"Content-Length: {len(data)}")
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                # No body to break (a HEAD, a PUT's empty answer): break the status line. A header
                # block closed early would be read as whole: http.client takes EOF as its end.
                self.wfile.write(head[:10] if self.command == "HEAD" or not data else head + data[: len(data) // 2])
                self.wfile.flush()
                how = kind.split("-")[0]
                if how == "stall":
                    time.sleep(proxy.stall_s)
                if how == "reset":
                    self._reset()
                    return
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

            def _truncated(self, response: http.client.HTTPResponse, data: bytes) -> None:
                lines = [f"HTTP/1.1 {response.status} {response.reason}"]
                lines += [
                    f"{n}: {v}"
                    for n, v in response.getheaders()
                    if n.lower() not in ("transfer-encoding", "connection", "content-length")
                ]
                lines.append(f"Content-Length: {len(data) + 1000}")  # more than will ever come
                head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
                if self.command == "HEAD":  # a HEAD has no body to cut: cut the headers instead
                    self.wfile.write(head[: len(head) // 2])
                else:
                    self.wfile.write(head + data[: len(data) // 2])
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True

            do_GET = do_PUT = do_HEAD = do_DELETE = do_POST = _forward

        return Handler
