"""QR codes for certificate URLs: the smallest symbol at a fixed error-correction level.

The QR code is printed on packaging and must lead to ``settings.certificate_url(number)``
for as long as the box exists, so everything that decides its modules is fixed here:

* Error correction **Q** (about 25 % of the symbol can be lost). Boxes are scuffed, folded,
  shrink-wrapped and photographed under shop lighting; Q survives damage that M (15 %) does not.
  For this registry's URLs (``<site_url>c/<NUMBER>/``) Q costs no extra modules: with a short
  byte segment for the address and an alphanumeric segment for the upper-case certificate
  number, the code still fits the same version that M would need without segmenting (version 4,
  33 × 33 modules, for ``https://registry.example.org/c/ASC-2025-000123/``).
* The smallest version that holds the URL: the segmentations tried are listed in
  :data:`SEGMENT_MINIMUMS` and the one giving the smallest symbol wins (ties: fewest bits).
* A quiet zone of 4 modules, as ISO/IEC 18004 requires; it is part of every file written here.

The module matrix comes from ``qrcode``; the SVG and PNG are written here so that both are
byte-for-byte reproducible and draw exactly one square per dark module.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import qrcode
import qrcode.constants
import qrcode.exceptions
import qrcode.util
from PIL import Image

ERROR_CORRECTION = "Q"
QUIET_ZONE = 4
# qrcode's ``optimize`` argument: the shortest run of digits / upper-case characters worth a
# segment of its own. 0 means one byte segment for the whole URL.
SEGMENT_MINIMUMS = (0, 4, 6, 8, 12, 16, 20)
_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


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

    def runs(self) -> list[tuple[int, int, int]]:
        """Horizontal runs of dark modules as ``(row, first column, length)``."""
        found: list[tuple[int, int, int]] = []
        for y, row in enumerate(self.modules):
            x = 0
            while x < len(row):
                if row[x]:
                    start = x
                    while x < len(row) and row[x]:
                        x += 1
                    found.append((y, start, x - start))
                else:
                    x += 1
        return found


def _fit(data: str, level: str, optimize: int) -> tuple[int, int, qrcode.QRCode]:
    """A code with ``data`` segmented by ``optimize``, its smallest version and its bit count."""
    code = qrcode.QRCode(error_correction=_LEVELS[level], border=0)
    code.add_data(data, optimize=optimize)
    version = code.best_fit()
    sizes = qrcode.util.mode_sizes_for_version(version)
    bits = sum(4 + sizes[chunk.mode] + _payload_bits(chunk) for chunk in code.data_list)
    return version, bits, code


def _payload_bits(chunk: qrcode.util.QRData) -> int:
    buffer = qrcode.util.BitBuffer()
    chunk.write(buffer)
    return len(buffer)


@lru_cache(maxsize=256)
def symbol(data: str, level: str = ERROR_CORRECTION) -> QrSymbol:
    """The smallest QR symbol for ``data`` at ``level`` (default: the registry's fixed level)."""
    candidates: dict[tuple[tuple[int, bytes], ...], tuple[int, int, qrcode.QRCode]] = {}
    for minimum in SEGMENT_MINIMUMS:
        try:
            found = _fit(data, level, minimum)
        except qrcode.exceptions.DataOverflowError:
            continue
        segments = tuple((chunk.mode, chunk.data) for chunk in found[2].data_list)
        candidates.setdefault(segments, found)
    if not candidates:
        raise ValueError(f"{len(data)} characters do not fit in a QR code at level {level}")
    version, _bits, code = min(candidates.values(), key=lambda c: (c[0], c[1]))
    code.make(fit=False)  # the version found above; qrcode picks the mask pattern
    modules = tuple(tuple(bool(m) for m in row) for row in code.modules)
    return QrSymbol(data=data, version=version, error_correction=level, modules=modules)


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def module_path(code: QrSymbol, x0: float = 0.0, y0: float = 0.0, module: float = 1.0) -> str:
    """SVG path data for the dark modules, one rectangle per horizontal run (one fill, no seams)."""
    parts = []
    for y, x, length in code.runs():
        parts.append(
            f"M{_num(x0 + x * module)} {_num(y0 + y * module)}"
            f"h{_num(length * module)}v{_num(module)}h{_num(-length * module)}z"
        )
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


def qr_png(url: str, module_px: int = 10, dpi: int | None = None) -> bytes:
    """The QR code for ``url`` as a 1-bit PNG, ``module_px`` pixels per module, quiet zone included.

    ``dpi`` is recorded in the file (pHYs) when given; the PNG carries no timestamp.
    """
    code = symbol(url)
    side = code.size_with_quiet_zone
    image = Image.new("1", (side, side), 1)
    pixels = image.load()
    assert pixels is not None
    for y, row in enumerate(code.modules):
        for x, dark in enumerate(row):
            if dark:
                pixels[x + QUIET_ZONE, y + QUIET_ZONE] = 0
    image = image.resize((side * module_px, side * module_px), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    options = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buffer, format="PNG", optimize=True, **options)
    return buffer.getvalue()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
