"""The public URL contract: where each object lives and how it is served.

Per school, under ``<prefix>/<slug>/privacy-notice/``:

* ``index.html``, ``fragment.html``, ``notice.md``, ``notice.json``, ``notice.pdf``: the
  latest edition, cached briefly; beside them the pupils' version of the same edition,
  ``for-pupils.html``, ``for-pupils-fragment.html``, ``for-pupils.md``, ``for-pupils.pdf``;
* ``v<N>/…``: edition N, the same files plus ``changes.html``, immutable;
* ``history.html``, ``feed.xml``, ``latest.json``, ``manifest.json``.

At ``<prefix>/``: ``index.html`` (all schools), ``error.html``, ``schools.json`` and
``fragment.css`` (the stylesheet every school's fragment links, at a stable address), and
``_log/``, the trust's public transparency log (``flows.publish.log``): ``checkpoint``,
``key.txt``, ``witnesses.json`` and the immutable ``tile/…`` objects.
Private run files (previews, saved plans, reports) live under ``_private/<prefix>/``, which the
bucket policy never serves anonymously.
Pages link with relative links to explicit files (``history.html`` from the latest page,
``../history.html`` from ``v<N>/``), so they work through an S3 website endpoint, a CDN, or a
plain S3 REST URL.
"""

from __future__ import annotations

import posixpath
from urllib.parse import quote

NOTICE_DIR = "privacy-notice"
PUPIL_FILES = ("for-pupils.html", "for-pupils-fragment.html", "for-pupils.md", "for-pupils.pdf")
LATEST_FILES = ("index.html", "fragment.html", "notice.md", "notice.json", "notice.pdf", *PUPIL_FILES)
PDF_FILES = ("notice.pdf", "for-pupils.pdf")  # made from their pages (flows.notice.render.PDF_SOURCES)
EDITION_FILES = (*LATEST_FILES, "changes.html")

LATEST_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
LOG_DIR = "_log"  # the trust's public log (flows.publish.log); "_" keeps it apart from every school's slug
PRIVATE_ROOT = "_private"  # never publicly readable (bucket policy); swept after the decision
RECORD_CACHE = "no-cache"  # manifest.json, latest.json, schools.json: always revalidate

_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".xml": "application/atom+xml; charset=utf-8",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


def content_type(name: str) -> str:
    """The Content-Type an object is served with (text types carry charset=utf-8); the log's
    ``checkpoint`` is a text note, its tiles (no extension) are binary."""
    extension = posixpath.splitext(name)[1]
    if not extension:
        return _TYPES[".txt"] if posixpath.basename(name) == "checkpoint" else "application/octet-stream"
    return _TYPES[extension]


COMPRESSED_TYPES = ("text/html", "text/markdown", "application/json", "application/atom+xml", "text/css")


def compressible(key: str, served_as: str) -> bool:
    """True if an object is stored gzip-compressed when the trust compresses (the default):
    pages, Markdown, JSON, the feed and the stylesheet, to about a third of their size. PDFs are
    compressed already; the log (``_log/``) is kept byte for byte as signed, for any checker
    that fetches it without decompressing, and its objects are small."""
    if LOG_DIR in key.split("/"):
        return False
    return served_as.split(";")[0].strip() in COMPRESSED_TYPES


def join(*parts: str) -> str:
    """Join key parts, ignoring empty ones (an empty prefix means the bucket root)."""
    return "/".join(p.strip("/") for p in parts if p and p.strip("/"))


def school_dir(prefix: str, slug: str) -> str:
    """``<prefix>/<slug>/privacy-notice``."""
    return join(prefix, slug, NOTICE_DIR)


def latest_key(prefix: str, slug: str, name: str) -> str:
    """Key of a latest file, e.g. ``notices/oakfield-primary/privacy-notice/index.html``."""
    return join(school_dir(prefix, slug), name)


def edition_key(prefix: str, slug: str, number: int, name: str) -> str:
    """Key of an edition's file, e.g. ``…/privacy-notice/v3/index.html``."""
    return join(school_dir(prefix, slug), f"v{number}", name)


def record_key(prefix: str, slug: str, name: str) -> str:
    """Key of ``manifest.json``, ``latest.json``, ``history.html`` or ``feed.xml``."""
    return join(school_dir(prefix, slug), name)


def school_url(public_base_url: str, prefix: str, slug: str, name: str = "") -> str:
    """Public URL of a school's object ``name`` (``index.html``, ``v3/changes.html``), or of its
    latest-notice folder, ending in "/", without one.

    The one place a school's public address is formed: the pages, the office links,
    ``latest.json``, ``schools.json`` and the PDFs' links all take it from here. The key is
    percent-quoted as ``S3Publisher.url`` quotes it, so a prefix or slug that needs quoting
    (a space, a non-ASCII letter) gives the same, working address everywhere.
    ``public_base_url`` ends in "/" (``Target`` makes it so).
    """
    return public_base_url + quote(join(school_dir(prefix, slug), name)) + ("" if name else "/")


def school_href(slug: str, name: str) -> str:
    """A school's object ``name`` as the trust index links it: relative to the trust's folder,
    ``<slug>/privacy-notice/<name>``, quoted as ``school_url`` quotes."""
    return school_url("", "", slug, name)


def edition_url(public_base_url: str, prefix: str, slug: str, number: int) -> str:
    """Public URL of edition N's folder (ending in "/"): what its PDF's relative links resolve
    against. The latest ``notice.pdf`` is a copy of the edition's, so it uses this URL too."""
    return school_url(public_base_url, prefix, slug, f"v{number}") + "/"


def root_key(prefix: str, name: str) -> str:
    """Key of a trust-level object: ``index.html``, ``error.html``, ``schools.json``, ``fragment.css``."""
    return join(prefix, name)


def root_url(public_base_url: str, prefix: str, name: str) -> str:
    """Public URL of a trust-level object (``index.html``, ``fragment.css``), quoted as ``school_url`` quotes."""
    return public_base_url + quote(root_key(prefix, name))


def log_key(prefix: str, path: str) -> str:
    """Key of an object of the trust's log: ``<prefix>/_log/checkpoint``, ``…/_log/tile/0/000``."""
    return join(prefix, LOG_DIR, path)


def private_key(prefix: str, *parts: str) -> str:
    """Key of a private object: ``_private/<prefix>/…`` (outside every public folder)."""
    return join(PRIVATE_ROOT, prefix or "root", *parts)
