"""Assembly: most artwork files published as recipes that the enterprise's browser follows.

A registry of 10,000 certificates must fit a free static host (1 GB, 100,000 files), and nine
complete files per certificate do not (0.45 MB a certificate). Most of every file is what all
certificates of a level share (the frame, the stars, the words, the PNG rows above and below
the QR code, the display sheet's forms) or repeats another file of the same certificate (the
mono and reversed SVGs carry mark.svg's QR code and number, marks.zip carries every file).

So only :data:`STATIC` files are published whole (mark.svg and mark.png are also what the page
shows, social previews and enterprises' own sites embed). Each other file of the Python
reference is cut, here, into segments: bytes that are a *shared part* (published once per
build under :data:`PARTS_DIR`, named by digest), a range of an earlier file of the same
certificate, the 4-byte date fields of marks.zip, and the certificate's *own* bytes, kept in one
file per certificate, :data:`PARTS_FILE`. ``assets/starmark/marks.js`` follows the recipe in the
browser: a download is the same bytes as the reference, which ``tests/test_marks.py`` checks
with :func:`assemble` (the same algorithm in Python) for the sample records and a few hundred
synthetic certificates, and ``tests/browser`` in Chromium, against
:func:`~generator.marks.artwork.Artwork.render`. (The build splits, and trusts the split: each
segment is cut from the file it stands for.)

The file ``parts.bin``: ``SMP1``, the length of a JSON header (4 bytes, big-endian), the header
``{"files": {name: [segment, ...]}, "type": {name: media type}}`` and the own bytes. A segment
is ``["o", start, end]`` (own bytes), ``["p", digest]`` (a shared part), ``["f", name, start,
end]`` (bytes of a file listed before) or ``["d"]`` (marks.zip's DOS time and date of the
registry's as-of date, which the page carries, so that parts.bin need not change every day).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import struct
from collections.abc import Iterable, Mapping
from functools import lru_cache

# Published whole, at their URLs.
STATIC = ("mark.svg", "mark.png", "qr.svg", "qr.png")
# Assembled in the browser, in this order (a file may take bytes from any file before it).
ASSEMBLED = ("mark-mono.svg", "mark-reverse.svg", "mark-print.png", "display.pdf", "marks.zip")
PARTS_FILE = "parts.bin"
PARTS_DIR = "assets/marks/"  # shared parts, <name>.bin (part_file): the same bytes for ever
MAGIC = b"SMP1"
MEDIA_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
}
# A run shorter than this stays in the certificate's own bytes: a segment costs ~20 bytes of
# JSON, and a shared part a request.
MIN_RUN = 64
PLACEHOLDER_DATE = dt.date(1980, 1, 1)

Segment = list[object]


@lru_cache(maxsize=16384)  # the same parts recur in every certificate of a level
def part_name(data: bytes) -> str:
    """The name of a shared part: its digest (content-addressed, cached for ever). 64 bits:
    a registry has a few thousand parts (its glyphs, its levels' art)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def part_file(name: str) -> str:
    """The file a shared part is published as, under :data:`PARTS_DIR`."""
    return name + ".bin"


def dos_date(day: dt.date) -> bytes:
    """Midnight of ``day`` as a zip entry's DOS time and date (little-endian)."""
    return struct.pack("<HH", 0, ((day.year - 1980) << 9) | (day.month << 5) | day.day)


def zip_date_offsets(archive: bytes) -> list[int]:
    """Where the time-and-date fields of every entry of ``archive`` are (local and central)."""
    offsets = []
    at = 0
    while archive[at : at + 4] == b"PK\x03\x04":
        offsets.append(at + 10)
        (compressed,) = struct.unpack_from("<I", archive, at + 18)
        name_len, extra_len = struct.unpack_from("<HH", archive, at + 26)
        at += 30 + name_len + extra_len + compressed
    while archive[at : at + 4] == b"PK\x01\x02":
        offsets.append(at + 12)
        name_len, extra_len, comment_len = struct.unpack_from("<HHH", archive, at + 28)
        at += 46 + name_len + extra_len + comment_len
    return offsets


def _candidates(
    name: str, made: Mapping[str, bytes], shared: Iterable[bytes]
) -> list[tuple[bytes, Segment]]:
    """Runs that ``name`` may take from elsewhere: the shared parts of its kind, and from the
    files before it: whole files (for marks.zip) or pieces of mark.svg (for the other SVGs:
    its head and the path data of the QR code and number)."""
    found: list[tuple[bytes, Segment]] = [(part, ["p", part]) for part in shared]
    if name.endswith(".zip"):
        found += [(data, ["f", other, 0, len(data)]) for other, data in made.items()]
    elif name.endswith(".svg"):
        runs = _svg_runs(made["mark.svg"])
        found += [(run, ["f", "mark.svg", start, end]) for run, start, end in runs]
    found = [(run, ref) for run, ref in found if len(run) >= MIN_RUN]
    found.sort(key=lambda item: -len(item[0]))
    return found


@lru_cache(maxsize=2)  # the mono and the reversed SVG take from the same mark.svg
def _svg_runs(data: bytes) -> tuple[tuple[bytes, int, int], ...]:
    """The pieces of an SVG between quotes and line ends, where each is, and the path data
    after each path's first subpath (the same modules drawn after another shape, the reversed
    mark's QR box, differ only in their first move)."""
    found = []
    at = 0
    for piece in data.replace(b"\n", b'"').split(b'"'):
        start = data.index(piece, at)
        found.append((piece, start, start + len(piece)))
        rest = piece.find(b"z") + 1
        if rest:
            found.append((piece[rest:], start + rest, start + len(piece)))
        at = start + len(piece)
    return tuple(run for run in found if len(run[0]) >= MIN_RUN)


def _streams(pdf: bytes) -> dict[bytes, tuple[int, int]]:
    """Each stream of ``pdf`` by its data: the span of its object after ``N 0 obj`` (the
    dictionary, the data, ``endobj``). A form that many sheets show is the same object but for
    its number, so the whole span is the shared part; and a dictionary lookup replaces a search
    through the file for each form. (qpdf writes each dictionary on one line, with /Length.)"""
    found = {}
    at = pdf.find(b" 0 obj\n")
    while at >= 0:
        head = at + 7
        line_end = pdf.find(b"\n", head)
        length = _LENGTH.search(pdf, head, line_end)
        if line_end < 0 or length is None or pdf[line_end : line_end + 8] != b"\nstream\n":
            at = pdf.find(b" 0 obj\n", head)
            continue
        start = line_end + 8
        end = start + int(length.group(1))
        if pdf[end : end + 18] != b"\nendstream\nendobj\n":
            break
        found[pdf[start:end]] = (head, end + 18)
        at = pdf.find(b" 0 obj\n", end + 18)
    return found


_LENGTH = re.compile(rb"/Length (\d+)")


def _recipe(data: bytes, candidates: list[tuple[bytes, Segment]], own: bytearray,
            fixed: Iterable[tuple[int, int, Segment]] = ()) -> list[Segment]:
    """``data`` as segments: the longest candidate runs first, own bytes between them."""
    claimed = list(fixed)
    if data.startswith(b"%PDF"):  # a PDF's objects never overlap: a lookup each
        streams = _streams(data)
        for run, ref in candidates:
            at, end = streams.get(run, (-1, -1))
            if at >= 0:
                claimed.append((at, end, ["p", data[at:end]] if ref[0] == "p" else ref))
    else:  # a shorter run may lie inside a longer one: each is looked for where none is yet
        gaps, at = [], 0
        for start, end, _ref in sorted(claimed, key=lambda item: item[0]):
            gaps.append((at, start))
            at = end
        gaps.append((at, len(data)))
        for run, ref in candidates:
            size = len(run)
            for i, (start, end) in enumerate(gaps):
                if end - start >= size and (at := data.find(run, start, end)) >= 0:
                    claimed.append((at, at + size, ref))
                    gaps[i : i + 1] = [(start, at), (at + size, end)]
                    break
    claimed.sort(key=lambda item: item[0])
    segments: list[Segment] = []
    position = 0
    for start, end, ref in claimed + [(len(data), len(data), [])]:
        if start > position:
            segments.append(["o", len(own), len(own) + start - position])
            own += data[position:start]
        if ref:
            segments.append(ref)
        position = end
    return segments


def split(
    files: Mapping[str, bytes], shared: Mapping[str, Iterable[bytes]]
) -> tuple[bytes, dict[str, bytes]]:
    """One certificate's ``parts.bin`` from its reference files (marks.zip dated
    :data:`PLACEHOLDER_DATE`), and the shared parts it names (by file name). ``shared``: the
    parts it may use, by the extension of the files they are cut from ("svg", "png", "pdf")."""
    made = {name: files[name] for name in STATIC}
    own = bytearray()
    recipes: dict[str, list[Segment]] = {}
    for name in ASSEMBLED:
        data = files[name]
        fixed: list[tuple[int, int, Segment]] = []
        if name.endswith(".zip"):
            fixed = [(at, at + 4, ["d"]) for at in zip_date_offsets(data)]
        kind = name[name.rindex(".") + 1 :]
        recipes[name] = _recipe(data, _candidates(name, made, shared.get(kind, ())), own, fixed)
        made[name] = data
    parts: dict[str, bytes] = {}
    for segments in recipes.values():
        for segment in segments:
            if segment[0] == "p":
                part = segment[1]
                assert isinstance(part, bytes)
                segment[1] = part_name(part)
                parts[str(segment[1])] = part
    types = {name: MEDIA_TYPES[name[name.rindex(".") :]] for name in ASSEMBLED}
    header = json.dumps({"files": recipes, "type": types}, separators=(",", ":")).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + bytes(own), parts


def read_header(parts_bin: bytes) -> tuple[dict[str, list[Segment]], bytes]:
    """The recipes of a ``parts.bin`` and its own bytes."""
    if parts_bin[:4] != MAGIC:
        raise ValueError("not a parts file")
    (length,) = struct.unpack_from(">I", parts_bin, 4)
    header = json.loads(parts_bin[8 : 8 + length])
    return header["files"], parts_bin[8 + length :]


def assemble(parts_bin: bytes, static: Mapping[str, bytes], shared: Mapping[str, bytes],
             as_of: dt.date) -> dict[str, bytes]:
    """Every assembled file, as ``marks.js`` makes it in the browser (``shared``: part name to
    bytes; ``as_of``: the date marks.zip's entries carry)."""
    recipes, own = read_header(parts_bin)
    made = dict(static)
    date = dos_date(as_of)
    for name, segments in recipes.items():
        pieces = []
        for segment in segments:
            kind = segment[0]
            if kind == "o":
                pieces.append(own[int(str(segment[1])) : int(str(segment[2]))])
            elif kind == "p":
                pieces.append(shared[str(segment[1])])
            elif kind == "f":
                start, end = int(str(segment[2])), int(str(segment[3]))
                pieces.append(made[str(segment[1])][start:end])
            else:
                pieces.append(date)
        made[name] = b"".join(pieces)
    return {name: made[name] for name in recipes}


def parts_needed(parts_bin: bytes) -> list[str]:
    """The shared parts that a ``parts.bin`` names."""
    recipes, _own = read_header(parts_bin)
    return sorted({str(s[1]) for r in recipes.values() for s in r if s[0] == "p"})
