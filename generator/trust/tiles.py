"""The log as C2SP tlog-tiles (https://c2sp.org/tlog-tiles): hash tiles and entry bundles.

A tile holds up to 256 consecutive hashes of one level of the tree: level 0 the leaf hashes,
level L the roots of the complete subtrees of 256^L leaves. Tile N of level L is published at
``tile/<L>/<N>``, N written in groups of three digits, all but the last prefixed with ``x``
(1234067 → ``x001/x234/067``); a tile not yet full at ``<N>.p/<width>``. Entry bundles hold the
leaves' data at ``tile/entries/<N>[.p/<width>]``, each entry a big-endian 16-bit length and
the canonical JSON of one record version. Appending a leaf rewrites only the last tile of each
level and the last bundle: O(log N) files, never the records' JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from .tree import MerkleTree, leaf_hash

WIDTH = 256
HEIGHT = 8  # levels of the tree per tile level: 2**8 = 256
FOLDER = "tile"


def index_path(n: int) -> str:
    """``n`` as tlog-tiles writes it in a path."""
    groups = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        groups.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(groups))


def tile_path(level: int | str, n: int, width: int) -> str:
    """The path of tile ``n`` of ``level`` (``"entries"`` for bundles) holding ``width``."""
    tail = "" if width == WIDTH else f".p/{width}"
    return f"{FOLDER}/{level}/{index_path(n)}{tail}"


class EntriesUnknown(LookupError):
    """A bundle is to be made of entries that were not read (None)."""


def _bundle(entries: Sequence[bytes | None]) -> bytes:
    out = bytearray()
    for entry in entries:
        if entry is None:
            raise EntriesUnknown("an entry of the bundle was not read")
        if len(entry) >= 1 << 16:
            raise ValueError(f"a log entry of {len(entry)} bytes does not fit an entry bundle")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def tiles(tree: MerkleTree, entries: Sequence[bytes]) -> dict[str, bytes]:
    """Every tile and entry bundle of ``tree`` (path under api/v1/ → bytes)."""
    return hash_tiles(tree) | bundles(tree, entries)


def hash_tiles(tree: MerkleTree) -> dict[str, bytes]:
    """Every hash tile of ``tree`` (path under api/v1/ → bytes)."""
    out: dict[str, bytes] = {}
    size = tree.size
    level = 0
    while size >> (HEIGHT * level):
        count = size >> (HEIGHT * level)  # complete subtrees of 256**level leaves
        hashes = tree.levels[HEIGHT * level]
        for n in range(0, (count + WIDTH - 1) // WIDTH):
            part = hashes[n * WIDTH : min((n + 1) * WIDTH, count)]
            out[tile_path(level, n, len(part))] = b"".join(part)
        level += 1
    return out


def bundles(tree: MerkleTree, entries: Sequence[bytes | None],
            kept: Callable[[str, bytes], bool] | None = None) -> dict[str, bytes]:
    """Every entry bundle of ``tree`` (path under api/v1/ → bytes). ``kept``: called with a
    bundle's path and the joined leaf hashes of its entries, which stand for them (a bundle
    whose leaves are the same is the same); when it says the bundle is in place already, the
    bundle is not made (appending a leaf makes only the last one: 100 MB of bundles at
    100,000 records are not joined and hashed again)."""
    out: dict[str, bytes] = {}
    leaves = tree.levels[0]
    for n in range(0, (tree.size + WIDTH - 1) // WIDTH):
        part = leaves[n * WIDTH : (n + 1) * WIDTH]
        rel = tile_path("entries", n, len(part))
        if kept is None or not kept(rel, b"".join(part)):
            out[rel] = _bundle(entries[n * WIDTH : (n + 1) * WIDTH])
    return out


class TileError(ValueError):
    """A tile or bundle that is missing or does not fit; the message names it."""


def read_entries(folder: Path, size: int) -> list[bytes]:
    """The first ``size`` entries of the log from the bundles under ``folder`` (api/v1/)."""
    found: list[bytes] = []
    for n in range(0, (size + WIDTH - 1) // WIDTH):
        width = min(WIDTH, size - n * WIDTH)
        rel = tile_path("entries", n, width)
        path = folder / rel
        if not path.is_file() and width < WIDTH:
            rel = tile_path("entries", n, WIDTH)  # a later, fuller bundle holds them too
            path = folder / rel
        try:
            raw = path.read_bytes()
        except OSError:
            raise TileError(f"{rel}: missing") from None
        at, got = 0, []
        while at < len(raw):
            length = int.from_bytes(raw[at : at + 2], "big")
            got.append(raw[at + 2 : at + 2 + length])
            at += 2 + length
        if at != len(raw) or len(got) < width:
            raise TileError(f"{rel}: not an entry bundle of {width} entries")
        found += got[:width]
    return found


def check_tiles(folder: Path, tree: MerkleTree) -> list[str]:
    """Every published hash tile of the tree ``tree`` must hold its hashes: what differs."""
    wrong = []
    for rel, content in hash_tiles(tree).items():
        path = folder / rel
        if path.is_file() and path.read_bytes() != content:
            wrong.append(rel)
        elif not path.is_file():
            wrong.append(f"{rel} (missing)")
    return wrong


def leaves_of(entries: Sequence[bytes]) -> list[bytes]:
    """The leaf hashes of the entries."""
    return [leaf_hash(e) for e in entries]
