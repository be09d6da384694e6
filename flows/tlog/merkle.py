"""RFC 9162 section 2.1 Merkle tree hashing, inclusion and consistency proofs.

Proof generation reads complete-subtree hashes through a `HashReader`, so the same code works on
an in-memory list of leaves (tests) and on a tiled log fetched over HTTP (flows.tlog.tiles).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32

# (level, index) -> hash of the complete subtree over leaves [index << level, (index + 1) << level).
HashReader = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof that does not verify, or a request for a proof that cannot exist."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return MTH over the given leaf hashes (the empty tree hashes to SHA-256 of nothing)."""
    if not leaf_hashes:
        return hashlib.sha256(b"").digest()
    level = list(leaf_hashes)
    # Pairing left to right and promoting a lone last node gives exactly the RFC's
    # split-at-the-largest-power-of-two recursion, without recursion depth limits.
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def range_hash(start: int, end: int, read: HashReader) -> bytes:
    """Return MTH of the leaves [start, end), reading complete subtrees where possible."""
    n = end - start
    if start < 0 or n < 1:
        raise ProofError(f"empty or negative leaf range [{start}, {end})")
    if n & (n - 1) == 0 and start % n == 0:
        return read(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(range_hash(start, start + k, read), range_hash(start + k, end, read))


def tree_root(size: int, read: HashReader) -> bytes:
    """Return the root hash of the tree of the first `size` leaves."""
    if size == 0:
        return root_of([])
    return range_hash(0, size, read)


def inclusion_proof(index: int, size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 PATH for leaf `index` in the tree of `size` leaves."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root; each step records the sibling subtree, so reverse at the end.
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(range_hash(start + k, end, read))
            end = start + k
        else:
            path.append(range_hash(start, start + k, read))
            start += k
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, read: HashReader) -> list[bytes]:
    """Return the RFC 9162 consistency proof (SUBPROOF) from `old_size` to `new_size`."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    path: list[bytes] = []
    m, start, end, complete = old_size, 0, new_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            path.append(range_hash(start + k, end, read))
            end = start + k
        else:
            path.append(range_hash(start, start + k, read))
            m -= k
            start += k
            complete = False
    if not complete:
        path.append(range_hash(start, end, read))
    path.reverse()
    return path


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that `leaf` (a leaf hash) is at `index` of the tree with `root`, per RFC 9162 2.1.3.2."""
    _check_hash("leaf hash", leaf)
    _check_hash("root hash", root)
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for i, p in enumerate(proof):
        _check_hash(f"inclusion proof hash {i}", p)
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree is deep")
    if r != root:
        raise ProofError(f"inclusion proof for leaf {index} does not lead to the root of the tree of size {size}")


def verify_consistency(old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes) -> None:
    """Check that the tree `new_root` extends the tree `old_root`, per RFC 9162 2.1.4.2."""
    _check_hash("old root hash", old_root)
    _check_hash("new root hash", new_root)
    if not 0 <= old_size <= new_size:
        raise ProofError(f"size {new_size} cannot extend size {old_size}")
    if old_size == 0 or old_size == new_size:
        if proof:
            raise ProofError(f"consistency proof from size {old_size} to {new_size} must be empty")
        if old_size == new_size and old_root != new_root:
            raise ProofError(f"two different roots for the same size {old_size}")
        return
    for i, p in enumerate(proof):
        _check_hash(f"consistency proof hash {i}", p)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        raise ProofError("consistency proof is empty")
    fr, sr = _consistency_roots(old_size - 1, new_size - 1, path)
    if fr != old_root:
        raise ProofError(f"consistency proof does not lead to the old root of size {old_size}")
    if sr != new_root:
        raise ProofError(f"consistency proof does not lead to the new root of size {new_size}")


def _consistency_roots(fn: int, sn: int, path: list[bytes]) -> tuple[bytes, bytes]:
    """Steps 3 to 6 of RFC 9162 2.1.4.2: fold the path into the old and the new root."""
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the tree is deep")
    return fr, sr
