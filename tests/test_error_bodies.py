"""A body that stalls, is cut or is reset, on an error answer (404, 412, 503) or on the server's
own answer, through a proxy in front of a real SeaweedFS: every request ends as a
``PublishError`` that names the key, the operation, the endpoint and the cause, after every
attempt of the one budget; once only, it is retried and the request succeeds.

Before bodies were read inside botocore's attempt, a stalled 404 on a GET raised urllib3's
``ReadTimeoutError`` out of ``S3Publisher.get``: a traceback, no key, no retry.
"""

from __future__ import annotations

import re

import pytest

from flows.publish.base import PreconditionFailed, PublishError
from flows.publish.s3 import S3Publisher, make_client

from .faults import BODY_KINDS, FaultProxy
from .conftest import READ_TIMEOUT
from .support.faults import _direct
from .support.web import read_object

ATTEMPTS = 2  # botocore's first try and one retry: enough to see the budget used, and quick
CAUSES = {
    "stall": f"read timeout: no answer within {READ_TIMEOUT:g} s, after {ATTEMPTS} attempt(s)",
    "cut": "response cut short: the connection closed before the whole body arrived",
    "reset": f"connection reset or closed before a complete answer, after {ATTEMPTS} attempt(s)",
}
KEY = "faults/some-school/privacy-notice/manifest.json"
BODY = b'{"slug": "some-school"}' * 100


@pytest.fixture
def stored(fault_env, seaweed, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NOTICES_S3_ATTEMPTS", str(ATTEMPTS))
    _direct(seaweed).put_object(Bucket=seaweed.bucket, Key=KEY, Body=BODY)
    return seaweed


def _call(pub: S3Publisher, op: str) -> object:
    if op == "GET":
        return pub.get(KEY)
    if op == "HEAD":
        return pub.head(KEY)
    if op == "PUT":
        return pub.put(KEY, BODY, content_type="application/json", cache_control="no-cache")
    if op == "PUT-if-none-match":
        return pub.put(KEY + ".new", BODY, content_type="application/json", cache_control="no-cache", if_none_match=True)
    return pub.list("faults/some-school/")


CASES = (
    [("GET", kind) for kind in BODY_KINDS]
    + [("PUT", kind) for kind in BODY_KINDS]
    + [("PUT-if-none-match", f"{how}-412") for how in ("stall", "cut", "reset")]  # a made-up 412 half-heard is no answer
    + [("HEAD", f"{how}-404") for how in ("stall", "cut", "reset")]  # a HEAD's headers are cut: the answer is irrelevant
    + [("LIST", f"{how}-body") for how in ("stall", "cut", "reset")]
)


@pytest.mark.parametrize(("op", "kind"), CASES, ids=[f"{op}-{kind}" for op, kind in CASES])
def test_a_broken_body_on_every_attempt_is_a_publish_error_naming_key_endpoint_and_cause(op: str, kind: str, stored) -> None:
    with FaultProxy(stored.endpoint_url, rate=1.0, kinds=[kind], stall_s=READ_TIMEOUT + 0.5) as proxy:
        pub = S3Publisher(make_client(proxy.url, "us-east-1"), stored.bucket, proxy.url)
        with pytest.raises(PublishError) as failed:
            _call(pub, op)
    message = str(failed.value)
    assert not isinstance(failed.value, PreconditionFailed), message  # half a 412 proves nothing
    name = "faults/some-school/" if op == "LIST" else KEY
    verb = op.split("-")[0]
    assert re.match(rf"{re.escape(name)}(\.new)?: {verb} failed at {re.escape(proxy.url)}/{stored.bucket}: ", message), message
    how = kind.split("-")[0]
    no_body = op == "HEAD" or (op.startswith("PUT") and kind.endswith("-body"))  # the proxy broke the status line
    assert CAUSES["reset" if how == "cut" and no_body else how] in message, message
    assert proxy.injected[kind] == ATTEMPTS, message  # every attempt of the budget, then no more


ONCE = [("GET", kind) for kind in BODY_KINDS] + [("PUT", kind) for kind in BODY_KINDS]


@pytest.mark.parametrize(("op", "kind"), ONCE, ids=[f"{op}-{kind}" for op, kind in ONCE])
def test_a_broken_body_once_is_retried_and_the_request_succeeds(op: str, kind: str, stored) -> None:
    with FaultProxy(stored.endpoint_url, rate=1.0, kinds=[kind], stall_s=READ_TIMEOUT + 0.5, limit=1) as proxy:
        pub = S3Publisher(make_client(proxy.url, "us-east-1"), stored.bucket, proxy.url)
        answer = _call(pub, op)
    assert proxy.injected[kind] == 1 and proxy.forwarded == 1
    if op == "GET":
        assert answer is not None and answer.body == BODY  # type: ignore[attr-defined]
    else:
        assert isinstance(answer, str) and answer
    stored_body = read_object(_direct(stored), Bucket=stored.bucket, Key=KEY)
    assert stored_body == BODY
    assert pub.breaker.consecutive == 0  # the whole answer that followed closed the circuit


def test_the_retry_quota_is_lifted_so_every_request_gets_its_attempts(stored) -> None:
    """botocore's hidden per-client quota (500 tokens) ran dry at 40 % faults: requests were then
    tried once. Lifted, the 120th request still gets every attempt."""
    from flows.publish.transport import lift_retry_quota

    client = make_client("http://127.0.0.1:9", "us-east-1")
    assert not lift_retry_quota(object.__new__(type("NotAClient", (), {"meta": type("M", (), {"events": object()})()})))
    assert lift_retry_quota(client)  # found where botocore registers it: a botocore change fails here
    with FaultProxy(stored.endpoint_url, rate=1.0, kinds=["503"]) as proxy:
        pub = S3Publisher(make_client(proxy.url, "us-east-1"), stored.bucket, proxy.url)
        for _ in range(120):  # 120 requests x 1 retry x 5 tokens: past the quota's 500
            with pytest.raises(PublishError, match=rf"after {ATTEMPTS} attempt"):
                pub.breaker.consecutive = 0  # keep the circuit closed: this is about the quota
                pub.head(KEY)
    assert proxy.injected["503"] == 120 * ATTEMPTS
