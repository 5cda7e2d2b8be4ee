"""Star-mark artwork for every certificate that may use the mark: SVG, PNG, the A4 display sheet.

One drawing, many files. The mark is composed as a :class:`Scene` of filled paths (text is
turned into glyph outlines from the committed font subset, so no file needs a font), written out
as SVG, rasterised by Skia (anti-aliased, non-zero and even-odd fills) and placed on the A4
display sheet, whose PDF pikepdf writes (:mod:`generator.pdf`). The same inputs give the same
bytes.

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

import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import skia
from fontTools.pens.basePen import BasePen
from PIL import Image, PngImagePlugin, features
from zlib_ng import zlib_ng

from . import glyphs, pdf, qr
from .errors import InputError, Problem
from .model import Certificate, Registry
from .output import Output
from .output import digest as output_digest
from .source import read_file

# Bump when a change to this module (or qr.py, pdf.py) changes any output byte.
RENDERER_VERSION = "3"

STYLE_FILE = "registry/mark.yaml"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
A4 = (210.0, 297.0)

# Compression, measured on this registry's marks (CPU per file on the 2-core build machine):
# * PNG: palette images (see RasterLayer), scanlines unfiltered. What every certificate of a
#   level shares is deflated once at level 9; a certificate's own rows (the QR code and number
#   band, about 400 kB at print size) at PNG_LEVEL with zlib-ng: level 2 takes 0.4 ms and
#   gives a third fewer bytes than level 1 (0.25 ms); CPython's zlib needs 1 ms at level 1.
#   Pillow at level 1 took 3.3 ms for the whole print image, at level 6 10 ms.
# * marks.zip: SVG and text deflated by zipfile (CPython's zlib) at ZIP_LEVEL 1: 1.5 ms for
#   the three SVGs, where level 6 takes 9 ms for 13 % fewer bytes. PNG and PDF are compressed
#   already and are stored.
PNG_LEVEL = 2
SHARED_LEVEL = 9
ZIP_LEVEL = 1

MARK_FILES: tuple[tuple[str, str, str], ...] = (
    ("mark.svg", "矢量标志（印刷用）", "Vector mark (print)"),
    ("mark.png", "标志图片（网页用）", "Mark image (web)"),
    ("mark-print.png", "高分辨率标志图片（印刷用）", "High-resolution mark image (print)"),
    ("mark-mono.svg", "单色标志（黑）", "One-colour mark (black)"),
    ("mark-reverse.svg", "反白标志（深色底）", "Reversed mark (white, for dark backgrounds)"),
    ("qr.svg", "二维码（矢量）", "QR code (vector)"),
    ("qr.png", "二维码图片", "QR code (image)"),
    ("display.pdf", "证书展示页（A4，PDF）", "Display sheet (A4 PDF)"),
    ("marks.zip", "全部文件及使用说明（ZIP）", "All files with the usage sheet (ZIP)"),
)
USAGE_FILE = "usage.txt"


@dataclass(frozen=True)
class MarkStats:
    """What :func:`render_marks` did: certificates drawn now, and those taken from the cache."""

    rendered: int
    cached: int

    @property
    def certificates(self) -> int:
        return self.rendered + self.cached


# --------------------------------------------------------------------------- style


@dataclass(frozen=True)
class Colour:
    hex: str
    cmyk: str
    zh: str
    en: str


@dataclass(frozen=True)
class MarkStyle:
    """``registry/mark.yaml``, typed. ``source`` is the parsed tree, which goes into the hash."""

    colours: dict[str, Colour]
    words: dict[str, str]
    sizes: dict[str, float]
    layout: dict[str, float]
    source: str = field(repr=False, default="")

    def colour(self, name: str) -> str:
        return self.colours[name].hex


_COLOUR_NAMES = ("primary", "accent", "paper", "text", "mono", "reverse")
_WORD_NAMES = ("scheme", "scheme_en", "standard", "scan", "scan_en")
_SIZE_NAMES = ("minimum_mm", "recommended_mm", "clear_space", "web_png_px", "print_dpi")
_LAYOUT_NAMES = (
    "corner",
    "border",
    "panel",
    "band",
    "star_radius",
    "star_pitch",
    "star_rise",
    "star_y",
    "level_size",
    "level_y",
    "level_en_size",
    "level_en_y",
    "scheme_size",
    "scheme_y",
    "standard_size",
    "standard_y",
    "qr_width",
    "qr_y",
    "number_size",
    "body_size",
    "bottom",
)


def load_style(root: Path) -> MarkStyle:
    """Read ``<root>/registry/mark.yaml``; raise :class:`InputError` with every problem."""
    doc, problems = read_file(root / STYLE_FILE, STYLE_FILE)
    if doc is None:
        raise InputError(problems)
    data = doc.data if isinstance(doc.data, dict) else {}

    def section(name: str) -> dict[str, Any]:
        value = data.get(name)
        if not isinstance(value, dict):
            problems.append(Problem(STYLE_FILE, doc.line((name,)), f"missing section '{name}'"))
            return {}
        return value

    def number(name: str, key: str, value: Any) -> float:
        try:
            result = float(value)
            if not math.isfinite(result) or result < 0:
                raise ValueError
            return result
        except (TypeError, ValueError):
            problems.append(
                Problem(STYLE_FILE, doc.line((name, key)), f"{name}.{key} must be a number >= 0")
            )
            return 0.0

    colours: dict[str, Colour] = {}
    for key in _COLOUR_NAMES:
        entry = section("colours").get(key)
        if not isinstance(entry, dict) or not _is_hex(entry.get("hex")):
            problems.append(
                Problem(
                    STYLE_FILE, doc.line(("colours", key)), f'colours.{key} needs hex: "#RRGGBB"'
                )
            )
            continue
        colours[key] = Colour(
            entry["hex"].upper(),
            str(entry.get("cmyk", "")),
            str(entry.get("zh", key)),
            str(entry.get("en", key)),
        )
    words = {}
    for key in _WORD_NAMES:
        value = section("words").get(key)
        if not isinstance(value, str) or not value:
            problems.append(Problem(STYLE_FILE, doc.line(("words", key)), f"missing words.{key}"))
        words[key] = value or ""
    sizes = {key: number("sizes", key, section("sizes").get(key)) for key in _SIZE_NAMES}
    layout = {key: number("layout", key, section("layout").get(key)) for key in _LAYOUT_NAMES}
    if problems:
        raise InputError(problems)
    return MarkStyle(
        colours, words, sizes, layout, json.dumps(data, sort_keys=True, ensure_ascii=False)
    )


def _is_hex(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )


# --------------------------------------------------------------------------- fonts and text

Op = tuple[Any, ...]  # ("M", x, y) | ("L", x, y) | ("C", x1, y1, x2, y2, x, y) | ("Z",)


class _OutlinePen(BasePen):
    """Collect a glyph outline as M/L/C/Z operations (quadratic curves raised to cubic)."""

    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.ops: list[Op] = []

    def _moveTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("M", *pt))

    def _lineTo(self, pt: tuple[float, float]) -> None:
        self.ops.append(("L", *pt))

    def _curveToOne(self, pt1: Any, pt2: Any, pt3: Any) -> None:
        self.ops.append(("C", *pt1, *pt2, *pt3))

    def _closePath(self) -> None:
        self.ops.append(("Z",))

    _endPath = _closePath


def skia_path(ops: Iterable[Op], evenodd: bool = False) -> skia.Path:
    """``ops`` as a Skia path."""
    path = skia.Path()
    for op in ops:
        kind = op[0]
        if kind == "M":
            path.moveTo(op[1], op[2])
        elif kind == "L":
            path.lineTo(op[1], op[2])
        elif kind == "C":
            path.cubicTo(op[1], op[2], op[3], op[4], op[5], op[6])
        else:
            path.close()
    if evenodd:
        path.setFillType(skia.PathFillType.kEvenOdd)
    return path


@dataclass(frozen=True)
class Glyph:
    """One character's outline, in the three forms the files need (each made once)."""

    em: tuple[Op, ...]  # in em, y up: for SVG path data
    path: skia.Path  # in font units, y up: for rasters
    pdf: bytes  # fill operators in font units, y up: for PDF pages


class Face:
    """One weight of the star-mark fonts (:mod:`glyphs`): character map, advances, outlines."""

    def __init__(self, weight: str) -> None:
        fonts = glyphs.fonts(weight)
        self.name = fonts.name
        self.digest = fonts.digest
        self.cmap: Mapping[int, str] = fonts.cmap
        self.upm = fonts.upm
        self._hmtx = fonts.hmtx
        self._glyphs = fonts.glyph_set
        self._cache: dict[str, Glyph] = {}
        self._advances: dict[str, float] = {}
        self._lock = threading.Lock()

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def advance(self, char: str) -> float:
        """Advance width in em."""
        found = self._advances.get(char)
        if found is None:
            found = self._advances[char] = self._hmtx[self.cmap[ord(char)]][0] / self.upm
        return found

    def width(self, text: str) -> float:
        """Advance width of ``text`` in em; a character the font lacks counts half an em."""
        advances = self._advances
        try:
            return sum([advances[c] for c in text])
        except KeyError:
            return sum([self.advance(c) if self.has(c) else 0.5 for c in text])

    def glyph(self, char: str) -> Glyph:
        """The outline of ``char``, drawn from the font the first time it is asked for."""
        found = self._cache.get(char)
        if found is None:
            with self._lock:
                pen = _OutlinePen(self._glyphs)
                self._glyphs[self.cmap[ord(char)]].draw(pen)
                scale = 1 / self.upm
                em = tuple((op[0], *(v * scale for v in op[1:])) for op in pen.ops)
                whole = all(float(v).is_integer() for op in pen.ops for v in op[1:])
                operators = pdf.path(pen.ops, places=0 if whole else 2) + b"f\n"
                found = Glyph(em, skia_path(pen.ops), operators)
                self._cache[char] = found
        return found

    def outline(self, char: str) -> tuple[Op, ...]:
        """The glyph outline in em, y up."""
        return self.glyph(char).em


@cache
def face(weight: str) -> Face:
    """The font for ``weight`` ("regular" or "bold"), loaded once per process."""
    return Face(weight)


def font_digests() -> dict[str, str]:
    return {weight: face(weight).digest for weight in glyphs.WEIGHTS}


def missing_characters(text: str) -> list[str]:
    """Characters of ``text`` that the font subset cannot draw (whitespace needs no glyph)."""
    regular, bold = face("regular"), face("bold")
    seen: list[str] = []
    for char in text:
        if char.isspace() or char in seen:
            continue
        if not (regular.has(char) and bold.has(char)):
            seen.append(char)
    return seen


def measure(text: str, weight: str, size: float, tracking: float = 0.0) -> float:
    """Width of ``text`` set at ``size`` with ``tracking`` (em) between characters."""
    return size * (face(weight).width(text) + tracking * max(len(text) - 1, 0))


@dataclass(frozen=True)
class Run:
    """One line of text set: each character drawn and where its pen starts (y down)."""

    weight: str
    size: float
    baseline: float
    glyphs: tuple[tuple[str, float], ...]

    def ops(self) -> list[Op]:
        """The glyph outlines as path operations."""
        font, s, y = face(self.weight), self.size, self.baseline
        ops: list[Op] = []
        for char, x in self.glyphs:
            for op in font.outline(char):
                if len(op) == 3:  # M, L
                    ops.append((op[0], x + op[1] * s, y - op[2] * s))
                elif len(op) == 7:  # C
                    _, x1, y1, x2, y2, x3, y3 = op
                    ops.append(
                        (
                            "C",
                            x + x1 * s,
                            y - y1 * s,
                            x + x2 * s,
                            y - y2 * s,
                            x + x3 * s,
                            y - y3 * s,
                        )
                    )
                else:  # Z
                    ops.append(op)
        return ops

    def add_to(self, path: skia.Path) -> skia.Path:
        """Append the glyph outlines to a Skia ``path`` (from the per-character cache)."""
        font = face(self.weight)
        scale = self.size / font.upm
        for char, pen_x in self.glyphs:
            matrix = skia.Matrix.MakeAll(scale, 0, pen_x, 0, -scale, self.baseline, 0, 0, 1)
            path.addPath(font.glyph(char).path, matrix)
        return path

    def pdf(self) -> bytes:
        """PDF operators filling the glyph outlines (from the per-character cache)."""
        font = face(self.weight)
        scale = self.size / font.upm
        # pdf.transformed((scale, 0, 0, -scale, x, baseline), glyph), its constant part once.
        head = f"q {scale:.6g} 0 0 {-scale:.6g} %.3f {self.baseline:.3f} cm\n"
        return b"".join(
            [
                (head % pen_x).encode("ascii") + font.glyph(char).pdf + b"Q\n"
                for char, pen_x in self.glyphs
            ]
        )


def set_text(
    text: str,
    weight: str,
    size: float,
    x: float,
    baseline: float,
    anchor: str = "middle",
    tracking: float = 0.0,
) -> Run:
    """Set one line of ``text``; ``anchor`` (start, middle or end) is at ``x``."""
    font = face(weight)
    width = measure(text, weight, size, tracking)
    pen_x = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
    glyphs = []
    for char in text:
        if char.isspace():
            pen_x += size * (font.advance(char) if font.has(char) else 0.25) + size * tracking
            continue
        glyphs.append((char, pen_x))
        pen_x += size * (font.advance(char) + tracking)
    return Run(weight, size, baseline, tuple(glyphs))


def text_ops(
    text: str,
    weight: str,
    size: float,
    x: float,
    baseline: float,
    anchor: str = "middle",
    tracking: float = 0.0,
) -> list[Op]:
    """Glyph outlines of one line of ``text`` (y down); ``anchor`` is start, middle or end."""
    return set_text(text, weight, size, x, baseline, anchor, tracking).ops()


def fit_size(text: str, weight: str, size: float, max_width: float, tracking: float = 0.0) -> float:
    """``size``, or smaller so that ``text`` fits ``max_width``."""
    width = measure(text, weight, size, tracking)
    return size if width <= max_width or width == 0 else size * max_width / width


_NO_LINE_START = set("，。、；：？！）》」』】〕〉”’％,.;:?!)]}%·—…")
_NO_LINE_END = set("（《「『【〔〈“‘([{")


def _tokens(text: str) -> list[str]:
    """Break opportunities: one token per CJK character, one per Latin word with its space."""
    tokens: list[str] = []
    word = ""
    for char in text:
        if ord(char) < 0x2E80 and not char.isspace():
            word += char
            continue
        if word:
            tokens.append(word)
            word = ""
        if char.isspace():
            if tokens:
                tokens[-1] += " "
        else:
            tokens.append(char)
    if word:
        tokens.append(word)
    merged: list[str] = []
    for token in tokens:
        if merged and (token[0] in _NO_LINE_START or merged[-1].rstrip()[-1:] in _NO_LINE_END):
            merged[-1] += token
        else:
            merged.append(token)
    return merged


def wrap(text: str, weight: str, size: float, max_width: float) -> list[str]:
    """Greedy line breaking for Chinese and English, keeping closing punctuation off line starts."""
    lines: list[str] = []
    line, width = "", 0.0  # the line so far, and its width with its trailing spaces
    for token in _tokens(text):
        word = token.rstrip()
        if line and width + measure(word, weight, size) > max_width:
            lines.append(line.rstrip())
            line, width = token, measure(token, weight, size)
        else:
            line, width = line + token, width + measure(token, weight, size)
    if line.strip():
        lines.append(line.rstrip())
    return lines


# --------------------------------------------------------------------------- shapes


@dataclass(frozen=True)
class Fill:
    """One filled path in one flat colour; ``evenodd`` for knock-outs, else non-zero winding."""

    ops: tuple[Op, ...]
    colour: str
    evenodd: bool = False
    name: str = ""


@dataclass
class Scene:
    """Filled paths painted in order on a ``width`` × ``height`` canvas (y down)."""

    width: float
    height: float
    fills: list[Fill]
    title: str = ""

    def add(self, ops: Iterable[Op], colour: str, name: str = "", evenodd: bool = False) -> None:
        ops = tuple(ops)
        if ops:
            self.fills.append(Fill(ops, colour, evenodd, name))


_KAPPA = 0.5522847498


def rect(x: float, y: float, w: float, h: float) -> list[Op]:
    return [("M", x, y), ("L", x + w, y), ("L", x + w, y + h), ("L", x, y + h), ("Z",)]


def rounded_rect(
    x: float, y: float, w: float, h: float, r: float, top: bool = True, bottom: bool = True
) -> list[Op]:
    """A rectangle with rounded corners (only the top or bottom ones if asked), clockwise."""
    rt, rb = (r if top else 0.0), (r if bottom else 0.0)
    k = _KAPPA
    ops: list[Op] = [("M", x + rt, y), ("L", x + w - rt, y)]
    if rt:
        ops.append(("C", x + w - rt + k * rt, y, x + w, y + rt - k * rt, x + w, y + rt))
    ops.append(("L", x + w, y + h - rb))
    if rb:
        ops.append(("C", x + w, y + h - rb + k * rb, x + w - rb + k * rb, y + h, x + w - rb, y + h))
    ops.append(("L", x + rb, y + h))
    if rb:
        ops.append(("C", x + rb - k * rb, y + h, x, y + h - rb + k * rb, x, y + h - rb))
    ops.append(("L", x, y + rt))
    if rt:
        ops.append(("C", x, y + rt - k * rt, x + rt - k * rt, y, x + rt, y))
    ops.append(("Z",))
    return ops


def circle(cx: float, cy: float, r: float, clockwise: bool = True) -> list[Op]:
    k = _KAPPA * r
    if clockwise:
        return [
            ("M", cx, cy - r),
            ("C", cx + k, cy - r, cx + r, cy - k, cx + r, cy),
            ("C", cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            ("C", cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            ("C", cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            ("Z",),
        ]
    return [
        ("M", cx, cy - r),
        ("C", cx - k, cy - r, cx - r, cy - k, cx - r, cy),
        ("C", cx - r, cy + k, cx - k, cy + r, cx, cy + r),
        ("C", cx + k, cy + r, cx + r, cy + k, cx + r, cy),
        ("C", cx + r, cy - k, cx + k, cy - r, cx, cy - r),
        ("Z",),
    ]


def polygon(points: Sequence[tuple[float, float]]) -> list[Op]:
    ops: list[Op] = [("M", *points[0])]
    ops += [("L", *p) for p in points[1:]]
    ops.append(("Z",))
    return ops


def star(cx: float, cy: float, r: float) -> list[Op]:
    """A regular five-pointed star, point up."""
    inner = r * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        angle = math.radians(-90 + 36 * i)
        radius = r if i % 2 == 0 else inner
        points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    return polygon(points)


def _reverse(ops: list[Op]) -> list[Op]:
    """The same closed contour, drawn the other way (a hole under non-zero winding)."""
    points: list[tuple[str, tuple[float, ...]]] = []
    start = ops[0][1:]
    current = start
    for op in ops[1:]:
        if op[0] == "Z":
            if current != start:
                points.append(("L", current + start))
            break
        points.append((op[0], current + tuple(op[1:])))
        current = tuple(op[-2:])
    out: list[Op] = [("M", *current)]
    for kind, seg in reversed(points):
        if kind == "L":
            out.append(("L", *seg[:2]))
        else:
            x0, y0, x1, y1, x2, y2, _x3, _y3 = seg
            out.append(("C", x2, y2, x1, y1, x0, y0))
    out.append(("Z",))
    return out


# --------------------------------------------------------------------------- SVG


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_SVG_TEMPLATES = {"M": "M%.2f %.2f", "L": "L%.2f %.2f", "C": "C%.2f %.2f %.2f %.2f %.2f %.2f"}
_TRAILING_ZEROS = re.compile(r"\.(\d*?)0+(?!\d)")


def _path_number(value: float) -> str:
    """One number as :func:`path_data` writes it."""
    return _TRAILING_ZEROS.sub(lambda m: "." + m.group(1) if m.group(1) else "", f"{value:.2f}")


def path_data(ops: Sequence[Op]) -> str:
    """SVG path data to 0.01 unit, without trailing zeros (one formatting pass for the path)."""
    template = "".join([_SVG_TEMPLATES.get(op[0], "Z") for op in ops])
    text = template % tuple(v for op in ops for v in op[1:])
    return _TRAILING_ZEROS.sub(lambda m: "." + m.group(1) if m.group(1) else "", text)


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def svg_element(fill: Fill, data: str | None = None) -> str:
    """One ``<path>`` element; ``data`` is the fill's path data when it is known already."""
    rule = ' fill-rule="evenodd"' if fill.evenodd else ""
    name = f' id="{fill.name}"' if fill.name else ""
    crisp = ' shape-rendering="crispEdges"' if fill.name == "qr" else ""
    data = path_data(fill.ops) if data is None else data
    return f'<path{name} fill="{fill.colour}"{rule}{crisp} d="{data}"/>\n'


def _svg_head(width: float, height: float, title: str, width_mm: float) -> str:
    height_mm = width_mm * height / width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"'
        f' width="{_num(width_mm)}mm" height="{_num(height_mm)}mm"'
        f' viewBox="0 0 {_num(width)} {_num(height)}" role="img">\n'
        f"<title>{_xml(title)}</title>\n"
    )


def to_svg(scene: Scene, width_mm: float) -> str:
    """The scene as SVG: paths only, a viewBox in scene units and a physical size in mm."""
    body = "".join([svg_element(fill) for fill in scene.fills])
    return _svg_head(scene.width, scene.height, scene.title, width_mm) + body + "</svg>\n"


# --------------------------------------------------------------------------- raster

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
    above: bytes  # the rows above the box, deflated and flushed
    above_adler: int  # their Adler-32
    below: bytes  # the rows below the box, deflated to the end of the stream
    below_rows: bytes  # (uncompressed, for the Adler-32 of the whole image)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _deflate(data: bytes, level: int, last: bool = False) -> bytes:
    """Raw deflate blocks for ``data``, on their own: they refer to nothing before them."""
    compressor = zlib_ng.compressobj(level, zlib_ng.DEFLATED, -zlib_ng.MAX_WBITS)
    return compressor.compress(data) + compressor.flush(
        zlib_ng.Z_FINISH if last else zlib_ng.Z_FULL_FLUSH
    )


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
    paper_rgb, ink_rgb = _rgb(paper), _rgb(ink)
    if not (rgba[top:bottom, left:right] == (*paper_rgb, 255)).all():
        raise RuntimeError("mark layout: the certificate's area overlaps the level's art")

    # Flat colours first, exact: transparent, paper, ink, then those of the static art.
    flat = [(0, 0, 0, 0), (*paper_rgb, 255), (*ink_rgb, 255)]
    for fill in static.fills:
        if (*_rgb(fill.colour), 255) not in flat:
            flat.append((*_rgb(fill.colour), 255))
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
        above=_deflate(above, SHARED_LEVEL),
        above_adler=zlib_ng.adler32(above),
        below=_deflate(below, SHARED_LEVEL, last=True),
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

    A PNG's pixels are one zlib stream. Deflate blocks flushed with Z_FULL_FLUSH refer to
    nothing before them, so the rows above the box, compressed once per layer, the box's rows,
    compressed here, and the rows below, compressed once, join into one valid stream; its
    Adler-32 is carried across the three. Pillow writes the chunks (and the PNG's header,
    taken from the layer's own PNG); ``tests/test_marks.py`` decodes the result with Pillow
    and OpenCV and compares it with :func:`layered_image` pixel for pixel.
    """
    left, _top, right, _bottom = layer.box
    rows = layer.rows.copy()
    _draw_box(layer, own, rows[:, 1 + left : 1 + right])
    middle = rows.tobytes()
    adler = zlib_ng.adler32(layer.below_rows, zlib_ng.adler32(middle, layer.above_adler))
    stream = b"".join(
        [
            b"\x78\x01",  # zlib header: deflate, 32 KiB window, fastest
            layer.above,
            _deflate(middle, PNG_LEVEL),
            layer.below,
            adler.to_bytes(4, "big"),
        ]
    )
    buffer = io.BytesIO()
    buffer.write(layer.head)
    PngImagePlugin.putchunk(buffer, b"IDAT", stream)
    PngImagePlugin.putchunk(buffer, b"IEND")
    return buffer.getvalue()


def png_bytes(image: Image.Image, dpi: int | None = None) -> bytes:
    """PNG without timestamps or text chunks; ``dpi`` recorded in pHYs when given."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buffer, format="PNG", compress_level=PNG_LEVEL, **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the mark


@dataclass(frozen=True)
class Level:
    """What every certificate of one level shows alike: the key of its cached art."""

    zh: str
    en: str
    stars: int
    body_name: str


@dataclass(frozen=True)
class MarkInfo:
    """Every record and registry field the artwork shows; its JSON goes into the cache hash."""

    number: str
    url: str
    level_zh: str
    level_en: str
    stars: int
    name: str
    name_en: str
    scope_zh: str
    scope_en: str
    issued: str
    expires: str
    standard: str
    body_name: str
    body_name_en: str

    @classmethod
    def of(cls, cert: Certificate, registry: Registry) -> MarkInfo:
        settings = registry.settings
        level = registry.level(cert)
        return cls(
            number=cert.number,
            url=settings.certificate_url(cert.number),
            level_zh=level.zh,
            level_en=level.en,
            stars=level.stars,
            name=cert.organization.name,
            name_en=cert.organization.name_en or "",
            scope_zh=cert.scope_zh,
            scope_en=cert.scope_en or "",
            issued=cert.issued.isoformat(),
            expires=cert.expires.isoformat(),
            standard=cert.standard,
            body_name=settings.body.name,
            body_name_en=settings.body.name_en,
        )

    @property
    def level(self) -> Level:
        """The part of this record that the level's shared art depends on."""
        return Level(self.level_zh, self.level_en, self.stars, self.body_name)

    def texts(self) -> dict[str, str]:
        """Every text drawn, by the record field it comes from."""
        return {
            "number": self.number,
            "level": self.level_zh + self.level_en,
            "organization.name": self.name,
            "organization.name_en": self.name_en,
            "scope.zh": self.scope_zh,
            "scope.en": self.scope_en,
            "standard": self.standard,
            "url": self.url,
            "body": self.body_name + self.body_name_en,
        }


VARIANTS = ("colour", "mono", "reverse")


@dataclass(frozen=True)
class Geometry:
    """Where the parts of the mark go (mark units: 100 wide, y down), from the layout alone."""

    height: float
    number_y: float
    body_y: float
    qr_x: float

    @classmethod
    def of(cls, style: MarkStyle) -> Geometry:
        """The geometry ``registry/mark.yaml`` lays out."""
        lay = style.layout
        number_y = lay["qr_y"] + lay["qr_width"] + lay["number_size"] * 0.95
        body_y = number_y + lay["body_size"] * 1.45
        return cls(body_y + lay["bottom"], number_y, body_y, 50 - lay["qr_width"] / 2)

    def certificate_box(self, style: MarkStyle) -> tuple[float, float, float, float]:
        """Left, top, right, bottom of what a certificate adds (QR code and number): paper only."""
        lay = style.layout
        left = min(self.qr_x, 50 - 42)  # the number is fitted into 84 units
        bottom = max(self.number_y + lay["number_size"] * 0.3, lay["qr_y"] + lay["qr_width"])
        return left, lay["qr_y"], 100 - left, bottom


def _emblem(level: Level, layout: dict[str, float]) -> list[Op]:
    """The stars on a gentle arc; for a level without stars, a ringed tick between two rules."""
    r, pitch, rise, y0 = (
        layout["star_radius"],
        layout["star_pitch"],
        layout["star_rise"],
        layout["star_y"],
    )
    ops: list[Op] = []
    if level.stars > 0:
        span = 2 * pitch
        for i in range(level.stars):
            dx = (i - (level.stars - 1) / 2) * pitch
            ops += star(50 + dx, y0 - rise * (1 - (dx / span) ** 2), r)
        return ops
    cy, ring = y0 - rise, r * 1.1
    weight = r * 0.19
    ops += circle(50, cy, ring, clockwise=True) + circle(50, cy, ring - weight, clockwise=False)
    s = ring * 0.66
    tick = [(-0.6, 0.04), (-0.18, 0.44), (0.62, -0.38)]
    thick = 0.21
    upper = [(50 + s * px, cy + s * (py - thick)) for px, py in tick]
    lower = [(50 + s * px, cy + s * (py + thick)) for px, py in reversed(tick)]
    ops += polygon(upper + lower)
    gap, length, bar = ring + r * 0.5, pitch * 1.45, weight * 0.75
    ops += rect(50 - gap - length, cy - bar / 2, length, bar)
    ops += rect(50 + gap, cy - bar / 2, length, bar)
    return ops


def level_scenes(level: Level, style: MarkStyle) -> dict[str, Scene]:
    """What every certificate of ``level`` shares, in every one of :data:`VARIANTS`.

    It is given the level alone, so it cannot draw anything of one certificate by mistake.
    """
    lay, geo, words = style.layout, Geometry.of(style), style.words
    corner, border, panel = lay["corner"], lay["border"], lay["panel"]
    height = geo.height

    inset = 100 - 2 * border
    frame = rounded_rect(0, 0, 100, height, corner) + _reverse(
        rounded_rect(border, border, inset, height - 2 * border, max(corner - border, 0.1))
    )
    panel_ops = rounded_rect(0, 0, 100, panel, corner, bottom=False)
    emblem = _emblem(level, lay)
    level_zh = text_ops(
        level.zh,
        "bold",
        fit_size(level.zh, "bold", lay["level_size"], 84, 0.08),
        50,
        lay["level_y"],
        tracking=0.08,
    )
    level_en_text = level.en.upper()
    level_en = text_ops(
        level_en_text,
        "bold",
        fit_size(level_en_text, "bold", lay["level_en_size"], 80, 0.22),
        50,
        lay["level_en_y"],
        tracking=0.22,
    )
    scheme = text_ops(
        words["scheme"],
        "bold",
        fit_size(words["scheme"], "bold", lay["scheme_size"], 100 - 2 * border - 8, 0.06),
        50,
        lay["scheme_y"],
        tracking=0.06,
    )
    standard = text_ops(
        words["standard"], "bold", lay["standard_size"], 50, lay["standard_y"], tracking=0.12
    )
    body = text_ops(
        level.body_name,
        "regular",
        fit_size(level.body_name, "regular", lay["body_size"], 88, 0.02),
        50,
        geo.body_y,
        tracking=0.02,
    )

    scenes = {variant: Scene(100.0, height, []) for variant in VARIANTS}
    c = style.colour
    scene = scenes["colour"]
    scene.add(rounded_rect(0, 0, 100, height, corner), c("paper"), "paper")
    scene.add(frame, c("primary"), "frame")
    scene.add(panel_ops, c("primary"), "panel")
    scene.add(rect(border, panel, 100 - 2 * border, lay["band"]), c("accent"), "band")
    scene.add(emblem, c("accent"), "stars")
    scene.add(level_zh, c("paper"), "level")
    scene.add(level_en, c("accent"), "level-en")
    scene.add(scheme, c("primary"), "scheme")
    scene.add(standard, c("primary"), "standard")
    scene.add(body, c("text"), "body")
    for variant in ("mono", "reverse"):
        scene, ink = scenes[variant], c(variant)
        # One ink: what is light in colour becomes a knock-out showing the substrate.
        scene.add(frame, ink, "frame")
        scene.add(panel_ops + emblem + level_zh + level_en, ink, "panel", evenodd=True)
        scene.add(scheme + standard, ink, "scheme")
        scene.add(body, ink, "body")
    return scenes


@dataclass(frozen=True)
class QrGrid:
    """Where the module edges of a QR symbol fall on the mark, and those numbers as text."""

    xs: tuple[float, ...]  # column edges
    ys: tuple[float, ...]  # row edges
    svg_xs: tuple[str, ...]  # the same as SVG path data writes them
    svg_ys: tuple[str, ...]
    pdf_xs: tuple[str, ...]  # and as PDF operators write them
    pdf_ys: tuple[str, ...]
    pdf_widths: tuple[str, ...]  # of a run of n modules
    pdf_module: str


@cache
def qr_grid(left: float, top: float, module: float, side: int) -> QrGrid:
    """The grid of ``side`` × ``side`` modules of ``module`` units, the first at (left, top)."""
    xs = tuple(left + i * module for i in range(side + 1))
    ys = tuple(top + i * module for i in range(side + 1))
    return QrGrid(
        xs,
        ys,
        tuple(_path_number(v) for v in xs),
        tuple(_path_number(v) for v in ys),
        tuple(f"{v:.3f}" for v in xs),
        tuple(f"{v:.3f}" for v in ys),
        tuple(f"{n * module:.3f}" for n in range(side + 1)),
        f"{module:.3f}",
    )


@dataclass(frozen=True)
class CertificateArt:
    """What one certificate adds to its level's mark: the QR code's modules and the number."""

    grid: QrGrid  # the symbol's modules, without the quiet zone (blank paper in the layer)
    runs: tuple[tuple[int, int, int], ...]  # dark modules: row, first column, length
    number: Run

    @classmethod
    def of(cls, info: MarkInfo, style: MarkStyle) -> CertificateArt:
        lay, geo = style.layout, Geometry.of(style)
        code = qr.symbol(info.url)
        module = lay["qr_width"] / code.size_with_quiet_zone
        zone = qr.QUIET_ZONE * module
        grid = qr_grid(geo.qr_x + zone, lay["qr_y"] + zone, module, code.size)
        number = set_text(
            info.number,
            "bold",
            fit_size(info.number, "bold", lay["number_size"], 84, 0.04),
            50,
            geo.number_y,
            tracking=0.04,
        )
        return cls(grid, code.runs(), number)

    @cached_property
    def module_ops(self) -> tuple[Op, ...]:
        """The dark modules as path operations, one rectangle per run."""
        xs, ys = self.grid.xs, self.grid.ys
        ops: list[Op] = []
        for row, column, length in self.runs:
            x0, x1, y0, y1 = xs[column], xs[column + length], ys[row], ys[row + 1]
            ops += [("M", x0, y0), ("L", x1, y0), ("L", x1, y1), ("L", x0, y1), ("Z",)]
        return tuple(ops)

    @cached_property
    def number_ops(self) -> tuple[Op, ...]:
        """The number's glyph outlines as path operations."""
        return tuple(self.number.ops())

    @cached_property
    def _modules_path(self) -> skia.Path:
        path = skia.Path()
        xs, ys = self.grid.xs, self.grid.ys
        for row, column, length in self.runs:
            path.addRect(xs[column], ys[row], xs[column + length], ys[row + 1])
        return path

    def draw(self, canvas: skia.Canvas) -> None:
        """Paint the modules (crisp: each pixel takes the module its centre is in, as the SVG
        asks of its renderers) and the number (anti-aliased), in the current ink."""
        canvas.drawPath(self._modules_path, skia.Paint(AntiAlias=False))
        canvas.drawPath(self.number.add_to(skia.Path()), skia.Paint(AntiAlias=True))

    def pdf(self) -> bytes:
        """PDF operators filling the modules and the number (mark units, current colour)."""
        grid = self.grid
        xs, ys, widths, module = grid.pdf_xs, grid.pdf_ys, grid.pdf_widths, grid.pdf_module
        modules = "".join(
            [f"{xs[c]} {ys[r]} {widths[n]} {module} re\n" for r, c, n in self.runs]
        ).encode("ascii")
        return modules + b"f\n" + self.number.pdf()

    def fills(self, style: MarkStyle, variant: str) -> list[Fill]:
        """The certificate's own paths in ``variant``, painted after the level's."""
        ink = style.colour("text" if variant == "colour" else variant)
        modules = Fill(self.module_ops, ink, name="qr")
        if variant == "reverse":
            # The QR code must stay dark on light: a solid box with the modules knocked out.
            modules = Fill(_qr_box(style) + self.module_ops, ink, evenodd=True, name="qr")
        return [modules, Fill(self.number_ops, ink, name="number")]

    def svg(self, style: MarkStyle, variant: str) -> str:
        """:meth:`fills` as SVG path elements, each path's data made once for all variants."""
        # The fills' attributes without their operations (the data stands for them here).
        ink = style.colour("text" if variant == "colour" else variant)
        data, reverse = self._module_data, variant == "reverse"
        if reverse:
            data = path_data(_qr_box(style)) + data  # path data of a sum is the sum of the parts
        modules, number = Fill((), ink, reverse, "qr"), Fill((), ink, name="number")
        return svg_element(modules, data) + svg_element(number, self._number_data)

    @cached_property
    def _module_data(self) -> str:
        """``path_data(module_ops)``, from the grid's numbers formatted once."""
        xs, ys = self.grid.svg_xs, self.grid.svg_ys
        return "".join(
            [
                f"M{xs[c]} {ys[r]}L{xs[c + n]} {ys[r]}L{xs[c + n]} {ys[r + 1]}L{xs[c]} {ys[r + 1]}Z"
                for r, c, n in self.runs
            ]
        )

    @cached_property
    def _number_data(self) -> str:
        return path_data(self.number_ops)


def _qr_box(style: MarkStyle) -> tuple[Op, ...]:
    lay = style.layout
    return tuple(rect(Geometry.of(style).qr_x, lay["qr_y"], lay["qr_width"], lay["qr_width"]))


def mark_title(info: MarkInfo, style: MarkStyle) -> str:
    """The SVG title: what the mark says, for screen readers and file browsers."""
    words = style.words
    return f"{info.level_zh} {words['scheme']} {words['standard']} {info.number} {info.body_name}"


def mark_scenes(info: MarkInfo, style: MarkStyle) -> dict[str, Scene]:
    """The whole star mark of one certificate in every one of :data:`VARIANTS`, from scratch."""
    own = CertificateArt.of(info, style)
    scenes = {}
    for variant, shared in level_scenes(info.level, style).items():
        fills = shared.fills + own.fills(style, variant)
        scenes[variant] = Scene(shared.width, shared.height, fills, mark_title(info, style))
    return scenes


def mark_scene(info: MarkInfo, style: MarkStyle, variant: str = "colour") -> Scene:
    """The star mark, 100 units wide, in one of :data:`VARIANTS`."""
    return mark_scenes(info, style)[variant]


# --------------------------------------------------------------------------- display sheet

SHEET_MARGIN = 20.0
SHEET_MARK_WIDTH = 62.0
_NOTICE = (
    "证书状态以认证机构网站公示为准；证书被暂停、撤销、注销或过期后，不得继续展示本证书和认证标志。"
)
_NOTICE_EN = (
    "The certificate's status is what the certification body publishes at the address above. "
    "Once it is suspended, withdrawn, cancelled or expired, "
    "this sheet and the mark must not be displayed."
)


class _Page:
    """A display sheet being written: its own drawing operators and the forms it shows."""

    def __init__(self) -> None:
        self.content: list[bytes] = []
        self.forms: dict[str, pdf.Form] = {}
        self._names: dict[pdf.Form, str] = {}

    def show(self, form: pdf.Form, x: float = 0.0, y: float = 0.0, scale: float = 1.0) -> None:
        name = self._names.get(form)
        if name is None:
            name = self._names[form] = f"F{len(self._names)}"
            self.forms[name] = form
        self.content.append(pdf.show(name, (scale, 0, 0, scale, x, y)))

    def text(self, run: Run, colour: str) -> None:
        self.content.append(pdf.colour(colour) + run.pdf())

    def rect(self, x: float, y: float, w: float, h: float, colour: str) -> None:
        self.content.append(pdf.colour(colour) + pdf.rects([(x, y, w, h)]))


def _text_bbox(run: Run, width: float) -> tuple[float, float, float, float]:
    """A box that holds every glyph of ``run`` (set from x = 0): a form paints nothing outside."""
    pad = run.size * 0.5
    return (-pad, run.baseline - run.size * 1.3, width + pad, run.baseline + run.size * 0.5)


def display_pdf(
    info: MarkInfo, style: MarkStyle, art: Artwork, own: CertificateArt | None = None
) -> bytes:
    """The A4 sheet for service premises: the mark, who holds it, for what, until when.

    What other sheets show alike comes from ``art`` as forms; the holder's name, scope, dates,
    number and address are filled from the per-character glyph cache.
    """
    c = style.colour
    width, height = A4
    margin = SHEET_MARGIN
    text_width = width - 2 * margin
    page = _Page()
    page.show(art.sheet_header(info.standard))

    y = 56.0
    name_size = 9.5
    lines = wrap(info.name, "bold", name_size, text_width)
    if len(lines) > 2:
        name_size = 7.5
        lines = wrap(info.name, "bold", name_size, text_width)
    for line in lines:
        page.text(set_text(line, "bold", name_size, width / 2, y), c("text"))
        y += name_size * 1.3
    if info.name_en:
        y += -name_size * 1.3 + 7.5
        for line in wrap(info.name_en, "regular", 4.2, text_width):
            page.text(set_text(line, "regular", 4.2, width / 2, y), c("text"))
            y += 5.6
    y += 6

    own = own or CertificateArt.of(info, style)
    level = art.level(info.level)
    scale = SHEET_MARK_WIDTH / 100
    x = (width - SHEET_MARK_WIDTH) / 2
    page.show(level.form, x, y, scale)
    ink = pdf.colour(c("text")) + own.pdf()
    page.content.append(pdf.transformed((scale, 0, 0, scale, x, y), ink))
    y += level.height * scale + 12

    rows = [
        ("认证星级", "Level", [(f"{info.level_zh}  {info.level_en}", "bold", 4.2)], True),
        (
            "认证范围",
            "Scope",
            [(info.scope_zh, "bold", 4.2), (info.scope_en, "regular", 3.3)],
            False,
        ),
        ("有效期", "Validity", [(f"{info.issued} 至 {info.expires}", "bold", 4.2)], False),
        ("证书编号", "Certificate No.", [(info.number, "bold", 4.2)], False),
        ("认证依据", "Standard", [(info.standard, "bold", 4.2)], True),
    ]
    label_x, value_x = margin, margin + 36
    value_width = width - margin - value_x
    rule = 0.3
    page.rect(margin, y - 8, text_width, rule, c("primary"))
    for zh, en, values, shared in rows:
        page.show(art.sheet_label(zh, en), label_x, y)
        value_y = y
        for value, weight, size in values:
            for line in wrap(value, weight, size, value_width):
                if shared:  # the same on many sheets: a form
                    page.show(art.text_form(line, weight, size, c("text")), value_x, value_y)
                else:
                    run = set_text(line, weight, size, value_x, value_y, anchor="start")
                    page.text(run, c("text"))
                value_y += size * 1.5
        y = max(y + 11.0, value_y + 4.0)
    page.rect(margin, y - 3.5, text_width, rule, c("primary"))

    footer, verify_y = art.sheet_footer(info.body_name, info.body_name_en)
    page.show(footer)
    verify = f"{style.words['scan']}  {style.words['scan_en']}:  {info.url}"
    size = fit_size(verify, "bold", 3.6, text_width, 0.02)
    verify_run = set_text(verify, "bold", size, width / 2, verify_y, tracking=0.02)
    # The words and the site's address are on every sheet: a form; the number is this one's.
    common = verify[: verify.rfind(info.number)] if info.number in info.url else ""
    drawn = len(common) - sum(char.isspace() for char in common)
    if drawn:
        form = art.text_form(common, "bold", size, c("primary"), tracking=0.02)
        page.show(form, verify_run.glyphs[0][1], verify_y)
    rest = verify_run.glyphs[drawn:]
    page.text(Run(verify_run.weight, verify_run.size, verify_run.baseline, rest), c("primary"))

    title = f"{info.name} {info.level_zh} {style.words['scheme']} {info.number}"
    return pdf.write_pdf(b"".join(page.content), page.forms, width, height, title)


# ------------------------------------------------------------------- what is drawn once, kept


@dataclass
class LevelArt:
    """One level's share of every mark, drawn once: SVG elements, raster layers, a PDF form."""

    height: float
    scenes: dict[str, Scene]  # per variant, without any certificate's paths
    svg: dict[str, str]  # the same as SVG path elements
    form: pdf.Form  # the colour variant, for the display sheet (mark units)
    box: tuple[float, float, float, float]  # where certificates draw (mark units)
    rasters: dict[tuple[int, int | None], RasterLayer] = field(default_factory=dict)  # width, dpi


class Artwork:
    """The drawing kept for one style, so that each certificate draws only what is its own.

    One per process and style (:func:`artwork`); every cache is keyed by all it depends on,
    so nothing needs to be cleared. ``Artwork(style)`` starts empty: a render with a fresh one
    is a render from scratch.
    """

    def __init__(self, style: MarkStyle) -> None:
        self.style = style
        self._levels: dict[Level, LevelArt] = {}
        self._forms: dict[tuple[Any, ...], Any] = {}

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

    def _form(self, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        found = self._forms.get(key)
        if found is None:
            found = self._forms[key] = make()
        return found

    def text_form(
        self, text: str, weight: str, size: float, colour: str, tracking: float = 0.0
    ) -> pdf.Form:
        """One line of text as a form, its pen starting at (0, 0)."""

        def make() -> pdf.Form:
            run = set_text(text, weight, size, 0.0, 0.0, anchor="start", tracking=tracking)
            content = pdf.colour(colour) + run.pdf()
            return pdf.Form.of(content, _text_bbox(run, measure(text, weight, size, tracking)))

        return self._form(("text", text, weight, size, colour, tracking), make)

    def sheet_label(self, zh: str, en: str) -> pdf.Form:
        """A row label of the display sheet, Chinese over English, at (0, 0)."""

        def make() -> pdf.Form:
            c = self.style.colour
            zh_run = set_text(zh, "bold", 4.0, 0.0, 0.0, anchor="start")
            en_run = set_text(en, "regular", 2.8, 0.0, 4.4, anchor="start")
            content = pdf.colour(c("primary")) + zh_run.pdf() + en_run.pdf()
            wide = max(measure(zh, "bold", 4.0), measure(en, "regular", 2.8))
            return pdf.Form.of(content, (-2.0, -5.5, wide + 2.0, 6.0))

        return self._form(("label", zh, en), make)

    def sheet_header(self, standard: str) -> pdf.Form:
        """The display sheet's header band (page coordinates)."""

        def make() -> pdf.Form:
            style, c = self.style, self.style.colour
            width = A4[0]
            words = style.words
            english = f"{words['scheme_en']} · {standard}"
            size = fit_size(english, "regular", 3.6, width - 2 * SHEET_MARGIN, 0.1)
            content = b"".join(
                [
                    pdf.colour(c("primary")),
                    pdf.rects([(0, 0, width, 36)]),
                    pdf.colour(c("accent")),
                    pdf.rects([(0, 36, width, 1.6)]),
                    pdf.colour(c("paper")),
                    set_text(words["scheme"], "bold", 11, width / 2, 19.5, tracking=0.18).pdf(),
                    pdf.colour(c("accent")),
                    set_text(english, "regular", size, width / 2, 28.5, tracking=0.1).pdf(),
                ]
            )
            return pdf.Form.of(content, (0.0, 0.0, width, 37.6))

        return self._form(("header", standard), make)

    def sheet_footer(self, body_name: str, body_name_en: str) -> tuple[pdf.Form, float]:
        """The notice and the body's name at the foot of the sheet, and where the address goes."""

        def make() -> tuple[pdf.Form, float]:
            c = self.style.colour
            width, height = A4
            text_width = width - 2 * SHEET_MARGIN
            body = f"{body_name}  {body_name_en}"
            yy = height - 8.0
            size = fit_size(body, "regular", 2.7, text_width)
            parts = [pdf.colour(c("primary")), set_text(body, "regular", size, width / 2, yy).pdf()]
            yy -= 6.0
            parts.append(pdf.colour(c("text")))
            for line in reversed(wrap(_NOTICE_EN, "regular", 2.5, text_width)):
                parts.append(set_text(line, "regular", 2.5, width / 2, yy).pdf())
                yy -= 3.5
            for line in reversed(wrap(_NOTICE, "regular", 2.9, text_width)):
                parts.append(set_text(line, "regular", 2.9, width / 2, yy).pdf())
                yy -= 4.2
            form = pdf.Form.of(b"".join(parts), (0.0, yy, width, height))
            return form, yy - 2.5

        return self._form(("footer", body_name, body_name_en), make)  # type: ignore[no-any-return]

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
        head = _svg_head(100.0, level.height, mark_title(info, style), width_mm)
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
        print_px = round(width_mm / 25.4 * sizes["print_dpi"])
        printed = self.raster(info.level, print_px, int(sizes["print_dpi"]))
        made["mark-print.png"] = layered_png(printed, own)
        yield "mark-print.png", made["mark-print.png"]
        made["qr.svg"] = qr.qr_svg(info.url).encode("utf-8")
        yield "qr.svg", made["qr.svg"]
        made["qr.png"] = qr.qr_png(info.url, module_px=10, dpi=300)
        yield "qr.png", made["qr.png"]
        made["display.pdf"] = display_pdf(info, style, self, own)
        yield "display.pdf", made["display.pdf"]
        made[USAGE_FILE] = usage_text(info, style).encode("utf-8")
        yield "marks.zip", _zip(made, info.number)

    def render(self, info: MarkInfo) -> dict[str, bytes]:
        """Every artwork file of one certificate, by file name."""
        return {name: data for name, data in self.files(info) if name}


_ARTWORK: dict[str, Artwork] = {}


def artwork(style: MarkStyle) -> Artwork:
    """This process's :class:`Artwork` for ``style``."""
    found = _ARTWORK.get(style.source)
    if found is None or found.style != style:
        found = _ARTWORK[style.source] = Artwork(style)
    return found


def render_files(info: MarkInfo, style: MarkStyle, art: Artwork | None = None) -> dict[str, bytes]:
    """Every artwork file of one certificate, by file name (``art``: what is drawn already)."""
    return (art or artwork(style)).render(info)


def _zip(files: dict[str, bytes], folder: str) -> bytes:
    """A zip with sorted entries, fixed dates and modes: the same files give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            entry = zipfile.ZipInfo(f"{folder}/{name}", date_time=ZIP_DATE)
            # PNG and PDF are compressed already: storing them saves time and costs no bytes.
            packed = name.endswith((".png", ".pdf"))
            entry.compress_type = zipfile.ZIP_STORED if packed else zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.create_system = 3
            archive.writestr(entry, files[name], compresslevel=None if packed else ZIP_LEVEL)
    return buffer.getvalue()


# ---------------------------------------------------------------------- one certificate's files


def usage_text(info: MarkInfo, style: MarkStyle) -> str:
    """The short usage sheet that goes into marks.zip (Chinese first, then English)."""
    s, w = style.sizes, style.words
    minimum, recommended = s["minimum_mm"], s["recommended_mm"]
    clear = s["clear_space"]
    colours = "\n".join(
        f"  {col.zh} {col.en}: {col.hex}  CMYK {col.cmyk}"
        for key, col in style.colours.items()
        if key in ("primary", "accent", "text", "paper")
    )
    return f"""{w["scheme"]}标志使用说明 / Star mark usage sheet
证书编号 Certificate: {info.number}
持证企业 Holder: {info.name}{(" / " + info.name_en) if info.name_en else ""}
认证星级 Level: {info.level_zh} / {info.level_en}
核验地址 Verify: {info.url}

文件
  mark.svg          彩色矢量标志，印刷首选（所有文字均已转曲，无需字体）
  mark-mono.svg     单色（黑）标志，用于浅色底单色印刷
  mark-reverse.svg  反白标志，用于深色底；二维码保留白底
  mark.png          网页用图片
  mark-print.png    印刷用高分辨率图片（{recommended:g} mm 宽时 {s["print_dpi"]:g} dpi）
  qr.svg / qr.png   单独的二维码
  display.pdf       经营场所展示用 A4 证书展示页

尺寸
  最小宽度 {minimum:g} mm（含二维码；小于此尺寸二维码可能无法识读）。
  推荐宽度 {recommended:g} mm 及以上（标志上所有文字不小于 5 pt）。
  单独使用二维码时，含 4 模块空白区的边长不小于 {qr_minimum_mm(info, style):g} mm。
保护空间
  标志四周至少留出标志宽度的 {clear * 100:g}%（{minimum:g} mm 宽时为 {minimum * clear:.1f} mm），
  其中不得有文字、图形或裁切线。
颜色
{colours}
  单色印刷用 mark-mono.svg；深色底用 mark-reverse.svg。
正确使用
  按比例整体缩放；不得拉伸、旋转、裁切、改色、描边或加阴影；不得删改星级、证书编号或二维码；
  不得用于证书范围以外的产品或服务；二维码必须指向上述核验地址。
证书暂停、撤销、注销或过期时
  标志使用权随之终止：须立即停止在新印刷品、广告和经营场所使用标志，标志文件也将从登记网站撤下。

Files: mark.svg (colour vector, preferred for print; all text outlined), mark-mono.svg (one colour,
black), mark-reverse.svg (white, for dark backgrounds; the QR code keeps its light box), mark.png
(web), mark-print.png ({s["print_dpi"]:g} dpi at {recommended:g} mm), qr.svg / qr.png,
display.pdf (A4 sheet for premises).
Size: at least {minimum:g} mm wide (the QR code must stay readable); {recommended:g} mm or more is
recommended (every word at least 5 pt). The QR code on its own, quiet zone included: at least
{qr_minimum_mm(info, style):g} mm.
Clear space: keep {clear * 100:g}% of the mark's width free on every side.
Colours: as listed above; match the CMYK values on press.
Use the mark whole and in proportion: do not stretch, rotate, crop, recolour, outline or shadow it,
and do not change the level, the number or the QR code. Use it only for the certified scope.
Suspension, withdrawal, cancellation or expiry of the certificate ends the right to use the mark:
stop using it at once; its files are removed from the registry.
"""


def qr_minimum_mm(info: MarkInfo, style: MarkStyle) -> float:
    """Smallest side of the QR code on its own: the module it has in the mark at minimum size."""
    code = qr.symbol(info.url)
    module = style.sizes["minimum_mm"] * style.layout["qr_width"] / 100 / code.size_with_quiet_zone
    return math.ceil(module * code.size_with_quiet_zone)


# --------------------------------------------------------------------------- the registry

# Libraries whose version can change an output byte.
LIBRARIES = ("zxing-cpp", "skia-python", "pikepdf", "zlib-ng", "pillow", "numpy", "fonttools")


@cache
def _versions() -> dict[str, str]:
    """Versions of everything else that shapes the bytes (looked up once per process)."""
    found = {}
    for package in LIBRARIES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    found["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    found["pillow-zlib"] = features.version("zlib") or "?"
    return found


@cache
def _shared_key(style_source: str) -> bytes:
    """The part of every cache key that is the same for all certificates of a build."""
    shared = {
        "renderer": RENDERER_VERSION,
        "style": style_source,
        "fonts": font_digests(),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode("utf-8")).digest()


def cache_key(info: MarkInfo, style: MarkStyle) -> str:
    """Hash of everything that affects one certificate's artwork: the cache file's name.

    The record fields drawn, ``registry/mark.yaml``, :data:`RENDERER_VERSION`, the fonts'
    digests and the versions of :data:`LIBRARIES` and of zlib.
    """
    record = json.dumps(asdict(info), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(_shared_key(style.source) + record).hexdigest()


BUNDLE_INDEX = "digests"  # in each cached bundle, written last: the bundle is complete


def bundle_dir(cache_dir: Path, key: str) -> Path:
    """The folder of one certificate's cached artwork: its files, and their digests."""
    return cache_dir / "marks" / key[:2] / key


def _read_bundle(folder: Path) -> dict[str, bytes] | None:
    """The digest of every file of a complete cached bundle, or None (absent, or unfinished)."""
    try:
        lines = (folder / BUNDLE_INDEX).read_text("ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        found = {name: bytes.fromhex(value) for name, value in zip(lines[::2], lines[1::2],
                                                                    strict=True)}
    except ValueError:
        return None
    return found if set(found) == {name for name, _zh, _en in MARK_FILES} else None


def _write_bundle(folder: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    """Store one certificate's files in the cache (a folder renamed into place when complete:
    a bundle is never seen half written) and return their digests. The site hard-links them,
    so a stored file is never changed again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.mkdir()
    digests = {}
    for name in sorted(files):
        (tmp / name).write_bytes(files[name])
        digests[name] = output_digest(files[name])
    index = "".join(f"{name} {value.hex()}\n" for name, value in digests.items())
    (tmp / BUNDLE_INDEX).write_text(index, "ascii")
    try:
        os.rename(tmp, folder)
    except OSError:  # another process stored the same bundle first: same bytes
        shutil.rmtree(tmp, ignore_errors=True)
    return digests


def _render_job(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle
) -> list[tuple[MarkInfo, dict[str, bytes]]]:
    """Draw a few certificates' files and store each bundle (in a worker, or in this process);
    only the digests travel back."""
    return [(info, _write_bundle(folder, render_files(info, style))) for info, folder in jobs]


def marked(registry: Registry) -> Iterator[Certificate]:
    """The certificates whose standing allows the mark today."""
    return (cert for cert in registry.certificates if registry.verdict(cert).mark_allowed)


def check_glyphs(registry: Registry) -> list[Problem]:
    """Every character that the artwork would need and the font subset lacks, by file."""
    problems: list[Problem] = []
    settings = registry.settings
    body = {"body.name": settings.body.name, "body.name_en": settings.body.name_en}
    for key, text in body.items():
        for char in missing_characters(text):
            problems.append(_glyph_problem(settings.root, "registry/registry.yaml", key, char))
    for level in settings.levels:
        for char in missing_characters(level.zh + level.en):
            problems.append(_glyph_problem(settings.root, "registry/registry.yaml",
                                               f"levels ({level.key})", char))
    try:
        style = load_style(settings.root)
        for key, text in style.words.items():
            for char in missing_characters(text):
                problems.append(_glyph_problem(settings.root, STYLE_FILE, f"words.{key}", char))
    except InputError as exc:
        problems += exc.problems
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        for key, text in info.texts().items():
            if key == "body":
                continue
            for char in missing_characters(text):
                problems.append(_glyph_problem(settings.root, cert.source, key, char))
    return sorted(set(problems))


def _glyph_problem(root: Path, path: str, key: str, char: str) -> Problem:
    return glyphs.problem(root, path, key, char)


def render_marks(
    registry: Registry,
    out: Output,
    cache_dir: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MarkStats:
    """Write ``c/<NUMBER>/<file>`` for every certificate that may use the mark, using the cache."""
    style = load_style(registry.settings.root)
    problems = check_glyphs(registry)
    if problems:
        raise InputError(problems)
    jobs: list[tuple[MarkInfo, Path]] = []
    cached = 0
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        folder = bundle_dir(cache_dir, cache_key(info, style))
        digests = _read_bundle(folder)
        if digests is None:
            jobs.append((info, folder))
            continue
        _publish(out, info.number, folder, digests)
        cached += 1
        if progress:
            progress(1)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    for info, digests in _run(jobs, style, workers):
        _publish(out, info.number, bundle_dir(cache_dir, cache_key(info, style)), digests)
        if progress:
            progress(1)
    return MarkStats(rendered=len(jobs), cached=cached)


def _run(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle, workers: int
) -> Iterator[tuple[MarkInfo, dict[str, bytes]]]:
    if workers == 1 or len(jobs) < 3:
        for job in jobs:
            yield from _render_job([job], style)
        return
    # Processes, not threads: drawing is mostly Python. "spawn" is safe inside a threaded host
    # (mkdocs serve) where forking could copy a held lock. A few certificates per task: fewer
    # round trips, and still a smooth progress bar.
    size = max(1, min(8, len(jobs) // (4 * workers)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        for future in as_completed([pool.submit(_render_job, chunk, style) for chunk in chunks]):
            yield from future.result()


def _publish(out: Output, number: str, folder: Path, digests: dict[str, bytes]) -> None:
    """Link one certificate's cached files into the site (no bytes copied)."""
    base = os.fspath(folder)
    for name, _zh, _en in MARK_FILES:
        out.link_from(f"c/{number}/{name}", os.path.join(base, name), digests[name])


def mark_files_of(number: str) -> list[str]:
    """Site paths of one certificate's artwork (for pages that link to them)."""
    return [f"c/{number}/{name}" for name, _zh, _en in MARK_FILES]
