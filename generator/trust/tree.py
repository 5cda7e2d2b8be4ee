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
