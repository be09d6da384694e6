"""The publishing commands end to end, as a person runs them: real processes, real S3, curl."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import SAMPLE_SLUGS

NOTICES = str(Path(sys.executable).parent / "notices")


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NOTICES, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_make_run_path_prints_urls_that_curl_fetches(tree: Path, embedded_env: dict[str, str]) -> None:
    # What `make run` does after installing: publish to the embedded S3 (status checks it runs).
    status = _run(["s3", "status", "--json"], tree, embedded_env)
    info = json.loads(status.stdout)
    assert info["running"] is True and info["endpoint_url"] == f"http://127.0.0.1:{embedded_env['NOTICES_S3_PORT']}"
    assert {"endpoint_url", "bucket", "access_key", "secret_key"} <= set(info)
    first = _run(["publish"], tree, embedded_env)
    assert first.returncode == 0, first.stderr
    assert "no endpoint in the trust file: publishing to the embedded S3" in first.stderr
    urls = re.findall(r"^published\s+(\S+) v1 \(first edition\) (http://\S+)$", first.stdout, re.M)
    assert sorted(slug for slug, _ in urls) == sorted(SAMPLE_SLUGS)
    for _, url in urls:
        fetched = subprocess.run(
            ["curl", "-fsS", "-o", "/dev/null", "-w", "%{http_code} %{content_type}", url],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert fetched.stdout == "200 text/html; charset=utf-8", url
    index = re.search(r"^all schools: (http://\S+)$", first.stdout, re.M).group(1)
    page = subprocess.run(["curl", "-fsS", "--compressed", index], capture_output=True, text=True, timeout=30).stdout
    # One line per school: its notice, and its history page, where the office links are.
    assert sorted(re.findall(r'<li><a href="([a-z0-9-]+)/privacy-notice/index.html">', page)) == sorted(SAMPLE_SLUGS)
    assert all(f'<a href="{slug}/privacy-notice/history.html">history and office links</a>' in page for slug in SAMPLE_SLUGS)
    again = _run(["s3", "start"], tree, embedded_env)  # already running: a no-op
    assert again.returncode == 0 and f"(pid {info['pid']})" in again.stdout
    second = _run(["publish"], tree, embedded_env)
    assert second.returncode == 0
    assert re.search(r"6 unchanged, 0 held, 0 failed; requests: 0 PUT", second.stdout), second.stdout


def test_publish_json_and_a_broken_school(tree: Path, embedded_env: dict[str, str]) -> None:
    (tree / "schools" / "broken-school.yaml").write_text("name: Broken\nurn: 12\n", encoding="utf-8")
    result = _run(["publish", "--json", "--school", "oakfield-primary", "--school", "broken-school"], tree, embedded_env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    by_slug = {s["slug"]: s for s in data["schools"]}
    assert by_slug["oakfield-primary"]["status"] == "published" and by_slug["oakfield-primary"]["edition"] == 1
    assert by_slug["oakfield-primary"]["url"].endswith("/oakfield-primary/privacy-notice/index.html")
    assert by_slug["broken-school"]["status"] == "failed"
    assert set(by_slug["oakfield-primary"]) >= {"slug", "status", "edition", "url", "change_class", "changes"}
    assert "schools/broken-school.yaml:2: urn: expected a 6-digit URN" in result.stderr


def test_dry_run_then_diff_and_history(tree: Path, embedded_env: dict[str, str]) -> None:
    dry = _run(["publish", "--dry-run", "--school", "riverside-infant"], tree, embedded_env)
    assert dry.returncode == 0 and "would publish" in dry.stdout and "0 PUT" in dry.stdout
    missing = _run(["history", "riverside-infant"], tree, embedded_env)
    assert missing.returncode == 1 and "no editions published yet" in missing.stderr
    assert _run(["publish", "--school", "riverside-infant"], tree, embedded_env).returncode == 0
    path = tree / "schools" / "riverside-infant.yaml"
    path.write_text(path.read_text().replace("Mrs Rowan Example", "Mr Rowan Example"), encoding="utf-8")
    draft = _run(["diff", "riverside-infant"], tree, embedded_env)
    assert draft.returncode == 0
    assert "School headteacher changed: Mrs Rowan Example → Mr Rowan Example" in draft.stdout
    assert "-- Headteacher: Mrs Rowan Example" in draft.stdout and "+- Headteacher: Mr Rowan Example" in draft.stdout
    assert _run(["publish", "--school", "riverside-infant"], tree, embedded_env).returncode == 0
    history = _run(["history", "riverside-infant", "--json"], tree, embedded_env)
    editions = json.loads(history.stdout)
    assert [(e["number"], e["change_class"]) for e in editions] == [(1, "first"), (2, "minor")]
    between = _run(["diff", "riverside-infant", "--from", "1", "--to", "2", "--redline", "red.html"], tree, embedded_env)
    assert "v1 → v2: minor change" in between.stdout
    page = (tree / "red.html").read_text()
    assert "<del>Mrs</del>" in page and "<ins>Mr</ins>" in page and "changes from v1 to v2" in page
    bad = _run(["diff", "riverside-infant", "--from", "7"], tree, embedded_env)
    assert bad.returncode == 1 and "no edition 7; editions are 1 to 2" in bad.stderr


def _material_edit(tree: Path, slug: str) -> None:
    path = tree / "schools" / f"{slug}.yaml"
    text = path.read_text(encoding="utf-8")
    text += "" if "local_recipients:" in text else "local_recipients:\n"
    path.write_text(
        text + "  - name: Example Photography Ltd\n    purpose: school photographs\n    lawful_basis: consent\n", encoding="utf-8"
    )


def test_a_material_change_needs_a_named_approver_on_the_command_line(tree: Path, embedded_env: dict[str, str]) -> None:
    assert _run(["publish", "--school", "990002"], tree, embedded_env).returncode == 0  # a URN selects oakfield-primary
    _material_edit(tree, "oakfield-primary")
    held = _run(["publish", "--school", "oakfield-primary"], tree, embedded_env)  # no terminal, nobody named
    assert held.returncode == 1
    assert re.search(
        r"^held for approval\s+oakfield-primary v2 \(material: Local recipient added: Example Photography Ltd\)",
        held.stdout,
        re.M,
    )
    assert "--approved-by" in held.stderr
    history = json.loads(_run(["history", "oakfield-primary", "--json"], tree, embedded_env).stdout)
    assert [e["number"] for e in history] == [1]  # nothing was published
    for name in ("root", "", "runner"):
        refused = _run(["publish", "--school", "oakfield-primary", "--approved-by", name], tree, embedded_env)
        assert refused.returncode == 1 and "--approved-by:" in refused.stderr, name
    approved = _run(
        ["publish", "--school", "oakfield-primary", "--approved-by", "Alex Example (DPO)", "--approval-note", "photos consent"],
        tree,
        embedded_env,
    )
    assert approved.returncode == 0, approved.stderr
    assert "approved by Alex Example (DPO)" in approved.stdout
    text = _run(["history", "oakfield-primary"], tree, embedded_env).stdout
    assert "material, approved by Alex Example (DPO)" in text and "note: photos consent" in text


def test_on_a_terminal_the_command_asks_for_the_approver(tree: Path, embedded_env: dict[str, str]) -> None:
    import pty
    import select

    assert _run(["publish", "--school", "hillcrest-middle"], tree, embedded_env).returncode == 0
    _material_edit(tree, "hillcrest-middle")
    leader, follower = pty.openpty()  # a real terminal: stdin, stdout and stderr all on it
    process = subprocess.Popen(
        [NOTICES, "publish", "--school", "hillcrest-middle"],
        cwd=tree,
        env=embedded_env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    answers = [(b"Your full name", b"root\n"), (b"system account", b"Alex Example (DPO)\n"), (b"A note", b"\n")]
    deadline = time.monotonic() + 150
    while process.poll() is None and time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.5)
        if ready:
            try:
                seen += os.read(leader, 65536)
            except OSError:
                break
        if answers and answers[0][0] in seen:
            os.write(leader, answers.pop(0)[1])
    if process.poll() is None:
        process.kill()
    process.wait(timeout=30)
    os.close(leader)
    text = seen.decode(errors="replace").replace("\r\n", "\n")
    assert process.returncode == 0, text
    assert "Local recipient added: Example Photography Ltd" in text  # shown before asking
    assert re.search(r"^published\s+hillcrest-middle v2 .*approved by Alex Example \(DPO\)", text, re.M), text


def test_a_bad_target_flag_is_named_as_the_flag(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from flows.cli import main

    assert main(["publish", "--dry-run", "--prefix", "../other-trust"]) == 1
    err = capsys.readouterr().err
    assert "notices publish: --prefix: must not contain '.', '..' or empty ('//') parts, got '../other-trust'" in err
    assert "NOTICES_S3_PREFIX" not in err


def test_target_flags_reach_the_flow_as_parameters_not_the_environment(
    flow_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from flows.cli import main

    before = {k: v for k, v in os.environ.items() if k.startswith("NOTICES_") and k != "NOTICES_RUN_TOKEN"}
    flagged = flow_env["NOTICES_S3_PREFIX"] + "-flag"
    assert main(["publish", "--dry-run", "--json", "--school", "oakfield-primary", "--prefix", flagged]) == 0
    after = {k: v for k, v in os.environ.items() if k.startswith("NOTICES_") and k != "NOTICES_RUN_TOKEN"}
    assert after == before  # the guard's run token is the only variable a publish sets
    data = json.loads(capsys.readouterr().out)
    assert data["target"]["prefix"] == flagged  # the flag won over $NOTICES_S3_PREFIX, inside the flow run
