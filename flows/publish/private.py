"""Private run files: approval previews, the saved plan of a waiting run, run reports.

They live under ``_private/<prefix>/runs/<run-id>/``, which the bucket policy never lets
anyone read anonymously; people reach them through presigned links that expire. A run
removes its previews and saved plan once the decision is made, and every run removes
private files older than ``PRIVATE_EXPIRY_DAYS`` (a lifecycle rule does the same on AWS).
"""

from __future__ import annotations

import json
import time
from typing import Any

from flows.publish import layout
from flows.publish.base import Publisher, PublishError
from flows.publish.results import SchoolResult
from flows.publish.s3 import PRIVATE_EXPIRY_DAYS

LINK_SECONDS = 7 * 24 * 3600  # SigV4's longest; the approval wait is at most 7 days too
PROBE = ".private-check"


def run_key(prefix: str, run_id: str, *parts: str) -> str:
    """Key of a private file of one run."""
    return layout.private_key(prefix, "runs", run_id, *parts)


def ensure_private(pub: Publisher, prefix: str) -> None:
    """Refuse to write anything private unless the bucket really keeps it private."""
    key = layout.private_key(prefix, PROBE)
    pub.put(key, b"private\n", content_type="text/plain; charset=utf-8", cache_control="no-store")
    if pub.publicly_readable(key):
        raise PublishError(
            f"{key} can be read anonymously: the bucket policy does not protect {layout.PRIVATE_ROOT}/; "
            "run `notices setup-bucket` (or add the policy in deploy/README.md) before previews or reports are written",
            transient=False,
        )


def stage_previews(pub: Publisher, prefix: str, run_id: str, held: list[SchoolResult]) -> dict[str, dict[str, str]]:
    """Upload each held school's preview privately; returns presigned links per slug.

    A result read back from the saved plan has no preview bodies (a run asking again after its
    suspension): its words are the ones already previewed, so the staged files get fresh links.
    """
    ensure_private(pub, prefix)
    links: dict[str, dict[str, str]] = {}
    for result in held:
        links[result.slug] = {}
        for upload in result.planned:
            key = run_key(prefix, run_id, "preview", result.slug, upload.key)
            pub.put(key, upload.body, content_type=layout.content_type(key), cache_control="no-store")
            links[result.slug][upload.key] = pub.presign(key, LINK_SECONDS)
        if not result.planned:
            staged = run_key(prefix, run_id, "preview", result.slug) + "/"
            for head in pub.list(staged):
                links[result.slug][head.key[len(staged) :]] = pub.presign(head.key, LINK_SECONDS)
    return links


def save_plan(pub: Publisher, prefix: str, run_id: str, results: list[SchoolResult], extra: dict[str, Any]) -> None:
    """What a waiting run did and holds, so a resumed run publishes exactly what was approved."""
    body = json.dumps({"schools": [r.as_dict() for r in results], **extra}, indent=2).encode()
    pub.put(run_key(prefix, run_id, "plan.json"), body, content_type="application/json; charset=utf-8", cache_control="no-store")


def load_plan(pub: Publisher, prefix: str, run_id: str) -> tuple[list[SchoolResult], dict[str, Any]] | None:
    """The saved plan of this run, if it waited for approval before."""
    key = run_key(prefix, run_id, "plan.json")
    stored = pub.get(key)
    if stored is None:
        return None
    try:
        data = json.loads(stored.body)
        return [SchoolResult.from_dict(s) for s in data.pop("schools")], data
    except (ValueError, KeyError, TypeError, AttributeError) as exc:  # never guess what an unreadable plan approved
        raise PublishError(f"{key}: cannot read the saved plan ({type(exc).__name__}: {exc})", transient=False) from exc


def write_report(pub: Publisher, prefix: str, run_id: str, text: str) -> str:
    """The run's full report, private; returns a presigned link to it."""
    ensure_private(pub, prefix)
    key = run_key(prefix, run_id, "report.md")
    pub.put(key, text.encode("utf-8"), content_type="text/markdown; charset=utf-8", cache_control="no-store")
    return pub.presign(key, LINK_SECONDS)


def remove_run_files(pub: Publisher, prefix: str, run_id: str, *, keep_report: bool = True) -> int:
    """Remove a decided run's previews and saved plan; returns how many objects went."""
    removed = 0
    for head in pub.list(run_key(prefix, run_id) + "/"):
        if keep_report and head.key.endswith("/report.md"):
            continue
        pub.delete(head.key)
        removed += 1
    return removed


def sweep_expired(pub: Publisher, prefix: str, now: float | None = None) -> int:
    """Remove private run files older than the expiry (a run that timed out never cleans up)."""
    cutoff = (now or time.time()) - PRIVATE_EXPIRY_DAYS * 86400
    removed = 0
    for head in pub.list(layout.private_key(prefix, "runs") + "/"):
        if head.last_modified_epoch < cutoff:
            pub.delete(head.key)
            removed += 1
    return removed
