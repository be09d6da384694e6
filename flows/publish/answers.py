"""How answers are read: every body whole, inside botocore's attempt, and refused when cut short.

botocore reads a GET's body (and the XML body of a GET answered 404 or 503) only after its
retry loop, where a stall or a cut raised urllib3's own exception, unretried and uncaught: one
stalled 404 on ``schools.json`` ended every run in a traceback. Read inside ``send``, the same
failure is one of botocore's, which its standard mode retries under the one budget.
"""

from __future__ import annotations

import io
import logging
from typing import Any

from flows.publish.transport import BodyCutShort


def _without_header_warnings(record: logging.LogRecord) -> bool:
    """Drop urllib3's "Failed to parse headers" warning (a traceback in the run's log): such an
    answer is refused as cut short (``_check_length``, ``S3Publisher._check_headers``), with its own message."""
    return not str(record.msg).startswith("Failed to parse headers")


for _name in ("urllib3.connection", "urllib3.connectionpool"):  # urllib3 2 logs it from the first, 1.x the second
    logging.getLogger(_name).addFilter(_without_header_warnings)


def read_bodies_in_attempt(client: Any) -> None:
    """Make ``client`` read every answer's whole body while botocore still handles the attempt.

    For a streaming operation (GetObject) botocore hands the body on unread, and reads an error
    answer's body (a 404's XML) after its retry loop: a stall or a cut there raised a raw
    urllib3 exception that nothing retried or named. Read inside ``send``, the same failure is
    botocore's ``ReadTimeoutError`` or ``ConnectionClosedError``: retried under the one budget,
    and counted by the circuit. Our objects are small (a PDF of a few hundred KB at most), so
    holding a body in memory costs little; the body then streams from that copy.
    """
    session = client._endpoint.http_session  # botocore offers no public hook between send and read
    send = session.send

    def send_whole(request: Any) -> Any:
        streaming = request.stream_output
        request.stream_output = False  # botocore's send then reads the body inside its own try
        try:
            response = send(request)
        finally:
            request.stream_output = streaming  # the same request object is sent again on a retry
        _check_length(request, response)
        if streaming:
            response.raw = io.BytesIO(response.content)
        return response

    session.send = send_whole


def _check_length(request: Any, response: Any) -> None:
    """Raise ``BodyCutShort`` (retried like any lost connection) if fewer bytes came than the
    answer's Content-Length announced: urllib3 hands a short body on without a word."""
    announced = response.headers.get("Content-Length")
    if request.method == "HEAD" or response.status_code in (204, 304) or not (announced or "").isdigit():
        return
    if len(response.content) < int(announced):
        raise BodyCutShort(endpoint_url=request.url, received=len(response.content), expected=int(announced))
