"""Run the ``notices`` command with a cheap, deterministic fake PDF instead of WeasyPrint.

    .venv/bin/python tests/bench/notices_stub_pdf.py publish --schools DIR ...

WeasyPrint takes ~0.4 s per PDF, which would hide everything else a benchmark wants to see.
Before the command is imported, the PDF dispatch point of ``flows.pdf.weasy`` (``make_pdf``, and
``html_to_pdf``, which it calls in-process) is replaced by ``fake_pdf``: ``%PDF-1.7`` and
the SHA-256 of the page, so unchanged input still gives identical bytes. On exit one line on
stderr says how many fake PDFs were made (``bench-stub-pdf: N``), so the benchmark can tell
that the stub was really used.
"""

from __future__ import annotations

import atexit
import hashlib
import sys
import threading
from collections.abc import Callable
from typing import Any

MARKER = b"%PDF-1.7\n% trust-notices bench stub\n"
PATCHED_NAMES = ("make_pdf", "html_to_pdf")

_lock = threading.Lock()
_calls = 0
_patched: list[str] = []


def fake_pdf(html: str, *args: Any, **kwargs: Any) -> bytes:
    """A few bytes that start like a PDF and depend only on the page."""
    global _calls
    with _lock:
        _calls += 1
    return MARKER + hashlib.sha256(html.encode("utf-8")).hexdigest().encode() + b"\n%%EOF\n"


def install() -> list[str]:
    """Replace the PDF functions of ``flows.pdf.weasy`` (and any copy already imported elsewhere)."""
    from flows.pdf import weasy as pdf

    originals: dict[int, Callable[..., bytes]] = {}
    for name in PATCHED_NAMES:
        original = getattr(pdf, name, None)
        if original is not None:
            originals[id(original)] = original
            setattr(pdf, name, fake_pdf)
            _patched.append(f"flows.pdf.weasy.{name}")
    # A module that did `from flows.pdf.weasy import make_pdf` before us holds the original: swap it too.
    for module_name, module in list(sys.modules.items()):
        if not module_name.startswith("flows.") or module is pdf or module is None:
            continue
        for attr, value in list(vars(module).items()):
            if callable(value) and id(value) in originals:
                setattr(module, attr, fake_pdf)
                _patched.append(f"{module_name}.{attr}")
    return list(_patched)


def dask_setup(worker: Any) -> None:
    """Dask's preload hook (``DASK_DISTRIBUTED__WORKER__PRELOAD``): the same stub in each worker
    process of a local cluster, which imports ``flows`` afresh and would make real PDFs."""
    install()


def calls() -> int:
    """Fake PDFs made so far in this process."""
    return _calls


def _report() -> None:
    print(f"bench-stub-pdf: {_calls} (patched {', '.join(_patched) or 'nothing'})", file=sys.stderr)


def main() -> int:
    install()
    atexit.register(_report)
    from flows.cli import main as notices

    return notices(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
