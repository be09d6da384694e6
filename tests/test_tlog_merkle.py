"""RFC 9162 Merkle trees (flows.tlog.merkle): published vectors, then properties against a naive tree."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.tlog.merkle import (
    HASH_SIZE,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
    root_of,
    tree_root,
    verify_consistency,
    verify_inclusion,
)

# Vectors verbatim from github.com/transparency-dev/merkle: testonly/constants.go (LeafInputs, RootHashes,
# NodeHashes) and proof/verify_test.go (inclusionProofs, consistencyProofs; leaf numbers there are 1-based).
LEAF_INPUTS = [
    bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]
ROOTS = [
    bytes.fromhex(h)
    for h in [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]
]
LEAF_HASHES = [
    bytes.fromhex(h)
    for h in [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ]
]
INCLUSION = [  # (1-based leaf, tree size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (3, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (2, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (1, 1, []),
]  # fmt: skip
CONSISTENCY = [  # (old size, new size, proof)
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (1, 1, []),
]  # fmt: skip


def naive_mth(hashes: list[bytes]) -> bytes:
    """MTH written as RFC 9162 2.1.1 states it, recursively: the reference everything is compared to."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1
    while k * 2 < len(hashes):
        k *= 2
    return node_hash(naive_mth(hashes[:k]), naive_mth(hashes[k:]))


def reader_of(hashes: list[bytes]):
    """A HashReader over an in-memory list of leaf hashes (complete subtrees computed naively)."""

    def read(level: int, index: int) -> bytes:
        lo, hi = index << level, (index + 1) << level
        assert hi <= len(hashes), f"read past the tree: level {level} index {index}"
        return naive_mth(hashes[lo:hi])

    return read


def flip(proof: list[bytes], i: int, bit: int = 0) -> list[bytes]:
    out = list(proof)
    out[i] = bytes([out[i][0] ^ (1 << bit)]) + out[i][1:]
    return out


def test_leaf_hashes_and_roots_match_the_vectors() -> None:
    assert [leaf_hash(d) for d in LEAF_INPUTS] == LEAF_HASHES
    for size, root in enumerate(ROOTS):
        assert root_of(LEAF_HASHES[:size]) == root
        assert tree_root(size, reader_of(LEAF_HASHES[:size])) == root


def test_empty_tree_and_node_hash() -> None:
    assert root_of([]) == hashlib.sha256(b"").digest()
    # NodeHashes()[1][0] in transparency-dev/merkle testonly/constants.go.
    assert node_hash(LEAF_HASHES[0], LEAF_HASHES[1]).hex() == "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_vectors(leaf: int, size: int, proof: list[str]) -> None:
    want = [bytes.fromhex(h) for h in proof]
    assert inclusion_proof(leaf - 1, size, reader_of(LEAF_HASHES[:size])) == want
    verify_inclusion(LEAF_HASHES[leaf - 1], leaf - 1, size, want, ROOTS[size])
    for i in range(len(want)):
        with pytest.raises(ProofError):
            verify_inclusion(LEAF_HASHES[leaf - 1], leaf - 1, size, flip(want, i, 3), ROOTS[size])
    wrong = [(leaf - 2, size), (leaf, size), (leaf - 1, size * 2), (leaf - 1, size // 2)]
    for index, tree_size in wrong:  # the corruptions of verify_test.go's corruptInclusionProof
        with pytest.raises(ProofError):
            verify_inclusion(LEAF_HASHES[leaf - 1], index, tree_size, want, ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[leaf - 1], leaf - 1, size, [*want, ROOTS[size]], ROOTS[size])
    with pytest.raises(ProofError):
        verify_inclusion(LEAF_HASHES[leaf - 1], leaf - 1, size, want, ROOTS[0])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(old: int, new: int, proof: list[str]) -> None:
    want = [bytes.fromhex(h) for h in proof]
    assert consistency_proof(old, new, reader_of(LEAF_HASHES[:new])) == want
    verify_consistency(old, new, want, ROOTS[old], ROOTS[new])
    if not want:
        return
    for i in range(len(want)):
        with pytest.raises(ProofError):
            verify_consistency(old, new, flip(want, i, 4), ROOTS[old], ROOTS[new])
    bad = [
        (old - 1, new, want, ROOTS[old], ROOTS[new]),
        (old + 1, new, want, ROOTS[old], ROOTS[new]),
        (old, new * 2, want, ROOTS[old], ROOTS[new]),
        (old, new, want, ROOTS[new], ROOTS[old]),
        (old, new, [], ROOTS[old], ROOTS[new]),
        (old, new, want[:-1], ROOTS[old], ROOTS[new]),
        (old, new, [*want, ROOTS[old]], ROOTS[old], ROOTS[new]),
        (old, new, [want[0], *want], ROOTS[old], ROOTS[new]),
    ]
    for args in bad:
        with pytest.raises(ProofError):
            verify_consistency(*args)


def test_trivial_consistency_cases() -> None:
    # TestVerifyConsistency in transparency-dev/merkle proof/verify_test.go (with 32-byte roots).
    a, b = ROOTS[1], ROOTS[2]
    verify_consistency(0, 0, [], a, a)
    verify_consistency(0, 1, [], a, b)
    verify_consistency(1, 1, [], b, b)
    for args in [(1, 1, [], a, b), (1, 0, [], a, b), (2, 1, [], a, b), (1, 2, [], a, b), (0, 1, [ROOTS[0]], a, a)]:
        with pytest.raises(ProofError):
            verify_consistency(*args)


def test_plain_messages_and_bad_lengths() -> None:
    with pytest.raises(ProofError, match="not in a tree of size 3"):
        verify_inclusion(LEAF_HASHES[0], 3, 3, [], ROOTS[3])
    with pytest.raises(ProofError, match="root hash is 0 bytes"):
        verify_inclusion(LEAF_HASHES[0], 0, 1, [], b"")
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(4, 4, [], ROOTS[4], ROOTS[3])
    with pytest.raises(ProofError):
        inclusion_proof(0, 0, reader_of([]))
    with pytest.raises(ProofError):
        consistency_proof(5, 4, reader_of(LEAF_HASHES[:5]))
    assert HASH_SIZE == 32


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_verify_and_a_flipped_byte_fails(case: tuple[int, int]) -> None:
    size, index = case
    hashes = _leaves(size)
    read = reader_of(hashes)
    root = naive_mth(hashes)
    assert tree_root(size, read) == root
    proof = inclusion_proof(index, size, read)
    verify_inclusion(hashes[index], index, size, proof, root)
    for i in range(len(proof)):
        with pytest.raises(ProofError):
            verify_inclusion(hashes[index], index, size, flip(proof, i), root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(b"other"), index, size, proof, root)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_proofs_verify_and_a_flipped_byte_fails(case: tuple[int, int]) -> None:
    old, new = case
    hashes = _leaves(new)
    read = reader_of(hashes)
    old_root, new_root = naive_mth(hashes[:old]), naive_mth(hashes)
    proof = consistency_proof(old, new, read)
    verify_consistency(old, new, proof, old_root, new_root)
    for i in range(len(proof)):
        with pytest.raises(ProofError):
            verify_consistency(old, new, flip(proof, i), old_root, new_root)
    if 0 < old < new:
        with pytest.raises(ProofError):
            verify_consistency(old, new, proof, leaf_hash(b"forged"), new_root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200).flatmap(lambda n: st.tuples(st.integers(0, n - 1), st.integers(1, n)).map(lambda t: (n, *t))))
def test_range_hash_is_the_mth_of_any_range(case: tuple[int, int, int]) -> None:
    n, start, length = case
    end = min(n, start + length)
    hashes = _leaves(n)
    assert range_hash(start, end, reader_of(hashes)) == naive_mth(hashes[start:end])
