"""PDF: bundled fonts only, byte-identical across processes and machines, clear errors when unsure."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from flows.pdf.weasy import FontsMissing, html_to_pdf
from flows.notice.render import render_notice

from .conftest import REPO

# Renders a notice with the function the rest of the code uses, in a fresh interpreter.
SCRIPT = (
    "import sys; from pathlib import Path; from flows.notice.render import print_pdf; "
    "Path(sys.argv[2]).write_bytes(print_pdf(Path(sys.argv[1]).read_text(encoding='utf-8')))"
)
SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def _pdf_text(pdf: bytes) -> bytes:
    """The PDF with its Flate streams inflated: font names sit in compressed object streams."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n", pdf):
        try:
            parts.append(zlib.decompressobj().decompress(pdf[match.end() :]))
        except zlib.error:
            pass
    return b"\n".join(parts)


def _base_fonts(pdf: bytes) -> set[str]:
    """Embedded font names without the subset tag: ``ABCDEF+Name`` → ``Name``."""
    names = re.findall(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([^\s/<>\[\]()]+)", _pdf_text(pdf))
    return {name.decode() for name in names}


def _other_fonts_config(tmp_path: Path) -> Path:
    """A fontconfig setup whose only system font is a serif, so "sans-serif" means DejaVu Serif."""
    fonts = tmp_path / "system-fonts"
    fonts.mkdir()
    shutil.copy(SERIF, fonts)
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><dir>{fonts}</dir><cachedir>{tmp_path / 'fc-cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


@pytest.fixture(scope="module")
def notice_html(sample, env, dataset_text) -> str:
    return render_notice(env, sample.notices[0], dataset_text, pdf=False).files["index.html"].decode("utf-8")


@pytest.mark.skipif(not SERIF.is_file(), reason="needs fonts-dejavu-core's DejaVuSerif.ttf")
def test_pdf_is_byte_identical_across_processes_and_system_fonts(notice_html: str, tmp_path: Path) -> None:
    html = tmp_path / "index.html"
    html.write_text(notice_html, encoding="utf-8")
    base = {k: v for k, v in os.environ.items() if k not in ("FONTCONFIG_FILE", "FONTCONFIG_PATH", "SOURCE_DATE_EPOCH")}
    envs = {"default": base, "other-fonts": {**base, "FONTCONFIG_FILE": str(_other_fonts_config(tmp_path))}}
    # Both at once: each process pays WeasyPrint's ~1 s import.
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", SCRIPT, str(html), str(tmp_path / f"{name}.pdf")],
            cwd=REPO,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, env in envs.items()
    }
    for name, run in runs.items():
        _, err = run.communicate(timeout=120)
        assert run.returncode == 0, f"{name}: {err}"
    default, other = ((tmp_path / f"{name}.pdf").read_bytes() for name in envs)

    fonts = _base_fonts(default)
    assert "Atkinson-Hyperlegible-Next" in fonts, fonts
    assert all(name.startswith(("Atkinson-Hyperlegible-Next", "DejaVu-Sans-Bundled")) for name in fonts), fonts
    assert b"DejaVuSerif" not in _pdf_text(other) and b"DejaVu-Serif" not in _pdf_text(other)
    assert default == other


def test_pdf_has_no_date_unless_the_page_gives_one(notice_html: str) -> None:
    pdf = html_to_pdf(notice_html)
    assert pdf == html_to_pdf(notice_html)  # the thread's cached font configuration changes nothing
    # WeasyPrint's only dates come from <meta name="dcterms.created/modified">, never the clock.
    for meta, key in (("dcterms.created", b"/CreationDate"), ("dcterms.modified", b"/ModDate")):
        if f'name="{meta}"' not in notice_html:
            assert key not in _pdf_text(pdf)


def test_missing_fonts_are_named_before_rendering(notice_html: str, tmp_path: Path) -> None:
    with pytest.raises(FontsMissing) as error:
        html_to_pdf(notice_html, fonts_dir=tmp_path)
    message = str(error.value)
    assert "AtkinsonHyperlegibleNext-Regular.ttf" in message and str(tmp_path) in message


def test_worker_processes_make_the_same_pdf_on_every_core(notice_html: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.pdf import weasy as pdf

    monkeypatch.setenv("NOTICES_PDF_WORKERS", "2")
    try:
        with ThreadPoolExecutor(4) as threads:  # as publishing threads do: more PDFs than workers at once
            made = list(threads.map(lambda _: pdf.make_pdf(notice_html), range(4)))
        workers = {p.pid for p in (pdf._pool._processes or {}).values()} if pdf._pool else set()
    finally:
        pdf.shutdown()
    assert len(workers) == 2 and os.getpid() not in workers  # made in 2 other processes
    assert all(m == html_to_pdf(notice_html) for m in made)  # byte-identical to one made in this process


def test_a_dead_pdf_worker_fails_that_pdf_with_a_clear_error_and_the_next_gets_a_new_pool(
    notice_html: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from flows.pdf import weasy as pdf

    monkeypatch.setenv("NOTICES_PDF_WORKERS", "1")
    try:
        pool = pdf._get_pool(1)
        pool.submit(os.getpid).result()  # start the worker
        (worker,) = pool._processes.values()  # type: ignore[union-attr]
        future = pool.submit(time.sleep, 30)
        os.kill(worker.pid, signal.SIGKILL)
        with pytest.raises(BrokenProcessPool):
            future.result(timeout=30)
        with pytest.raises(pdf.PdfWorkerDied, match="PDF worker process died"):
            pdf.make_pdf(notice_html)
        assert pdf.make_pdf(notice_html).startswith(b"%PDF")
    finally:
        pdf.shutdown()


def test_pdf_workers_end_when_their_publisher_is_killed() -> None:
    script = (
        "import sys, time; from flows.pdf import weasy as pdf; pdf.make_pdf('<p>x</p>'); "
        "print(*pdf._pool._processes, flush=True); time.sleep(60)"
    )
    run = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env={**os.environ, "NOTICES_PDF_WORKERS": "2"}
    )
    try:
        workers = [int(pid) for pid in run.stdout.readline().split()]  # type: ignore[union-attr]
        assert len(workers) >= 1
    finally:
        run.kill()  # SIGKILL: no atexit, no pool shutdown
        run.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in workers):
        time.sleep(0.2)
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()], "PDF workers outlived their killed parent"
