"""QR codes for certificate URLs: the smallest symbol at a fixed error-correction level.

The QR code is printed on packaging and must lead to ``settings.certificate_url(number)``
for as long as the box exists, so everything that decides its modules is fixed here:

* Error correction **Q** (about 25 % of the symbol can be lost). Boxes are scuffed, folded,
  shrink-wrapped and photographed under shop lighting; Q survives damage that M (15 %) does not.
  For this registry's URLs (``<site_url>c/<NUMBER>/``) Q costs no extra modules: with a short
  byte segment for the address and an alphanumeric segment for the upper-case certificate
  number, the code still fits the same version that M would need without segmenting (version 4,
  33 × 33 modules, for ``https://registry.example.org/c/ASC-2025-000123/``).
* The smallest version that holds the URL. The encoder (zxing-cpp, whose writer is libzint)
  splits the text into byte, alphanumeric and numeric segments by a minimal-length search, so
  no other segmentation gives a smaller symbol; ``tests/test_qr.py`` checks this against the
  segmentations the ``qrcode`` library can make.
* A quiet zone of 4 modules, as ISO/IEC 18004 requires; it is part of every file written here.

The module matrix comes from zxing-cpp (C++, about 0.4 ms a symbol; the pure-Python ``qrcode``
took 10 ms, mostly choosing the mask). The SVG and PNG are written here so that both are
byte-for-byte reproducible and draw exactly one square per dark module.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import zxingcpp
from PIL import Image

ERROR_CORRECTION = "Q"
QUIET_ZONE = 4


@dataclass(frozen=True)
class QrSymbol:
    """A QR symbol: its version and its dark modules, row by row, without the quiet zone."""

    data: str
    version: int
    error_correction: str
    modules: tuple[tuple[bool, ...], ...]

    @property
    def size(self) -> int:
        """Modules per side, without the quiet zone."""
        return len(self.modules)

    @property
    def size_with_quiet_zone(self) -> int:
        return self.size + 2 * QUIET_ZONE

    @cached_property
    def _runs(self) -> tuple[tuple[int, int, int], ...]:
        # A run starts where a row steps from light to dark and ends where it steps back.
        dark = np.pad(np.array(self.modules, dtype=np.int8), ((0, 0), (1, 1)))
        steps = np.diff(dark, axis=1)
        starts, ends = np.argwhere(steps == 1), np.argwhere(steps == -1)
        lengths = ends[:, 1] - starts[:, 1]
        return tuple(
            zip(starts[:, 0].tolist(), starts[:, 1].tolist(), lengths.tolist(), strict=True)
        )

    def runs(self) -> tuple[tuple[int, int, int], ...]:
        """Horizontal runs of dark modules as ``(row, first column, length)``."""
        return self._runs


@lru_cache(maxsize=256)
def symbol(data: str, level: str = ERROR_CORRECTION) -> QrSymbol:
    """The smallest QR symbol for ``data`` at ``level`` (default: the registry's fixed level)."""
    try:
        code = zxingcpp.create_barcode(data, zxingcpp.BarcodeFormat.QRCode, ec_level=level)
    except (ValueError, RuntimeError) as exc:
        raise ValueError(
            f"{len(data)} characters do not fit in a QR code at level {level}"
        ) from exc
    if code.ec_level != level:  # the writer ignores options it does not know: never guess
        raise ValueError(f"the QR encoder made level {code.ec_level!r}, not {level!r}")
    dark = np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128
    modules = tuple(map(tuple, dark.tolist()))
    return QrSymbol(
        data=data, version=(len(modules) - 17) // 4, error_correction=level, modules=modules
    )


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def module_path(code: QrSymbol, x0: int = 0, y0: int = 0) -> str:
    """SVG path data for the dark modules (one unit each), one rectangle per horizontal run (one
    fill, no seams): the first run from an absolute point, each next one by a relative move."""
    parts = []
    x, y = 0, 0
    for i, (row, column, length) in enumerate(code.runs()):
        nx, ny = x0 + column, y0 + row
        move = f"M{nx} {ny}" if i == 0 else f"m{nx - x}{'' if ny - y < 0 else ' '}{ny - y}"
        parts.append(f"{move}h{length}v1h-{length}z")
        x, y = nx, ny
    return "".join(parts)


def qr_svg(
    url: str, size_mm: float | None = 25.0, dark: str = "#000000", light: str | None = "#ffffff"
) -> str:
    """The QR code for ``url`` as a standalone SVG, quiet zone included, one module = one unit.

    ``size_mm`` sets its physical size (``None`` leaves it to the page that inlines it);
    ``light=None`` leaves the background transparent.
    """
    code = symbol(url)
    side = code.size_with_quiet_zone
    size = f' width="{_num(size_mm)}mm" height="{_num(size_mm)}mm"' if size_mm else ""
    background = f'<rect width="{side}" height="{side}" fill="{light}"/>' if light else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"{size}'
        f' shape-rendering="crispEdges" role="img">'
        f"<title>QR {_escape(url)}</title>{background}"
        f'<path fill="{dark}" d="{module_path(code, QUIET_ZONE, QUIET_ZONE)}"/></svg>\n'
    )


def qr_png(url: str, module_px: int = 10, size_mm: float | None = None) -> bytes:
    """The QR code for ``url`` as a 1-bit PNG, ``module_px`` pixels per module, quiet zone included.

    ``size_mm``, when given, is the side it is recorded to print at (pHYs, in pixels per metre:
    exact for whole millimetres, so the PNG and an SVG of the same ``size_mm`` print alike). The
    PNG carries no timestamp. zlib level 1 gives about 1.1 kB in 0.6 ms, where level 9 saves 350
    bytes and costs 2.8 ms.
    """
    code = symbol(url)
    side = code.size_with_quiet_zone
    light = ~np.pad(np.array(code.modules, dtype=bool), QUIET_ZONE)
    image = Image.frombytes("1", (side, side), np.packbits(light, axis=1).tobytes())
    image = image.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    png = buffer.getvalue()
    if size_mm:
        png = _with_phys(png, round(side * module_px * 1000 / size_mm))
    return png


def _with_phys(png: bytes, per_metre: int) -> bytes:
    """``png`` with a pHYs chunk of ``per_metre`` pixels per metre after its header (Pillow's
    ``dpi`` option rounds through inches, which cannot say 25 mm exactly)."""
    body = b"pHYs" + struct.pack(">IIB", per_metre, per_metre, 1)
    chunk = struct.pack(">I", 9) + body + struct.pack(">I", zlib.crc32(body))
    end_of_header = 8 + 25  # signature, then IHDR: length, type, 13 bytes, CRC
    return png[:end_of_header] + chunk + png[end_of_header:]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
