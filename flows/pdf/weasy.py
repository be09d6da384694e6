"""HTML → PDF/UA-1 with bundled fonts, so that unchanged input gives byte-identical PDFs.

Two things used to make the bytes vary:

* fonts came from fontconfig, i.e. from whatever the machine has installed (DejaVu on one,
  Liberation on another: a different page count). The PDF now uses only the fonts in
  ``templates/fonts/``, named by ``templates/print-fonts.css``;
* without libharfbuzz-subset, WeasyPrint subsets fonts with fontTools, which stamps the
  current time into each embedded font's ``head`` table. HarfBuzz keeps the table as it is.

``make_pdf`` is the one place publishing and ``notices render`` make a PDF. WeasyPrint holds
the GIL, so it sends the page to a pool of worker processes: one per core, or
``$NOTICES_PDF_WORKERS``. ``0`` renders in the calling thread, as does a daemonic process
such as a Dask worker (it may not start processes, and Dask already uses every core). Each
PDF worker keeps one font configuration, so memory stays flat, and is replaced after
``TASKS_PER_WORKER`` PDFs in case WeasyPrint or Pango leak.

The only date WeasyPrint writes (``/CreationDate``) comes from ``<meta name="dcterms.created">``
in the page, i.e. from the edition, never from the clock.

Two corrections to what WeasyPrint makes: links resolve against the public URL of the page's
folder when one is given (``base_url``), and a table split by page breaks is tagged as one
``/Table`` again (``flows.pdf.tables``).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from flows.settings import read_settings

if TYPE_CHECKING:  # WeasyPrint takes ~1 s to import: only the PDF needs it.
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

FONTS_CSS = "print-fonts.css"
_URL = re.compile(r"""url\(\s*["']?([^"')]+)["']?\s*\)""")


class FontsMissing(RuntimeError):
    """A font file named by the fonts stylesheet is not in the fonts folder."""


class PdfToolMissing(RuntimeError):
    """A system library needed for reproducible PDFs is not installed."""


class _PerThread(threading.local):
    # WeasyPrint's FontConfiguration is not thread-safe, and making one per PDF leaks memory
    # (~0.2 MB each) and is slower: one per publisher thread, with the fonts CSS parsed (and
    # the fonts registered in it) once. Keyed by fonts folder so tests can use another one.
    styles: dict[Path, tuple[FontConfiguration, CSS]]

    def __init__(self) -> None:
        self.styles = {}


_local = _PerThread()


def templates_dir() -> Path:
    """The templates folder; imported lazily so that a packaging change touches one place."""
    from flows.config.paths import templates_dir as packaged

    return packaged()


def fonts_css_text() -> str:
    """The ``@font-face`` rules and the rule that forces the bundled families everywhere."""
    return (templates_dir() / FONTS_CSS).read_text(encoding="utf-8")


def required_fonts(css: str) -> list[str]:
    """File names the stylesheet loads: the stylesheet is the one list of bundled fonts."""
    return sorted(set(_URL.findall(css)))


def check_fonts(fonts_dir: Path, css: str) -> None:
    """Raise FontsMissing unless every font the stylesheet names is in ``fonts_dir``.

    WeasyPrint itself would only log a warning and quietly use a system font instead.
    """
    names = required_fonts(css)
    if not names:
        raise FontsMissing(f"{FONTS_CSS} names no font files (looked for url(...) in it)")
    missing = [name for name in names if not (fonts_dir / name).is_file()]
    if missing:
        raise FontsMissing(
            f"PDF fonts missing from {fonts_dir}: {', '.join(missing)} "
            f"(they are part of the project: restore templates/fonts/ from the repository)"
        )


def check_harfbuzz_subset() -> None:
    """Raise PdfToolMissing unless WeasyPrint can subset fonts with HarfBuzz ≥ 4.1.

    Its fallback, fontTools, writes the time of the run into every embedded font.
    """
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    if harfbuzz_subset is None or not harfbuzz.hb_version_atleast(4, 1, 0):
        raise PdfToolMissing(
            "HarfBuzz subsetting (libharfbuzz-subset >= 4.1) is missing, so PDFs would not be "
            "reproducible: run `apt-get install libharfbuzz-subset0` (Debian/Ubuntu)"
        )


def _styles(fonts_dir: Path) -> tuple[FontConfiguration, CSS]:
    """This thread's font configuration and parsed fonts stylesheet for ``fonts_dir``."""
    cached = _local.styles.get(fonts_dir)
    if cached is None:
        css_text = fonts_css_text()
        check_fonts(fonts_dir, css_text)  # before WeasyPrint: it would fall back silently
        check_harfbuzz_subset()
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        # Parsing the @font-face rules copies the fonts into font_config, once per thread.
        # The trailing "/" makes the bare file names in url() resolve inside the folder.
        sheet = CSS(string=css_text, base_url=fonts_dir.resolve().as_uri() + "/", font_config=font_config)
        cached = _local.styles[fonts_dir] = (font_config, sheet)
    return cached


def html_to_pdf(html: str, *, base_url: str | None = None, fonts_dir: Path | None = None) -> bytes:
    """A tagged PDF/UA-1 of the page (its print stylesheet applies), in the bundled fonts.

    ``base_url`` is the public URL of the folder the page is served from (ending in "/"): the
    page's relative links (``notice.json``, ``../history.html``) become absolute links to it,
    so they still work in a downloaded or e-mailed PDF. Without one they stay relative, which
    only works beside the published files. The page loads nothing (its CSP allows only its
    inline style), so the URL is used for links only, never fetched.

    Raises FontsMissing or PdfToolMissing before rendering if the PDF could not be reproducible.
    """
    import weasyprint

    from flows.pdf.tables import merge_split_tables

    # Screen-only CSS (clip-path, overflow-x) is unknown to WeasyPrint and would be logged on
    # every page; real problems (an image without alt text) are logged as errors and stay.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    font_config, sheet = _styles(fonts_dir or templates_dir() / "fonts")
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf(
        stylesheets=[sheet], font_config=font_config, pdf_variant="pdf/ua-1", finisher=merge_split_tables
    )


TASKS_PER_WORKER = 500
_pool_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


class PdfWorkerDied(RuntimeError):
    """A PDF worker process ended mid-render (killed, out of memory); another attempt may work."""


def pdf_workers() -> int:
    """Worker processes for PDFs: ``$NOTICES_PDF_WORKERS``, else one per core (0: in-process)."""
    workers = read_settings().pdf_workers
    return (os.cpu_count() or 1) if workers is None else workers


def _get_pool(workers: int) -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # spawn, not fork: the run's process has threads (Prefect, boto3), and a forked
            # child would inherit their locks in whatever state they were in.
            _pool = ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                max_tasks_per_child=TASKS_PER_WORKER,
                initializer=_watch_parent,
                initargs=(os.getpid(),),
            )
        return _pool


def _watch_parent(parent: int) -> None:
    """In a PDF worker: exit when the process that started it has gone (killed, say).

    A worker waits on its task queue, whose pipe it also holds open, so it would never see
    the end of a parent killed with SIGKILL and would wait for ever.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="watch-parent", daemon=True).start()


def _discard_pool(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def make_pdf(html: str, base_url: str | None = None) -> bytes:
    """The PDF of a page, made in a worker process when there are workers (see the module).

    ``base_url``: the public URL of the page's folder, for absolute links (see ``html_to_pdf``).
    """
    workers = pdf_workers()
    if workers == 0 or multiprocessing.current_process().daemon:
        # A daemonic process (a Dask worker's, say) may not start processes: it is one already.
        return html_to_pdf(html, base_url=base_url)
    pool = _get_pool(workers)
    try:
        return pool.submit(html_to_pdf, html, base_url=base_url).result()
    except BrokenProcessPool as exc:
        _discard_pool(pool)  # the next PDF gets a fresh pool
        raise PdfWorkerDied(f"a PDF worker process died ({exc}); the school can be retried") from exc


def shutdown() -> None:
    """Stop the worker processes (they also stop when this process exits)."""
    global _pool
    with _pool_lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
