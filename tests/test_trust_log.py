"""The append-only log: RFC 6962 consistency proofs against the reference vectors and the
RFC's definition."""

from __future__ import annotations

import pytest

from generator.trust.tree import MerkleTree, consistency_proof, leaf_hash, verify_consistency

# The certificate-transparency reference test leaves and consistency proofs (the vectors of
# the C++ ReferenceSnapshotConsistency, repeated in certificate-transparency-go and
# transparency-dev/merkle tests), hex.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f")
]
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]


def _tree(entries: list[bytes]) -> MerkleTree:
    return MerkleTree([leaf_hash(e) for e in entries])


@pytest.mark.parametrize(("old", "new", "want"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_certificate_transparency_vectors(
    old: int, new: int, want: list[str]
) -> None:
    tree = _tree(CT_LEAVES[:new])
    proof = consistency_proof(tree, old)
    assert [h.hex() for h in proof] == want
    assert verify_consistency(old, new, _tree(CT_LEAVES[:old]).root, tree.root, proof)


def _naive_mth(entries: list[bytes]) -> bytes:
    return _tree(entries).root


def _naive_subproof(m: int, entries: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 6962 §2.1.2 writes it."""
    n = len(entries)
    if m == n:
        return [] if whole else [_naive_mth(entries)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return _naive_subproof(m, entries[:k], whole) + [_naive_mth(entries[k:])]
    return _naive_subproof(m - k, entries[k:], False) + [_naive_mth(entries[:k])]


@pytest.mark.parametrize("new", range(1, 20))
def test_every_consistency_proof_is_the_rfcs_and_verifies(new: int) -> None:
    entries = [f"leaf {i}".encode() for i in range(new)]
    tree = _tree(entries)
    for old in range(1, new + 1):
        proof = consistency_proof(tree, old)
        assert proof == ([] if old == new else _naive_subproof(old, entries, True))
        old_root = _tree(entries[:old]).root
        assert verify_consistency(old, new, old_root, tree.root, proof)


def test_a_rewritten_or_dropped_history_has_no_consistency_proof() -> None:
    entries = [f"leaf {i}".encode() for i in range(11)]
    old = _tree(entries[:6])
    rewritten = _tree([*entries[:3], b"rewritten", *entries[4:]])
    proof = consistency_proof(rewritten, 6)
    assert not verify_consistency(6, 11, old.root, rewritten.root, proof)
    dropped = _tree(entries[:2] + entries[3:])  # one leaf removed, the rest kept in order
    assert not verify_consistency(6, 10, old.root, dropped.root, consistency_proof(dropped, 6))
    honest = _tree(entries)
    proof = consistency_proof(honest, 6)
    assert verify_consistency(6, 11, old.root, honest.root, proof)
    assert not verify_consistency(6, 11, old.root, honest.root, proof[:-1])
    assert not verify_consistency(7, 11, old.root, honest.root, proof)
    assert not verify_consistency(6, 5, old.root, honest.root, proof)
