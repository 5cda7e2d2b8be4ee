"""PNG encoding: whole images through Pillow, and a PNG spliced from deflate blocks made apart.

Compression, measured on this registry's marks (CPU per file on the 2-core build machine):
palette images (see :class:`~generator.marks.raster.RasterLayer`), scanlines unfiltered. What
every certificate of a level shares is deflated once at level 9; a certificate's own rows (the
QR code and number band, about 400 kB at print size) at PNG_LEVEL with zlib-ng: level 2 takes
0.4 ms and gives a third fewer bytes than level 1 (0.25 ms); CPython's zlib needs 1 ms at level
1. Pillow at level 1 took 3.3 ms for the whole print image, at level 6 10 ms.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, PngImagePlugin
from zlib_ng import zlib_ng

PNG_LEVEL = 2
SHARED_LEVEL = 9


def deflate(data: bytes, level: int, last: bool = False) -> bytes:
    """Raw deflate blocks for ``data``, on their own: they refer to nothing before them."""
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib_ng.Z_FINISH if last else zlib_ng.Z_FULL_FLUSH
    )


def spliced_png(
    head: bytes, above: bytes, above_adler: int, middle: bytes, below: bytes, below_rows: bytes
) -> bytes:
    """A PNG from its header chunks and its scanlines in three parts, only the middle compressed
    here.

    A PNG's pixels are one zlib stream. Deflate blocks flushed with Z_FULL_FLUSH refer to
    nothing before them, so rows above compressed once (``above``, with ``above_adler`` their
    Adler-32), ``middle`` compressed here, and rows below compressed once to the end of the
    stream (``below``; ``below_rows`` uncompressed) join into one valid stream; its Adler-32 is
    carried across the three. Pillow writes the chunks.
    """
    adler = zlib_ng.adler32(below_rows, zlib_ng.adler32(middle, above_adler))
    stream = b"".join(
        [
            b"\x78\x01",  # zlib header: deflate, 32 KiB window, fastest
            above,
            deflate(middle, PNG_LEVEL),
            below,
            adler.to_bytes(4, "big"),
        ]
    )
    buffer = io.BytesIO()
    buffer.write(head)
    PngImagePlugin.putchunk(buffer, b"IDAT", stream)
    PngImagePlugin.putchunk(buffer, b"IEND")
    return buffer.getvalue()


def png_bytes(image: Image.Image, dpi: int | None = None) -> bytes:
    """PNG without timestamps or text chunks; ``dpi`` recorded in pHYs when given."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buffer, format="PNG", compress_level=PNG_LEVEL, **options)
    return buffer.getvalue()
