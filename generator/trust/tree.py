"""RFC 6962 Merkle tree: leaf and node hashes, trees of any size, audit paths and their check."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from typing import Any

from .. import data


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """An RFC 6962 tree over leaf hashes, kept level by level so every audit path is cheap.

    Pairing nodes level by level and carrying an odd last node up unchanged builds exactly the
    tree of RFC 6962's recursive split at the largest power of two below the size.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            self.levels.append(above)

    @classmethod
    def grown(cls, levels: Sequence[Sequence[bytes]], leaves: Sequence[bytes]) -> MerkleTree:
        """The tree of ``levels`` (a tree's :attr:`levels`) with ``leaves`` appended: only the
        nodes on its right edge are hashed again (O(appended + log N), not O(N))."""
        tree = cls.__new__(cls)
        tree.levels = [list(level) for level in levels] or [[]]
        tree.levels[0] += leaves
        unchanged = len(tree.levels[0]) - len(leaves)  # nodes of this level as they were
        k = 0
        while len(tree.levels[k]) > 1:
            below = tree.levels[k]
            if k + 1 == len(tree.levels):
                tree.levels.append([])
            above = tree.levels[k + 1]
            unchanged //= 2  # a node above two unchanged ones is unchanged
            del above[unchanged:]
            above += [node_hash(below[i], below[i + 1])
                      for i in range(2 * unchanged, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            k += 1
        return tree

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        """MTH(D[n]); the hash of the empty string for an empty tree."""
        return self.levels[-1][0] if self.size else hashlib.sha256(b"").digest()

    def path(self, index: int) -> list[bytes]:
        """PATH(index, D[n]): the audit path from leaf ``index`` up to the root."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size}")
        out = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return out


def root_from_path(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` leads to from ``leaf`` (RFC 9162 §2.1.3.2), or None if it cannot."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: object, length: int | None = None) -> bytes | None:
    """Strict base64 decoding; None for anything that is not exactly that."""
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if b64(raw) != text or (length is not None and len(raw) != length):
        return None
    return raw


def record_leaf(record: Any) -> bytes:
    """The leaf hash of one record as published (the ``record`` part of its JSON)."""
    return leaf_hash(data.canonical_json(record))


def _subtree(levels: Sequence[Sequence[bytes]], start: int, end: int) -> bytes:
    """MTH(D[start:end]) from the complete-subtree hashes of a tree's levels, for any range
    that RFC 6962's proofs ask for (``start`` a multiple of the largest power of two ≤ its
    width, as in PROOF and SUBPROOF)."""
    width = end - start
    if width & (width - 1) == 0:
        height = width.bit_length() - 1
        return levels[height][start >> height]
    k = 1 << ((width - 1).bit_length() - 1)
    return node_hash(_subtree(levels, start, start + k), _subtree(levels, start + k, end))


def consistency_proof(tree: MerkleTree, old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 6962 §2.1.2): proves the tree of the first ``old_size`` leaves is a
    prefix of ``tree``; empty when ``old_size`` is 0 or the whole tree."""
    n = tree.size
    if not 0 <= old_size <= n:
        raise ValueError(f"a tree of {n} cannot extend one of {old_size}")
    if old_size in (0, n):
        return []
    proof: list[bytes] = []

    def subproof(m: int, start: int, end: int, whole: bool) -> None:
        width = end - start
        if m == width:
            if not whole:
                proof.append(_subtree(tree.levels, start, end))
            return
        k = 1 << ((width - 1).bit_length() - 1)
        if m <= k:
            subproof(m, start, start + k, whole)
            proof.append(_subtree(tree.levels, start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            proof.append(_subtree(tree.levels, start, start + k))

    subproof(old_size, 0, n, True)
    return proof


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree (``new_size``, ``new_root``) extends (``old_size``,
    ``old_root``): the check of RFC 9162 §2.1.4.2."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def prefix_root(tree: MerkleTree, size: int) -> bytes:
    """MTH(D[0:size]): the root the tree had when it held its first ``size`` leaves."""
    if not 0 <= size <= tree.size:
        raise ValueError(f"a tree of {tree.size} has no prefix of {size}")
    return _subtree(tree.levels, 0, size) if size else hashlib.sha256(b"").digest()
