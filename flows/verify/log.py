"""The signed checkpoint (spec 1-2): whose key signed it, and whether it extends the one remembered.

The key is, in order of trust: the one pinned with ``--key``, the one remembered from an earlier
run (TOFU), or on first use the log's own ``key.txt``. The checkpoint must be signed by it and
must extend the remembered checkpoint: smaller is a rollback, the same size with another root a
fork, bigger must be proved by a consistency proof from the hash tiles.
"""

from __future__ import annotations

from dataclasses import dataclass

from flows.tlog.merkle import ProofError, consistency_proof, tree_root, verify_consistency
from flows.tlog.note import NoteError, load_verifier, open_note, parse_checkpoint
from flows.tlog.tiles import TileError, TileReader
from flows.verify.entries import Entry
from flows.verify.fetch import Fetcher
from flows.verify.problems import Problem, VerifyError
from flows.verify.state import Seen


@dataclass
class LogView:
    """A checkpoint whose signature verified, and the tiles read under it (one reader per run)."""

    where: str  # the log folder's URL
    origin: str
    size: int
    root: bytes
    note: str  # the signed checkpoint as served
    key: str  # the vkey that verified it
    reader: TileReader
    tiles_ok: bool = True  # the tiles give the signed root; if not, that is said once, not per entry

    def entry_where(self, entry: Entry) -> str:
        """Where a log entry is, for a problem: the log folder and its index."""
        return f"{self.where} (entry {entry.index}, URN {entry.urn} {entry.kind} {entry.edition})"

    def tile(self, path: str) -> str:
        """A tile's URL."""
        return self.where + path


def choose_key(fetched: str, pinned: str | None, seen: Seen | None) -> tuple[str, str]:
    """The vkey to trust and why: pinned, remembered, or key.txt on first use."""
    if pinned:
        return pinned, "the key given with --key"
    if seen is not None:
        return seen.key, "the key remembered from the first run (TOFU)"
    return fetched, "_log/key.txt (first use: now remembered)"


def open_checkpoint(where: str, note: str, vkey: str, why: str, fetcher: Fetcher) -> tuple[LogView | None, list[Problem]]:
    """The checkpoint at ``where``checkpoint if ``vkey`` signed it; otherwise the problem."""
    url = where + "checkpoint"
    try:
        verifier = load_verifier(vkey.strip())
    except NoteError as exc:
        raise VerifyError(f"the key {vkey.strip()!r} ({why}): {exc}") from None
    try:
        opened = open_note(note, [verifier])
        cause = "" if verifier.name in opened.verified else " (no signature by that key)"
    except NoteError as exc:
        cause = f" ({exc})"
    if cause:
        return None, [Problem("key", url, f"the checkpoint is signed by another key, not {verifier.name} ({why}){cause}")]
    try:
        checkpoint = parse_checkpoint(opened.text)
    except NoteError as exc:
        return None, [Problem("checkpoint", url, f"is not a checkpoint ({exc})")]
    if checkpoint.origin != verifier.name:
        return None, [Problem("origin", url, f"names origin {checkpoint.origin}, not the key's {verifier.name}")]
    reader = TileReader(checkpoint.size, lambda path: _tile(fetcher, where, path))
    view = LogView(where, checkpoint.origin, checkpoint.size, checkpoint.root, note, vkey.strip(), reader)
    problems = _tree_matches(view)
    view.tiles_ok = not problems
    return view, problems


def _tile(fetcher: Fetcher, where: str, path: str) -> bytes:
    """A hash tile; a missing one is the log's problem (a TileError the checks report), not the network's."""
    body = fetcher.get(where + path)
    if body is None:
        raise TileError(f"{where}{path} is missing")
    return body


def _tree_matches(view: LogView) -> list[Problem]:
    """The hash tiles give the signed root (else every proof from them would fail, one by one)."""
    if view.size == 0:
        return []
    try:
        root = tree_root(view.size, view.reader.hash)
    except (ProofError, TileError) as exc:
        return [Problem("tiles", view.where + "tile/", f"the hash tiles cannot be read as a tree of size {view.size} ({exc})")]
    if root != view.root:
        return [Problem("tiles", view.where + "tile/", f"the hash tiles do not give the signed root of size {view.size}")]
    return []


def handed_over(view: LogView, published: str) -> str | None:
    """The trust's new key, if the checkpoint the remembered key verified is signed by ``published``
    (``_log/key.txt``) too: the old key vouches for the new one (README "If the log key is lost
    or changed"), so a reader moves to it. None: the same key, or one the old key did not vouch for."""
    published = published.strip()
    if not published or published == view.key:
        return None
    try:
        verifier = load_verifier(published)
        opened = open_note(view.note, [verifier])
    except NoteError:
        return None
    signed = any((s.name, s.key_id) == (verifier.name, verifier.key_id) for s in opened.signatures)
    return published if signed and verifier.name == view.origin else None


def check_extends(view: LogView, seen: Seen | None, whose: str = "seen before") -> list[Problem]:
    """The checkpoint extends ``seen``: not smaller, not another root of the same size, provably consistent."""
    if seen is None or seen.origin != view.origin:
        return []
    url = view.where + "checkpoint"
    if view.size < seen.size:
        return [Problem("rollback", url, f"rolled back: size {view.size}, but size {seen.size} was {whose}")]
    if view.size == seen.size:
        if view.root != seen.root:
            return [Problem("fork", url, f"fork: size {view.size} with another root than the checkpoint {whose}")]
        return []
    if seen.size == 0:
        return []
    try:
        proof = consistency_proof(seen.size, view.size, view.reader.hash)
        verify_consistency(seen.size, view.size, proof, seen.root, view.root)
    except (ProofError, TileError):
        return [
            Problem(
                "not-extension",
                url,
                f"size {view.size} is not an extension of size {seen.size} {whose} (entries removed or rewritten)",
            )
        ]
    return []
