"""A school is its URN: renaming its file or changing the prefix never starts a second history.

Through `notices publish` (real processes, the embedded S3 as `notices s3 start` runs it).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from .conftest import NOTICES
from .support.web import read_body

OLD, NEW = "oakfield-primary", "oakfield-primary-school"
RECIPIENT = """  - name: Oakfield after-school club
    purpose: running the after-school club
    lawful_basis: public_task
"""


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([NOTICES, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _get(url: str) -> bytes:
    return read_body(url)


def _base(result: subprocess.CompletedProcess[str], slug: str) -> str:
    for line in result.stdout.splitlines():
        if line.split()[1:2] == [slug] or f" {slug} v" in line:
            return line.rsplit(" ", 1)[1].rsplit("/", 1)[0] + "/"
    raise AssertionError(f"{slug} not in {result.stdout}")


def test_a_renamed_school_file_continues_the_same_history(tree: Path, embedded_env: dict[str, str]) -> None:
    """Bypass 2: rename oakfield-primary.yaml and add a recipient: 'v1 (first edition)', no approver,
    the old notice still live and both listed on the trust index."""
    first = _run(["publish", "--school", OLD], tree, embedded_env)
    assert first.returncode == 0, first.stderr
    old_base = _base(first, OLD)
    schools = tree / "schools"
    (schools / f"{OLD}.yaml").rename(schools / f"{NEW}.yaml")
    path = schools / f"{NEW}.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("local_recipients:\n", "local_recipients:\n" + RECIPIENT, 1), encoding="utf-8"
    )
    held = _run(["publish", "--school", NEW], tree, embedded_env)
    assert held.returncode == 1, held.stdout
    line = next(line for line in held.stdout.splitlines() if line.startswith("held for approval"))
    assert f" {NEW} v2 (material: Local recipient added: Oakfield after-school club; School slug changed: {OLD} → {NEW})" in line
    assert b"Oakfield after-school club" not in _get(old_base + "index.html")
    approved = _run(["publish", "--school", NEW, "--approved-by", "Alex Example (DPO)"], tree, embedded_env)
    assert approved.returncode == 0, approved.stderr
    assert f"history continued from {embedded_env['NOTICES_S3_PREFIX']}/{OLD}" in approved.stdout
    new_base = _base(approved, NEW)
    history = json.loads(_run(["history", NEW, "--json"], tree, embedded_env).stdout)
    assert [(e["number"], e["approved_by"]) for e in history] == [(1, None), (2, "Alex Example (DPO)")]
    assert _get(new_base + "v1/notice.json") == _get(old_base + "v1/notice.json")  # the history moved byte for byte
    assert (
        f"moved here from an earlier address ({embedded_env['NOTICES_S3_PREFIX']}/{OLD})"
        in _get(new_base + "history.html").decode()
    )
    # The old address says where the notice went: never a different live notice.
    moved = _get(old_base + "index.html").decode()
    assert "This privacy notice has moved" in moved and new_base + "index.html" in moved
    assert json.loads(_get(old_base + "notice.json"))["moved_to"] == new_base + "index.html"
    # The trust index lists the URN once, at its new address.
    listing = json.loads(_get(new_base.rsplit("/", 3)[0] + "/schools.json"))["schools"]
    assert [s["slug"] for s in listing if s["urn"] == "990002"] == [NEW]
    # The public log follows the URN: the moved history verifies at its new address.
    verified = _run(["verify", new_base.rsplit("/", 3)[0] + "/", "--state", str(tree / "verify")], tree, embedded_env)
    assert verified.returncode == 0, verified.stderr


def test_a_new_prefix_for_a_published_urn_is_refused_unless_the_run_names_the_move(
    tree: Path, embedded_env: dict[str, str]
) -> None:
    """Bypass 2: a new --prefix started a second history for every school, with no approver."""
    old_prefix = embedded_env.pop("NOTICES_S3_PREFIX")  # the trust file names the prefix, as in production
    trust = tree / "schools" / "_trust.yaml"
    trust.write_text(
        trust.read_text(encoding="utf-8").replace("  prefix: notices\n", f"  prefix: {old_prefix}\n"), encoding="utf-8"
    )
    assert _run(["publish", "--school", OLD], tree, embedded_env).returncode == 0
    refused = _run(["publish", "--school", OLD, "--prefix", old_prefix + "-new"], tree, embedded_env)
    assert refused.returncode == 1
    assert f"URN 990002 already has a published history at prefix '{old_prefix}' ({OLD})" in refused.stdout
    assert "--move-from" in refused.stdout
    no_name = _run(["publish", "--school", OLD, "--prefix", old_prefix + "-new", "--move-from", old_prefix], tree, embedded_env)
    assert no_name.returncode == 1 and "--move-from PREFIX needs --approved-by" in no_name.stderr
    moved = _run(
        [
            "publish",
            "--school",
            OLD,
            "--prefix",
            old_prefix + "-new",
            "--move-from",
            old_prefix,
            "--approved-by",
            "Alex Example (DPO)",
        ],
        tree,
        embedded_env,
    )
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert f"history continued from {old_prefix}/{OLD}" in moved.stdout
    again = _run(["publish", "--school", OLD, "--prefix", old_prefix], tree, embedded_env)
    assert again.returncode == 1 and f"already has a published history at prefix '{old_prefix}-new'" in again.stdout
