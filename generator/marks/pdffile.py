"""The display sheet's PDF file written directly: the bytes pikepdf (qpdf) writes, without it.

:func:`generator.pdf.write_pdf` builds the document as pikepdf objects and lets qpdf write it;
for a one-page sheet that shows ~90 forms, making the objects costs more than the rest of the
sheet. The file qpdf writes for that document is regular (objects in the order it meets them,
dictionary keys sorted, ``/Length`` last, reals to six decimals without trailing zeros, a
cross-reference table, a deterministic ID that is an MD5 of the file up to the ID and of the
document information's strings), so it is written here as bytes. Each form's object is the
same bytes in every sheet but for its number (:func:`form_object`), which is also what
:mod:`.assembly` shares between sheets.

``tests/test_marks.py`` compares this writer with :func:`generator.pdf.write_pdf` byte for
byte; a title that qpdf would store in PDFDocEncoding (no character outside it, which a mark's
title, with its level's Chinese words, never is) is left to pikepdf.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache

from zlib_ng import zlib_ng

from .. import pdf

HEADER = b"%PDF-1.3\n%\xbf\xf7\xa2\xfe\n"


def real(value: float) -> str:
    """A number as qpdf writes it: integers as they are, reals to six decimals, trimmed."""
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0")
    return text[:-1] if text.endswith(".") else text


def _literal(text: str) -> bytes:
    return b"(" + text.encode("ascii") + b")"


@lru_cache(maxsize=8192)  # a form is shown on many sheets: its object is made once
def form_object(form: pdf.Form) -> bytes:
    """A form's object after ``N 0 obj\\n``: its dictionary, data and ``endobj``."""
    box = " ".join(real(round(v, 3)) for v in form.bbox)
    head = (
        f"<< /BBox [ {box} ] /Filter /FlateDecode /Subtype /Form /Type /XObject "
        f"/Length {len(form.data)} >>\nstream\n"
    ).encode("ascii")
    return head + form.data + b"\nendstream\nendobj\n"


def can_write(title: str, lang: str) -> bool:
    """Whether :func:`write_pdf` writes what qpdf would: a title qpdf stores as UTF-16 (it has
    a character outside PDFDocEncoding), a plain language tag."""
    if not lang.isascii() or not all(c.isalnum() or c == "-" for c in lang):
        return False
    import pikepdf.codec  # noqa: F401  (registers the "pdfdoc" codec; imported when first drawn)

    try:
        title.encode("pdfdoc")
    except UnicodeEncodeError:
        return True
    return False


def write_pdf(
    content: bytes,
    forms: Mapping[str, pdf.Form],
    width_mm: float,
    height_mm: float,
    title: str,
    lang: str = "zh-CN",
    objects: list[tuple[int, int, pdf.Form]] | None = None,
) -> bytes:
    """The bytes of :func:`generator.pdf.write_pdf` for the same arguments (when
    :func:`can_write`); ``objects`` gets where each form's object is (after ``N 0 obj\\n``
    up to the end of its ``endobj``)."""
    if not can_write(title, lang) or not forms:
        return pdf.write_pdf(content, forms, width_mm, height_mm, title, lang)
    names = sorted(forms)
    width, height = width_mm * pdf.PT_PER_MM, height_mm * pdf.PT_PER_MM
    flip = f"{pdf.PT_PER_MM:.6f} 0 0 {-pdf.PT_PER_MM:.6f} 0 {height:.3f} cm\n"
    page_data = zlib_ng.compress(flip.encode("ascii") + content, pdf.PAGE_LEVEL)
    xobjects = " ".join(f"/{name} {6 + i} 0 R" for i, name in enumerate(names))
    title_hex = ("\ufeff" + title).encode("utf-16-be").hex().encode("ascii")
    pieces = [
        HEADER,
        b"1 0 obj\n<< /Lang " + _literal(lang) + b" /Pages 3 0 R /Type /Catalog >>\nendobj\n",
        b"2 0 obj\n<< /Producer " + _literal(pdf.PRODUCER) + b" /Title <" + title_hex
        + b"> >>\nendobj\n",
        b"3 0 obj\n<< /Count 1 /Kids [ 4 0 R ] /Type /Pages >>\nendobj\n",
        (
            f"4 0 obj\n<< /Contents 5 0 R /MediaBox [ 0 0 {real(width)} {real(height)} ] "
            f"/Parent 3 0 R /Resources << /XObject << {xobjects} >> >> /Type /Page >>\nendobj\n"
            f"5 0 obj\n<< /Filter /FlateDecode /Length {len(page_data)} >>\nstream\n"
        ).encode("ascii")
        + page_data
        + b"\nendstream\nendobj\n",
    ]
    offsets = [len(HEADER)]
    for piece in pieces[1:-1]:
        offsets.append(offsets[-1] + len(piece))
    offsets.append(offsets[-1] + pieces[-1].index(b"5 0 obj"))
    at = offsets[-2] + len(pieces[-1])
    for i, name in enumerate(names):
        number = f"{6 + i} 0 obj\n".encode("ascii")
        body = form_object(forms[name])
        offsets.append(at)
        if objects is not None:
            objects.append((at + len(number), at + len(number) + len(body), forms[name]))
        pieces += [number, body]
        at += len(number) + len(body)
    count = len(offsets) + 1
    xref = [f"xref\n0 {count}\n0000000000 65535 f \n"]
    xref += [f"{offset:010d} 00000 n \n" for offset in offsets]
    xref.append(f"trailer << /Info 2 0 R /Root 1 0 R /Size {count} /ID [")
    pieces.append("".join(xref).encode("ascii"))
    written = b"".join(pieces)
    md5 = hashlib.md5(written, usedforsecurity=False)
    # qpdf's seed: that digest, " QPDF ", each information string after a space, read as a
    # C string (so it ends at the first NUL, which UTF-16 has in every ASCII character).
    seed = md5.hexdigest().encode("ascii") + b" QPDF  " + pdf.PRODUCER.encode("ascii")
    seed = (seed + b" \xfe\xff" + title.encode("utf-16-be")).split(b"\x00", 1)[0]
    ident = b"<" + hashlib.md5(seed, usedforsecurity=False).hexdigest().encode("ascii") + b">"
    return written + ident + ident + f"] >>\nstartxref\n{at}\n%%EOF\n".encode("ascii")
