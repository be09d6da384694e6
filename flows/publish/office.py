"""What a school office needs to link to, embed or pull a school's notice (pure).

Every string is computed here from the target's public base URL and the layout, once, so the
history page, the trust index and ``latest.json`` cannot disagree:

* the stable addresses: the current notice, its fragment, ``notice.json`` and the Atom feed;
* the embed snippet: a plain link to the notice (what a visitor gets if anything fails), then
  a short script that fetches the fragment and puts it in the link's place. The script is the
  same for every school (it reads the address from the ``data-tn-fragment`` attribute), so a
  host with a strict CSP allows it once, by one hash;
* the trust's fragment stylesheet (``fragment.css`` at the trust root), every rule scoped
  under ``.tn-notice``, which each fragment links absolutely;
* the CSP a host page needs for all of this.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from jinja2 import Environment
from markupsafe import escape

from flows.publish import layout

FRAGMENT_CSS = "fragment.css"
"""The fragment stylesheet: a template file, published once per trust at ``<prefix>/fragment.css``."""

# Fetches every fallback box not yet claimed and swaps in its fragment; a failure (offline, CSP,
# CORS) leaves the link. Scripts inside fetched HTML never run when set through innerHTML.
EMBED_SCRIPT = """
document.querySelectorAll("div[data-tn-fragment]").forEach(function (box) {
  var url = box.getAttribute("data-tn-fragment");
  box.removeAttribute("data-tn-fragment");
  fetch(url)
    .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.text(); })
    .then(function (html) { box.innerHTML = html; })
    .catch(function () {});
});
"""


@dataclass(frozen=True)
class OfficeLinks:
    """One school's addresses and embed snippet, as a school office copies them."""

    page: str
    fragment: str
    json: str
    feed: str
    stylesheet: str
    snippet: str
    snippet_id: str
    """The id of the snippet's text box: unique on the trust index, which lists every school."""

    @property
    def snippet_rows(self) -> int:
        """Rows for the text box, so the whole snippet shows without scrolling down."""
        return self.snippet.count("\n") + 1


def fragment_css_url(public_base_url: str, prefix: str) -> str:
    """The absolute address of the trust's fragment stylesheet."""
    return layout.root_url(public_base_url, prefix, FRAGMENT_CSS)


def office_links(public_base_url: str, prefix: str, slug: str, name: str) -> OfficeLinks:
    """Every address and the embed snippet for one school."""
    base = layout.school_url(public_base_url, prefix, slug)
    page, fragment = base + "index.html", base + "fragment.html"
    return OfficeLinks(
        page=page,
        fragment=fragment,
        json=base + "notice.json",
        feed=base + "feed.xml",
        stylesheet=fragment_css_url(public_base_url, prefix),
        snippet=embed_snippet(page, fragment, name),
        snippet_id=f"embed-{slug}",
    )


def embed_snippet(page_url: str, fragment_url: str, name: str) -> str:
    """The HTML a school office pastes: the fallback link, then the script that swaps in the fragment.

    The school's name and the addresses are escaped here: the snippet is HTML, and the page
    that shows it escapes it once more, as text.
    """
    return (
        f'<div class="tn-embed" data-tn-fragment="{escape(fragment_url)}">\n'
        f'<p><a href="{escape(page_url)}">Privacy notice for parents and carers: {escape(name)}</a></p>\n'
        f"</div>\n<script>{EMBED_SCRIPT}</script>"
    )


def embed_script_hash() -> str:
    """The CSP source that allows the embed script, e.g. ``'sha256-…'`` (the same for every school)."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(EMBED_SCRIPT.encode()).digest()).decode() + "'"


def host_csp(public_base_url: str) -> str:
    """The directives a host page with a Content-Security-Policy adds for the snippet to work."""
    origin = bucket_origin(public_base_url)
    return f"script-src {embed_script_hash()}; connect-src {origin}; style-src {origin}"


def bucket_origin(public_base_url: str) -> str:
    """``scheme://host[:port]`` of the public base URL: what a host's CSP names."""
    parts = urlsplit(public_base_url)
    return f"{parts.scheme}://{parts.netloc}"


def fragment_stylesheet(env: Environment) -> bytes:
    """The bytes of ``fragment.css``, read from the run's templates (deterministic)."""
    assert env.loader is not None  # build_environment always sets a FileSystemLoader
    source, _, _ = env.loader.get_source(env, FRAGMENT_CSS)
    return source.encode("utf-8")
