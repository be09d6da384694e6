"""C2SP tlog-tiles (flows.tlog.tiles): paths, bundles, reading proofs from tiles and appending tiles."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.tlog.merkle import (
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from flows.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    TileReader,
    bundles_for_size,
    decode_bundle,
    encode_bundle,
    encode_tile_index,
    entries_path,
    plan_append,
    tile_path,
    tiles_for_size,
)


def entry(i: int) -> bytes:
    return b'{"n":%d}' % i


def naive_reader(hashes: list[bytes]):
    """Complete-subtree hashes straight from the leaf hashes: the reference for TileReader."""

    def read(level: int, index: int) -> bytes:
        lo, hi = index << level, (index + 1) << level
        assert hi <= len(hashes)
        return root_of(hashes[lo:hi])

    return read


class Store(dict[str, bytes]):
    """A log's tiles by path, written create-only as the real bucket is."""

    def append(self, entries: list[bytes]) -> tuple[bytes, list[str]]:
        size = getattr(self, "size", 0)
        asked: list[str] = []

        def fetch(path: str) -> bytes:
            asked.append(path)
            return self[path]

        plan = plan_append(size, fetch, entries)
        assert plan.old_size == size and plan.new_size == size + len(entries)
        assert not set(plan.tiles) & set(self), "an existing tile would be overwritten"
        self.update(plan.tiles)
        self.size = plan.new_size
        return plan.root, asked


def build(sizes: list[int]) -> tuple[Store, bytes]:
    store, n, root = Store(), 0, root_of([])
    for batch in sizes:
        root, _ = store.append([entry(i) for i in range(n, n + batch)])
        n += batch
    return store, root


def test_tile_index_encoding_as_the_spec() -> None:
    # The examples of https://c2sp.org/tlog-tiles ("index 1234067 will be encoded as x001/x234/067").
    assert encode_tile_index(1234067) == "x001/x234/067"
    assert encode_tile_index(5) == "005"
    assert encode_tile_index(0) == "000"
    assert encode_tile_index(1000) == "x001/000"
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path(2, 5, 17) == "tile/2/005.p/17"
    assert entries_path(5) == "tile/entries/005"
    assert entries_path(1234067, 1) == "tile/entries/x001/x234/067.p/1"
    for bad in [
        lambda: tile_path(0, 0, 0),
        lambda: tile_path(0, 0, 257),
        lambda: tile_path(64, 0),
        lambda: encode_tile_index(-1),
    ]:
        with pytest.raises(TileError):
            bad()


def test_tiles_for_size_as_the_spec() -> None:
    # "a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of width 112,
    # one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1.
    # Note that a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
    tiles = tiles_for_size(70_000)
    assert [t for t in tiles if t[0] == 0] == [(0, i, 256) for i in range(273)] + [(0, 273, 112)]
    assert [t for t in tiles if t[0] > 0] == [(1, 0, 256), (1, 1, 17), (2, 0, 1)]
    assert tiles_for_size(256) == [(0, 0, 256), (1, 0, 1)]
    assert tiles_for_size(0) == []
    assert bundles_for_size(300) == [(0, 256), (1, 44)]


def test_bundles_round_trip_and_reject_truncation() -> None:
    entries = [b"", b"a", b"x" * 65535, "é".encode()]
    data = encode_bundle(entries)
    assert data[:2] == b"\x00\x00" and data[2:5] == b"\x00\x01a"
    assert decode_bundle(data) == entries
    for cut in [1, 4, len(data) - 1]:
        with pytest.raises(TileError, match="truncated"):
            decode_bundle(data[:cut])
    with pytest.raises(TileError, match="65535"):
        encode_bundle([b"x" * 65536])


def test_tile_reader_checks_lengths_and_caches() -> None:
    store, root = build([300])
    calls: list[str] = []

    def fetch(path: str) -> bytes:
        calls.append(path)
        return store[path]

    reader = TileReader(300, fetch)
    assert tree_root(300, reader.hash) == root
    assert tree_root(300, reader.hash) == root
    # The root needs the level-8 hash of leaves 0..255 (from the level 1 tile) and the partial level 0 tile.
    assert calls == reader.fetched and sorted(calls) == ["tile/0/001.p/44", "tile/1/000.p/1"]
    assert reader.hash(0, 3) == leaf_hash(entry(3)) and reader.hash(0, 4) == leaf_hash(entry(4))
    assert calls[2:] == ["tile/0/000"]  # fetched once for both leaves
    short = TileReader(300, lambda path: store[path][:-1])
    with pytest.raises(TileError, match="not 8192"):
        short.hash(0, 3)
    with pytest.raises(TileError):
        reader.hash(0, 300)


def test_a_tree_across_a_level_one_tile() -> None:
    # 70,000 leaves: level 0, 1 and 2 tiles, a full level 1 tile among them; appended in uneven batches.
    store, root = build([65_535, 1, 4_000, 464])
    hashes = [leaf_hash(entry(i)) for i in range(70_000)]
    assert root == root_of(hashes)
    assert {p for p in store if not p.startswith("tile/entries/")} >= {tile_path(lv, i, w) for lv, i, w in tiles_for_size(70_000)}
    reader = TileReader(70_000, store.__getitem__)
    naive = naive_reader(hashes)
    for index in [0, 255, 256, 65_535, 65_536, 69_999]:
        proof = inclusion_proof(index, 70_000, reader.hash)
        assert proof == inclusion_proof(index, 70_000, naive)
        verify_inclusion(hashes[index], index, 70_000, proof, root)
    for old in [1, 256, 65_535, 65_536, 69_000]:
        proof = consistency_proof(old, 70_000, reader.hash)
        assert proof == consistency_proof(old, 70_000, naive)
        verify_consistency(old, 70_000, proof, root_of(hashes[:old]), root)
    assert decode_bundle(store[entries_path(273, 112)]) == [entry(i) for i in range(273 * 256, 70_000)]


def test_append_in_steps_equals_one_append() -> None:
    one, one_root = build([1_000])
    steps, steps_root = build([1, 254, 1, 256, 300, 188])
    assert one_root == steps_root
    full = {p: b for p, b in one.items() if ".p/" not in p}
    assert full == {p: b for p, b in steps.items() if ".p/" not in p}
    assert {p: b for p, b in one.items() if ".p/" in p}.items() <= steps.items()


def test_append_reads_only_the_right_edge_and_writes_little() -> None:
    store, _ = build([70_000])
    _, asked = store.append([entry(70_000)])
    assert sorted(asked) == ["tile/0/273.p/112", "tile/1/001.p/17", "tile/2/000.p/1", "tile/entries/273.p/112"]
    for n in [1, 10, 256, 1_000, 10_000, 70_000]:
        plan = plan_append(0, lambda path: pytest.fail(f"fetched {path} from an empty log"), [entry(i) for i in range(n)])
        levels = len({lv for lv, _, _ in tiles_for_size(n)})
        assert len(plan.tiles) <= 2 * (n // TILE_WIDTH) + 2 * levels + 2, n  # O(N/256 + log N)
    one_more = plan_append(70_001, store.__getitem__, [entry(70_001)])
    assert len(one_more.tiles) == 2  # the wider partial bundle and level 0 tile; levels 1 and 2 are unchanged
    assert TILE_HEIGHT == 8


def test_empty_append_and_bad_partial() -> None:
    store, root = build([10])
    plan = plan_append(10, store.__getitem__, [])
    assert plan.tiles == {} and plan.root == root
    store[entries_path(0, 10)] = encode_bundle([b"x"])
    with pytest.raises(TileError, match="holds 1 entries, not 10"):
        plan_append(10, store.__getitem__, [b"y"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=6), st.data())
def test_tile_proofs_match_the_naive_tree(batches: list[int], data: st.DataObject) -> None:
    store, root = build(batches)
    size = sum(batches)
    hashes = [leaf_hash(entry(i)) for i in range(size)]
    assert root == root_of(hashes)
    reader, naive = TileReader(size, store.__getitem__), naive_reader(hashes)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(index, size, reader.hash)
    assert proof == inclusion_proof(index, size, naive)
    verify_inclusion(hashes[index], index, size, proof, root)
    if proof:
        bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
        with pytest.raises(ProofError):
            verify_inclusion(hashes[index], index, size, bad, root)
    old = data.draw(st.integers(1, size))
    cproof = consistency_proof(old, size, reader.hash)
    assert cproof == consistency_proof(old, size, naive)
    verify_consistency(old, size, cproof, root_of(hashes[:old]), root)
    if cproof:
        bad = [*cproof[:-1], bytes([cproof[-1][0] ^ 1]) + cproof[-1][1:]]
        with pytest.raises(ProofError):
            verify_consistency(old, size, bad, root_of(hashes[:old]), root)
