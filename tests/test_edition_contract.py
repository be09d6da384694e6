"""The edition contract against a real S3 (SeaweedFS): editions say what they are, are never
overwritten, keep their feed ids, and a change that needs approval is never published without
a named approver. Runs go through ``run_trust``, the library function the flow calls (``tests/support/publishing.py``)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import pytest

from flows.publish import layout, private
from flows.publish.base import PublishError
from flows.publish.context import Approval
from flows.editions.approval import check_approver
from flows.notice.prepare import load_and_compose

from tests.support.publishing import _CrashBeforeManifest, _client, _manifest, _objects, _only, _publish, _publisher
from tests.support.web import read_url


def _later(hours: float):
    return lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)


def _add_local_recipient(tree: Path, slug: str, name: str = "Example Tutoring Ltd") -> None:
    path = tree / "schools" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    if "local_recipients:" not in text:
        text += "local_recipients:\n"
    path.write_text(text + f"  - name: {name}\n    purpose: catch-up tutoring\n    lawful_basis: public_task\n", encoding="utf-8")


def _pdf_text(pdf: bytes) -> bytes:
    # A decompress object, not zlib.decompress: binary stream data may itself contain
    # "\nendstream", which cuts the regex's match short (whatever was inflated is kept).
    return pdf + b"".join(
        zlib.decompressobj().decompress(m.group(1))
        for m in re.finditer(rb"/FlateDecode[^>]*>>\s*stream\r?\n(.*?)\r?\nendstream", pdf, re.S)
    )


def test_every_form_says_which_edition_it_is_and_links_work_from_both_places(seaweed, tree: Path, prefix: str) -> None:
    schools = tree / "schools"
    _publish(seaweed, load_and_compose(schools, tree / "shared_data", only=("oakfield-primary",)), prefix)
    _add_local_recipient(tree, "oakfield-primary")
    second = _publish(seaweed, load_and_compose(schools, tree / "shared_data", only=("oakfield-primary",)), prefix, now=_later(1))
    assert second.schools[0].edition == 2
    objects = _objects(seaweed, prefix)
    manifest = _manifest(seaweed, prefix, "oakfield-primary")
    when = dt.datetime.fromisoformat(manifest.editions[1].published_at.replace("Z", "+00:00")).astimezone(dt.UTC)
    assert manifest.editions[1].published_at.endswith("Z")
    folder = layout.school_dir(prefix, "oakfield-primary")
    for where in ("", "v2/"):
        page = objects[f"{folder}/{where}index.html"].decode()
        assert "edition 2</strong>" in page.lower() and "published" in page
        assert f"{when.day} {when:%B %Y}" in page and ("GMT" in page or "BST" in page)  # UK time
        assert '<link rel="alternate" type="application/atom+xml"' in page
        up = "../" if where else ""
        assert f'href="{up}history.html"' in page and f'href="{up}feed.xml"' in page
        assert b"edition 2" in objects[f"{folder}/{where}notice.md"].lower()
        assert b"edition 2</strong>" in objects[f"{folder}/{where}fragment.html"].lower()
        assert json.loads(objects[f"{folder}/{where}notice.json"])["edition"]["number"] == 2
    assert 'href="../index.html"' in objects[f"{folder}/v2/index.html"].decode()  # an old edition points to the current one
    assert "may have been replaced" in objects[f"{folder}/v1/index.html"].decode()
    assert objects[f"{folder}/v1/index.html"] != objects[f"{folder}/index.html"]
    pdf = _pdf_text(objects[f"{folder}/v2/notice.pdf"])
    assert b"/CreationDate (D:" + f"{when:%Y%m%d%H%M%S}".encode() in pdf  # the PDF's time is the edition's
    for key, body in objects.items():  # every relative link, from latest and from v<N>/, names a stored object
        if key.endswith(".html") and "/privacy-notice/" in key:
            base = key.rsplit("/", 1)[0].split("/")
            for href in re.findall(r'href="([^"#:]+)"', body.decode()):
                parts = list(base)
                for part in href.split("/"):
                    parts = parts[:-1] if part == ".." else [*parts, part]
                assert "/".join(parts) in objects, f"{key} links to missing {href}"


def test_feed_ids_do_not_move_with_the_site(seaweed, sample, prefix: str) -> None:
    one = _only(sample, "riverside-infant")
    _publish(seaweed, one, prefix)
    moved = _publisher(seaweed)
    moved.public_base_url = "https://notices.example.org/"
    _publish(seaweed, one, prefix, publisher=moved, force=True)  # same editions, served from elsewhere
    feed = _objects(seaweed, prefix)[layout.record_key(prefix, "riverside-infant", "feed.xml")].decode()
    ids = re.findall(r"<id>(.*?)</id>", feed)
    manifest = _manifest(seaweed, prefix, "riverside-infant")
    first_day = manifest.editions[0].published_at[:10]
    assert ids == [f"tag:trust.example.org,{first_day}:riverside-infant/privacy-notice", f"{ids[0]}/v1"]
    assert manifest.feed_id == ids[0] and "https://notices.example.org/" in feed  # links moved, ids did not


def test_an_orphan_edition_with_other_words_is_never_overwritten(seaweed, tree: Path, prefix: str) -> None:
    schools, shared = tree / "schools", tree / "shared_data"
    _publish(seaweed, load_and_compose(schools, shared, only=("brookside-special",)), prefix)
    _add_local_recipient(tree, "brookside-special", "Crashed Run Ltd")
    crashing = _CrashBeforeManifest(_client(seaweed), seaweed.bucket, f"{seaweed.endpoint_url}/{seaweed.bucket}/")
    with pytest.raises(KeyboardInterrupt):  # dies between the edition files and the manifest
        _publish(seaweed, load_and_compose(schools, shared, only=("brookside-special",)), prefix, publisher=crashing)
    orphan_key = layout.edition_key(prefix, "brookside-special", 2, "index.html")
    orphan = _objects(seaweed, prefix)[orphan_key]
    path = schools / "brookside-special.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Crashed Run Ltd", "Published Ltd"), encoding="utf-8")
    result = _publish(seaweed, load_and_compose(schools, shared, only=("brookside-special",)), prefix, now=_later(2)).schools[0]
    assert (result.status, result.edition) == ("published", 3)
    assert any("2 skipped" in note for note in result.notes)
    manifest = _manifest(seaweed, prefix, "brookside-special")
    assert [e.number for e in manifest.editions] == [1, 3] and manifest.skipped == (2,)
    after = _objects(seaweed, prefix)
    assert after[orphan_key] == orphan  # the bytes served as immutable are still the same bytes
    versions = _client(seaweed).list_object_versions(Bucket=seaweed.bucket, Prefix=orphan_key)["Versions"]
    assert len([v for v in versions if v["Key"] == orphan_key]) == 1
    assert b"Published Ltd" in after[layout.edition_key(prefix, "brookside-special", 3, "notice.json")]
    assert (
        "Edition numbers 2 were never published" in after[layout.record_key(prefix, "brookside-special", "history.html")].decode()
    )


def test_a_material_change_without_a_named_approver_is_held_and_writes_nothing(seaweed, tree: Path, prefix: str) -> None:
    schools, shared = tree / "schools", tree / "shared_data"
    _publish(seaweed, load_and_compose(schools, shared, only=("northgate-academy",)), prefix)
    before = _objects(seaweed, prefix)
    _add_local_recipient(tree, "northgate-academy")
    held = _publish(seaweed, load_and_compose(schools, shared, only=("northgate-academy",)), prefix, approval=None).schools[0]
    assert (held.status, held.change_class, held.edition) == ("held", "material", 2)
    assert {u.key for u in held.planned} == {"index.html", "changes.html"}  # a preview for the approver
    assert _objects(seaweed, prefix) == before  # nothing written, not even a latest file
    done = _publish(
        seaweed,
        load_and_compose(schools, shared, only=("northgate-academy",)),
        prefix,
        approval=Approval("Alex Example (DPO)", "checked"),
    )
    assert (done.schools[0].status, done.schools[0].approved_by) == ("published", "Alex Example (DPO)")
    history = _objects(seaweed, prefix)[layout.record_key(prefix, "northgate-academy", "history.html")].decode()
    feed = _objects(seaweed, prefix)[layout.record_key(prefix, "northgate-academy", "feed.xml")].decode()
    assert "Approved by Alex Example (DPO): “checked”." in history and "Approved by Alex Example (DPO): checked." in feed


@pytest.mark.parametrize("name", ["", "   ", "root", "ROOT", "runner", "12345", "a\x1b[31mb"])
def test_a_system_account_or_empty_name_is_not_an_approver(name: str) -> None:
    with pytest.raises(ValueError):
        check_approver(name)
    assert check_approver("  Alex   Example (DPO) ") == "Alex Example (DPO)"


def test_private_run_files_are_not_public_and_are_removed_after_the_decision(seaweed, prefix: str) -> None:
    pub = _publisher(seaweed)
    from flows.publish.context import Upload
    from flows.publish.results import SchoolResult, Status

    held = SchoolResult(
        "oakfield-primary", Status.HELD, edition=2, planned=[Upload("changes.html", b"<p>preview</p>", "no-store")]
    )
    links = private.stage_previews(pub, prefix, "run-1", [held])
    key = private.run_key(prefix, "run-1", "preview", "oakfield-primary", "changes.html")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(pub.url(key), timeout=10)
    assert refused.value.code == 403
    body, headers = read_url(links["oakfield-primary"]["changes.html"], timeout=10)  # the presigned link
    assert body == b"<p>preview</p>" and headers["Content-Encoding"] == "gzip"
    private.save_plan(pub, prefix, "run-1", [held], {})
    assert private.load_plan(pub, prefix, "run-1")[0][0].slug == "oakfield-primary"
    private.remove_run_files(pub, prefix, "run-1")
    assert [h.key for h in pub.list(private.run_key(prefix, "run-1") + "/")] == []
    private.write_report(pub, prefix, "run-2", "# report")
    assert private.sweep_expired(pub, prefix, now=dt.datetime.now().timestamp() + 9 * 86400) == 1


@pytest.mark.parametrize("body", [b"{not json", b'{"schools": [{"slug": "x", "status": "approved"}]}', b'{"plans": []}'])
def test_an_unreadable_saved_plan_is_a_publish_error_naming_it(seaweed, prefix: str, body: bytes) -> None:
    pub = _publisher(seaweed)
    key = private.run_key(prefix, "run-3", "plan.json")
    pub.put(key, body, content_type="application/json", cache_control="no-store")
    with pytest.raises(PublishError, match="cannot read the saved plan") as raised:
        private.load_plan(pub, prefix, "run-3")
    assert key in str(raised.value) and not raised.value.transient
