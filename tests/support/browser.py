"""Debian's Chromium and axe-core, as the browser checks use them: paths, launch flags, axe.

The ``browser`` (one Chromium per module) and ``site`` (the sample rendered, each fragment also
inside a host page) fixtures are in tests/conftest.py. Without Chromium or axe-core the checks
skip, except under CI where they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).resolve().parent.parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _require_browser() -> None:
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser checks need {', '.join(missing)}; .ci/run installs them")
        pytest.skip(f"needs {', '.join(missing)} (run `make test` as root or `bash .ci/run`)")


def _axe(browser, url: str) -> list[dict]:
    """axe's WCAG 2.2 AA violations on the page at ``url``, with the page's own CSP in force.

    axe is added as an init script, which Chromium runs through the DevTools protocol: the CSP
    (``script-src 'none'`` on our pages) does not block it, and it still governs everything the
    page itself loads. A CSP violation by the page is reported as a violation too.
    """
    context = browser.new_context()
    context.add_init_script(path=str(AXE))
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(url)
    result = page.evaluate("async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    context.close()
    return (
        [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]} for v in result["violations"]]
        + ([] if result["passes"] else [{"id": "axe ran no rules"}])
        + [{"id": "csp", "message": text} for text in refused]
    )
