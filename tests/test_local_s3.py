"""The embedded S3 (flows/embedded_s3/) against a real SeaweedFS: what stays closed, and restarts.

Every port SeaweedFS opens on 127.0.0.1 is tried without credentials. Only S3 GET/HEAD may
answer; the stored bytes must be unchanged afterwards (README "The target" says what stays
open: reads from the volume server by file id).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import ssl
import time
import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows import embedded_s3 as local_s3
from .conftest import _free_base_port

BUCKET = "local-s3-test"


def _request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Status and body of one plain HTTP request (no credentials unless given in headers)."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_for(url: str, within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while True:
        try:
            _request("GET", url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _jwt(key: str, claims: dict[str, Any]) -> str:
    """An HS256 JWT, as SeaweedFS signs them (the test is the owner: it may read security.toml)."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = b64(hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{sig}"


@pytest.fixture(scope="module")
def own_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local_s3.LocalS3]:
    """A SeaweedFS of this module's own (it is restarted), with a bucket set up as publish does."""
    from flows.publish.s3 import make_client, setup_bucket

    state = tmp_path_factory.mktemp("local-s3") / "s3"
    info = local_s3.start(state, port=_free_base_port(), bucket=BUCKET)
    try:
        setup_bucket(make_client(info.endpoint_url, "us-east-1", info.access_key, info.secret_key), BUCKET)
        yield info
    finally:
        local_s3.stop(state)


def test_state_files_are_owner_only(own_s3: local_s3.LocalS3) -> None:
    state = Path(own_s3.state_dir)
    for name in ("credentials.json", "s3.json", "security.toml", "state.json"):
        assert (state / name).stat().st_mode & 0o077 == 0, name
    keys = tomllib.loads((state / "security.toml").read_text())["jwt"]
    assert keys["signing"]["key"] and keys["filer_signing"]["key"] and keys["filer_signing"]["read"]["key"]
    assert own_s3.secret_key not in repr(own_s3)


def test_no_port_takes_an_anonymous_write(own_s3: local_s3.LocalS3) -> None:
    client = local_s3.s3_client(own_s3)
    key = "anon/edition.html"
    original = b"<p>the published edition</p>"
    client.put_object(Bucket=BUCKET, Key=key, Body=original, ContentType="text/html")
    s3, master, volume, filer = (f"http://127.0.0.1:{own_s3.port + i}" for i in range(4))
    evil = b"<script>alert(1)</script>"

    refused: dict[str, tuple[int, bytes]] = {}
    # The S3 port: SigV4 for everything except the bucket policy's anonymous GetObject.
    refused["s3 PUT"] = _request("PUT", f"{s3}/{BUCKET}/{key}", evil)
    refused["s3 POST"] = _request("POST", f"{s3}/{BUCKET}/{key}", evil)
    refused["s3 DELETE"] = _request("DELETE", f"{s3}/{BUCKET}/{key}")
    refused["s3 DELETE bucket"] = _request("DELETE", f"{s3}/{BUCKET}")
    refused["s3 LIST v2"] = _request("GET", f"{s3}/{BUCKET}?list-type=2")
    refused["s3 LIST v1"] = _request("GET", f"{s3}/{BUCKET}")
    refused["s3 LIST versions"] = _request("GET", f"{s3}/{BUCKET}?versions")
    refused["s3 LIST buckets"] = _request("GET", f"{s3}/")
    # The filer: every path, written directly, read, or listed (its HTTP API is off: S3 uses gRPC).
    for path in (f"/buckets/{BUCKET}/{key}", f"/buckets/{BUCKET}/{key}.versions/", f"/buckets/{BUCKET}/anon/new.html"):
        refused[f"filer PUT {path}"] = _request("PUT", f"{filer}{path}", evil)
        refused[f"filer POST {path}"] = _request("POST", f"{filer}{path}", evil)
        refused[f"filer DELETE {path}"] = _request("DELETE", f"{filer}{path}?recursive=true")
        refused[f"filer GET {path}"] = _request("GET", f"{filer}{path}")
    refused["filer DELETE /buckets"] = _request("DELETE", f"{filer}/buckets/{BUCKET}?recursive=true")
    # The admin server (S3 port + 4): its UI is off; only /metrics and /health answer, read-only.
    admin = f"http://127.0.0.1:{own_s3.port + 4}"
    _wait_for(f"{admin}/health")  # the admin server starts last, after S3 answers
    for path in ("/", f"/api/s3/buckets/{BUCKET}", "/api/cluster/topology", "/metrics"):
        refused[f"admin POST {path}"] = _request("POST", f"{admin}{path}", evil)
        refused[f"admin DELETE {path}"] = _request("DELETE", f"{admin}{path}")
    assert not {name: answer for name, answer in refused.items() if answer[0] < 400}
    # The volume server: the object's real file id, taken from the filer as the owner can.
    fid = _object_fid(own_s3, original)
    refused["volume PUT fid"] = _request("PUT", f"{volume}/{fid}", evil)
    refused["volume POST fid"] = _request("POST", f"{volume}/{fid}", evil)
    refused["volume DELETE fid"] = _request("DELETE", f"{volume}/{fid}")
    # The master hands out no file id or token over HTTP; a token for another file id
    # (as it signs them, for an unused id) must not write or delete this one.
    refused["master assign"] = _request("POST", f"{master}/dir/assign")
    unused = fid.split(",")[0] + ",7f00000000c0ffeedeadbeef"  # a needle id far above any assigned one
    token = _file_token(own_s3, unused)
    assert _request("PUT", f"{volume}/{unused}", b"orphan", {"Authorization": f"BEARER {token}"})[0] < 300  # a valid token
    refused["volume PUT fid with another fid's token"] = _request(
        "PUT", f"{volume}/{fid}", evil, {"Authorization": f"BEARER {token}"}
    )
    refused["volume DELETE fid with another fid's token"] = _request(
        "DELETE", f"{volume}/{fid}", None, {"Authorization": f"BEARER {token}"}
    )

    accepted = {name: answer for name, answer in refused.items() if answer[0] < 400}
    assert not accepted, accepted
    assert _request("GET", f"{s3}/{BUCKET}/{key}") == (200, original)  # anonymous read: the point of a public site
    assert _request("GET", f"{volume}/{fid}") == (200, original)  # documented in README: reads by file id stay open
    assert _request("HEAD", f"{s3}/{BUCKET}/{key}")[0] == 200
    assert _request("GET", f"{admin}/metrics")[0] == 200  # documented in README: read-only, no object key
    assert key.encode() not in _request("GET", f"{admin}/metrics")[1]
    assert client.get_object(Bucket=BUCKET, Key=key)["Body"].read() == original
    assert len(client.list_object_versions(Bucket=BUCKET, Prefix=key).get("Versions", [])) == 1


def _object_fid(info: local_s3.LocalS3, content: bytes) -> str:
    """The volume file id of the stored needle holding ``content`` (read from the volume files, as the owner).

    A needle is cookie (4 bytes), id (8), size (4), data size (4), data; the file id is
    ``<volume>,<id without leading zero bytes><cookie>`` in hex (SeaweedFS's needle/file_id.go).
    """
    found = []
    for dat in sorted((Path(info.state_dir) / "data").glob(f"{BUCKET}_*.dat")):
        blob = dat.read_bytes()
        at = blob.find(content)
        while at >= 20:
            if int.from_bytes(blob[at - 4 : at], "big") == len(content):
                cookie, needle = blob[at - 20 : at - 16], blob[at - 16 : at - 8]
                volume, key_cookie = dat.stem.rsplit("_", 1)[1], (needle.lstrip(b"\0") + cookie).hex()
                found.append(f"{volume},{key_cookie}")
            at = blob.find(content, at + 1)
    assert len(found) == 1, found
    return found[0]


def _file_token(info: local_s3.LocalS3, fid: str) -> str:
    """A write token for ``fid``, signed as the master signs them (the test is the owner)."""
    keys = tomllib.loads((Path(info.state_dir) / "security.toml").read_text())["jwt"]["signing"]
    return _jwt(keys["key"], {"fid": fid, "exp": int(time.time()) + 10})


def _speaks_grpc(port: int, cert: tuple[Path, Path] | None, tls: bool = True) -> bool:
    """True if ``port`` answers an HTTP/2 preface (what gRPC runs on) with its SETTINGS frame."""
    preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # we test the server's demand for *our* certificate
    context.set_alpn_protocols(["h2"])
    if cert:
        context.load_cert_chain(*cert)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            conn = context.wrap_socket(raw) if tls else raw
            conn.sendall(preface)
            answer = conn.recv(64)
    except OSError:  # ssl.SSLError included: handshake or first read refused
        return False
    return len(answer) >= 9 and answer[3] == 4


def test_grpc_ports_demand_our_certificate(own_s3: local_s3.LocalS3) -> None:
    tls = Path(own_s3.state_dir) / "tls"
    assert (tls / "weed.key").stat().st_mode & 0o077 == 0 and tls.stat().st_mode & 0o077 == 0
    _wait_for(f"http://127.0.0.1:{own_s3.port + 4}/health")  # the admin server's gRPC twin is checked too
    for offset, name in enumerate(("s3", "master", "volume", "filer", "admin")):
        port = own_s3.port + 10000 + offset
        assert not _speaks_grpc(port, None, tls=False), f"{name} gRPC answered plaintext"
        assert not _speaks_grpc(port, None), f"{name} gRPC answered a client without a certificate"
        assert _speaks_grpc(port, (tls / "weed.crt", tls / "weed.key")), f"{name} gRPC should answer its own certificate"


@pytest.mark.parametrize("how", ["crash", "stop"])
def test_restart_keeps_every_object_readable(own_s3: local_s3.LocalS3, how: str) -> None:
    """After a restart (a crash: SIGKILL by PID, or `s3 stop`), `start` returns only once every object reads.

    Before the fix `start` returned when S3 listed buckets; GETs then failed with 500
    "volume id not found" for up to ~4 s (seen after a crash on a loaded machine).
    """
    state = Path(own_s3.state_dir)
    running = local_s3.status(state)
    assert running is not None
    client = local_s3.s3_client(running)
    stored = {f"restart-{how}/{i:02d}.json": json.dumps({"n": i, "pad": "x" * (i * 100)}).encode() for i in range(20)}
    for key, body in stored.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=body)
    if how == "crash":
        os.kill(running.pid, signal.SIGKILL)
        os.waitpid(running.pid, 0)  # we are its parent: collect it so it is gone, not a zombie
    else:
        assert local_s3.stop(state)
    began = time.monotonic()
    again = local_s3.start(state, port=own_s3.port, bucket=BUCKET)
    print(f"restart after {how} ready in {time.monotonic() - began:.2f} s")
    fresh = local_s3.s3_client(again, attempts=1)  # no retries: the first GET must already work
    for key, body in stored.items():
        assert fresh.get_object(Bucket=BUCKET, Key=key)["Body"].read() == body, key


def test_master_admin_endpoints_refuse_anonymous_calls(own_s3: local_s3.LocalS3) -> None:
    """The master's HTTP admin API is off (``-disableHttp``): nothing there deletes, grows or hands out ids.

    Runs last in this module: before the fix the first call deleted the module's stored objects.
    """
    client = local_s3.s3_client(own_s3)
    client.put_object(Bucket=BUCKET, Key="admin/kept.json", Body=b"{}")
    master = f"http://127.0.0.1:{own_s3.port + 1}"
    calls = {
        "col/delete": _request("POST", f"{master}/col/delete?collection={BUCKET}"),
        "vol/grow": _request("POST", f"{master}/vol/grow?collection={BUCKET}&count=2"),
        "vol/vacuum": _request("POST", f"{master}/vol/vacuum?garbageThreshold=0.0001"),
        "dir/assign": _request("POST", f"{master}/dir/assign?collection={BUCKET}"),
        "dir/status": _request("GET", f"{master}/dir/status"),
        "dir/lookup": _request("GET", f"{master}/dir/lookup?volumeId=1"),
        "vol/status": _request("GET", f"{master}/vol/status"),
        "collection/info": _request("GET", f"{master}/collection/info?collection={BUCKET}"),
        "submit": _request("POST", f"{master}/submit", b"x"),
    }
    answered = {name: answer for name, answer in calls.items() if answer[0] < 400}
    assert not answered, answered
    assert client.get_object(Bucket=BUCKET, Key="admin/kept.json")["Body"].read() == b"{}"
    client.put_object(Bucket=BUCKET, Key="admin/after.json", Body=b"[]")  # S3 still assigns over gRPC
    assert client.get_object(Bucket=BUCKET, Key="admin/after.json")["Body"].read() == b"[]"


def test_the_state_folder_is_per_user_and_a_running_store_is_named_not_doubled(
    seaweed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOTICES_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert local_s3.default_state_dir() == tmp_path / "xdg" / "trust-notices" / "s3"
    # Another state folder, the ports of a store that runs: it is named, no second store starts.
    monkeypatch.setenv("NOTICES_STATE_DIR", str(tmp_path / "other"))
    with pytest.raises(local_s3.LocalS3Error) as refused:
        local_s3.start(port=seaweed.port)
    assert f"already running on port {seaweed.port}, from the state folder {seaweed.state_dir}" in str(refused.value)
    assert f"NOTICES_STATE_DIR={Path(seaweed.state_dir).parent}" in str(refused.value)
    assert not (tmp_path / "other" / "s3" / "weed.pid").exists()


def test_the_bucket_is_set_up_once_per_configuration_not_on_every_connection(
    own_s3: local_s3.LocalS3, sample: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unchanged run makes no setup call: a policy removed by hand stays removed until the
    recorded configuration differs from this version's (then it is applied again)."""
    from botocore.exceptions import ClientError

    from flows.publish.connect import SETUP_MARK, connect
    from flows.publish.s3 import make_client

    monkeypatch.setenv("NOTICES_STATE_DIR", str(Path(own_s3.state_dir).parent))
    monkeypatch.setenv("NOTICES_S3_BUCKET", BUCKET)
    client = make_client(own_s3.endpoint_url, "us-east-1", own_s3.access_key, own_s3.secret_key)
    mark = Path(own_s3.state_dir) / SETUP_MARK
    mark.unlink(missing_ok=True)
    connect(sample.valid.trust, {})  # the first connection sets the bucket up and records it
    recorded = json.loads(mark.read_text())
    assert list(recorded) == [BUCKET]
    assert json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"][0]["Sid"] == "PublicReadNotices"
    client.delete_bucket_policy(Bucket=BUCKET)
    connect(sample.valid.trust, {})  # recorded as applied: no setup call, so the policy stays gone
    with pytest.raises(ClientError):
        client.get_bucket_policy(Bucket=BUCKET)
    mark.write_text(json.dumps({BUCKET: "an older version's configuration"}))
    connect(sample.valid.trust, {})  # another configuration recorded: applied again
    assert json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"][0]["Sid"] == "PublicReadNotices"
    assert json.loads(mark.read_text()) == recorded
