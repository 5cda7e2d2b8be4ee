"""What is drawn once and kept: a level's shared art in every form, and every file of one
certificate made from it plus the certificate's own QR code and number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from .. import pdf, qr
from .bundle import USAGE_FILE, dated, usage_text, zip_files
from .design import CertificateArt, Geometry, level_scenes, mark_title
from .info import Level, MarkInfo
from .raster import RasterLayer, layered_png, raster_layer
from .shapes import Scene
from .sheet import SheetForms, display_pdf
from .style import MarkStyle
from .svg import svg_element, svg_head


@dataclass
class LevelArt:
    """One level's share of every mark, drawn once: SVG elements, raster layers, a PDF form."""

    height: float
    scenes: dict[str, Scene]  # per variant, without any certificate's paths
    svg: dict[str, str]  # the same as SVG path elements
    form: pdf.Form  # the colour variant, for the display sheet (mark units)
    box: tuple[float, float, float, float]  # where certificates draw (mark units)
    rasters: dict[tuple[int, int | None], RasterLayer] = field(default_factory=dict)  # width, dpi


class Artwork(SheetForms):
    """The drawing kept for one style, so that each certificate draws only what is its own.

    One per process and style (:func:`artwork`); every cache is keyed by all it depends on,
    so nothing needs to be cleared. ``Artwork(style)`` starts empty: a render with a fresh one
    is a render from scratch.
    """

    def __init__(self, style: MarkStyle) -> None:
        super().__init__(style)
        self._levels: dict[Level, LevelArt] = {}
        self._last_forms: tuple[str, list[pdf.Form]] = ("", [])  # the last sheet's, its number

    def level(self, level: Level) -> LevelArt:
        """The art every certificate of ``level`` shares, drawn on first use."""
        found = self._levels.get(level)
        if found is None:
            style = self.style
            scenes = level_scenes(level, style)
            colour = scenes["colour"]
            content = b"".join(
                pdf.colour(fill.colour) + pdf.fill(fill.ops, fill.evenodd) for fill in colour.fills
            )
            found = self._levels[level] = LevelArt(
                height=colour.height,
                scenes=scenes,
                svg={v: "".join(svg_element(fill) for fill in s.fills) for v, s in scenes.items()},
                form=pdf.Form.of(content, (0.0, 0.0, colour.width, colour.height)),
                box=Geometry.of(style).certificate_box(style),
            )
        return found

    def raster(self, level: Level, width_px: int, dpi: int | None = None) -> RasterLayer:
        """``level``'s raster layer ``width_px`` wide (``dpi`` recorded in its PNGs)."""
        art = self.level(level)
        found = art.rasters.get((width_px, dpi))
        if found is None:
            c = self.style.colour
            found = art.rasters[(width_px, dpi)] = raster_layer(
                art.scenes["colour"], art.box, width_px, c("paper"), c("text"), dpi
            )
        return found

    def files(self, info: MarkInfo) -> Iterator[tuple[str, bytes]]:
        """Every artwork file of one certificate, one at a time (``bench/`` times each).

        The first item, named "", is the work the files share (the QR symbol, the number's
        outlines), with no bytes; marks.zip comes last.
        """
        style = self.style
        sizes = style.sizes
        width_mm = sizes["recommended_mm"]
        level = self.level(info.level)
        own = CertificateArt.of(info, style)
        yield "", b""
        made: dict[str, bytes] = {}
        head = svg_head(100.0, level.height, mark_title(info, style), width_mm)
        for variant, name in (
            ("colour", "mark.svg"),
            ("mono", "mark-mono.svg"),
            ("reverse", "mark-reverse.svg"),
        ):
            made[name] = (head + level.svg[variant] + own.svg(style, variant) + "</svg>\n").encode()
            yield name, made[name]
        web = self.raster(info.level, int(sizes["web_png_px"]))
        made["mark.png"] = layered_png(web, own)
        yield "mark.png", made["mark.png"]
        printed = self.raster(info.level, *self.print_size())
        made["mark-print.png"] = layered_png(printed, own)
        yield "mark-print.png", made["mark-print.png"]
        made["qr.svg"] = qr.qr_svg(info.url, sizes["qr_mm"]).encode("utf-8")
        yield "qr.svg", made["qr.svg"]
        made["qr.png"] = qr.qr_png(info.url, 10, sizes["qr_mm"])
        yield "qr.png", made["qr.png"]
        forms: list[pdf.Form] = []
        made["display.pdf"] = display_pdf(info, style, self, own, forms)
        self._last_forms = (info.number, forms)
        yield "display.pdf", made["display.pdf"]
        made[USAGE_FILE] = usage_text(info, style).encode("utf-8")
        yield "marks.zip", zip_files(made, info.number)

    def render(self, info: MarkInfo, as_of: dt.date | None = None) -> dict[str, bytes]:
        """Every artwork file of one certificate, by file name: the reference. marks.zip's
        entries are dated ``as_of`` (else :data:`~.assembly.PLACEHOLDER_DATE`)."""
        files = {name: data for name, data in self.files(info) if name}
        if as_of is not None:
            files["marks.zip"] = dated(files["marks.zip"], as_of)
        return files

    def shared_parts(self, info: MarkInfo) -> dict[str, list[bytes]]:
        """What the files of ``info`` share with other certificates', in pieces that
        :func:`~.assembly.split` cuts out: the mono and reversed level art, the print PNG's rows
        around the QR code, and the display sheet's forms (its frame, labels, notice and the
        outline of each character it shows)."""
        if self._last_forms[0] != info.number:
            self.render(info)
        level = self.level(info.level)
        printed = self.raster(info.level, *self.print_size())
        forms = {form.data for form in self._last_forms[1]}  # with its glyphs
        return {
            "svg": [level.svg["mono"].encode(), level.svg["reverse"].encode()],
            "png": [printed.head, printed.above, printed.below],
            "pdf": sorted(forms),
        }

    def print_size(self) -> tuple[int, int]:
        """mark-print.png's width in pixels and its resolution."""
        sizes = self.style.sizes
        return round(sizes["recommended_mm"] / 25.4 * sizes["print_dpi"]), int(sizes["print_dpi"])


_ARTWORK: dict[str, Artwork] = {}


def artwork(style: MarkStyle) -> Artwork:
    """This process's :class:`Artwork` for ``style``."""
    found = _ARTWORK.get(style.source)
    if found is None or found.style != style:
        found = _ARTWORK[style.source] = Artwork(style)
    return found


def render_files(
    info: MarkInfo, style: MarkStyle, art: Artwork | None = None, as_of: dt.date | None = None
) -> dict[str, bytes]:
    """Every artwork file of one certificate, by file name (``art``: what is drawn already;
    ``as_of``: the date of marks.zip's entries)."""
    return (art or artwork(style)).render(info, as_of)
