"""Drafts on disk: every notice rendered into ``DIR/<slug>/`` (``notices render``).

A school's files are written to a temporary folder first and moved into place together, so a
reader never sees half a notice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from flows.config.models import Notice, PublishingTarget, RenderedNotice
from flows.notice.dataset_text import render_dataset_text
from flows.notice.prepare import TEMPLATES_DIR
from flows.notice.render import build_environment, render_notice
from flows.publish.layout import school_url


@dataclass
class RenderReport:
    """What a render run wrote, and how long each school took."""

    written: dict[str, Path] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def render_all(
    notices: tuple[Notice, ...], out_dir: Path, *, pdf: bool = True, publishing: PublishingTarget | None = None
) -> RenderReport:
    """Render every notice and write ``out_dir/<slug>/``; Markdown is converted once.

    A draft has no public URL of its own. If the trust file's ``publishing`` names a
    ``public_base_url``, each PDF's relative links (``notice.json``, ``notice.md``) point at the
    school's published latest folder there; otherwise they are left relative, and work only
    beside the rendered files.
    """
    report = RenderReport()
    if not notices:
        return report
    env = build_environment(TEMPLATES_DIR)
    text = render_dataset_text(notices[0].dataset)  # one dataset edition per run
    out_dir.mkdir(parents=True, exist_ok=True)
    for notice in notices:
        started = time.perf_counter()
        rendered = render_notice(env, notice, text, pdf=pdf, pdf_base_url=draft_pdf_base_url(publishing, notice.slug))
        report.written[notice.slug] = write_school(out_dir, rendered)
        report.seconds[notice.slug] = time.perf_counter() - started
    return report


def draft_pdf_base_url(publishing: PublishingTarget | None, slug: str) -> str | None:
    """Where a draft's PDF links point: the school's public latest folder, if one is configured."""
    if publishing is None or publishing.public_base_url is None:
        return None
    return school_url(str(publishing.public_base_url).rstrip("/") + "/", (publishing.prefix or "").strip("/"), slug)


def write_school(out_dir: Path, rendered: RenderedNotice) -> Path:
    """Write one school's files, replacing its folder as a whole."""
    target = out_dir / rendered.slug
    staging = Path(tempfile.mkdtemp(prefix=f".{rendered.slug}.", dir=out_dir))
    for name, data in rendered.files.items():
        (staging / name).write_bytes(data)
        os.chmod(staging / name, 0o644)
    os.chmod(staging, 0o755)
    if target.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{rendered.slug}.old.", dir=out_dir))
        os.replace(target, retired / "old")
        os.replace(staging, target)
        shutil.rmtree(retired)
    else:
        os.replace(staging, target)
    return target
