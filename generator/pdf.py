"""Vector PDF pages from filled paths: the drawing operators are made here, the file by pikepdf.

What is the same on many pages (the mark's frame and words, a label, the notice at the foot of
the display sheet) is a :class:`Form`: its operators are compressed once and the same bytes are
handed to pikepdf for every page that shows it, placed with a transformation. A page's own
content is a short stream of operators that places forms and fills the few paths that are its
own. Text reaches this module as glyph outlines, so no file needs an embedded font and every
viewer and press draws the same shapes.

pikepdf (qpdf) writes the objects, the cross-reference table and the trailer. The output is
byte-for-byte reproducible: no dates (none is set, and qpdf adds none), and a document ID that
is a digest of the content (qpdf's deterministic ID).
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from zlib_ng import zlib_ng

PT_PER_MM = 72 / 25.4
PRODUCER = "starmark"
# Deflate level of a page's own content, compressed once per page, with zlib-ng: level 2 takes
# 0.4 ms for a display sheet's 60 kB of operators, and is within 10 % of level 6's bytes (0.7
# ms); CPython's zlib needs as long at level 1 for 15 % more. Forms are compressed once per
# process, so they take the smallest output (level 9).
PAGE_LEVEL = 2
FORM_LEVEL = 9

Op = tuple[Any, ...]  # ("M", x, y) | ("L", x, y) | ("C", x1, y1, x2, y2, x, y) | ("Z",)
Matrix = tuple[float, float, float, float, float, float]  # a b c d e f

_OPERATORS = {"M": ("m", 1), "L": ("l", 1), "C": ("c", 3)}


@cache
def _templates(places: int) -> dict[str, str]:
    number = f"%.{places}f"
    return {
        kind: " ".join([number] * (2 * pairs)) + f" {operator}\n"
        for kind, (operator, pairs) in _OPERATORS.items()
    }


def path(ops: Sequence[Op], places: int = 3) -> bytes:
    """Path construction operators for ``ops``, numbers to ``places`` decimals (one pass)."""
    templates = _templates(places)
    template = "".join([templates.get(str(op[0]), "h\n") for op in ops])
    return (template % tuple(v for op in ops for v in op[1:])).encode("ascii")


def colour(hex_colour: str) -> bytes:
    """Set the fill colour (``#rrggbb``)."""
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return f"{r:.3f} {g:.3f} {b:.3f} rg\n".encode("ascii")


def fill(ops: Sequence[Op], evenodd: bool = False) -> bytes:
    """Fill the path ``ops`` with the current colour (non-zero winding unless ``evenodd``)."""
    return path(ops) + (b"f*\n" if evenodd else b"f\n")


def rects(boxes: Iterable[tuple[float, float, float, float]]) -> bytes:
    """Fill the rectangles ``(x, y, width, height)`` as one path."""
    return (
        "".join([f"{x:.3f} {y:.3f} {w:.3f} {h:.3f} re\n" for x, y, w, h in boxes]).encode("ascii")
        + b"f\n"
    )


def transformed(matrix: tuple[float, float, float, float, float, float], body: bytes) -> bytes:
    """``body`` drawn in the coordinate system ``matrix`` (a b c d e f) maps to the current one."""
    a, b, c, d, e, f = matrix
    return f"q {a:.6g} {b:.6g} {c:.6g} {d:.6g} {e:.3f} {f:.3f} cm\n".encode("ascii") + body + b"Q\n"


@dataclass(frozen=True)
class Form:
    """Drawing operators compressed once, shown on any number of pages (a Form XObject)."""

    data: bytes  # the operators, zlib-compressed
    bbox: tuple[float, float, float, float]  # in the form's own units: what it may paint

    @classmethod
    def of(cls, content: bytes, bbox: tuple[float, float, float, float]) -> Form:
        return cls(zlib.compress(content, FORM_LEVEL), bbox)


def show(name: str, matrix: tuple[float, float, float, float, float, float]) -> bytes:
    """Paint the form called ``name`` on the page, its units mapped by ``matrix``."""
    return transformed(matrix, f"/{name} Do\n".encode("ascii"))


def write_pdf(
    content: bytes,
    forms: Mapping[str, Form],
    width_mm: float,
    height_mm: float,
    title: str = "",
    lang: str = "zh-CN",
) -> bytes:
    """A one-page PDF ``width_mm`` × ``height_mm``: ``content`` in millimetres, y down.

    ``content`` may show each of ``forms`` by its name (see :func:`show`).
    """
    import pikepdf  # only here: most sheets are written by marks.pdffile (0.06 s to import)

    document = pikepdf.new()
    page = document.add_blank_page(page_size=(width_mm * PT_PER_MM, height_mm * PT_PER_MM))
    objects = {}
    for name, form in forms.items():
        stream = pikepdf.Stream(document, form.data)
        stream.Type = pikepdf.Name.XObject
        stream.Subtype = pikepdf.Name.Form
        stream.BBox = pikepdf.Array([round(v, 3) for v in form.bbox])
        stream.Filter = pikepdf.Name.FlateDecode
        objects[f"/{name}"] = stream
    if objects:
        page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(objects))
    # Millimetres with y down, as the artwork is drawn, onto points with y up.
    flip = f"{PT_PER_MM:.6f} 0 0 {-PT_PER_MM:.6f} 0 {height_mm * PT_PER_MM:.3f} cm\n"
    stream = pikepdf.Stream(document, zlib_ng.compress(flip.encode("ascii") + content, PAGE_LEVEL))
    stream.Filter = pikepdf.Name.FlateDecode
    page.Contents = stream
    document.Root.Lang = pikepdf.String(lang)
    document.docinfo[pikepdf.Name.Title] = pikepdf.String(title)
    document.docinfo[pikepdf.Name.Producer] = pikepdf.String(PRODUCER)
    buffer = io.BytesIO()
    # Streams are compressed already (forms once per process); qpdf passes them through.
    document.save(buffer, deterministic_id=True, compress_streams=False)
    return buffer.getvalue()
