"""Finding the log from any public URL a reader has: a school's latest folder, its page, or the trust's root.

A school's ``latest.json`` names the log (its ``"log"`` block); the trust's ``schools.json``
lists every school and the log sits beside it in ``_log/`` (``flows.publish.layout.LOG_DIR``). Nothing else is assumed about the
host, so the URL can be an S3 website, a CDN or a plain static server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from flows.publish.layout import LOG_DIR
from flows.verify.fetch import Fetcher
from flows.verify.problems import VerifyError


@dataclass(frozen=True)
class SchoolRef:
    """A school as the site names it: its latest folder (ending in "/")."""

    slug: str
    urn: str
    folder: str


@dataclass(frozen=True)
class Site:
    """Where the log is, and which schools to check."""

    log: str  # the log's folder URL, ending in "/"
    schools: tuple[SchoolRef, ...]
    trust_wide: bool  # found from schools.json: every school is checked
    latest_entries: dict[str, str] = field(default_factory=dict)  # slug → the entry latest.json names

    @property
    def checkpoint_url(self) -> str:
        """``log/checkpoint``."""
        return self.log + "checkpoint"

    @property
    def key_url(self) -> str:
        """``log/key.txt``."""
        return self.log + "key.txt"

    @property
    def witnesses_url(self) -> str:
        """``log/witnesses.json``."""
        return self.log + "witnesses.json"


def folder_of(url: str) -> str:
    """The folder a URL names: ``…/index.html`` → ``…/``; ``…/x`` → ``…/x/``."""
    url = url.split("#", 1)[0].split("?", 1)[0]
    if url.endswith("/index.html"):
        return url[: -len("index.html")]
    return url if url.endswith("/") else url + "/"


def find_site(url: str, fetcher: Fetcher) -> Site:
    """The log and the schools to check for ``url`` (a school's folder or page, or the trust root)."""
    folder = folder_of(url)
    latest = fetcher.get(folder + "latest.json", fresh=True)
    if latest is not None:
        record = _json(folder + "latest.json", latest)
        school = SchoolRef(str(record.get("slug", "")), str(record.get("urn", "")), folder)
        log = _log_folder(folder + "latest.json", record)
        entry = record.get("log", {}).get("entry")
        return Site(log, (school,), False, {school.slug: entry} if isinstance(entry, str) else {})
    listing = fetcher.get(folder + "schools.json", fresh=True)
    if listing is None:
        raise VerifyError(
            f"{url}: neither {folder}latest.json nor {folder}schools.json is there; give a school's or the trust's URL"
        )
    schools = _json(folder + "schools.json", listing).get("schools")
    if not isinstance(schools, list):
        raise VerifyError(f"{folder}schools.json: no list of schools")
    refs = tuple(SchoolRef(str(s["slug"]), str(s["urn"]), folder_of(urljoin(folder, str(s["url"])))) for s in schools)
    return Site(f"{folder}{LOG_DIR}/", refs, True)


def read_latest_entries(site: Site, fetcher: Fetcher) -> dict[str, str]:
    """For a trust-wide run, each school's ``latest.json`` entry hash (a school without one is left out)."""
    entries = dict(site.latest_entries)
    for school in site.schools:
        if school.slug in entries:
            continue
        body = fetcher.get(school.folder + "latest.json", fresh=True)
        entry = _json(school.folder + "latest.json", body).get("log", {}).get("entry") if body is not None else None
        if isinstance(entry, str):
            entries[school.slug] = entry
    return entries


def _log_folder(where: str, record: dict[str, Any]) -> str:
    log = record.get("log")
    if not isinstance(log, dict) or not isinstance(log.get("checkpoint"), str):
        raise VerifyError(f'{where}: no "log" block naming the checkpoint (published before the log existed?)')
    checkpoint = urljoin(where, log["checkpoint"])
    if not checkpoint.endswith("/checkpoint"):
        raise VerifyError(f"{where}: the log's checkpoint URL {checkpoint} does not end in /checkpoint")
    return checkpoint[: -len("checkpoint")]


def _json(url: str, body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise VerifyError(f"{url}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise VerifyError(f"{url}: not a JSON object")
    return data
