"""Publishing through a proxy that injects faults (5xx, SlowDown, resets, stalls, cut answers)
in front of a real SeaweedFS: the run completes at moderate fault rates with every object as
its manifest records it, and at 100 % fails fast, naming each school, key, endpoint and cause,
leaving the previous edition served intact."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from flows.publish import layout
from flows.publish.base import PublishError
from flows.publish.s3 import S3Publisher, make_client
from flows.publish.transport import transport_settings

from .conftest import READ_TIMEOUT, SAMPLE_SLUGS
from .faults import BODY_KINDS, KINDS, FaultProxy
from .support.faults import _direct, _publish, _stored, _verify

CAUSE = re.compile(r"HTTP 5\d\d|read timeout|connect timeout|connection reset|cut short|circuit open")


@pytest.mark.parametrize("kind", KINDS)
def test_each_fault_names_the_key_the_endpoint_and_the_cause(kind: str, fault_env, seaweed) -> None:
    key = "faults/some-school/privacy-notice/manifest.json"
    _direct(seaweed).put_object(Bucket=seaweed.bucket, Key=key, Body=b'{"slug": "some-school"}' * 100)
    with FaultProxy(seaweed.endpoint_url, rate=1.0, kinds=[kind], stall_s=READ_TIMEOUT + 0.5) as proxy:
        pub = S3Publisher(make_client(proxy.url, "us-east-1"), seaweed.bucket, proxy.url)
        with pytest.raises(PublishError) as failed:
            pub.get(key)
    message = str(failed.value)
    assert message.startswith("faults/some-school/privacy-notice/manifest.json: GET failed at "), message
    assert f"{proxy.url}/{seaweed.bucket}" in message and "None" not in message, message
    expected = {
        "503": "HTTP 503 ServiceUnavailable",
        "500": "HTTP 500 InternalError",
        "slowdown": "HTTP 503 SlowDown",
        "reset": "connection reset",
        "stall": f"read timeout: no answer within {READ_TIMEOUT:g} s",
        "truncate": "cut short",
    }[kind]
    assert expected in message, message
    assert proxy.injected[kind] >= 2 and proxy.forwarded == 0, message  # botocore's attempts (and one more for a cut body)


def test_the_circuit_opens_after_consecutive_failures_and_a_probe_closes_it(fault_env, seaweed, monkeypatch) -> None:
    monkeypatch.setenv("NOTICES_S3_CIRCUIT_COOLDOWN", "1")
    with FaultProxy(seaweed.endpoint_url, rate=1.0, kinds=["503"]) as proxy:
        pub = S3Publisher(make_client(proxy.url, "us-east-1"), seaweed.bucket, proxy.url)
        settings = transport_settings()
        for _ in range(settings.circuit_failures):  # each a request that had 503 on every attempt
            with pytest.raises(PublishError, match="HTTP 503"):
                pub.head("faults/x/index.html")
        sent = proxy.injected["503"]
        with pytest.raises(PublishError) as refused:
            pub.head("faults/x/index.html")
        assert proxy.injected["503"] == sent  # refused at once: nothing was sent
        assert str(refused.value) == (
            f"faults/x/index.html: HEAD not sent: {proxy.url} is not answering: circuit open after "
            f"{settings.circuit_failures} consecutive failures; last: HTTP 503: Service Unavailable (after {settings.attempts} attempt(s))"
        )
        assert pub.blocked() is not None
        time.sleep(1.1)
        proxy.rate = 0.0
        assert pub.blocked() is None
        assert pub.head("faults/x/index.html") is None  # the probe: the server answers (404), the circuit closes
        assert pub.blocked() is None and pub.breaker.consecutive == 0


@pytest.mark.parametrize(("rate", "seed"), [(0.1, 10), (0.2, 20), (0.4, 40)])
def test_a_trust_wide_publish_completes_through_faults_with_every_object_intact(
    rate: float, seed: int, prefect_api: str, fault_env, seaweed, monkeypatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Every kind of fault, broken bodies of error answers included, at every step."""
    with FaultProxy(seaweed.endpoint_url, rate=rate, seed=seed, kinds=KINDS + BODY_KINDS, stall_s=READ_TIMEOUT + 0.5) as proxy:
        state, took = _publish(monkeypatch, proxy)
    assert state.is_completed(), state.message
    assert "Traceback" not in caplog.text
    statuses = {s["slug"]: s["status"] for s in state.result()["schools"]}
    assert set(statuses) == set(SAMPLE_SLUGS) and "failed" not in statuses.values(), statuses
    prefix = fault_env["NOTICES_S3_PREFIX"]
    objects = _stored(seaweed, prefix)
    verified = sum(_verify(objects, prefix, slug)[1] for slug in SAMPLE_SLUGS)
    assert sum(proxy.injected.values()) > 0
    print(
        f"\n{rate:.0%} faults: completed in {took:.1f} s; injected {dict(sorted(proxy.injected.items()))} of "
        f"{sum(proxy.injected.values()) + proxy.forwarded} requests; {verified} objects match their manifests"
    )


OUTAGES = {  # what is spared of the outage, and where the run then fails
    "from-the-start": ("", "plan"),
    "after-the-plan-read": (r"/plan\.json", "lock"),
    "after-the-lock-and-registry": (r"/(plan|lock)\.json|_urns", "schools"),
}


@pytest.mark.parametrize("outage", list(OUTAGES))
def test_a_total_outage_fails_fast_naming_the_key_and_leaves_the_last_edition_served(
    outage: str, prefect_api: str, fault_env, seaweed, tree: Path, monkeypatch
) -> None:
    """The first request of a run is the saved plan's read: an outage from the start fails
    there, nothing published. Spared that, it fails at the trust lock, every school saying so;
    spared the lock and the URN registry too, the publish state is unreadable (a slower run,
    not a failure), each school fails on its own requests, and the circuit keeps it short."""
    spare, where = OUTAGES[outage]
    prefix = fault_env["NOTICES_S3_PREFIX"]
    monkeypatch.delenv("NOTICES_RETRY_DELAYS")  # 2, 10 and 30 s: the circuit must spare the run them
    with FaultProxy(seaweed.endpoint_url, rate=0.0, seed=100, stall_s=READ_TIMEOUT + 0.5, spare=spare) as proxy:
        first, _ = _publish(monkeypatch, proxy)
        assert first.is_completed(), first.message
        before = _stored(seaweed, prefix)
        school = tree / "schools" / "oakfield-primary.yaml"  # a wording change: a new edition would be made
        school.write_text(school.read_text().replace("Mr Sam Example", "Ms Sam Example"), encoding="utf-8")
        proxy.rate = 1.0
        state, took = _publish(monkeypatch, proxy)
    print(f"\n100% faults {outage}: failed in {took:.1f} s; injected {dict(sorted(proxy.injected.items()))}")
    assert state.is_failed()
    assert took < 60, f"a total outage took {took:.0f} s to fail"
    message = state.message or ""
    if where == "plan":
        assert re.match(
            rf"could not read this run's saved plan, so nothing was published: _private/{re.escape(prefix)}/runs/\S+/plan\.json: GET failed at {re.escape(proxy.url)}",
            message,
        ), message
        assert CAUSE.search(message), message
    else:
        errors = {s["slug"]: s["error"] or "" for s in state.result(raise_on_failure=False)["schools"]}
        print(f"e.g. {min(errors.items())}")
        assert set(errors) == set(SAMPLE_SLUGS)
        for slug, error in errors.items():
            assert prefix in error, f"{slug}: no key in {error!r}"  # every key of the run is under the prefix
            assert proxy.url in error and "None" not in error, f"{slug}: no endpoint in {error!r}"
            assert CAUSE.search(error), f"{slug}: no cause in {error!r}"
            assert f"{slug} ({error})" in message, slug
            assert ("could not take the trust lock" in error) == (where == "lock"), error
    after = _stored(seaweed, prefix)
    public = {k: v for k, v in before.items() if not k.startswith(layout.PRIVATE_ROOT)}
    assert {k: after.get(k) for k in public} == public  # every public object, byte for byte
    manifest, _ = _verify(after, prefix, "oakfield-primary")
    assert [e.number for e in manifest.editions] == [1]
