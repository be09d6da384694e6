"""The trust's public log: each run appends the entries its schools' manifests hold that the log
does not, as C2SP tlog-tiles static files, then signs a new checkpoint (``notices verify``
reads it). It runs under the trust lock, after the schools and the index, before the state.

In the safe order, as the editions are written:

1. the checkpoint read back and checked against the trust's key (another key: stop);
2. which entries the log holds: a private cache (``_private/<prefix>/log-index.json``),
   caught up from the public entry bundles when it is behind or gone (the private prefix
   expires);
3. entries a killed append left beyond the checkpoint are adopted first, in their order, so
   every tile path keeps the one content it was first written with;
4. the new tiles, create-only (an existing tile is never replaced);
5. ``key.txt`` and ``witnesses.json``, where they differ;
6. the checkpoint, conditional on the one read in step 1: only now do the entries count;
7. the cache saved.

Appending N entries writes O(N / 256 + log N) objects; a run with nothing to add writes none.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from flows.publish import layout
from flows.publish.base import PreconditionFailed, Publisher, PublishError
from flows.publish.context import Upload
from flows.publish.log_entries import entry_id
from flows.publish.writer import SlotTaken, create_only, write_if_changed
from flows.tlog.merkle import root_of
from flows.tlog.note import (
    Checkpoint,
    NoteError,
    Signer,
    format_checkpoint,
    open_note,
    parse_checkpoint,
    sign_note,
    vkey_of,
)
from flows.tlog.tiles import TILE_WIDTH, decode_bundle, entries_path, plan_append
from flows.publish.log_key import LogKeys, public_key

INDEX_FORMAT = "trust-notices/log-index/2"
# Signed with the log's key, so ids written into the cache by anyone else (who could then keep an
# entry out of the log) are not believed: the ids are read from the public bundles instead.
INDEX_CONTEXT = b"trust-notices log-index\n"
ROTATE_HELP = 'see README "If the log key is lost or changed"'


@dataclass(frozen=True)
class Witness:
    """Another party that co-signs the trust's checkpoints (trust.yaml ``log.witnesses``)."""

    name: str
    key: str
    url: str


@dataclass
class LogState:
    """What the log holds: its signed size and root, and the ids of its entries."""

    size: int = 0
    root: bytes = field(default_factory=lambda: root_of([]))
    ids: set[str] = field(default_factory=set)
    checkpoint_etag: str | None = None
    current: bool = True
    """The checkpoint carries the trust's current key's signature (False: signed by the replaced key only)."""


@dataclass(frozen=True)
class LogOutcome:
    """What the log step did: entries appended, the tree's size now, the objects written."""

    appended: int
    size: int
    written: tuple[str, ...] = ()


def append_log(
    pub: Publisher, prefix: str, keys: LogKeys | Signer, entries: Sequence[bytes], witnesses: Sequence[Witness] = ()
) -> LogOutcome:
    """Append each of ``entries`` the log does not hold yet and sign the new checkpoint (steps 1-7).

    Raises ``PublishError`` naming the object if the log cannot be read, was changed outside
    this tool (a checkpoint under another key, a tile with other bytes), or a write failed;
    then no checkpoint was written, and the next run appends the same entries.
    """
    keys = keys if isinstance(keys, LogKeys) else LogKeys(keys)
    signer = keys.signer
    state = read_log(pub, prefix, keys)
    offered = [e for e in dict.fromkeys(entries) if entry_id(e) not in state.ids]
    if not offered and state.current:  # everything is logged: not even a LIST
        return LogOutcome(0, state.size)
    stale = _stale_entries(pub, prefix, state.size)
    new = [*stale, *(e for e in offered if e not in stale)]
    append = plan_append(state.size, lambda path: _fetch_tile(pub, prefix, path), new)
    written = [_create_tile(pub, prefix, path, body) for path, body in sorted(append.tiles.items())]
    written += write_if_changed(pub, _published_keys(prefix, signer, witnesses))
    note = sign_note(format_checkpoint(Checkpoint(signer.name, append.new_size, append.root)), *keys.signers)
    key = _write_checkpoint(pub, prefix, note.encode("utf-8"), state.checkpoint_etag)
    _save_index(pub, prefix, append.new_size, state.ids | {entry_id(e) for e in new}, signer)
    return LogOutcome(len(new), append.new_size, (*[w for w in written if w], key))


def _write_checkpoint(pub: Publisher, prefix: str, note: bytes, etag: str | None) -> str:
    """The new checkpoint, only over the one read; its key. A lost answer to our own write (the
    retry finds our bytes there) is a success, anything else another writer: an error."""
    key = layout.log_key(prefix, "checkpoint")
    try:
        pub.put(
            key,
            note,
            content_type=layout.content_type(key),
            cache_control=layout.RECORD_CACHE,
            if_match=etag,
            if_none_match=etag is None,
        )
    except PreconditionFailed:
        stored = pub.get(key)
        if stored is None or stored.body != note:
            raise PublishError(
                f"{key}: changed by another writer while this run held the trust lock; nothing was appended"
            ) from None
    return key


def read_log(pub: Publisher, prefix: str, keys: LogKeys | Signer) -> LogState:
    """The signed checkpoint (checked against the trust's key, or the one it replaces) and the
    ids of every entry it covers."""
    keys = keys if isinstance(keys, LogKeys) else LogKeys(keys)
    key = layout.log_key(prefix, "checkpoint")
    stored = pub.get(key)
    if stored is None:
        return LogState()
    try:
        opened = open_note(stored.body.decode("utf-8"), keys.verifiers)
        checkpoint = parse_checkpoint(opened.text)
    except (NoteError, UnicodeDecodeError) as exc:
        raise PublishError(f"{key}: not a checkpoint this tool can read ({exc}); {ROTATE_HELP}", transient=False) from None
    ours = {(v.name, v.key_id) for v in keys.verifiers}  # open_note raised if one of these signed falsely
    signed = {(s.name, s.key_id) for s in opened.signatures}
    if not signed & ours or checkpoint.origin != keys.signer.name:
        raise PublishError(
            f"{key}: signed by another key (log {checkpoint.origin!r}), not this run's key {vkey_of(keys.signer)}: "
            f"nothing was appended; {ROTATE_HELP}",
            transient=False,
        )
    ids = _cached_ids(pub, prefix, checkpoint.size, keys)
    if ids is None:
        ids = {entry_id(e) for e in _read_entries(pub, prefix, 0, checkpoint.size)}
    current = (keys.signer.name, keys.signer.key_id) in signed  # else a new key signs the same tree again
    return LogState(checkpoint.size, checkpoint.root, ids, stored.etag, current)


def _cached_ids(pub: Publisher, prefix: str, size: int, keys: LogKeys) -> set[str] | None:
    """The private cache's ids, caught up to ``size`` from the entry bundles (None: no usable cache:
    missing, unreadable, beyond the checkpoint, or not signed by the trust's key)."""
    stored = pub.get(_index_key(prefix))
    try:
        cache = json.loads(stored.body) if stored is not None else None
        signature = base64.b64decode(cache.pop("signature"), validate=True) if isinstance(cache, dict) else b""
    except (ValueError, KeyError, TypeError):
        cache = None
    if not isinstance(cache, dict) or cache.get("format") != INDEX_FORMAT or not 0 <= cache.get("size", -1) <= size:
        return None
    if not any(v.verify(INDEX_CONTEXT + _index_body(cache), signature) for v in keys.verifiers):
        return None
    ids = set(cache.get("ids", []))
    return ids | {entry_id(e) for e in _read_entries(pub, prefix, cache["size"], size)}


def _index_body(cache: dict[str, object]) -> bytes:
    return json.dumps(cache, sort_keys=True, separators=(",", ":")).encode()


def _read_entries(pub: Publisher, prefix: str, start: int, end: int) -> list[bytes]:
    """The log's entries ``start`` to ``end`` (exclusive), from their bundles."""
    entries: list[bytes] = []
    for tile in range(start // TILE_WIDTH, (end + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, end - tile * TILE_WIDTH)
        bundle = decode_bundle(_fetch_tile(pub, prefix, entries_path(tile, width)))
        first = max(start - tile * TILE_WIDTH, 0)
        entries += bundle[first:width]
    return entries


def _stale_entries(pub: Publisher, prefix: str, size: int) -> list[bytes]:
    """Entries a killed append left beyond the checkpoint (bundles no checkpoint covers yet).

    They were publicly readable, so their tiles must keep their bytes: the next append starts
    with exactly them. The widest bundle of each tile holds every narrower one's entries.
    """
    folder = layout.log_key(prefix, "tile/entries/")
    first_tile = size // TILE_WIDTH
    widest: dict[int, tuple[int, str]] = {}
    after = layout.log_key(prefix, entries_path(first_tile - 1)) if first_tile else ""  # keys of earlier tiles sort before
    for head in pub.list(folder, start_after=after):
        tile, width = _bundle_of(head.key[len(folder) :])
        if tile is not None and tile >= first_tile and width > widest.get(tile, (0, ""))[0]:
            widest[tile] = (width, head.key)
    stale: list[bytes] = []
    for tile in range(first_tile, first_tile + len(widest)):
        if tile not in widest:
            break
        width, _key = widest[tile]
        bundle = decode_bundle(_fetch_tile(pub, prefix, entries_path(tile, width)))
        stale += bundle[max(size - tile * TILE_WIDTH, 0) :]
        if width < TILE_WIDTH:
            break
    return stale


def _bundle_of(path: str) -> tuple[int | None, int]:
    """(tile index, width) of an entry bundle's path below ``tile/entries/`` (None: not one)."""
    name, _, width = path.partition(".p/")
    try:
        index = int("".join(part.lstrip("x") for part in name.split("/")) or "x")
        return index, int(width) if width else TILE_WIDTH
    except ValueError:
        return None, 0


def _fetch_tile(pub: Publisher, prefix: str, path: str) -> bytes:
    key = layout.log_key(prefix, path)
    stored = pub.get(key)
    if stored is None:
        raise PublishError(
            f"{key}: a tile the checkpoint covers is missing; the log was changed outside notices publish", transient=False
        )
    return stored.body


def _create_tile(pub: Publisher, prefix: str, path: str, body: bytes) -> str:
    """Create one tile (immutable); '' if the same bytes were already there."""
    key = layout.log_key(prefix, path)
    try:
        return key if create_only(pub, Upload(key, body, layout.IMMUTABLE_CACHE)) else ""
    except SlotTaken:
        raise PublishError(
            f"{key}: this tile holds other bytes than the log's entries give: the log was changed outside notices publish; "
            "nothing was appended (the tile is kept for inspection)",
            transient=False,
        ) from None


def _published_keys(prefix: str, signer: Signer, witnesses: Sequence[Witness]) -> list[Upload]:
    listed = {"witnesses": [{"name": w.name, "key": w.key, "url": w.url} for w in witnesses]}
    return [
        Upload(layout.log_key(prefix, "key.txt"), (public_key(signer) + "\n").encode(), layout.RECORD_CACHE),
        Upload(layout.log_key(prefix, "witnesses.json"), (json.dumps(listed, indent=2) + "\n").encode(), layout.RECORD_CACHE),
    ]


def _index_key(prefix: str) -> str:
    return layout.private_key(prefix, "log-index.json")


def _save_index(pub: Publisher, prefix: str, size: int, ids: set[str], signer: Signer) -> None:
    """The signed cache of the log's entry ids; lost (or not signed), the next run reads them from the bundles."""
    cache: dict[str, object] = {"format": INDEX_FORMAT, "size": size, "ids": sorted(ids)}
    signature = base64.b64encode(signer.sign(INDEX_CONTEXT + _index_body(cache))).decode()
    body = json.dumps({**cache, "signature": signature}, separators=(",", ":")).encode()
    try:
        pub.put(_index_key(prefix), body, content_type="application/json; charset=utf-8", cache_control="no-store")
    except PublishError:
        pass  # the checkpoint is written: the log is complete, the next run only reads more
