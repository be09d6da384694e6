"""The publish state: a rerun that changes nothing costs the state and a LIST, and still repairs drift."""

from __future__ import annotations

from tests.support.web import read_object

import json
from pathlib import Path

import pytest

from flows.publish import layout
from flows.publish.s3 import S3Publisher, make_client
from flows.publish.state import REFRESH_DAYS, Known, PublishState, confirm, read_state, save_state, state_key
from flows.publish.results import SchoolState

from .conftest import SAMPLE_SLUGS
from .support.flows import _params


def _client(seaweed):
    return make_client(seaweed.endpoint_url, "us-east-1", seaweed.access_key, seaweed.secret_key)


def _run(**values) -> dict:
    from flows.runs.flow import publish_notices

    state = publish_notices(_params(**values), return_state=True)
    assert state.is_completed(), state.message
    return state.result()


def test_a_rerun_trusts_the_state_only_where_the_server_still_holds_those_bytes(flow_env, seaweed) -> None:  # noqa: F811
    prefix, bucket, client = flow_env["NOTICES_S3_PREFIX"], seaweed.bucket, _client(seaweed)
    _run()
    stored = PublishState.model_validate_json(read_object(client, Bucket=bucket, Key=state_key(prefix)))
    assert sorted(stored.schools) == sorted(SAMPLE_SLUGS)
    # A big trust's state: its keys are listed in ranges at once (here 3 ranges of 2 schools).
    padded = {**stored.schools, **{f"zz-elsewhere-{i}": next(iter(stored.schools.values())) for i in range(150)}}
    trusted, counts = confirm(
        lambda: S3Publisher(client, bucket, "http://127.0.0.1/"),
        prefix,
        Known(PublishState(schools=padded)),
        SAMPLE_SLUGS,
        workers=3,
    )
    assert sorted(trusted) == sorted(SAMPLE_SLUGS) and counts == {"list": 3}
    index = layout.latest_key(prefix, "oakfield-primary", "index.html")
    good_page = read_object(client, Bucket=bucket, Key=index)

    # Drift made behind the pipeline's back: a replaced page, a deleted feed, a manifest rewritten
    # by hand with the same record (another ETag), and a state entry claiming other words.
    client.put_object(Bucket=bucket, Key=index, Body=b"<p>defaced</p>", ContentType="text/html")
    client.delete_object(Bucket=bucket, Key=layout.record_key(prefix, "northgate-academy", "feed.xml"))
    manifest_key = layout.record_key(prefix, "brookside-special", "manifest.json")
    manifest = json.loads(read_object(client, Bucket=bucket, Key=manifest_key))
    client.put_object(
        Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode(), ContentType="application/json; charset=utf-8"
    )

    repaired = {s["slug"]: s for s in _run()["schools"]}
    assert repaired["oakfield-primary"]["status"] == "presentation" and repaired["oakfield-primary"]["uploads"] == 1
    assert repaired["northgate-academy"]["status"] == "presentation" and repaired["northgate-academy"]["uploads"] == 1
    assert repaired["brookside-special"]["status"] == "unchanged" and repaired["brookside-special"]["uploads"] == 0
    assert read_object(client, Bucket=bucket, Key=index) == good_page
    client.head_object(Bucket=bucket, Key=layout.record_key(prefix, "northgate-academy", "feed.xml"))

    # The repaired objects' new ETags are in the state again: the next rerun checks nothing one by one.
    again = _run()
    assert {s["status"] for s in again["schools"]} == {"unchanged"}
    assert again["requests"]["head"] == 0 and again["requests"]["put"] == 0


def test_force_takes_the_full_path_and_a_rerun_of_one_school_lists_only_its_folder(flow_env, seaweed, tree: Path) -> None:  # noqa: F811
    _run()
    forced = _run(force=True, schools=["oakfield-primary"])
    assert forced["requests"]["put"] >= len(layout.LATEST_FILES)  # --force rewrites the latest files
    school = tree / "schools" / "northgate-academy.yaml"
    school.write_text(school.read_text(encoding="utf-8") + "\n# a comment changes no word of the notice\n", encoding="utf-8")
    unchanged = _run(schools=["northgate-academy"])
    assert unchanged["schools"][0]["status"] == "unchanged"
    # the publish state, the school's folder and the two URN registries (this prefix's, the trust
    # file's); no lock, since nothing would change
    assert unchanged["requests"] == {"get": 1, "head": 0, "put": 0, "list": 3, "delete": 0, "lock": 0}


def test_the_state_is_rewritten_when_old_and_concurrent_writers_merge(seaweed, prefix: str) -> None:
    pub = S3Publisher(_client(seaweed), seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")
    entry = SchoolState(
        edition=1, manifest_etag='"m"', content_hash="sha256:c", presentation_hash="sha256:p", fingerprint="f", etags={}
    )

    class Result:  # what save_state reads of a SchoolResult
        def __init__(self, slug: str) -> None:
            self.slug, self.status, self.state = slug, "unchanged", entry

    assert save_state(pub, prefix, Known(), [Result("a")])  # type: ignore[list-item]
    first = read_state(pub, prefix)
    assert not save_state(pub, prefix, first, [Result("a")])  # type: ignore[list-item]  # nothing new, not old: no write
    old = Known(first.state, first.etag, REFRESH_DAYS * 86400 + 1)
    assert save_state(pub, prefix, old, [Result("a")])  # type: ignore[list-item]  # kept alive under the lifecycle rule
    # Two runs that read the same state: the second's conditional write loses, re-reads and merges.
    both = read_state(pub, prefix)
    assert save_state(pub, prefix, both, [Result("b")])  # type: ignore[list-item]
    assert save_state(pub, prefix, both, [Result("c")])  # type: ignore[list-item]
    assert sorted(read_state(pub, prefix).state.schools) == ["a", "b", "c"]


@pytest.mark.parametrize(
    "value", ["2026-11-29T02:08:30.000Z", "2026-11-29T02:08:30Z", "Sun, 29 Nov 2026 02:08:30 GMT", "1764382110"]
)
def test_timestamps_parse_as_botocore_parses_them(value: str) -> None:
    from botocore.parsers import DEFAULT_TIMESTAMP_PARSER

    from flows.publish.s3 import parse_timestamp

    assert parse_timestamp(value) == DEFAULT_TIMESTAMP_PARSER(value)


def test_a_school_whose_slug_begins_another_is_confirmed_on_seaweedfs(flow_env, seaweed, tree: Path) -> None:  # noqa: F811
    # SeaweedFS lists a folder's entries by name: "oakfield-primary" comes before "oakfield-primary-2"
    # there, after it in key order, so a range starting at the latter skipped the former.
    text = (tree / "schools" / "oakfield-primary.yaml").read_text(encoding="utf-8")
    twin = text.replace("name: Oakfield Primary School", "name: Oakfield Primary School Annexe").replace(
        "urn: 990002", "urn: 990099"
    )
    (tree / "schools" / "oakfield-primary-2.yaml").write_text(twin, encoding="utf-8")
    _run()
    prefix, client = flow_env["NOTICES_S3_PREFIX"], _client(seaweed)
    stored = PublishState.model_validate_json(read_object(client, Bucket=seaweed.bucket, Key=state_key(prefix)))
    slugs = sorted(stored.schools)
    assert "oakfield-primary-2" in slugs and len(slugs) == 7
    padded = {**stored.schools, **{f"zz-elsewhere-{i}": stored.schools["oakfield-primary"] for i in range(150)}}
    # 3 ranges of 3 schools in key order: the second starts at oakfield-primary-2.
    trusted, _ = confirm(
        lambda: S3Publisher(client, seaweed.bucket, "http://127.0.0.1/"),
        prefix,
        Known(PublishState(schools=padded)),
        slugs,
        workers=3,
    )
    assert sorted(trusted) == slugs
