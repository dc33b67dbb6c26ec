"""RFC 6962 hashing against the Certificate Transparency test vectors; proofs verify and fail as they should."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from maestro.ledger.merkle import EMPTY_ROOT, CompactRange, Tree, leaf_hash, verify_consistency, verify_inclusion

# The eight leaves and the roots of each prefix from the RFC 6962 reference tests (certificate-transparency).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_roots_match_the_rfc6962_reference_vectors():
    tree = Tree([leaf_hash(x) for x in CT_LEAVES])
    assert [tree.root(size).hex() for size in range(1, 9)] == CT_ROOTS
    assert Tree([]).root() == EMPTY_ROOT


def test_reference_consistency_proof_from_6_to_8():
    tree = Tree([leaf_hash(x) for x in CT_LEAVES])
    proof = tree.consistency_proof(6, 8)
    assert [p.hex() for p in proof] == [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ]
    assert verify_consistency(6, 8, tree.root(6), tree.root(8), proof)
    assert not verify_consistency(6, 8, tree.root(5), tree.root(8), proof)


@given(st.integers(1, 70), st.data())
def test_compact_range_and_tree_agree_on_every_prefix(n, data):
    leaves = _leaves(n)
    tree, edge = Tree(leaves), CompactRange()
    for i, leaf in enumerate(leaves):
        edge.append(leaf)
        assert edge.root() == tree.root(i + 1) == Tree(leaves[: i + 1]).root()
    size = data.draw(st.integers(0, n))
    assert CompactRange(edge.size, edge.hashes).root() == tree.root()
    assert tree.root(size) == Tree(leaves[:size]).root()


@given(st.integers(1, 70), st.data())
def test_inclusion_proofs_verify_and_any_change_breaks_them(n, data):
    tree = Tree(_leaves(n))
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion_proof(index, size)
    root = tree.root(size)
    leaf = tree.levels[0][index]
    assert verify_inclusion(index, size, leaf, proof, root)
    assert not verify_inclusion(index, size, leaf_hash(b"other"), proof, root)
    if size > 1:
        assert not verify_inclusion((index + 1) % size, size, leaf, proof, root)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        assert not verify_inclusion(index, size, leaf, [*proof[:k], bytes(32), *proof[k + 1 :]], root)
        assert not verify_inclusion(index, size, leaf, proof[:-1], root)


@given(st.integers(1, 70), st.data())
def test_consistency_proofs_verify_and_any_change_breaks_them(n, data):
    tree = Tree(_leaves(n))
    new = data.draw(st.integers(1, n))
    old = data.draw(st.integers(1, new))
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, tree.root(old), tree.root(new), proof)
    other = Tree([*_leaves(old - 1), leaf_hash(b"forged"), *_leaves(n)[old:]])
    if old < new:
        assert not verify_consistency(old, new, other.root(old), tree.root(new), proof)
    if proof:
        k = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof[:k], bytes(32), *proof[k + 1 :]]
        assert not verify_consistency(old, new, tree.root(old), tree.root(new), bad)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (3, 3), (-1, 2)])
def test_impossible_inclusion_requests_are_refused(index, size):
    with pytest.raises(ValueError, match="not in a tree"):
        Tree(_leaves(3)).inclusion_proof(index, size)
    assert not verify_inclusion(index, size, leaf_hash(b""), [], EMPTY_ROOT)
