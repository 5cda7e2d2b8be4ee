"""Star-mark artwork for every certificate that may use the mark: SVG, PNG, the A4 display sheet.

One drawing, many files. The mark is composed as a scene of filled paths (text is turned into
glyph outlines from the committed font subset, so no file needs a font), written out as SVG,
rasterised by Skia (anti-aliased, non-zero and even-odd fills) and placed on the A4 display
sheet, whose PDF is written as :mod:`generator.pdf` and pikepdf write it
(:mod:`.pdffile`). The same inputs give the same bytes.

One module per job, so that a designer who wants to move the stars finds the one file to touch:

* :mod:`.style` reads ``registry/mark.yaml`` (colours, words, sizes, layout numbers);
* :mod:`.text` sets glyph runs and fits and wraps text; :mod:`.shapes` has the primitives;
* :mod:`.info` is what of a record and its registry the mark shows (plain data);
* :mod:`.design` is the mark itself: what a level shares and what a certificate adds;
* :mod:`.svg`, :mod:`.raster` and :mod:`.png` write it as SVG, draw it and encode PNGs;
* :mod:`.sheet` is the A4 display sheet, :mod:`.pdffile` writes its file (the bytes pikepdf
  would, faster); :mod:`.bundle` is marks.zip and the list of files;
* :mod:`.artwork` keeps what is drawn once and makes every file of one certificate;
* :mod:`.assembly` cuts files into shared parts and a certificate's own bytes, which the
  browser puts together again;
* :mod:`.cache` names each certificate's files by a hash of their inputs and renders the missing
  ones in a pool of worker processes.

Fast by construction: what every certificate of a level shares (frame, stars, level words,
商品售后服务认证 / GB/T 27922, the body's name) is drawn once per level and process and kept
(:class:`Artwork`): as SVG path elements, as raster layers already reduced to a palette, and as
a compressed PDF form. A certificate adds only its QR modules and its number (glyph outlines
cached per character), and the display sheet's own text (enterprise name, scope, dates) from
the same per-character outlines. ``tests/test_marks.py`` checks that a render from these layers
equals a render from nothing.

Rendering is also cached across builds: the hash of everything that affects the artwork (the
record fields used, ``registry/mark.yaml``, the renderer version, the fonts, the library
versions) names a bundle file in the cache folder, so an unchanged registry draws nothing.
Missing bundles are drawn in a pool of worker processes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artwork import Artwork, LevelArt, artwork, render_files
    from .assembly import ASSEMBLED, PARTS_DIR, PARTS_FILE, STATIC, assemble, split
    from .bundle import (
        ARTWORK_TREE,
        MARK_FILES,
        USAGE_FILE,
        dated,
        downloads,
        qr_minimum_mm,
        usage_text,
    )
    from .cache import (
        BUNDLE_INDEX,
        LIBRARIES,
        RENDERER_VERSION,
        MarkStats,
        bundle_dir,
        cache_key,
        check_glyphs,
        link_parts,
        mark_files_of,
        marked,
        render_marks,
        render_tree,
    )
    from .design import (
        VARIANTS,
        CertificateArt,
        Geometry,
        level_scenes,
        mark_scene,
        mark_scenes,
        mark_title,
    )
    from .info import Level, MarkInfo
    from .png import png_bytes
    from .raster import RasterLayer, layered_image, layered_png, raster_layer, rasterise
    from .sheet import display_pdf
    from .style import STYLE_FILE, Colour, MarkStyle, load_style
    from .svg import path_data, to_svg
    from .text import Face, face, fit_size, measure, set_text, wrap

# Each name and the module it comes from, imported at its first use: the drawing modules load
# Skia, numpy, Pillow and fontTools (0.15 s), which a build whose artwork is all cached never
# needs (see :mod:`.cache`, :mod:`.info`).
_FROM = {
    "Artwork": "artwork",
    "LevelArt": "artwork",
    "artwork": "artwork",
    "render_files": "artwork",
    "ASSEMBLED": "assembly",
    "PARTS_DIR": "assembly",
    "PARTS_FILE": "assembly",
    "STATIC": "assembly",
    "assemble": "assembly",
    "split": "assembly",
    "ARTWORK_TREE": "bundle",
    "MARK_FILES": "bundle",
    "USAGE_FILE": "bundle",
    "dated": "bundle",
    "downloads": "bundle",
    "qr_minimum_mm": "bundle",
    "usage_text": "bundle",
    "BUNDLE_INDEX": "cache",
    "LIBRARIES": "cache",
    "RENDERER_VERSION": "cache",
    "MarkStats": "cache",
    "bundle_dir": "cache",
    "cache_key": "cache",
    "check_glyphs": "cache",
    "link_parts": "cache",
    "mark_files_of": "cache",
    "marked": "cache",
    "render_marks": "cache",
    "render_tree": "cache",
    "VARIANTS": "design",
    "CertificateArt": "design",
    "Geometry": "design",
    "level_scenes": "design",
    "mark_scene": "design",
    "mark_scenes": "design",
    "mark_title": "design",
    "Level": "info",
    "MarkInfo": "info",
    "png_bytes": "png",
    "RasterLayer": "raster",
    "layered_image": "raster",
    "layered_png": "raster",
    "raster_layer": "raster",
    "rasterise": "raster",
    "display_pdf": "sheet",
    "STYLE_FILE": "style",
    "Colour": "style",
    "MarkStyle": "style",
    "load_style": "style",
    "path_data": "svg",
    "to_svg": "svg",
    "Face": "text",
    "face": "text",
    "fit_size": "text",
    "measure": "text",
    "set_text": "text",
    "wrap": "text",
}


def __getattr__(name: str) -> Any:
    module = _FROM.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "BUNDLE_INDEX",
    "LIBRARIES",
    "MARK_FILES",
    "RENDERER_VERSION",
    "STYLE_FILE",
    "USAGE_FILE",
    "VARIANTS",
    "ARTWORK_TREE",
    "downloads",
    "ASSEMBLED",
    "PARTS_DIR",
    "PARTS_FILE",
    "STATIC",
    "assemble",
    "split",
    "dated",
    "link_parts",
    "render_tree",
    "Artwork",
    "CertificateArt",
    "Colour",
    "Geometry",
    "Level",
    "LevelArt",
    "MarkInfo",
    "MarkStats",
    "MarkStyle",
    "RasterLayer",
    "artwork",
    "bundle_dir",
    "cache_key",
    "check_glyphs",
    "display_pdf",
    "Face",
    "face",
    "fit_size",
    "layered_image",
    "layered_png",
    "level_scenes",
    "load_style",
    "mark_files_of",
    "mark_scene",
    "mark_scenes",
    "mark_title",
    "marked",
    "measure",
    "path_data",
    "png_bytes",
    "qr_minimum_mm",
    "raster_layer",
    "rasterise",
    "render_files",
    "render_marks",
    "set_text",
    "to_svg",
    "usage_text",
    "wrap",
]
