"""Whole runs through Prefect with broken bodies at each step (trust lock, URN registry, publish
state, saved plan, a school, the trust's index), through a proxy in front of a real SeaweedFS.

A broken body a few times at a step is retried and the run completes with every object as its
manifest records it; at every request of a step, the run ends with its own message naming the
key, the endpoint and the cause, never with a traceback. Before, one stalled 404 on
``schools.json`` ended every run with "Flow run encountered an exception: ReadTimeoutError".
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import SAMPLE_SLUGS
from .faults import BODY_KINDS, FaultProxy
from .conftest import READ_TIMEOUT
from .support.faults import _publish, _stored, _verify


def steps(prefix: str) -> dict[str, str]:
    """Each step's requests, as a regular expression on ``METHOD /bucket/key?query``."""
    return {
        "lock": r"/lock\.json",
        "registry": r"_urns",
        "state": r"/publish-state\.json",
        "plan": r"/plan\.json",
        "school": r"/oakfield-primary/",
        "index": rf"/{re.escape(prefix)}/(index\.html|schools\.json|fragment\.css|error\.html)(\?|$)",
    }


def _statuses(state) -> dict[str, str]:
    return {s["slug"]: s["status"] for s in state.result(raise_on_failure=False)["schools"]}


@pytest.mark.parametrize("step", ["lock", "registry", "state", "plan", "school", "index"])
def test_broken_bodies_a_few_times_at_a_step_are_retried_and_the_run_completes(
    step: str, prefect_api: str, fault_env, seaweed, monkeypatch
) -> None:
    prefix = fault_env["NOTICES_S3_PREFIX"]
    with FaultProxy(
        seaweed.endpoint_url,
        rate=1.0,
        seed=len(step),
        kinds=BODY_KINDS,
        stall_s=READ_TIMEOUT + 0.5,
        only=steps(prefix)[step],
        limit=3,
    ) as proxy:
        state, took = _publish(monkeypatch, proxy)
    print(f"\n{step}: {dict(proxy.injected)} injected; completed in {took:.1f} s")
    assert sum(proxy.injected.values()) == 3, f"the step's requests were never faulted: {step}"
    assert state.is_completed(), state.message
    assert set(_statuses(state).values()) == {"published"}
    objects = _stored(seaweed, prefix)
    for slug in SAMPLE_SLUGS:
        _verify(objects, prefix, slug)
    assert layout_root(prefix, "schools.json") in objects and layout_root(prefix, "index.html") in objects


def layout_root(prefix: str, name: str) -> str:
    from flows.publish import layout

    return layout.root_key(prefix, name)


def test_one_stalled_404_on_the_trust_listing_is_retried(prefect_api: str, fault_env, seaweed, monkeypatch) -> None:
    """The issue's reproduction: every run ended in a traceback, the index never written."""
    prefix = fault_env["NOTICES_S3_PREFIX"]
    only = rf"^GET /{seaweed.bucket}/{re.escape(prefix)}/schools\.json"
    with FaultProxy(seaweed.endpoint_url, rate=1.0, kinds=["stall-404"], stall_s=READ_TIMEOUT + 0.5, only=only, limit=1) as proxy:
        state, _ = _publish(monkeypatch, proxy)
    assert proxy.injected["stall-404"] == 1
    assert state.is_completed(), state.message
    assert layout_root(prefix, "schools.json") in _stored(seaweed, prefix)


FAILS = {  # the step broken at every request, and what the run then says
    "lock": r"not published: could not take the trust lock: _private/{prefix}/lock\.json: (GET|PUT|HEAD) failed at {endpoint}",
    "registry": r"not published: could not read the URN registry: .*_urns/: LIST failed at {endpoint}",
    "plan": r"could not read this run's saved plan, so nothing was published: _private/{prefix}/runs/.*/plan\.json: GET failed at {endpoint}",
    "school": r"oakfield-primary \({prefix}/oakfield-primary/.*: (GET|PUT|HEAD|LIST) failed at {endpoint}",
    "index": r"the trust's index page and schools\.json were not updated \({prefix}/\S+: (GET|PUT) failed at {endpoint}",
}


@pytest.mark.parametrize("step", [*FAILS, "state"])
def test_a_step_broken_at_every_request_ends_the_run_with_its_own_message(
    step: str, prefect_api: str, fault_env, seaweed, monkeypatch, tree: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = fault_env["NOTICES_S3_PREFIX"]
    monkeypatch.setenv("NOTICES_S3_ATTEMPTS", "2")
    monkeypatch.setenv("NOTICES_RETRY_DELAYS", "0.5")
    with FaultProxy(
        seaweed.endpoint_url, rate=1.0, seed=7, kinds=BODY_KINDS, stall_s=READ_TIMEOUT + 0.5, only=steps(prefix)[step]
    ) as proxy:
        state, took = _publish(monkeypatch, proxy)
    statuses = {} if step == "plan" else _statuses(state)  # the plan's failure comes before any school
    print(f"\n{step} broken: {state.type.value} in {took:.1f} s; {dict(proxy.injected)}; {state.message}")
    assert "Traceback" not in (state.message or "") and "encountered an exception" not in (state.message or "")
    assert "Traceback" not in caplog.text, "a traceback in the run's log"
    if step == "state":  # an unreadable state only makes the run slower
        assert state.is_completed(), state.message
        return
    assert state.is_failed(), state.message
    endpoint = re.escape(f"{proxy.url}/{seaweed.bucket}")
    pattern = FAILS[step].format(prefix=re.escape(prefix), endpoint=endpoint)
    if step == "index":  # the schools are live; the run says the trust's pages are not
        assert set(statuses.values()) == {"published"}, statuses
        assert re.search(pattern, state.message or ""), state.message
    elif step == "school":
        assert statuses.pop("oakfield-primary") == "failed" and set(statuses.values()) == {"published"}
        assert re.search(pattern, state.message or ""), state.message
    elif step == "plan":
        assert re.search(pattern, state.message or ""), state.message
        assert not _stored(seaweed, prefix), "nothing may be published when the run cannot tell if it resumed"
    else:
        assert set(statuses.values()) == {"failed"}, statuses
        errors = [s["error"] for s in state.result(raise_on_failure=False)["schools"]]
        assert all(re.search(pattern, e) for e in errors), errors[0]


def test_a_first_edition_finished_on_a_later_attempt_is_reported_as_published(
    prefect_api: str, fault_env, seaweed, monkeypatch
) -> None:
    """The latest page's PUT fails every attempt once, after v1's files and manifest landed: the
    school's next attempt finds v1 and finishes it. It was reported as "presentation update v1"."""
    from flows.publish import layout

    prefix = fault_env["NOTICES_S3_PREFIX"]
    monkeypatch.setenv("NOTICES_S3_ATTEMPTS", "2")
    only = rf"^PUT /{seaweed.bucket}/{re.escape(layout.latest_key(prefix, 'oakfield-primary', 'index.html'))}$"
    with FaultProxy(seaweed.endpoint_url, rate=1.0, kinds=["reset-503"], only=only, limit=2) as proxy:
        state, _ = _publish(monkeypatch, proxy)
    assert proxy.injected["reset-503"] == 2
    assert state.is_completed(), state.message
    school = next(s for s in state.result()["schools"] if s["slug"] == "oakfield-primary")
    assert (school["status"], school["edition"], school["change_class"]) == ("published", 1, "first"), school
    _verify(_stored(seaweed, prefix), prefix, "oakfield-primary")
