"""Markdown payloads: configuration text that tries to create active content, the trust
poisoned with it, and Chromium to load what is rendered from it (no CSP: the escaping, not a
page's policy, must be what keeps a payload inert).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

# Active content a payload tries to create; each is valid configuration text. Names are limited
# to 300 characters, so each string gets two of them in turn: every part lands in many fields.
PARTS = (
    "<svg onload=\"document.title='X'\"></svg>",
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    '<iframe srcdoc="<script>top.__pwned=1</script>"></iframe>',
    "[x](javascript:window.__pwned=1)",
    "<javascript:window.__pwned=1>",
    "![i](data:text/html,hi)",
    '<a href="javascript:window.__pwned=1">a</a>',
    '{{ 7*7 }} *b* _u_ `c` | p {: onclick="window.__pwned=1" }',
    '<object data="x"></object><embed src="x">',
)
PAYLOAD = " ".join(PARTS)
# A raw HTML block needs "<" at the start of a line: the value's first character (every value
# starts with a tag) and, in prose, a line after a blank one.
LEADS = tuple(p for p in PARTS if p.startswith("<"))
BLOCK = '\n\n<div onmouseover="window.__pwned=1"><script>window.__pwned=1</script></div>\n\n'
PROSE = {
    "paragraphs",
    "paragraphs_after_list",
    "introduction",
    "opt_out",
    "list_items",
    "source",
    "attribution",
    "statutory_requirement",
    "if_not_given",
    "international_transfers",
    "automated_decision_making",
    "statement",
    "contact",
}
# The loader refuses tags and inline links in the dataset's Markdown prose; what it accepts
# still tries: a reference definition to a script link, an attribute list with a handler.
REFERENCE = '[pwn] {: onclick="window.__pwned=1" } {{ 7*7 }}\n\n[pwn]: javascript:window.__pwned=1\n\n'
DATASET_MARKDOWN = {"paragraphs", "list_items", "paragraphs_after_list", "opt_out", "introduction"}
# Keys whose values are checked by a validator (or pick a file), so a payload would only be refused.
VALIDATED = {
    "urn",
    "phase",
    "email",
    "phone",
    "postcode",
    "website",
    "url",
    "link",
    "policy_url",
    "colour",
    "lawful_basis",
    "company_number",
    "ico_registration",
    "endpoint_url",
    "bucket",
    "public_base_url",
    "statutory_low_age",
    "statutory_high_age",
    "include",
    "region",
    "prefix",
    "id",
    "phases",
    "slug",
    "body",
    "dataset_edition",
    "where",
}


def poison(value: Any, key: str = "", turn: Iterator[int] | None = None) -> Any:
    """Every free-text string of a YAML document with payload parts around it."""
    turn = turn if turn is not None else itertools.count()
    if isinstance(value, dict):  # approval: names checked as people's, fields from a closed list (test_approvers)
        # links: an edition's web addresses by id (validated as URLs, like `link`).
        return {k: v if k in ("approval", "links") else poison(v, k, turn) for k, v in value.items()}
    if isinstance(value, list):
        return [poison(v, key, turn) for v in value]
    if isinstance(value, str) and key not in VALIDATED:
        n = next(turn)
        if key in DATASET_MARKDOWN:
            return f"{value} {REFERENCE}{value}"
        block = f"{BLOCK}{value}" if key in PROSE else ""
        return f"{LEADS[n % len(LEADS)]} {value} {PARTS[n % len(PARTS)]}{block}"
    return value


def poison_tree(root: Path) -> None:
    """Poison every school, the trust file and every dataset edition under ``root``."""
    for path in [*(root / "schools").glob("*.yaml"), *(root / "shared_data" / "dfe-recipients").glob("*.yaml")]:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        path.write_text(yaml.safe_dump(poison(data), allow_unicode=True, sort_keys=False), encoding="utf-8")


def launch_chromium() -> Iterator[Any]:
    """Debian's Chromium, as ``test_accessibility`` launches it (skips when it is not installed)."""
    from .browser import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        pytest.skip(f"needs {CHROMIUM} (run `make test` as root or `bash .ci/run`)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


ACTIVE_SELECTOR = "script, iframe, frame, object, embed, svg, img, form"
PROBE = f"() => [document.title, typeof window.__pwned, document.querySelectorAll({ACTIVE_SELECTOR!r}).length]"


def load_in_browser(browser: Any, urls: dict[str, str], *, bypass_csp: bool = True) -> dict[str, tuple[str, str, int]]:
    """Load each URL in turn: (document.title, typeof window.__pwned, active elements) by name.

    CSP off by default: the escaping, not a page's policy, must be what keeps a payload inert.
    """
    context = browser.new_context(bypass_csp=bypass_csp)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.dismiss())
    seen = {}
    for name, url in urls.items():
        page.goto(url, wait_until="load")
        page.wait_for_timeout(50)  # error and load handlers of images and frames
        seen[name] = tuple(page.evaluate(PROBE))
    context.close()
    return seen


def write_page(folder: Path, name: str, body: str) -> Path:
    """``body`` in a page of its own, titled "clean", as a school's website would show it (no CSP)."""
    path = folder / f"{name}.html"
    path.write_text(
        f'<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><title>clean</title></head><body>{body}</body></html>',
        encoding="utf-8",
    )
    return path
