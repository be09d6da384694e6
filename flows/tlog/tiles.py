"""C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile paths, entry bundles, reading and appending tiles.

A hash tile at level L holds up to 256 consecutive Merkle tree hashes of tree level 8*L; the levels in
between are recomputed from them. Tiles are immutable: appending writes new full tiles and new, wider
partial tiles at new paths, and never rewrites one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flows.tlog.merkle import HASH_SIZE, ProofError, leaf_hash, root_of, tree_root

TILE_HEIGHT = 8
TILE_WIDTH = 256

Fetch = Callable[[str], bytes]


class TileError(ValueError):
    """A tile or entry bundle that is malformed, of the wrong size, or outside the tree."""


def encode_tile_index(n: int) -> str:
    """Encode a tile index as zero-padded 3-digit path elements, all but the last prefixed with "x"."""
    if n < 0:
        raise TileError(f"negative tile index {n}")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n > 0:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def _suffix(width: int) -> str:
    if not 1 <= width <= TILE_WIDTH:
        raise TileError(f"tile width {width} is not between 1 and {TILE_WIDTH}")
    return "" if width == TILE_WIDTH else f".p/{width}"


def tile_path(level: int, index: int, width: int = TILE_WIDTH) -> str:
    """Return "tile/<L>/<N>" for a full hash tile, or "tile/<L>/<N>.p/<W>" for a partial one."""
    if not 0 <= level <= 63:
        raise TileError(f"tile level {level} is not between 0 and 63")
    return f"tile/{level}/{encode_tile_index(index)}{_suffix(width)}"


def entries_path(index: int, width: int = TILE_WIDTH) -> str:
    """Return "tile/entries/<N>" for a full entry bundle, or "tile/entries/<N>.p/<W>" for a partial one."""
    return f"tile/entries/{encode_tile_index(index)}{_suffix(width)}"


def encode_bundle(entries: Sequence[bytes]) -> bytes:
    """Encode entries as an entry bundle: each one as a big-endian uint16 length, then its bytes."""
    out = bytearray()
    for i, entry in enumerate(entries):
        if len(entry) > 0xFFFF:
            raise TileError(f"entry {i} is {len(entry)} bytes, more than an entry bundle can hold (65535)")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    """Decode an entry bundle into its entries; TileError if it is truncated."""
    entries: list[bytes] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TileError(f"entry bundle truncated in the length of entry {len(entries)}")
        size = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + size > len(data):
            raise TileError(f"entry bundle truncated in entry {len(entries)} ({size} bytes announced)")
        entries.append(data[pos : pos + size])
        pos += size
    return entries


def tiles_for_size(size: int) -> list[tuple[int, int, int]]:
    """Return (level, index, width) of every hash tile of a tree of `size` leaves, full and partial."""
    out: list[tuple[int, int, int]] = []
    level = 0
    count = size  # hashes stored at this tile level
    while count > 0:
        full, partial = divmod(count, TILE_WIDTH)
        out.extend((level, i, TILE_WIDTH) for i in range(full))
        if partial:
            out.append((level, full, partial))
        count >>= TILE_HEIGHT
        level += 1
    return out


def bundles_for_size(size: int) -> list[tuple[int, int]]:
    """Return (index, width) of every entry bundle of a log of `size` entries, full and partial."""
    return [(index, width) for level, index, width in tiles_for_size(size) if level == 0]


def _tile_width(size: int, level: int, index: int) -> int:
    """Width of hash tile `index` at tile level `level` in a tree of `size` leaves (0: no such tile)."""
    count = size >> (TILE_HEIGHT * level)
    return max(0, min(TILE_WIDTH, count - index * TILE_WIDTH))


class TileReader:
    """Reads Merkle tree hashes of a tree of a given size from its hash tiles (a `HashReader`)."""

    def __init__(self, size: int, fetch: Fetch) -> None:
        """Read the tree of `size` leaves; fetch(path) returns the bytes of a tile path such as "tile/0/000"."""
        self.size = size
        self._fetch = fetch
        self._tiles: dict[str, list[bytes]] = {}
        self.fetched: list[str] = []

    def tile(self, level: int, index: int) -> list[bytes]:
        """Return the hashes of hash tile `index` at tile level `level` (full or partial as the size says)."""
        width = _tile_width(self.size, level, index)
        if width == 0:
            raise TileError(f"tile {level}/{index} is outside the tree of size {self.size}")
        path = tile_path(level, index, width)
        if path not in self._tiles:
            data = self._fetch(path)
            self.fetched.append(path)
            if len(data) != width * HASH_SIZE:
                raise TileError(f"{path} is {len(data)} bytes, not {width * HASH_SIZE}")
            self._tiles[path] = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return self._tiles[path]

    def hash(self, level: int, index: int) -> bytes:
        """Return the hash of the complete subtree at tree `level` and `index`, from the tiles."""
        if index < 0 or level < 0 or (index + 1) << level > self.size:
            raise TileError(f"no complete subtree at level {level}, index {index} in a tree of size {self.size}")
        tile_level, sub = divmod(level, TILE_HEIGHT)
        first = index << sub  # first hash at tree level 8*tile_level under this subtree
        hashes = self.tile(tile_level, first // TILE_WIDTH)
        offset = first % TILE_WIDTH
        return root_of(hashes[offset : offset + (1 << sub)])


@dataclass(frozen=True)
class Append:
    """What appending entries creates: the new size and root, and every new tile and bundle by path."""

    old_size: int
    new_size: int
    root: bytes
    tiles: dict[str, bytes]


def _edge(fetch: Fetch, path: str, fetched: dict[str, bytes]) -> bytes:
    """Fetch a right-edge tile once, however many times the plan needs it."""
    data = fetched.get(path)
    if data is None:
        data = fetched[path] = fetch(path)
    return data


def _old_hashes(old_size: int, level: int, fetch: Fetch, fetched: dict[str, bytes]) -> list[bytes]:
    """The hashes of the old partial tile at `level` (empty if the old tree has none there)."""
    count = old_size >> (TILE_HEIGHT * level)
    width = count % TILE_WIDTH
    if width == 0:
        return []
    path = tile_path(level, count // TILE_WIDTH, width)
    data = _edge(fetch, path, fetched)
    if len(data) != width * HASH_SIZE:
        raise TileError(f"{path} is {len(data)} bytes, not {width * HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def _write_run(
    out: dict[str, bytes],
    first_tile: int,
    items: list[bytes],
    path_of: Callable[[int, int], str],
    pack: Callable[[list[bytes]], bytes],
) -> list[list[bytes]]:
    """Write `items` as consecutive tiles from `first_tile`; return the contents of the full ones."""
    full: list[list[bytes]] = []
    for start in range(0, len(items), TILE_WIDTH):
        chunk = items[start : start + TILE_WIDTH]
        out[path_of(first_tile + start // TILE_WIDTH, len(chunk))] = pack(chunk)
        if len(chunk) == TILE_WIDTH:
            full.append(chunk)
    return full


def _hash_tile_path(level: int) -> Callable[[int, int], str]:
    def path_of(index: int, width: int) -> str:
        """The path of a hash tile at this level."""
        return tile_path(level, index, width)

    return path_of


def plan_append(old_size: int, fetch: Fetch, entries: Sequence[bytes]) -> Append:
    """Plan appending `entries` to a log of `old_size`: the tiles to create and the new root.

    Reads through `fetch` only the partial entry bundle and partial hash tiles on the old tree's right
    edge; everything else comes from the new entries, so the work is O(len(entries) + log size).
    """
    new_size = old_size + len(entries)
    out: dict[str, bytes] = {}
    fetched: dict[str, bytes] = {}
    if entries:
        old_width = old_size % TILE_WIDTH
        old_entries: list[bytes] = []
        if old_width:
            old_entries = decode_bundle(_edge(fetch, entries_path(old_size // TILE_WIDTH, old_width), fetched))
            if len(old_entries) != old_width:
                raise TileError(f"partial entry bundle holds {len(old_entries)} entries, not {old_width}")
        _write_run(out, old_size // TILE_WIDTH, old_entries + list(entries), entries_path, encode_bundle)
    new_hashes = [leaf_hash(e) for e in entries]
    level = 0
    while new_hashes:
        count = old_size >> (TILE_HEIGHT * level)
        items = _old_hashes(old_size, level, fetch, fetched) + new_hashes
        full = _write_run(out, count // TILE_WIDTH, items, _hash_tile_path(level), b"".join)
        new_hashes = [root_of(chunk) for chunk in full]
        level += 1
    reader = TileReader(new_size, lambda path: out[path] if path in out else _edge(fetch, path, fetched))
    try:
        root = tree_root(new_size, reader.hash)
    except ProofError as err:
        raise TileError(str(err)) from err
    return Append(old_size=old_size, new_size=new_size, root=root, tiles=out)
