"""Starting the embedded S3: a ``weed`` that panics at start-up is retried, bounded, then reported.

A stand-in ``weed`` (``$NOTICES_WEED``) prints what SeaweedFS printed when it failed on a busy
machine (a Go nil-pointer panic) and exits with status 2 for its first N starts, then runs
the real ``weed`` with the same arguments.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows import embedded_s3 as local_s3
from flows.embedded_s3.ready import START_ATTEMPTS

from .conftest import _free_base_port

NOTICES = str(Path(sys.executable).parent / "notices")
FAKE_WEED = """#!/bin/bash
n=$(( $(cat "$FAKE_WEED_COUNT" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$FAKE_WEED_COUNT"
if [ "$n" -le "$FAKE_WEED_FAILS" ]; then
  echo "I1203 15:02:11.520118 master_server.go:142 start $n: volume size limit 128MB"
  echo "panic: runtime error: invalid memory address or nil pointer dereference"
  echo "[signal SIGSEGV: segmentation violation code=0x1 addr=0x28 pc=0x1f3a4c5]"
  echo ""
  echo "goroutine 1 [running]:"
  echo "github.com/seaweedfs/seaweedfs/weed/server.(*MasterServer).SetRaftServer(0x0, 0xc000a1e000)"
  exit 2
fi
exec "$REAL_WEED" "$@"
"""


@pytest.fixture
def fake_weed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The stand-in's start counter; ``FAKE_WEED_FAILS`` (set by each test) says how many starts fail."""
    script = tmp_path / "fake-weed"
    script.write_text(FAKE_WEED)
    script.chmod(0o755)
    count = tmp_path / "starts"
    monkeypatch.setenv("REAL_WEED", str(local_s3.weed_binary()))  # before NOTICES_WEED points elsewhere
    monkeypatch.setenv("NOTICES_WEED", str(script))
    monkeypatch.setenv("FAKE_WEED_COUNT", str(count))
    return count


def test_a_weed_that_panics_twice_is_started_again_and_the_third_start_serves(
    fake_weed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FAKE_WEED_FAILS", "2")
    state = tmp_path / "s3"
    began = time.monotonic()
    info = local_s3.start(state, port=_free_base_port(), bucket="retried")
    try:
        took = time.monotonic() - began
        assert fake_weed.read_text().strip() == "3"  # two panics, then the real weed
        assert local_s3.status(state) == info and Path(f"/proc/{info.pid}/cmdline").read_bytes().split(b"\0")[0].endswith(b"weed")
        local_s3.s3_client(info).list_buckets()  # it serves
        log = (state / "logs" / "weed.out").read_text()
        assert log.count("nil pointer dereference") == 2
        notes = capsys.readouterr().err
        assert "SeaweedFS exited with status 2 during start-up; starting it again in 1 s (attempt 2 of 3)" in notes
        assert "starting it again in 2 s (attempt 3 of 3)" in notes
        assert took >= 3.0  # the pauses: 1 s, then 2 s
        print(f"\nstarted on the third attempt in {took:.1f} s")
    finally:
        local_s3.stop(state)


def test_a_weed_that_keeps_panicking_is_reported_with_the_logs_last_lines(fake_weed: Path, tmp_path: Path) -> None:
    # As a person sees it: `notices s3 start`, whose error quotes the log.
    env = dict(os.environ, FAKE_WEED_FAILS="99", NOTICES_STATE_DIR=str(tmp_path), NOTICES_S3_PORT=str(_free_base_port()))
    began = time.monotonic()
    result = subprocess.run([NOTICES, "s3", "start"], env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - began
    assert result.returncode == 1
    assert fake_weed.read_text().strip() == str(START_ATTEMPTS)  # bounded: three starts, no more
    log = tmp_path / "s3" / "logs" / "weed.out"
    logged = log.read_text().splitlines()
    assert len(logged) == 3 * 6  # each start's 6 lines, all kept
    error = result.stderr.splitlines()
    quoted = error[
        error.index(f"notices s3 start: SeaweedFS exited with status 2 (after 3 attempts); the last 18 lines of {log}:") + 1 :
    ]
    assert quoted == [f"    {line}" for line in logged]
    assert error[-1] == "    github.com/seaweedfs/seaweedfs/weed/server.(*MasterServer).SetRaftServer(0x0, 0xc000a1e000)"
    assert "    panic: runtime error: invalid memory address or nil pointer dereference" in error
    assert not (tmp_path / "s3" / "state.json").exists()  # no store is recorded as running
    assert 3.0 <= took < 30
    print(f"\ngave up after {START_ATTEMPTS} attempts in {took:.1f} s")


def test_a_taken_port_is_said_at_once_and_never_retried(fake_weed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_WEED_FAILS", "0")
    port = _free_base_port()
    with socket.socket() as squatter:  # weed mini's admin server (S3 port + 4) once wanted 23646 for every store
        squatter.bind(("127.0.0.1", port + 4))
        squatter.listen()
        with pytest.raises(local_s3.LocalS3Error, match=f"port\\(s\\) admin {port + 4} on 127.0.0.1 already in use"):
            local_s3.start(tmp_path / "s3", port=port)
    assert not fake_weed.exists()  # weed was never started


def test_a_state_folder_too_long_for_weeds_sockets_is_said_at_once(
    fake_weed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """weed failed all three attempts on such a folder, its reason buried in its log."""
    monkeypatch.setenv("FAKE_WEED_FAILS", "0")
    deep = tmp_path / ("d" * (120 - len(str(tmp_path))))
    with pytest.raises(
        local_s3.LocalS3Error, match="too long a path for its unix sockets .* set NOTICES_STATE_DIR to a shorter folder"
    ):
        local_s3.start(deep, port=_free_base_port())
    assert not fake_weed.exists() and not deep.exists()  # weed never started, nothing written


def test_every_port_weed_listens_on_is_one_we_check(fake_weed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What README ("The target") lists, as the kernel reports it (/proc/net/tcp) while weed runs."""
    monkeypatch.setenv("FAKE_WEED_FAILS", "0")
    state = tmp_path / "s3"
    info = local_s3.start(state, port=_free_base_port())
    expected = sorted(local_s3.listening_ports(info.port).values())
    try:
        deadline = time.monotonic() + 20  # the admin server starts last, after S3 answers
        while (listening := _listening(info.pid)) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert listening == expected
    finally:
        local_s3.stop(state)


def _listening(pid: int) -> list[int]:
    """The TCP ports (IPv4 and IPv6) process ``pid`` listens on."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            inodes.add(os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]"))
        except OSError:  # closed meanwhile
            continue
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                assert fields[1].startswith(("0100007F:", "00000000000000000000000001000000:")), f"not on loopback: {fields[1]}"
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return sorted(ports)
