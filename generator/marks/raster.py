"""Rasterising: scenes drawn by Skia, and a level's mark kept as a palette layer into which each
certificate draws only its QR code and number."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import skia
from PIL import Image
from zlib_ng import zlib_ng

from .png import SHARED_LEVEL, deflate, png_bytes, spliced_png
from .shapes import Fill, Scene, skia_path

if TYPE_CHECKING:
    from .design import CertificateArt


# Palette entries kept for the certificate's own ink (QR code, number) over paper.
RAMP = 32


def _paint(colour: str, anti_alias: bool = True) -> skia.Paint:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return skia.Paint(Color=skia.ColorSetRGB(r, g, b), AntiAlias=anti_alias)


def _draw(canvas: skia.Canvas, items: Iterable[tuple[skia.Path, str, bool]]) -> None:
    for path, colour, anti_alias in items:
        canvas.drawPath(path, _paint(colour, anti_alias))


def _skia_fills(fills: Iterable[Fill]) -> list[tuple[skia.Path, str, bool]]:
    # The QR code is drawn with crisp edges, as the SVG asks of its renderers: each pixel is
    # the module its centre falls in.
    return [(skia_path(fill.ops, fill.evenodd), fill.colour, fill.name != "qr") for fill in fills]


def _pixels(
    items: Iterable[tuple[skia.Path, str, bool]], scale: float, width: int, height: int
) -> np.ndarray:
    """The paths drawn at ``scale`` on a transparent ``width`` × ``height`` canvas, as RGBA."""
    surface = skia.Surface(width, height)
    canvas = surface.getCanvas()
    canvas.clear(skia.ColorTRANSPARENT)
    canvas.scale(scale, scale)
    _draw(canvas, items)
    image = surface.makeImageSnapshot()
    return image.toarray(colorType=skia.kRGBA_8888_ColorType, alphaType=skia.kUnpremul_AlphaType)


def rasterise(scene: Scene, width_px: int) -> Image.Image:
    """The whole scene as an RGBA image ``width_px`` wide, drawn in one pass (no layers)."""
    scale = width_px / scene.width
    height_px = max(1, round(scene.height * scale))
    pixels = _pixels(_skia_fills(scene.fills), scale, width_px, height_px)
    return Image.fromarray(pixels, "RGBA")


@dataclass(frozen=True)
class RasterLayer:
    """A level's mark at one width, drawn and reduced to a palette of 256 colours once.

    Every flat colour of the mark keeps an entry of its own, exact; the anti-aliased edges of
    the static art share ``256 - RAMP - flat`` entries chosen by Pillow's fast octree (each
    within a step or two of the true blend). A certificate draws its QR code and number into
    ``box``, which is bare paper in the layer, in the one ink: their coverage picks one of RAMP
    blends from paper to ink (RAMP = 32: the coverage in eighths, an index in two numpy steps).

    Compressing is most of a PNG's cost, so the layer keeps its rows above and below the box
    compressed (see :func:`layered_png`); a palette image is also a quarter of RGBA's bytes.
    """

    scale: float
    image: Image.Image  # the static art, palette mode
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels
    ramp: int  # palette index of the blend with no ink; coverage c takes ramp + c // 8
    head: bytes  # the PNG up to its image data: signature, IHDR, pHYs, PLTE, tRNS
    rows: np.ndarray  # the box's rows as PNG scanlines: filter byte 0, then the indices
    prior: np.ndarray  # the indices of the row above the box (zeros at the top of the image)
    above: bytes  # the rows above the box, deflated and flushed
    above_adler: int  # their Adler-32
    below: bytes  # the rows below the box, deflated to the end of the stream
    below_rows: bytes  # (uncompressed, for the Adler-32 of the whole image)


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def raster_layer(
    static: Scene,
    box: tuple[float, float, float, float],
    width_px: int,
    paper: str,
    ink: str,
    dpi: int | None = None,
) -> RasterLayer:
    """Draw ``static`` once at ``width_px`` and prepare the palette; ``box`` is in scene units."""
    scale = width_px / static.width
    height_px = max(1, round(static.height * scale))
    rgba = _pixels(_skia_fills(static.fills), scale, width_px, height_px)
    left, top, right, bottom = (
        max(0, math.floor(box[0] * scale)),
        max(0, math.floor(box[1] * scale)),
        min(width_px, math.ceil(box[2] * scale)),
        min(height_px, math.ceil(box[3] * scale)),
    )
    paper_rgb, ink_rgb = rgb(paper), rgb(ink)
    if not (rgba[top:bottom, left:right] == (*paper_rgb, 255)).all():
        raise RuntimeError("mark layout: the certificate's area overlaps the level's art")

    # Flat colours first, exact: transparent, paper, ink, then those of the static art.
    flat = [(0, 0, 0, 0), (*paper_rgb, 255), (*ink_rgb, 255)]
    for fill in static.fills:
        if (*rgb(fill.colour), 255) not in flat:
            flat.append((*rgb(fill.colour), 255))
    packed = rgba.view(np.uint32)[..., 0]
    indices = np.full(packed.shape, 255, np.uint8)
    for index, colour in enumerate(flat):
        indices[packed == np.array(colour, np.uint8).view(np.uint32)[0]] = index
    edges = indices == 255
    palette = bytes(v for colour in flat for v in colour)
    if edges.any():
        blends = Image.fromarray(rgba[edges][np.newaxis], "RGBA").quantize(
            256 - RAMP - len(flat), method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        indices[edges] = np.asarray(blends)[0] + len(flat)
        palette += bytes(blends.getpalette("RGBA") or b"")

    # Paper to ink in RAMP steps.
    ramp = len(palette) // 4
    for k in range(RAMP):
        blend = (
            round(p + (i - p) * k / (RAMP - 1)) for p, i in zip(paper_rgb, ink_rgb, strict=True)
        )
        palette += bytes((*blend, 255))
    image = Image.frombuffer("P", (width_px, height_px), indices.tobytes(), "raw", "P", 0, 1)
    image.putpalette(palette, "RGBA")

    whole = png_bytes(image, dpi)
    scanlines = np.zeros((height_px, width_px + 1), np.uint8)  # filter type 0: none
    scanlines[:, 1:] = indices
    above, below = scanlines[:top].tobytes(), scanlines[bottom:].tobytes()
    return RasterLayer(
        scale=scale,
        image=image,
        box=(left, top, right, bottom),
        ramp=ramp,
        head=whole[: whole.index(b"IDAT") - 4],
        rows=scanlines[top:bottom],
        prior=scanlines[top - 1, 1:].copy() if top else np.zeros(width_px, np.uint8),
        above=deflate(above, SHARED_LEVEL),
        above_adler=zlib_ng.adler32(above),
        below=deflate(below, SHARED_LEVEL, last=True),
        below_rows=below,
    )


def _draw_box(layer: RasterLayer, own: CertificateArt, out: np.ndarray) -> None:
    """Write into ``out`` the palette indices of the layer's box with the certificate's ink."""
    left, top, right, bottom = layer.box
    coverage = np.zeros((bottom - top, right - left), dtype=np.uint8)
    canvas = skia.Surface(coverage, skia.kAlpha_8_ColorType, skia.kPremul_AlphaType).getCanvas()
    canvas.translate(-left, -top)
    canvas.scale(layer.scale, layer.scale)
    own.draw(canvas)
    np.right_shift(coverage, 3, out=out)  # 256 / RAMP
    out += layer.ramp


def layered_image(layer: RasterLayer, own: CertificateArt) -> Image.Image:
    """The layer with the certificate's QR code and number drawn into its box, in its ink."""
    left, top, right, bottom = layer.box
    box = np.empty((bottom - top, right - left), np.uint8)
    _draw_box(layer, own, box)
    image = layer.image.copy()
    image.paste(
        Image.frombuffer("P", box.shape[::-1], box.tobytes(), "raw", "P", 0, 1), (left, top)
    )
    return image


def layered_png(layer: RasterLayer, own: CertificateArt) -> bytes:
    """:func:`layered_image` as a PNG, compressing only the rows of the box.

    The rows above and below the box are compressed once per layer and spliced around the box's
    rows (:func:`~generator.marks.png.spliced_png`); the PNG's header is taken from the layer's
    own PNG. ``tests/test_marks.py`` decodes the result with Pillow and OpenCV and compares it
    with :func:`layered_image` pixel for pixel.
    """
    left, _top, right, _bottom = layer.box
    rows = layer.rows.copy()
    _draw_box(layer, own, rows[:, 1 + left : 1 + right])
    # PNG's "Up" filter on the box's rows: a QR module is many rows alike, which then become
    # zeros. At level 2 that halves the box's bytes (7 kB instead of 15 at print size) in half
    # the time; level 9 without a filter takes 25 times as long for 5 kB.
    above = np.vstack([layer.prior[np.newaxis], rows[:-1, 1:]])
    np.subtract(rows[:, 1:], above, out=rows[:, 1:])
    rows[:, 0] = 2
    return spliced_png(
        layer.head, layer.above, layer.above_adler, rows.tobytes(), layer.below, layer.below_rows
    )
