"""The trust's public log as publishing writes it (``flows.publish.log``), against SeaweedFS.

What a reader checks is in ``test_verify*.py``; here: the log holds exactly the entries the
manifests give, an unchanged rerun writes nothing to it, appends cost O(N/256 + log N)
objects, a killed append is adopted rather than overwritten, and a log changed outside the
tool (another key, a rewritten tile) stops the log step without losing anything.
"""

from __future__ import annotations

from tests.support.web import read_object

import json
import os
from pathlib import Path

import pytest

from flows.publish import layout
from flows.publish.log import append_log, read_log
from flows.publish.log_entries import entry_id, school_entries
from flows.publish.base import PreconditionFailed, PublishError
from flows.publish.s3 import S3Publisher
from flows.publish.log_key import LogKeyError, load_log_keys, load_log_signer, make_log_key
from flows.publish.results import LOG_NOT_UPDATED, Status
from flows.tlog.merkle import leaf_hash, root_of
from flows.notice.prepare import load_and_compose
from flows.tlog.note import generate_key, load_signer, vkey_of
from flows.tlog.tiles import decode_bundle, entries_path, plan_append
from tests.support.publishing import _client, _manifest, _objects, _only, _publish, _publisher


def _log_objects(seaweed, prefix: str) -> dict[str, bytes]:
    folder = layout.log_key(prefix, "") + "/"
    return {k[len(folder) :]: v for k, v in _objects(seaweed, prefix).items() if k.startswith(folder)}


def _all_entries(seaweed, prefix: str) -> list[bytes]:
    pub = _publisher(seaweed)
    state = read_log(pub, prefix, load_log_signer())
    entries: list[bytes] = []
    for tile in range(0, state.size, 256):
        width = min(256, state.size - tile)
        entries += decode_bundle(pub.get(layout.log_key(prefix, entries_path(tile // 256, width))).body)  # type: ignore[union-attr]
    return entries


def test_a_first_publish_logs_every_edition_and_latest_record_and_signs_the_checkpoint(seaweed, sample, prefix: str) -> None:
    run = _publish(seaweed, sample, prefix)
    assert all(r.status is Status.PUBLISHED for r in run.schools)
    entries = _all_entries(seaweed, prefix)
    expected = [
        e for r in run.schools for e in school_entries(sample.inputs.trust.company_number, _manifest(seaweed, prefix, r.slug))
    ]
    assert sorted(entries) == sorted(expected)
    assert len(entries) == 2 * len(run.schools)  # edition 1 and the latest files of each school
    state = read_log(_publisher(seaweed), prefix, load_log_signer())
    assert state.size == len(entries) and state.root == root_of([leaf_hash(e) for e in entries])
    objects = _log_objects(seaweed, prefix)
    assert objects["key.txt"].decode() == vkey_of(load_log_signer()) + "\n"
    assert json.loads(objects["witnesses.json"]) == {"witnesses": []}
    latest = json.loads(
        read_object(_client(seaweed), Bucket=seaweed.bucket, Key=layout.record_key(prefix, "oakfield-primary", "latest.json"))
    )
    assert latest["log"]["entry"] in {entry_id(e) for e in entries}
    assert latest["log"]["checkpoint"].endswith(f"{prefix}/_log/checkpoint")


def test_an_unchanged_rerun_writes_nothing_to_the_log(seaweed, sample, prefix: str) -> None:
    _publish(seaweed, sample, prefix)
    before = _log_objects(seaweed, prefix)
    again = _publish(seaweed, sample, prefix, force=True)  # the full path: every manifest read, every entry offered again
    assert all(r.status.live for r in again.schools)
    assert _log_objects(seaweed, prefix) == before


def test_a_new_edition_appends_its_entries_and_chains_to_the_last(seaweed, sample, prefix: str, tree: Path) -> None:
    _publish(seaweed, _only(sample, "oakfield-primary"), prefix)
    first = _all_entries(seaweed, prefix)
    path = tree / "schools" / "oakfield-primary.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("headteacher: Mr Sam Example", "headteacher: Ms Alex Example"), encoding="utf-8"
    )
    run = _publish(seaweed, _only(load_and_compose(tree / "schools", tree / "shared_data"), "oakfield-primary"), prefix)
    assert run.schools[0].status is Status.PUBLISHED and run.schools[0].edition == 2
    entries = _all_entries(seaweed, prefix)
    assert entries[: len(first)] == first and len(entries) == len(first) + 2  # the log only grew: edition 2, its latest files
    records = [json.loads(e) for e in entries]
    v1 = next(e for e, r in zip(entries, records, strict=True) if r["kind"] == "edition" and r["edition"] == 1)
    v2 = next(r for r in records if r["kind"] == "edition" and r["edition"] == 2)
    assert v2["previous"] == entry_id(v1)
    assert v2["change_class"] == run.schools[0].change_class and v2["approved_by"] == run.schools[0].approved_by


def test_appending_n_entries_writes_about_n_over_256_plus_log_n_objects(seaweed, prefix: str) -> None:
    pub, signer = _publisher(seaweed), load_log_signer()
    entries = [json.dumps({"n": i}).encode() for i in range(700)]
    first = append_log(pub, prefix, signer, entries[:300])
    second = append_log(pub, prefix, signer, entries)  # the first 300 are already there: only 400 new
    assert (first.appended, first.size, second.appended, second.size) == (300, 300, 400, 700)
    tiles = [k for k in second.written if "/tile/" in k]
    # 400 new entries from 300: bundles 001 (full), 002.p/188; hash tiles 0/001, 0/002.p/188, 1/000.p/2; and the checkpoint
    assert len(tiles) == 5, tiles
    assert append_log(pub, prefix, signer, entries).written == ()
    assert read_log(pub, prefix, signer).root == root_of([leaf_hash(e) for e in entries])


def test_an_append_killed_before_its_checkpoint_is_adopted_not_overwritten(seaweed, prefix: str) -> None:
    pub, signer = _publisher(seaweed), load_log_signer()
    append_log(pub, prefix, signer, [b'{"n":0}'])
    killed = plan_append(1, lambda p: pub.get(layout.log_key(prefix, p)).body, [b'{"n":1}', b'{"n":2}'])  # type: ignore[union-attr]
    for path, body in killed.tiles.items():  # the tiles were written, then the run died
        pub.put(layout.log_key(prefix, path), body, content_type="application/octet-stream", cache_control=layout.IMMUTABLE_CACHE)
    stale = dict(_log_objects(seaweed, prefix))
    outcome = append_log(pub, prefix, signer, [b'{"n":3}'])  # another run, with other entries
    assert outcome.size == 4 and outcome.appended == 3
    after = _log_objects(seaweed, prefix)
    assert all(after[path] == body for path, body in stale.items() if path.startswith("tile/"))
    state = read_log(pub, prefix, signer)
    assert state.root == root_of([leaf_hash(e) for e in (b'{"n":0}', b'{"n":1}', b'{"n":2}', b'{"n":3}')])


def test_a_lost_private_cache_is_rebuilt_from_the_public_bundles(seaweed, prefix: str) -> None:
    pub, signer = _publisher(seaweed), load_log_signer()
    entries = [json.dumps({"n": i}).encode() for i in range(5)]
    append_log(pub, prefix, signer, entries)
    _client(seaweed).delete_object(Bucket=seaweed.bucket, Key=layout.private_key(prefix, "log-index.json"))
    again = append_log(pub, prefix, signer, entries)
    assert (again.appended, again.size) == (0, 5)


def test_ids_written_into_the_private_cache_by_someone_else_do_not_keep_an_entry_out(seaweed, prefix: str) -> None:
    """Whoever can write the bucket cannot list an entry in the cache so that runs never log it:
    the cache is signed with the log's key, and one that is not is rebuilt from the bundles."""
    pub, signer = _publisher(seaweed), load_log_signer()
    append_log(pub, prefix, signer, [b'{"n":0}'])
    key = layout.private_key(prefix, "log-index.json")
    cache = json.loads(read_object(_client(seaweed), Bucket=seaweed.bucket, Key=key))
    hidden = b'{"n":1}'
    cache["ids"].append(entry_id(hidden))
    _client(seaweed).put_object(Bucket=seaweed.bucket, Key=key, Body=json.dumps(cache).encode())
    outcome = append_log(pub, prefix, signer, [b'{"n":0}', hidden])
    assert (outcome.appended, outcome.size) == (1, 2)
    assert read_log(pub, prefix, signer).root == root_of([leaf_hash(b'{"n":0}'), leaf_hash(hidden)])


def test_a_checkpoint_under_another_key_stops_the_log_step_and_the_state_is_not_saved(
    seaweed, sample, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = _only(sample, "oakfield-primary")
    _publish(seaweed, one, prefix)
    other = tmp_path / "other-key"
    make_log_key(other, "trust.example.org/privacy-notices")
    monkeypatch.setenv("NOTICES_LOG_KEY_FILE", str(other))
    before = _log_objects(seaweed, prefix)
    run = _publish(seaweed, one, prefix, force=True)
    result = run.schools[0]
    assert any(n.startswith(LOG_NOT_UPDATED) and "signed by another key" in n for n in result.notes), result.notes
    assert run.index_error is not None and "public log" in run.index_error
    assert _log_objects(seaweed, prefix) == before  # nothing appended, nothing replaced


def test_without_a_log_key_nothing_is_published(
    seaweed, sample, prefix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NOTICES_LOG_KEY_FILE", str(tmp_path / "none"))
    with pytest.raises(LogKeyError, match="log key is missing"):
        load_log_signer()
    run = _publish(seaweed, _only(sample, "oakfield-primary"), prefix)
    assert run.schools[0].status is Status.FAILED and "notices log keygen" in (run.schools[0].error or "")
    assert _objects(seaweed, prefix) == {}


def test_the_key_is_never_overwritten_and_a_bad_key_is_named_without_echoing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "key"
    make_log_key(path, "trust.example.org/privacy-notices")
    assert path.stat().st_mode & 0o777 == 0o600
    with pytest.raises(LogKeyError, match="already holds a key"):
        make_log_key(path, "trust.example.org/privacy-notices")
    secret = generate_key("trust.example.org/privacy-notices")[0]
    monkeypatch.setenv("NOTICES_LOG_KEY", secret[:-3] + "!!!")
    with pytest.raises(LogKeyError) as caught:
        load_log_signer()
    assert "$NOTICES_LOG_KEY" in str(caught.value) and secret[20:] not in str(caught.value)


def _checkpoint_signers(seaweed, prefix: str) -> list[str]:
    note = read_object(_client(seaweed), Bucket=seaweed.bucket, Key=layout.log_key(prefix, "checkpoint")).decode()
    return [line.split(" ")[2][:8] for line in note.split("\n\n", 1)[1].splitlines()]


def test_a_changed_key_cosigned_by_the_old_one_takes_over_the_same_log(seaweed, prefix: str, tmp_path: Path, monkeypatch) -> None:
    pub, old = _publisher(seaweed), load_log_signer()
    append_log(pub, prefix, old, [b'{"n":0}'])
    old_text = Path(os.environ["NOTICES_LOG_KEY_FILE"]).read_text()
    new_path = tmp_path / "new-key"
    make_log_key(new_path, old.name)
    monkeypatch.setenv("NOTICES_LOG_KEY_FILE", str(new_path))
    monkeypatch.setenv("NOTICES_LOG_PREVIOUS_KEY", old_text)
    keys = load_log_keys()
    outcome = append_log(pub, prefix, keys, [])  # nothing new: the same tree, signed again by both keys
    assert outcome.size == 1 and len(_checkpoint_signers(seaweed, prefix)) == 2
    assert _log_objects(seaweed, prefix)["key.txt"].decode() == vkey_of(keys.signer) + "\n"
    monkeypatch.delenv("NOTICES_LOG_PREVIOUS_KEY")
    assert append_log(pub, prefix, load_log_keys(), [b'{"n":1}']).size == 2  # the new key alone from now on
    assert len(_checkpoint_signers(seaweed, prefix)) == 1


def test_a_lost_key_is_replaced_by_naming_its_public_half(seaweed, prefix: str, tmp_path: Path, monkeypatch) -> None:
    pub, old = _publisher(seaweed), load_log_signer()
    append_log(pub, prefix, old, [b'{"n":0}'])
    new_path = tmp_path / "new-key"
    make_log_key(new_path, old.name)
    monkeypatch.setenv("NOTICES_LOG_KEY_FILE", str(new_path))
    with pytest.raises(PublishError, match="signed by another key"):
        append_log(pub, prefix, load_log_keys(), [b'{"n":1}'])
    monkeypatch.setenv("NOTICES_LOG_PREVIOUS_KEY", vkey_of(old))
    outcome = append_log(pub, prefix, load_log_keys(), [b'{"n":1}'])
    assert outcome.size == 2 and len(_checkpoint_signers(seaweed, prefix)) == 1


def test_keygen_makes_the_key_once_and_prints_its_public_half(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    out = tmp_path / "log-key"
    assert main(["log", "keygen", "--out", str(out), "--origin", "trust.example.org/privacy-notices"]) == 0
    printed = capsys.readouterr()
    assert printed.out.startswith("trust.example.org/privacy-notices+") and "made the trust's log key at" in printed.err
    assert vkey_of(load_signer(out.read_text().strip())) == printed.out.strip()
    assert main(["log", "keygen", "--out", str(out)]) == 1
    assert "already holds a key" in capsys.readouterr().err
    assert main(["log", "keygen", "--out", str(out), "--if-missing"]) == 0
    assert out.read_text().strip().startswith("PRIVATE+KEY+trust.example.org/privacy-notices+")


def test_a_lost_answer_to_the_checkpoint_write_is_our_own_write(seaweed, prefix: str) -> None:
    """The PUT was applied but its answer lost; the retry's 412 finds our bytes there: done, not an error."""

    class _LostAnswer(S3Publisher):
        def put(self, key: str, body: bytes, **kwargs) -> str:
            etag = super().put(key, body, **kwargs)
            if key.endswith("/_log/checkpoint"):
                raise PreconditionFailed(key)
            return etag

    plain = _publisher(seaweed)
    pub = _LostAnswer(plain.client, plain.bucket, plain.public_base_url)
    outcome = append_log(pub, prefix, load_log_signer(), [b'{"n":0}', b'{"n":1}'])
    assert outcome.size == 2 and read_log(plain, prefix, load_log_signer()).size == 2
