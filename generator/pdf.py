"""A minimal PDF writer for vector artwork: filled paths in flat colours, one page, no fonts.

Text reaches it already turned into glyph outlines, so the file needs no embedded font and
looks the same in every viewer and on every press. The output is byte-for-byte reproducible:
no dates, a document ID derived from the content, streams compressed at a fixed level.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Sequence
from typing import Protocol

PT_PER_MM = 72 / 25.4
PRODUCER = "starmark"


class Fill(Protocol):
    """What :func:`write_pdf` needs of a filled shape (see ``generator.marks.Fill``)."""

    @property
    def ops(
        self,
    ) -> Sequence[tuple[float | str, ...]]: ...  # ("M", x, y) ("L", x, y) ("C", 6 numbers) ("Z",)

    @property
    def colour(self) -> str: ...  # "#rrggbb"

    @property
    def evenodd(self) -> bool: ...


def _num(value: float) -> str:
    # Fixed three decimals (1 µm in millimetres): trailing zeros cost nothing once compressed.
    return f"{value:.3f}"


def _colour(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5))
    return f"{_num(r)} {_num(g)} {_num(b)} rg"


_TEMPLATES = {"M": "%.3f %.3f m\n", "L": "%.3f %.3f l\n", "C": "%.3f %.3f %.3f %.3f %.3f %.3f c\n"}


def content_stream(fills: Iterable[Fill], height_mm: float) -> bytes:
    """Drawing operators for ``fills`` (millimetres, y down) on a page ``height_mm`` tall."""
    out = [f"{_num(PT_PER_MM)} 0 0 {_num(-PT_PER_MM)} 0 {_num(height_mm * PT_PER_MM)} cm\n"]
    current = None
    for fill in fills:
        if not fill.ops:
            continue
        if fill.colour != current:
            out.append(_colour(fill.colour) + "\n")
            current = fill.colour
        # One formatting pass per fill: a template of all its operators, then all its numbers.
        template = "".join([_TEMPLATES.get(str(op[0]), "h\n") for op in fill.ops])
        numbers = tuple(v for op in fill.ops for v in op[1:])
        out.append(template % numbers)
        out.append("f*\n" if fill.evenodd else "f\n")
    return "".join(out).encode("ascii")


def _text_string(text: str) -> bytes:
    """A PDF text string: UTF-16BE with a byte-order mark, as hex."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def write_pdf(
    fills: Iterable[Fill], width_mm: float, height_mm: float, title: str = "", lang: str = "zh-CN"
) -> bytes:
    """A one-page PDF ``width_mm`` × ``height_mm`` showing ``fills``."""
    stream = zlib.compress(content_stream(fills, height_mm), 6)
    width, height = _num(width_mm * PT_PER_MM), _num(height_mm * PT_PER_MM)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R /Lang " + _text_string(lang) + b" >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            f"/Resources << >> /Contents 4 0 R >>"
        ).encode("ascii"),
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode("ascii")
        + stream
        + b"\nendstream",
        b"<< /Title " + _text_string(title) + b" /Producer " + _text_string(PRODUCER) + b" >>",
    ]
    body = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode("ascii") + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("ascii")
    for offset in offsets:
        body += f"{offset:010d} 00000 n \n".encode("ascii")
    doc_id = hashlib.md5(bytes(body), usedforsecurity=False).hexdigest().upper()
    body += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 5 0 R "
        f"/ID [<{doc_id}> <{doc_id}>] >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode("ascii")
    return bytes(body)
