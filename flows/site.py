"""The render stage end to end: inputs → notices → files in a local folder.

Pure stages (load, compose, render) are called in order; the only I/O here is reading the
inputs and writing each school's folder. A school's files are written to a temporary
folder first and moved into place together, so a reader never sees half a notice.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from flows.compose import compose_notices
from flows.currency import apply_acknowledgements
from flows.errors import ConfigError
from flows.folders import templates_dir
from flows.loading import Inputs, load_inputs
from flows.models import DatasetEdition, Notice, PublishingTarget, RenderedNotice, TrustFile
from flows.dataset_text import render_dataset_text
from flows.render import build_environment, render_notice

TEMPLATES_DIR = templates_dir()


@dataclass(frozen=True)
class ValidInputs:
    """The shared inputs every school needs, both present and valid.

    Composing, rendering and publishing take this, so no stage checks for a missing trust
    file or dataset again: the check is made once, when it is built.
    """

    trust: TrustFile
    trust_path: str
    dataset: DatasetEdition


@dataclass(frozen=True)
class Prepared:
    """Inputs read and notices composed: what can be rendered, and every error found.

    ``valid`` is None when the dataset or the trust file is broken (then no school renders).
    """

    inputs: Inputs
    notices: tuple[Notice, ...]
    errors: tuple[ConfigError, ...]
    broken: tuple[str, ...]
    valid: ValidInputs | None = None


def prepare(
    schools_dir: Path,
    shared_dir: Path,
    *,
    only: tuple[str, ...] = (),
    dataset_edition: str | None = None,
) -> Prepared:
    """Load and validate every input and compose each valid school's notice."""
    inputs = load_inputs(schools_dir, shared_dir, only=only, dataset_edition=dataset_edition)
    errors = list(inputs.errors)
    broken = set(inputs.broken)
    notices: tuple[Notice, ...] = ()
    valid = None
    if inputs.dataset is not None and inputs.trust is not None:
        valid = ValidInputs(inputs.trust, inputs.trust_path, inputs.dataset)
        composed = compose_notices(inputs.schools, valid.trust, valid.trust_path, valid.dataset)
        # A section naming a body that is gone is published only where the trust says why it keeps it.
        settled = apply_acknowledgements(composed.notices, inputs.stale, valid.trust, valid.trust_path)
        notices = settled.notices
        errors.extend((*composed.errors, *settled.errors))
        broken.update((*composed.broken, *settled.refused))
    else:
        # Without a dataset or trust no school can be rendered; say so once, not per school.
        broken.update(s.slug for s in inputs.schools)
    return Prepared(inputs, notices, tuple(sorted(errors, key=ConfigError.sort_key)), tuple(sorted(broken)), valid)


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
    from flows.publish.layout import latest_url

    return latest_url(str(publishing.public_base_url).rstrip("/") + "/", (publishing.prefix or "").strip("/"), slug)


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
