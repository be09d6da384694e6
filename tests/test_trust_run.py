"""The trust run's protocol (``flows.publish.trust_run``), as the flow and the tests drive it."""

from __future__ import annotations

from tests.support.web import read_object

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.publish.lease import lease_key
from flows.publish.s3 import S3Publisher
from flows.publish.state import PublishState, state_key
from tests.support.publishing import _client, _only, _publish

REPO = Path(__file__).resolve().parent.parent


def test_the_trust_run_does_not_import_prefect() -> None:
    """The library runs anywhere (a script, a test, a worker): only the flow needs Prefect."""
    code = "import sys, flows.publish.trust_run; print(sorted(m for m in sys.modules if m.split('.')[0] == 'prefect'))"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, cwd=REPO)
    assert out.stdout.strip() == "[]"


def test_a_run_holds_the_trust_lock_while_publishing_and_saves_the_state(
    seaweed, sample, prefix: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(seaweed)
    holders: list[int] = []

    class _Watching(S3Publisher):
        def put(self, key: str, body: bytes, **kwargs) -> str:
            if "/v1/" in key:  # a school's edition file: the lock is there, and names this process
                lock = read_object(client, Bucket=seaweed.bucket, Key=lease_key(prefix))
                holders.append(json.loads(lock)["pid"])
            return super().put(key, body, **kwargs)

    monkeypatch.setattr("flows.publish.trust_run.PROGRESS_FROM", 1)  # a progress line even for one school
    one = _only(sample, "riverside-infant")
    watching = _Watching(client, seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")
    with caplog.at_level(logging.INFO, logger="flows.progress"):
        first = _publish(seaweed, one, prefix, publisher=watching)
    assert [r.status for r in first.schools] == ["published"]
    assert holders and set(holders) == {os.getpid()}
    assert first.requests["lock"] > 0
    assert "batch 1/1: 1/1 schools done" in [r.getMessage() for r in caplog.records if r.name == "flows.progress"]
    assert "Contents" not in client.list_objects_v2(Bucket=seaweed.bucket, Prefix=lease_key(prefix))  # released
    state = PublishState.model_validate_json(read_object(client, Bucket=seaweed.bucket, Key=state_key(prefix)))
    assert set(state.schools) == {"riverside-infant"}

    again = _publish(seaweed, one, prefix)
    assert [r.status for r in again.schools] == ["unchanged"]
    assert again.requests.get("put", 0) == 0  # the state confirms the school: nothing is written, not even the state
    assert again.requests.get("head", 0) == 0
    # Nothing to change, found before the lock: no lock taken, so not one PUT or DELETE at all
    assert again.requests.get("lock", 0) == 0 and again.requests.get("delete", 0) == 0
    forced = _publish(seaweed, one, prefix, force=True)  # --force takes the locked path (it rewrites the latest files)
    assert forced.requests["lock"] > 0


def test_a_run_with_one_school_to_change_takes_the_lock_for_every_school(seaweed, sample, prefix: str) -> None:
    """The lock-free check is all or nothing: one school not vouched for sends the whole run down the locked path."""
    both = _only(sample, "riverside-infant", "oakfield-primary")
    _publish(seaweed, both, prefix)
    client = _client(seaweed)
    state = PublishState.model_validate_json(read_object(client, Bucket=seaweed.bucket, Key=state_key(prefix)))
    entry = state.schools["oakfield-primary"].model_copy(update={"input_hash": "other inputs"})
    edited = PublishState(schools={**state.schools, "oakfield-primary": entry}).model_dump_json().encode()
    client.put_object(Bucket=seaweed.bucket, Key=state_key(prefix), Body=edited)
    again = _publish(seaweed, both, prefix)
    assert [r.status for r in again.schools] == ["unchanged", "unchanged"]
    assert again.requests["lock"] > 0  # the first school was rendered again, under the lock


def test_a_dry_run_takes_no_lock_and_saves_no_state(seaweed, sample, prefix: str) -> None:
    client = _client(seaweed)
    dry = _publish(seaweed, _only(sample, "riverside-infant"), prefix, dry_run=True)
    assert [r.status for r in dry.schools] == ["published"]
    assert dry.requests["lock"] == 0 and dry.requests.get("put", 0) == 0
    assert "Contents" not in client.list_objects_v2(Bucket=seaweed.bucket, Prefix=state_key(prefix))
