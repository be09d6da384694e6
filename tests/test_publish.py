"""Publishing against a real S3 server (SeaweedFS over HTTP), editions, diffs and safety."""

from __future__ import annotations

import json
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from flows.publish import layout
from flows.publish.base import PreconditionFailed
from flows.publish.results import RunResult
from flows.publish.s3 import S3Publisher
from flows.publish.state import state_key
from flows.notice.prepare import load_and_compose

from .conftest import SAMPLE_SLUGS, TEMPLATES
from tests.support.publishing import (
    _by_slug,
    _client,
    _CrashBeforeManifest,
    _manifest,
    _objects,
    _only,
    _publish,
    _publisher,
    _publish_unlocked,
)
from tests.support.web import read_body, read_url, read_object


def test_first_publish_then_rerun_then_edit(seaweed, sample, tree: Path, prefix: str) -> None:
    first = _publish(seaweed, sample, prefix)
    assert {r.slug: (r.status, r.edition, r.change_class) for r in first.schools} == {
        slug: ("published", 1, "first") for slug in SAMPLE_SLUGS
    }
    # per school: 10 edition + 9 latest (the pupils' 4 each) + 3 records + manifest; 4 at the root.
    # A run also writes each school's URN registry entry and, at the end, the public log (one
    # entry bundle and one hash tile for its 12 entries, key.txt, witnesses.json, the
    # checkpoint and its private cache) and the publish state.
    assert first.requests["put"] == 6 * (23 + 1) + 4 + 6 + 1
    assert first.requests["lock"] > 0  # it held the trust lock (its requests are counted apart)
    client = _client(seaweed)
    for slug in SAMPLE_SLUGS:
        for name in layout.LATEST_FILES:
            head = client.head_object(Bucket=seaweed.bucket, Key=layout.latest_key(prefix, slug, name))
            assert head["ContentType"] == layout.content_type(name)
            assert head["CacheControl"] == "public, max-age=300"
        head = client.head_object(Bucket=seaweed.bucket, Key=layout.edition_key(prefix, slug, 1, "index.html"))
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert head["ContentType"] == "text/html; charset=utf-8"
    assert client.head_object(Bucket=seaweed.bucket, Key=f"{prefix}/index.html")["ContentType"] == "text/html; charset=utf-8"
    v1 = {k: v for k, v in _objects(seaweed, prefix).items() if "/v1/" in k}

    rerun = _publish(seaweed, sample, prefix)
    assert {r.status for r in rerun.schools} == {"unchanged"}
    assert rerun.requests["put"] == 0

    # The DPO edits one school: a new headteacher and a new local recipient.
    path = tree / "schools" / "oakfield-primary.yaml"
    text = path.read_text(encoding="utf-8").replace("headteacher: Mr Sam Example", "headteacher: Ms Alex Example")
    text += "  - name: Example Catering Ltd\n    purpose: school meals and allergy records\n    lawful_basis: contract\n"
    path.write_text(text, encoding="utf-8")
    edited = _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix)
    results = _by_slug(edited)
    oak = results["oakfield-primary"]
    assert (oak.status, oak.edition, oak.change_class) == ("published", 2, "material")
    assert oak.changes == (
        "Local recipient added: Example Catering Ltd",
        "School headteacher changed: Mr Sam Example → Ms Alex Example",
    )
    assert {results[s].status for s in SAMPLE_SLUGS if s != "oakfield-primary"} == {"unchanged"}
    # The school's 23, the trust index and schools.json (fragment.css is unchanged), the public
    # log's 2 new entries (their bundle and hash tile, the checkpoint, its cache; key.txt and
    # witnesses.json unchanged), and the publish state with the school's new entry (its URN
    # registry entry is already there).
    assert edited.requests["put"] == 23 + 2 + 4 + 1
    changes = read_object(
        client, Bucket=seaweed.bucket, Key=layout.edition_key(prefix, "oakfield-primary", 2, "changes.html")
    ).decode()
    assert "<del>Mr Sam</del>" in changes and "<ins>Ms Alex</ins>" in changes
    assert "Example Catering Ltd" in changes and "<ins>" in changes
    manifest = _manifest(seaweed, prefix, "oakfield-primary")
    assert [e.number for e in manifest.editions] == [1, 2]
    assert manifest.editions[1].approved_by == "Test Example (DPO)"  # material: the approver is recorded
    assert manifest.editions[0].approved_by is None  # a first edition needs no approval
    assert "-- Headteacher: Mr Sam Example" in oak.diff
    assert "+- Headteacher: Ms Alex Example" in oak.diff
    # Edition 1 is untouched: same bytes, one version each.
    after = _objects(seaweed, prefix)
    assert {k: after[k] for k in v1} == v1
    for key in v1:
        versions = client.list_object_versions(Bucket=seaweed.bucket, Prefix=key)["Versions"]
        assert len([v for v in versions if v["Key"] == key]) == 1


def _new_dataset_edition(tree: Path, edit) -> None:
    """A copy of the current edition as 2027-1, edited, and the trust moved to it."""
    folder = tree / "shared_data" / "dfe-recipients"
    text = (folder / "2026-2.yaml").read_text(encoding="utf-8")
    text = text.replace('id: "2026-2"', 'id: "2027-1"').replace("effective_date: 2026-12-01", "effective_date: 2027-07-01")
    (folder / "2027-1.yaml").write_text(edit(text), encoding="utf-8")
    trust = tree / "schools" / "_trust.yaml"
    trust.write_text(
        trust.read_text(encoding="utf-8").replace('dataset_edition: "2026-2"', 'dataset_edition: "2027-1"'), encoding="utf-8"
    )


def test_dataset_edition_change_is_material_only_where_it_applies(seaweed, tree: Path, prefix: str) -> None:
    _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix)
    # The new edition stops NCMP applying to middle schools deemed secondary.
    _new_dataset_edition(
        tree,
        lambda t: t.replace(
            "phases: [Primary, Middle deemed primary, Middle deemed secondary, All-through]",
            "phases: [Primary, Middle deemed primary, All-through]",
        ),
    )
    result = _by_slug(_publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix))
    hill = result["hillcrest-middle"]
    assert (hill.status, hill.edition, hill.change_class) == ("published", 2, "material")
    label = (
        "Dataset attribution edition changed: 2026-2 → 2027-1",
        "Dataset attribution effective date changed: 2026-12-01 → 2027-07-01",
    )
    assert hill.changes == ("DfE recipient removed: National Child Measurement Programme (NCMP)", *label)
    # Everyone else's recipients are the same, but "About this notice" names the new dataset
    # edition: words a parent reads, so a new edition that needs an approver (default deny).
    for slug in SAMPLE_SLUGS:
        if slug != "hillcrest-middle":
            assert (result[slug].status, result[slug].edition, result[slug].change_class) == ("published", 2, "material"), slug
            assert result[slug].changes == label


def test_dataset_rewording_is_held_for_every_school_without_an_approver(seaweed, tree: Path, prefix: str) -> None:
    """Bypass 3: a reworded DfE paragraph was classed minor and went live with no approver."""
    _publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix)
    before = _objects(seaweed, prefix)
    text = tree / "shared_data" / "dfe-recipients" / "2026-2.yaml"
    text.write_text(
        text.read_text(encoding="utf-8").replace(
            "Its reports never name a pupil.",
            "Pupils' names, ethnicity and health records go to the Home Office and to commercial data brokers.",
        ),
        encoding="utf-8",
    )
    held = _by_slug(_publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix, approval=None))
    for slug in SAMPLE_SLUGS:
        assert (held[slug].status, held[slug].edition, held[slug].change_class) == ("held", 2, "material")
        assert held[slug].changes == ("DfE section reworded: Ofsted",)
    assert _objects(seaweed, prefix) == before  # nothing of a held school is written
    approved = _by_slug(_publish(seaweed, load_and_compose(tree / "schools", tree / "shared_data"), prefix))
    assert {approved[s].status for s in SAMPLE_SLUGS} == {"published"}


def test_presentation_only_change_reuploads_latest_without_new_edition(seaweed, sample, tmp_path: Path, prefix: str) -> None:
    one = _only(sample, "riverside-infant")
    _publish(seaweed, one, prefix)
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    css = templates / "notice.css"
    css.write_text(css.read_text().replace("line-height: 1.6;", "line-height: 1.65;"), encoding="utf-8")
    result = _publish(seaweed, one, prefix, templates=templates)
    (school,) = [r for r in result.schools]
    assert (school.status, school.edition, school.change_class) == ("presentation", 1, "presentation")
    assert not any("/v2/" in key for key in school.uploads)
    assert set(school.uploads) >= {layout.latest_key(prefix, "riverside-infant", n) for n in ("index.html", "notice.pdf")}
    manifest = _manifest(seaweed, prefix, "riverside-infant")
    assert len(manifest.editions) == 1 and len(manifest.presentation_updates) == 1
    again = _publish(seaweed, one, prefix, templates=templates)
    assert again.requests["put"] == 0


def test_dry_run_uploads_nothing(seaweed, sample, prefix: str) -> None:
    result = _publish(seaweed, sample, prefix, dry_run=True)
    assert result.requests["put"] == 0
    assert {r.status for r in result.schools} == {"published"}
    assert all(len(r.uploads) == 23 for r in result.schools)  # 10 edition, 9 latest, 4 records
    assert _objects(seaweed, prefix) == {}


def test_header_drift_is_detected_and_fixed(seaweed, sample, prefix: str) -> None:
    one = _only(sample, "northgate-academy")
    _publish(seaweed, one, prefix)
    client = _client(seaweed)
    key = layout.latest_key(prefix, "northgate-academy", "notice.json")
    client.copy_object(
        Bucket=seaweed.bucket,
        Key=key,
        CopySource={"Bucket": seaweed.bucket, "Key": key},
        ContentType="binary/octet-stream",
        CacheControl="max-age=300",
        MetadataDirective="REPLACE",
    )
    # The publish state tracks ETags, and a copy that only replaces the headers keeps the
    # ETag: a school the state confirms is not checked in full (`--force` checks it). Without
    # the state, as when it is unreadable, the school takes the full path, which finds the drift.
    client.delete_object(Bucket=seaweed.bucket, Key=state_key(prefix))
    result = _publish(seaweed, one, prefix)
    assert result.schools[0].uploads == [key]
    head = client.head_object(Bucket=seaweed.bucket, Key=key)
    assert (head["ContentType"], head["CacheControl"]) == ("application/json; charset=utf-8", "public, max-age=300")


def test_a_corrupt_manifest_fails_that_school_only_and_is_never_overwritten(seaweed, sample, prefix: str) -> None:
    client = _client(seaweed)
    key = layout.record_key(prefix, "oakfield-primary", "manifest.json")
    client.put_object(Bucket=seaweed.bucket, Key=key, Body=b"{not json")
    result = _by_slug(_publish(seaweed, sample, prefix))
    assert result["oakfield-primary"].status == "failed"
    assert "cannot read the manifest" in result["oakfield-primary"].error and key in result["oakfield-primary"].error
    assert {result[s].status for s in SAMPLE_SLUGS if s != "oakfield-primary"} == {"published"}
    assert read_object(client, Bucket=seaweed.bucket, Key=key) == b"{not json"


def test_a_run_that_dies_before_the_manifest_is_completed_by_the_next(seaweed, sample, prefix: str) -> None:
    one = _only(sample, "brookside-special")
    crashing = _CrashBeforeManifest(_client(seaweed), seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")
    with pytest.raises(KeyboardInterrupt):
        _publish(seaweed, one, prefix, publisher=crashing)
    assert layout.edition_key(prefix, "brookside-special", 1, "index.html") in _objects(seaweed, prefix)
    result = _publish(seaweed, one, prefix)
    assert (result.schools[0].status, result.schools[0].edition) == ("published", 1)
    assert [e.number for e in _manifest(seaweed, prefix, "brookside-special").editions] == [1]


def test_two_publishers_racing_on_one_school_lose_nothing(seaweed, tree: Path, prefix: str) -> None:
    base = load_and_compose(tree / "schools", tree / "shared_data", only=("st-aidans-all-through",))
    _publish(seaweed, base, prefix)
    variants = []
    for head in ("Mrs A Racer", "Mr B Racer"):
        notice = base.notices[0]
        school = notice.school.model_copy(update={"headteacher": head})
        variants.append(type(base)(base.inputs, (notice.model_copy(update={"school": school}),), (), ()))
    barrier = threading.Barrier(2)
    results: list[RunResult] = []

    class _InStep(S3Publisher):
        def get(self, key):  # both read the same manifest, then race to write
            stored = super().get(key)
            if key.endswith("manifest.json") and not getattr(self, "_met", False):
                self._met = True
                barrier.wait(timeout=10)
            return stored

    def run(variant) -> None:
        # Without the trust lock, which would make the second run wait for the first: this is
        # what two runs do if one lost its lease to a long pause, where only the manifest's
        # conditional writes keep every edition.
        pub = _InStep(_client(seaweed), seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")
        results.append(_publish_unlocked(seaweed, variant.notices, variant, prefix, pub))

    threads = [threading.Thread(target=run, args=(v,)) for v in variants]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    statuses = sorted((r.schools[0].status, r.schools[0].edition) for r in results)
    assert statuses == [("published", 2), ("published", 3)]
    manifest = _manifest(seaweed, prefix, "st-aidans-all-through")
    assert [e.number for e in manifest.editions] == [1, 2, 3]
    assert sum(r.requests.get("put", 0) for r in results) > 0
    # Both heads were published as editions, and the latest files show the last one.
    objects = _objects(seaweed, prefix)
    heads = {n: objects[layout.edition_key(prefix, "st-aidans-all-through", n, "notice.json")] for n in (2, 3)}
    assert {json.loads(b)["school"]["headteacher"] for b in heads.values()} == {"Mrs A Racer", "Mr B Racer"}
    assert objects[layout.latest_key(prefix, "st-aidans-all-through", "notice.json")] == heads[3]


def test_conditional_writes_are_enforced_by_the_server(seaweed, prefix: str) -> None:
    pub = _publisher(seaweed)
    key = f"{prefix}/x.json"
    etag = pub.put(key, b"1", content_type="application/json", cache_control="no-cache", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        pub.put(key, b"2", content_type="application/json", cache_control="no-cache", if_none_match=True)
    with pytest.raises(PreconditionFailed):
        pub.put(key, b"2", content_type="application/json", cache_control="no-cache", if_match='"0123"')
    pub.put(key, b"3", content_type="application/json", cache_control="no-cache", if_match=etag)
    assert pub.get(key).body == b"3"


def test_anonymous_get_works_and_anonymous_put_is_refused(seaweed, sample, prefix: str) -> None:
    result = _publish(seaweed, _only(sample, "riverside-infant"), prefix)
    url = result.schools[0].url
    body, headers = read_url(url, timeout=10)
    assert headers["Content-Type"] == "text/html; charset=utf-8" and headers["Content-Encoding"] == "gzip"
    assert b"Riverside Infant School" in body
    put = urllib.request.Request(url, data=b"<p>defaced</p>", method="PUT")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(put, timeout=10)
    assert refused.value.code == 403
    latest = json.loads(read_body(url.replace("index.html", "latest.json"), timeout=10))
    assert latest["edition"] == 1 and latest["urls"]["page"] == url
    feed = read_body(url.replace("index.html", "feed.xml"), timeout=10).decode()
    assert feed.count("<entry>") == 1
    assert "<id>tag:trust.example.org," in feed and ":riverside-infant/privacy-notice/v1</id>" in feed


def test_relative_links_resolve_to_published_objects(seaweed, sample, prefix: str) -> None:
    """Pages link to explicit files, so every relative link works over the plain REST endpoint."""
    _publish(seaweed, _only(sample, "oakfield-primary", "riverside-infant"), prefix)
    objects = _objects(seaweed, prefix)
    for key, body in objects.items():
        if not key.endswith(".html"):
            continue
        folder = key.rsplit("/", 1)[0]
        for href in re.findall(r'href="([^"#:]+)"', body.decode()):
            parts = folder.split("/")
            for part in href.split("/"):
                parts = parts[:-1] if part == ".." else [*parts, part]
            target = "/".join(parts)
            if target.endswith("/v2/index.html") or target.endswith("/changes.html") and "/v1/" in target:
                continue
            assert target in objects, f"{key} links to missing {href}"
