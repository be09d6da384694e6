"""Reading published objects over plain HTTP as a browser does: gzip bodies decompressed.

Text objects are stored gzip-compressed and served with ``Content-Encoding: gzip``
(``flows.publish.layout.compressible``); S3 sends them so to every client, and every browser
decompresses them. ``urllib`` does not, so the tests that read a page as a reader would go
through ``read_url``.
"""

from __future__ import annotations

import gzip
import urllib.request
from email.message import Message
from typing import Any


def read_url(url: str | urllib.request.Request, timeout: float = 30) -> tuple[bytes, Message]:
    """The plain body and the headers of a GET (``HTTPError`` for an error answer, as urlopen)."""
    request = url if isinstance(url, urllib.request.Request) else urllib.request.Request(url)
    request.add_header("Accept-Encoding", "gzip")
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback in tests
        body = response.read()
        headers = response.headers
    if headers.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return body, headers


def read_body(url: str | urllib.request.Request, timeout: float = 30) -> bytes:
    """The plain body of a GET."""
    return read_url(url, timeout)[0]


def read_object(client: Any, **params: Any) -> bytes:
    """The plain bytes of an object read with boto3 (``get_object(**params)``), decompressed if stored gzip-compressed."""
    response = client.get_object(**params)
    body: bytes = response["Body"].read()
    return gzip.decompress(body) if response.get("ContentEncoding") == "gzip" else body
