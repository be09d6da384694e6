"""A tiny published trust with its transparency log, built from /work/notes/log-spec.md alone, and served.

Two schools, a few editions, every entry as the spec writes it, hash tiles by ``plan_append``
and a signed checkpoint after each publish run; served by ``http.server`` on 127.0.0.1. The
tests then attack the files on disk and expect ``notices verify`` to say what changed.
Also here: servers that fail as networks do (stall, cut the body) and a refused port.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import shutil
import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from flows.tlog.merkle import leaf_hash, root_of
from flows.tlog.note import Checkpoint, format_checkpoint, generate_key, load_signer, sign_note
from flows.tlog.tiles import plan_append

PREFIX = "trust"
LOG = "_log"
ORIGIN = "oakfield-trust.example.org/privacy-notices"
TRUST_ID = "09990001"
LATEST = ("index.html", "fragment.html", "notice.md", "notice.json", "notice.pdf")
LATEST += ("for-pupils.html", "for-pupils-fragment.html", "for-pupils.md", "for-pupils.pdf")
EDITION = (*LATEST, "changes.html")
# Each publish run: (slug, edition) pairs published in it; riverside skips edition 2.
RUNS = (
    (("oakfield-primary", 1), ("riverside-academy", 1)),
    (("oakfield-primary", 2),),
    (("oakfield-primary", 3), ("riverside-academy", 3)),
)
SCHOOLS = {"oakfield-primary": "990001", "riverside-academy": "990002"}


def canonical(obj: dict[str, Any]) -> bytes:
    """The spec's canonical JSON bytes of an entry."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class LogSite:
    """The site on disk (``root`` is the bucket root) and what was logged."""

    root: Path
    base_url: str = ""
    skey: str = ""
    vkey: str = ""
    entries: list[bytes] = field(default_factory=list)
    checkpoints: list[str] = field(default_factory=list)  # after each run

    @property
    def trust(self) -> Path:
        return self.root / PREFIX

    @property
    def log(self) -> Path:
        return self.trust / LOG

    @property
    def trust_url(self) -> str:
        return f"{self.base_url}{PREFIX}/"

    def folder(self, slug: str) -> Path:
        return self.trust / slug / "privacy-notice"

    def school_url(self, slug: str) -> str:
        return f"{self.trust_url}{slug}/privacy-notice/"

    def url(self, path: Path) -> str:
        return self.base_url + path.relative_to(self.root).as_posix()

    def append(self, entries: list[bytes]) -> str:
        """Append ``entries`` (create-only tiles), sign and write the checkpoint; returns it."""
        plan = plan_append(len(self.entries), lambda p: (self.log / p).read_bytes(), entries)
        for path, data in plan.tiles.items():
            target = self.log / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self.entries += entries
        note = self.sign(plan.new_size, plan.root)
        (self.log / "checkpoint").write_text(note, encoding="utf-8")
        return note

    def sign(self, size: int, root: bytes, skey: str | None = None) -> str:
        """A checkpoint note of ``size`` and ``root`` signed by ``skey`` (default: the trust's)."""
        signer = load_signer(skey or self.skey)
        return sign_note(format_checkpoint(Checkpoint(signer.name, size, root)), signer)

    def rebuild(self, entries: list[bytes]) -> None:
        """Throw the log's tiles away and build, and sign, a new log of ``entries`` (an attacker's rewrite)."""
        shutil.rmtree(self.log / "tile", ignore_errors=True)
        self.entries = []
        self.append(entries)

    def root_hash(self) -> bytes:
        """The root of the entries logged now."""
        return root_of([leaf_hash(e) for e in self.entries])

    def entry(self, slug: str, kind: str, edition: int) -> dict[str, Any]:
        """The logged entry of ``slug``'s ``kind`` for ``edition`` (the last one)."""
        found = [json.loads(e) for e in self.entries]
        return [e for e in found if e.get("slug") == slug and e.get("kind") == kind and e.get("edition") == edition][-1]

    def write_witnesses(self, witnesses: list[dict[str, str]]) -> None:
        """``_log/witnesses.json`` listing ``witnesses`` ({name, key, url})."""
        (self.log / "witnesses.json").write_text(json.dumps({"witnesses": witnesses}), encoding="utf-8")


def build_site(root: Path, base_url: str) -> LogSite:
    """Publish the three runs of ``RUNS`` into ``root``, served at ``base_url``."""
    skey, vkey = generate_key(ORIGIN)
    site = LogSite(root, base_url, skey, vkey)
    site.log.mkdir(parents=True)
    (site.log / "key.txt").write_text(vkey + "\n", encoding="utf-8")
    site.write_witnesses([])
    previous: dict[str, str | None] = dict.fromkeys(SCHOOLS)
    last: dict[str, int] = dict.fromkeys(SCHOOLS, 0)
    for number, run in enumerate(RUNS):
        batch: list[bytes] = []
        for slug, edition in run:
            batch += _publish(site, slug, edition, previous, list(range(last[slug] + 1, edition)), number)
            last[slug] = edition
        site.checkpoints.append(site.append(batch))
    _write_records(site, last)
    return site


def _publish(
    site: LogSite, slug: str, edition: int, previous: dict[str, str | None], skipped: list[int], run: int
) -> list[bytes]:
    """Write ``v<N>/`` and the latest files of one edition; its two entries."""
    folder = site.folder(slug)
    files = {name: f"{slug} edition {edition}: {name}\n".encode() for name in EDITION}
    (folder / f"v{edition}").mkdir(parents=True)
    for name, data in files.items():
        (folder / f"v{edition}" / name).write_bytes(data)
    for name in LATEST:
        (folder / name).write_bytes(files[name])
    common = {"format": "trust-notices/log-entry/1", "trust": TRUST_ID, "urn": SCHOOLS[slug], "slug": slug, "edition": edition}
    common |= {"dataset_edition": "2026-2", "renderer": "t1"}
    when = f"2026-0{run + 1}-01T00:00:00Z"
    first = edition == 1
    approval = {"approved_by": None, "approval_note": None, "published_without_approval": "first edition" if first else None}
    entry = canonical(
        {**common, **approval, "kind": "edition", "published_at": when, "change_class": "first" if first else "minor"}
        | {"files": {n: sha(d) for n, d in files.items()}, "previous": previous[slug], "skipped": skipped}
    )
    previous[slug] = leaf_hash(entry).hex()
    latest = {"kind": "latest", "updated_at": when, "files": {n: sha(files[n]) for n in LATEST}, "edition_entry": previous[slug]}
    return [entry, canonical(common | latest)]


def _write_records(site: LogSite, last: dict[str, int]) -> None:
    """latest.json (with its "log" block), manifest.json, history.html and schools.json."""
    listing = []
    for slug, edition in last.items():
        latest = site.entry(slug, "latest", edition)
        record = {
            "slug": slug,
            "name": slug.title(),
            "urn": SCHOOLS[slug],
            "edition": edition,
            "log": {
                "origin": ORIGIN,
                "checkpoint": f"{site.trust_url}{LOG}/checkpoint",
                "key": f"{site.trust_url}{LOG}/key.txt",
                "entry": leaf_hash(canonical(latest)).hex(),
            },
        }
        (site.folder(slug) / "latest.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
        editions = sorted(e["edition"] for e in map(json.loads, site.entries) if e["slug"] == slug and e["kind"] == "edition")
        (site.folder(slug) / "manifest.json").write_text(json.dumps({"editions": [{"number": n} for n in editions]}))
        (site.folder(slug) / "history.html").write_text(
            "".join(f'<p><a href="v{n}/index.html">edition {n}</a></p>' for n in editions)
        )
        listing.append(
            {
                "slug": slug,
                "name": slug.title(),
                "urn": SCHOOLS[slug],
                "edition": edition,
                "url": site.school_url(slug) + "index.html",
            }
        )
    (site.trust / "schools.json").write_text(json.dumps({"schools": listing}, indent=2), encoding="utf-8")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # tests read their own output, not the server's
        pass


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 64  # verify fetches 8 files at once; a backlog of 5 drops connects (1 s retries)


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port) in a thread; yields the base URL ending in "/"."""
    server = _Server(("127.0.0.1", 0), partial(_Quiet, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def faulty_server(mode: str) -> Iterator[str]:
    """A server on 127.0.0.1 that ``stall``s after the headers, ``cut``s the body short, answers a
    status ("503"), or sends a whole body marked gzip that is cut short inside (``gzip-cut``) or is
    not gzip at all (``gzip-bad``)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def answer(conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)
            if mode.isdigit():  # an error status, e.g. "503"
                conn.sendall(f"HTTP/1.1 {mode} Trouble\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode())
                return
            if mode.startswith("gzip-"):
                body = gzip.compress(b'{"schools": []}' * 50)[:-30] if mode == "gzip-cut" else b'{"schools": []}'
                head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
                conn.sendall(head.encode() + body)
                return
            conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"sch')
            if mode == "stall":
                stop.wait(10)

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def refused_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (a port taken, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/trust/"
