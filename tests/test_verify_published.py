"""``notices verify`` against what a real run published on SeaweedFS (anonymous reads over HTTP).

``test_verify.py`` attacks a tiny static site built from the spec; here the site and log are
the publishing code's own: an honest publish verifies, before and after a new edition (the
consistency proof against the checkpoint remembered from the first check), and the attacks a
bucket's key holder could make on it are each named.
"""

from __future__ import annotations

from tests.support.web import read_object

import json
import os
from pathlib import Path

import pytest

from flows.cli import main
from flows.notice.prepare import load_and_compose
from flows.publish import layout
from flows.publish.log_key import load_log_signer, make_log_key
from flows.tlog.note import load_signer, open_note, sign_note
from tests.support.publishing import _client, _only, _publish


def _root(seaweed, prefix: str) -> str:
    return f"{seaweed.endpoint_url}/{seaweed.bucket}/{prefix}/"


def _verify(capsys: pytest.CaptureFixture[str], url: str, state: Path, *extra: str) -> tuple[int, str, str]:
    code = main(["verify", url, "--state", str(state), "--timeout", "10", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def _put(seaweed, key: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
    _client(seaweed).put_object(Bucket=seaweed.bucket, Key=key, Body=body, ContentType=content_type)


def _get(seaweed, key: str) -> bytes:
    return read_object(_client(seaweed), Bucket=seaweed.bucket, Key=key)


def test_every_sample_school_verifies_and_again_after_a_new_edition(
    seaweed, sample, prefix: str, tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(seaweed, sample, prefix)
    code, out, err = _verify(capsys, _root(seaweed, prefix), tmp_path / "state", "--json")
    report = json.loads(out)
    assert (code, err, report["ok"]) == (0, "", True), report["problems"]
    assert sorted(s["slug"] for s in report["schools"]) == sorted(n.slug for n in sample.notices)
    assert report["size"] == 2 * len(sample.notices)
    path = tree / "schools" / "oakfield-primary.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("headteacher: Mr Sam Example", "headteacher: Ms Alex Example"), encoding="utf-8"
    )
    _publish(seaweed, _only(load_and_compose(tree / "schools", tree / "shared_data"), "oakfield-primary"), prefix)
    school = layout.school_url(_root(seaweed, ""), prefix, "oakfield-primary")
    code, out, err = _verify(capsys, school, tmp_path / "state", "--json")  # the log grew since: a consistency proof
    report = json.loads(out)
    assert (code, err, report["size"], report["schools"][0]["editions"]) == (0, "", report["size"], [1, 2]), report["problems"]


def test_a_changed_edition_file_and_a_latest_file_matching_no_entry_are_named(
    seaweed, sample, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(seaweed, _only(sample, "oakfield-primary"), prefix)
    root = _root(seaweed, prefix)
    assert _verify(capsys, root, tmp_path / "state")[0] == 0
    edition_md = layout.edition_key(prefix, "oakfield-primary", 1, "notice.md")
    original = _get(seaweed, edition_md)
    _put(
        seaweed,
        edition_md,
        original.replace(b"Department for Education", b"Department for Educatiom", 1),
        "text/markdown; charset=utf-8",
    )
    code, _out, err = _verify(capsys, root, tmp_path / "state")
    assert code == 1 and f"{edition_md}: sha256 " in err and "does not match the log's" in err, err
    _put(seaweed, edition_md, original, "text/markdown; charset=utf-8")
    latest_page = layout.latest_key(prefix, "oakfield-primary", "index.html")
    _put(seaweed, latest_page, _get(seaweed, latest_page).replace(b"</main>", b"<p>Also shared with Example Ltd.</p></main>"))
    code, _out, err = _verify(capsys, root, tmp_path / "state")
    assert code == 1 and f"{latest_page}: sha256 " in err and "matches no entry of the log" in err, err


def test_a_checkpoint_re_signed_with_another_key_is_refused_by_a_reader_who_saw_the_first(
    seaweed, sample, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(seaweed, _only(sample, "oakfield-primary"), prefix)
    root = _root(seaweed, prefix)
    assert _verify(capsys, root, tmp_path / "state")[0] == 0
    other = tmp_path / "other"
    vkey = make_log_key(other, load_log_signer().name)
    checkpoint = layout.log_key(prefix, "checkpoint")
    text = open_note(_get(seaweed, checkpoint).decode(), []).text
    _put(seaweed, checkpoint, sign_note(text, load_signer(other.read_text().strip())).encode(), "text/plain; charset=utf-8")
    _put(seaweed, layout.log_key(prefix, "key.txt"), (vkey + "\n").encode(), "text/plain; charset=utf-8")
    code, _out, err = _verify(capsys, root, tmp_path / "state")
    assert code == 1 and "signed by another key" in err, err
    assert _verify(capsys, root, tmp_path / "fresh")[0] == 0  # a first-time reader trusts the published key (TOFU)


def test_a_change_of_key_vouched_for_by_the_old_key_moves_a_reader_to_the_new_one(
    seaweed, sample, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _only(sample, "oakfield-primary")
    _publish(seaweed, one, prefix)
    root, state = _root(seaweed, prefix), tmp_path / "state"
    assert _verify(capsys, root, state)[0] == 0
    old = Path(os.environ["NOTICES_LOG_KEY_FILE"]).read_text()
    new = tmp_path / "new-key"
    make_log_key(new, load_log_signer().name)
    monkeypatch.setenv("NOTICES_LOG_KEY_FILE", str(new))
    monkeypatch.setenv("NOTICES_LOG_PREVIOUS_KEY", old)
    _publish(seaweed, one, prefix, force=True)  # nothing new: the same tree, signed by both keys
    code, out, err = _verify(capsys, root, state)
    assert (code, err) == (0, "") and "the trust's log key changed to" in out, out
    monkeypatch.delenv("NOTICES_LOG_PREVIOUS_KEY")
    _publish(seaweed, _only(sample, "hillcrest-middle"), prefix)  # the log grows under the new key alone
    code, out, err = _verify(capsys, root, state)
    assert (code, err) == (0, ""), err  # the reader trusts it now


def test_a_school_dropped_from_the_trust_list_is_still_named_by_the_log(
    seaweed, sample, prefix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _publish(seaweed, _only(sample, "oakfield-primary", "hillcrest-middle"), prefix)
    listing = layout.root_key(prefix, "schools.json")
    data = json.loads(_get(seaweed, listing))
    data["schools"] = [s for s in data["schools"] if s["slug"] != "hillcrest-middle"]
    _put(seaweed, listing, json.dumps(data).encode(), "application/json; charset=utf-8")
    code, _out, err = _verify(capsys, _root(seaweed, prefix), tmp_path / "state")
    assert code == 1 and "(hillcrest-middle) has 2 entries in the log, but schools.json does not list it" in err, err
