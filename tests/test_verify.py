"""``notices verify`` and ``notices witness`` against a tiny static site served on 127.0.0.1.

The honest site verifies; each attack on it is named with its own words (/work/notes/log-spec.md,
"What verify checks"), and a network that fails is the project's error naming the URL (exit 2).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.cli import main
from flows.tlog.merkle import leaf_hash
from flows.tlog.note import cosign, generate_key, load_witness_signer

from .support.log_site import LogSite, build_site, faulty_server, refused_url, serve


@pytest.fixture
def site(tmp_path: Path) -> Iterator[LogSite]:
    www = tmp_path / "www"
    www.mkdir()
    with serve(www) as base:
        yield build_site(www, base)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def verify(site: LogSite, capsys: pytest.CaptureFixture[str], *extra: str, url: str | None = None) -> tuple[int, str, str]:
    state = site.root.parent / "state"
    return run(capsys, "verify", url or site.trust_url, "--state", str(state), *extra)


def test_the_honest_site_verifies_from_the_trust_root_and_from_a_school(
    site: LogSite, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = verify(site, capsys)
    assert (code, err) == (0, "")
    assert out.startswith(
        "verified: 2 school(s), 5 edition(s), 10 entries, tree size 10 (oakfield-trust.example.org/privacy-notices)"
    )
    assert "; no witnesses; " in out and " bytes in " in out
    state = site.root.parent / "state" / "oakfield-trust.example.org_privacy-notices.json"
    assert json.loads(state.read_text())["size"] == 10
    code, out, err = verify(site, capsys, "--json", url=site.school_url("oakfield-primary") + "index.html")
    report = json.loads(out)
    assert (code, err, report["ok"], report["size"]) == (0, "", True, 10)
    assert report["schools"] == [{"slug": "oakfield-primary", "urn": "990001", "entries": 6, "editions": [1, 2, 3], "files": 39}]
    assert report["requests"] > 0 and report["bytes"] > 0


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("verify", "witness"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        assert "Example:\n  notices " + command in capsys.readouterr().out


def test_a_changed_byte_in_an_edition_names_the_file(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    path = site.folder("oakfield-primary") / "v2" / "notice.md"
    path.write_bytes(path.read_bytes().replace(b"edition", b"editiom"))
    code, _, err = verify(site, capsys)
    assert code == 1
    assert err.startswith(f"{site.url(path)}: sha256 ")
    assert "does not match the log's" in err and "(edition 2, entry 4)" in err


def test_a_deleted_edition_is_in_the_log_but_missing(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    folder = site.folder("oakfield-primary")
    for file in (folder / "v2").iterdir():
        file.unlink()
    (folder / "v2").rmdir()
    (folder / "manifest.json").write_text(json.dumps({"editions": [{"number": 1}, {"number": 3}]}))
    (folder / "history.html").write_text("<p>edition 1</p><p>edition 3</p>")
    code, _, err = verify(site, capsys)
    assert code == 1
    lines = err.splitlines()
    assert len(lines) == 10  # every file of v2/, each on its own line
    assert lines[0] == f"{site.url(folder)}/v2/changes.html: edition 2 of oakfield-primary is in the log (entry 4) but missing"


@pytest.mark.parametrize("record", ["manifest.json", "history.html"])
def test_an_edition_on_the_site_that_the_log_lacks_is_named(
    record: str, site: LogSite, capsys: pytest.CaptureFixture[str]
) -> None:
    """Site → log: a v4/ added to the site and listed in its records, but never logged, is found."""
    folder = site.folder("oakfield-primary")
    (folder / "v4").mkdir()
    for file in (folder / "v3").iterdir():
        (folder / "v4" / file.name).write_bytes(file.read_bytes())
    if record == "manifest.json":
        (folder / record).write_text(json.dumps({"editions": [{"number": n} for n in (1, 2, 3, 4)]}))
    else:
        (folder / record).write_text("".join(f'<p><a href="v{n}/index.html">edition {n}</a></p>' for n in (1, 2, 3, 4)))
    code, _, err = verify(site, capsys)
    assert code == 1
    assert err.splitlines() == [
        f"{site.url(folder)}/{record}: lists edition 4 of oakfield-primary, which the log does not hold (never logged)"
    ]


def _without(site: LogSite, slug: str, edition: int) -> list[bytes]:
    dropped = json.dumps(site.entry(slug, "edition", edition), sort_keys=True, separators=(",", ":")).encode()
    assert dropped in site.entries
    return [e for e in site.entries if e != dropped]


def test_an_entry_removed_and_the_tree_rebuilt_breaks_the_chain(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    site.rebuild(_without(site, "oakfield-primary", 2))
    code, _, err = verify(site, capsys)
    assert code == 1
    assert "(entry 5, URN 990001 edition 3): chain broken: its previous entry is " in err
    assert "gap: edition(s) 2 before edition 3 are neither logged nor skipped" in err


def test_an_entry_removed_is_not_an_extension_of_what_was_seen(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(site, capsys)[0] == 0
    removed = _without(site, "oakfield-primary", 2)
    site.rebuild([*removed, *_others(2)])
    code, _, err = verify(site, capsys)
    assert code == 1
    checkpoint = site.url(site.log / "checkpoint")
    assert f"{checkpoint}: size 11 is not an extension of size 10 seen before (entries removed or rewritten)" in err
    site.rebuild(removed)  # and removed, nothing added: smaller
    assert f"{checkpoint}: rolled back: size 9, but size 10 was seen before" in verify(site, capsys)[2]


def test_a_checkpoint_rolled_back_is_named(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(site, capsys)[0] == 0
    (site.log / "checkpoint").write_text(site.checkpoints[1])
    code, _, err = verify(site, capsys)
    assert code == 1
    assert f"{site.url(site.log / 'checkpoint')}: rolled back: size 6, but size 10 was seen before" in err.splitlines()


def test_a_fork_of_the_same_size_is_named(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(site, capsys)[0] == 0
    entries = list(site.entries)
    entries[-1] = entries[-1].replace(b"2026-03-01", b"2026-03-02")
    site.rebuild(entries)
    code, _, err = verify(site, capsys)
    assert code == 1
    assert f"{site.url(site.log / 'checkpoint')}: fork: size 10 with another root than the checkpoint seen before" in err


def _others(count: int) -> list[bytes]:
    """Entries of a school the site does not list (a verify of the trust's root names them)."""
    entry = {"format": "trust-notices/log-entry/1", "kind": "latest", "urn": "990099", "slug": "elsewhere", "files": {}}
    return [json.dumps({**entry, "edition": n}).encode() for n in range(1, count + 1)]


def _resign(site: LogSite) -> str:
    skey, vkey = generate_key("oakfield-trust.example.org/privacy-notices")
    (site.log / "checkpoint").write_text(site.sign(10, site.root_hash(), skey))
    (site.log / "key.txt").write_text(vkey + "\n")
    return vkey


def test_a_checkpoint_signed_by_another_key_against_a_pinned_key(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    _resign(site)
    code, _, err = verify(site, capsys, "--key", site.vkey)
    assert code == 1
    assert err == (
        f"{site.url(site.log / 'checkpoint')}: the checkpoint is signed by another key, not "
        "oakfield-trust.example.org/privacy-notices (the key given with --key) (no signature by that key)\n"
    )


def test_a_checkpoint_signed_by_another_key_after_first_use(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    assert verify(site, capsys)[0] == 0
    _resign(site)
    code, _, err = verify(site, capsys)
    assert code == 1
    assert (
        "signed by another key, not oakfield-trust.example.org/privacy-notices (the key remembered from the first run (TOFU))"
        in err
    )


def test_a_latest_file_that_matches_no_entry(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    page = site.folder("riverside-academy") / "index.html"
    page.write_text("<p>something else</p>")
    code, _, err = verify(site, capsys)
    assert code == 1
    assert err.startswith(f"{site.url(page)}: sha256 ")
    assert err.rstrip().endswith(
        "matches no entry of the log (the newest latest entry says "
        + site.entry("riverside-academy", "latest", 3)["files"]["index.html"]
        + ")"
    )


def _witness(site: LogSite, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    state = site.root / "witness"
    code, out, err = run(capsys, "witness", site.trust_url, "--state", str(state))
    assert (code, err) == (0, "")
    path = state / "public" / "oakfield-trust.example.org_privacy-notices" / "checkpoint"
    assert out.splitlines()[0] == f"cosigned oakfield-trust.example.org/privacy-notices at size 10: {path}"
    assert stat.S_IMODE(os.stat(state / "witness.key").st_mode) == 0o600
    vkey = out.splitlines()[1].rsplit(" ", 1)[1]
    site.write_witnesses([{"name": "witness.example.org", "key": vkey, "url": site.url(path)}])
    return path, vkey


def test_a_witness_cosigns_and_verify_sees_it(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    path, vkey = _witness(site, capsys)
    code, out, err = verify(site, capsys)
    assert (code, err) == (0, "")
    assert "; seen by witness.example.org; " in out
    site.append(_others(1))  # the log grows (another school's entry); the witness has not looked since
    school = site.school_url("oakfield-primary")
    code, out, err = verify(site, capsys, url=school)
    assert "; witness.example.org last saw size 10; " in out and code == 0, err
    site.write_witnesses([])  # and given on the command line instead
    code, out, _ = verify(site, capsys, "--witness", f"{vkey}={site.url(path)}", url=school)
    assert "; witness.example.org last saw size 10; " in out and code == 0


def test_a_witness_cosignature_over_another_tree(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    path, _ = _witness(site, capsys)
    signer = load_witness_signer((site.root / "witness" / "witness.key").read_text().strip())
    other = site.sign(10, leaf_hash(b"another tree"))
    text = other.split("\n\n")[0] + "\n"
    path.write_text(other + cosign(text, signer, 1_780_000_000))
    code, _, err = verify(site, capsys)
    assert code == 1
    assert err == f"{site.url(path)}: witness.example.org's cosignature over another tree (size 10 with another root)\n"


def test_a_witness_refuses_a_rolled_back_log(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    _witness(site, capsys)
    (site.log / "checkpoint").write_text(site.checkpoints[0])
    code, out, err = run(capsys, "witness", site.trust_url, "--state", str(site.root / "witness"))
    assert code == 1
    assert err == f"{site.url(site.log / 'checkpoint')}: rolled back: size 4, but size 10 was cosigned before\n"
    assert out == "not cosigned: 1 problem(s)\n"


def test_a_refused_connection_names_the_url(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    url = refused_url()
    code, out, err = run(capsys, "verify", url, "--state", str(tmp_path))
    assert (code, out) == (2, "")
    assert err == f"notices verify: {url}latest.json: connection refused\n"


@pytest.mark.parametrize(
    ("mode", "cause"),
    [
        ("stall", "timed out (no answer within the timeout)"),
        ("cut", "the body was cut short (5 bytes read, 995 more expected)"),
        ("503", "server error HTTP 503 Trouble"),
        ("400", "unexpected answer HTTP 400 Trouble"),
        ("gzip-cut", "a gzip body cut short"),
        ("gzip-bad", "a gzip body that does not decompress (Error -3 while decompressing data: incorrect header check)"),
    ],
)
def test_a_server_that_stalls_or_cuts_the_body(mode: str, cause: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with faulty_server(mode) as base:
        code, out, err = run(capsys, "verify", base + "trust/", "--state", str(tmp_path), "--timeout", "0.5")
    assert (code, out) == (2, "")
    assert err == f"notices verify: {base}trust/latest.json: {cause}\n"


def test_an_entry_changed_in_its_bundle_is_not_in_the_signed_tree(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = site.log / "tile" / "entries" / "000.p" / "10"
    bundle.write_bytes(bundle.read_bytes().replace(b'"change_class":"minor"', b'"change_class":"mInor"', 1))
    code, out, err = verify(site, capsys, "--json")
    assert code == 1
    report = json.loads(out)
    assert [(p["code"], p["where"]) for p in report["problems"]] == [
        ("inclusion", f"{site.url(site.log)}/ (entry 4, URN 990001 edition 2)"),
        ("chain", f"{site.url(site.log)}/ (entry 5, URN 990001 latest 2)"),
        ("chain", f"{site.url(site.log)}/ (entry 6, URN 990001 edition 3)"),
        ("gap", site.school_url("oakfield-primary")),
        # the site still lists edition 2, which no entry in the signed tree now vouches for
        ("unlogged", site.school_url("oakfield-primary") + "manifest.json"),
    ]
    assert report["problems"][0]["message"] == "is not in the signed tree of size 10"


def test_without_state_it_remembers_under_notices_state_dir(
    site: LogSite, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NOTICES_STATE_DIR", str(tmp_path / "notices-state"))
    code, out, _ = run(capsys, "verify", site.trust_url, "--json")
    assert code == 0
    assert json.loads(out)["state_file"] == str(
        tmp_path / "notices-state" / "verify" / "oakfield-trust.example.org_privacy-notices.json"
    )


def test_a_missing_hash_tile_is_the_logs_problem_said_once(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    (site.log / "tile" / "0" / "000.p" / "10").unlink()
    code, _, err = verify(site, capsys)
    tiles = site.url(site.log / "tile")
    assert code == 1
    assert err == (f"{tiles}/: the hash tiles cannot be read as a tree of size 10 ({tiles}/0/000.p/10 is missing)\n")


def test_witness_json(site: LogSite, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "witness", site.trust_url, "--state", str(site.root / "w"), "--name", "w2.example.org", "--json")
    report = json.loads(out)
    assert (code, err, report["ok"], report["size"], report["name"]) == (0, "", True, 10, "w2.example.org")
    assert report["key"].startswith("w2.example.org+") and report["path"].endswith("/checkpoint")
