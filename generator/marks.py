"""Star-mark artwork for every certificate that may use the mark: SVG, PNG, the A4 display sheet.

One drawing, many files. The mark is composed once as a :class:`Scene` of filled paths (text is
turned into glyph outlines from the committed font subset, so no file needs a font), and that
scene is written out as SVG, rasterised to PNG by the small scan-line renderer below, and placed
on the A4 display sheet written by :mod:`generator.pdf`. The same inputs give the same bytes.

Rendering is cached: the hash of everything that affects the artwork (the record fields used,
``registry/mark.yaml``, the renderer version, the fonts, the library versions) names a bundle
file in the cache folder, so an unchanged registry draws nothing. Missing bundles are drawn in
a pool of worker processes.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from fontTools.pens.basePen import BasePen
from fontTools.ttLib import TTFont
from PIL import Image

from . import pdf, qr
from .errors import InputError, Problem
from .model import Certificate, Registry
from .output import Output
from .source import read_file

# Bump when a change to this module (or qr.py, pdf.py) changes any output byte.
RENDERER_VERSION = "2"

STYLE_FILE = "registry/mark.yaml"
FONT_DIR = Path(__file__).parent / "fonts"
FONT_FILES = {
    "regular": "NotoSansSC-Subset-Regular.otf",
    "bold": "NotoSansSC-Subset-Bold.otf",
}
CACHE_DIR = Path(".starmark-cache") / "marks"
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
A4 = (210.0, 297.0)

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


class Face:
    """One font of the committed subset: character map, advances and cached outlines."""

    def __init__(self, path: Path) -> None:
        data = path.read_bytes()
        self.name = path.name
        self.digest = hashlib.sha256(data).hexdigest()
        self._font = TTFont(io.BytesIO(data))
        self.cmap: dict[int, str] = self._font.getBestCmap()
        self.upm = float(self._font["head"].unitsPerEm)
        self._hmtx = self._font["hmtx"]
        self._glyphs = self._font.getGlyphSet()
        self._outlines: dict[str, tuple[Op, ...]] = {}
        self._lock = threading.Lock()

    def has(self, char: str) -> bool:
        return ord(char) in self.cmap

    def advance(self, char: str) -> float:
        """Advance width in em."""
        return self._hmtx[self.cmap[ord(char)]][0] / self.upm

    def outline(self, char: str) -> tuple[Op, ...]:
        """The glyph outline in em, y up."""
        name = self.cmap[ord(char)]
        with self._lock:
            found = self._outlines.get(name)
            if found is None:
                pen = _OutlinePen(self._glyphs)
                self._glyphs[name].draw(pen)
                scale = 1 / self.upm
                found = tuple((op[0], *(v * scale for v in op[1:])) for op in pen.ops)
                self._outlines[name] = found
        return found


@cache
def face(weight: str) -> Face:
    """The committed font for ``weight`` ("regular" or "bold"), loaded once per process."""
    return Face(FONT_DIR / FONT_FILES[weight])


def font_digests() -> dict[str, str]:
    return {weight: face(weight).digest for weight in FONT_FILES}


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
    font = face(weight)
    width = sum(font.advance(c) if font.has(c) else 0.5 for c in text)
    return size * (width + tracking * max(len(text) - 1, 0))


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
    font = face(weight)
    width = measure(text, weight, size, tracking)
    pen_x = x - {"start": 0.0, "middle": width / 2, "end": width}[anchor]
    ops: list[Op] = []
    for char in text:
        if char.isspace():
            pen_x += size * (font.advance(char) if font.has(char) else 0.25) + size * tracking
            continue
        for op in font.outline(char):
            if op[0] == "Z":
                ops.append(op)
                continue
            coords = op[1:]
            moved = []
            for i in range(0, len(coords), 2):
                moved += [pen_x + coords[i] * size, baseline - coords[i + 1] * size]
            ops.append((op[0], *moved))
        pen_x += size * (font.advance(char) + tracking)
    return ops


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
    line = ""
    for token in _tokens(text):
        if line and measure((line + token).rstrip(), weight, size) > max_width:
            lines.append(line.rstrip())
            line = token
        else:
            line += token
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


def transform(ops: Iterable[Op], scale: float, dx: float, dy: float) -> list[Op]:
    return [
        op
        if op[0] == "Z"
        else (op[0], *(v * scale + (dx if i % 2 == 0 else dy) for i, v in enumerate(op[1:])))
        for op in ops
    ]


# --------------------------------------------------------------------------- SVG and raster


def _num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_SVG_TEMPLATES = {"M": "M%.2f %.2f", "L": "L%.2f %.2f", "C": "C%.2f %.2f %.2f %.2f %.2f %.2f"}
_TRAILING_ZEROS = re.compile(r"\.(\d*?)0+(?!\d)")


def path_data(ops: Sequence[Op]) -> str:
    """SVG path data to 0.01 unit, without trailing zeros (one formatting pass for the path)."""
    template = "".join([_SVG_TEMPLATES.get(op[0], "Z") for op in ops])
    text = template % tuple(v for op in ops for v in op[1:])
    return _TRAILING_ZEROS.sub(lambda m: "." + m.group(1) if m.group(1) else "", text)


def _xml(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def to_svg(scene: Scene, width_mm: float) -> str:
    """The scene as SVG: paths only, a viewBox in scene units and a physical size in mm."""
    height_mm = width_mm * scene.height / scene.width
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg"'
        f' width="{_num(width_mm)}mm" height="{_num(height_mm)}mm"'
        f' viewBox="0 0 {_num(scene.width)} {_num(scene.height)}" role="img">\n'
        f"<title>{_xml(scene.title)}</title>\n"
    )
    body = []
    for fill in scene.fills:
        rule = ' fill-rule="evenodd"' if fill.evenodd else ""
        name = f' id="{fill.name}"' if fill.name else ""
        crisp = ' shape-rendering="crispEdges"' if fill.name == "qr" else ""
        body.append(f'<path{name} fill="{fill.colour}"{rule}{crisp} d="{path_data(fill.ops)}"/>\n')
    return head + "".join(body) + "</svg>\n"


def _edges(ops: Sequence[Op], scale: float) -> tuple[np.ndarray, ...]:
    """Flatten paths to line segments in pixels (curves cut into pieces of about 2 px)."""
    lines: list[tuple[float, float, float, float]] = []
    curves: list[tuple[float, ...]] = []
    start = current = (0.0, 0.0)
    open_path = False
    for op in ops:
        kind = op[0]
        if kind == "M":
            if open_path and current != start:
                lines.append((*current, *start))
            start = current = (op[1] * scale, op[2] * scale)
            open_path = True
        elif kind == "L":
            point = (op[1] * scale, op[2] * scale)
            lines.append((*current, *point))
            current = point
        elif kind == "C":
            point = (op[5] * scale, op[6] * scale)
            curves.append(
                (*current, op[1] * scale, op[2] * scale, op[3] * scale, op[4] * scale, *point)
            )
            current = point
        elif kind == "Z":
            if current != start:
                lines.append((*current, *start))
            current = start
            open_path = False
    if open_path and current != start:
        lines.append((*current, *start))
    segments = np.array(lines, dtype=np.float64).reshape(-1, 4)
    if curves:
        c = np.array(curves, dtype=np.float64)
        p0, p1, p2, p3 = c[:, 0:2], c[:, 2:4], c[:, 4:6], c[:, 6:8]
        length = np.hypot(*(p1 - p0).T) + np.hypot(*(p2 - p1).T) + np.hypot(*(p3 - p2).T)
        pieces = np.clip(np.ceil(length / 2.0), 1, 64).astype(np.int64)
        which = np.repeat(np.arange(len(c)), pieces)
        step = np.arange(pieces.sum()) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        n = pieces[which].astype(np.float64)

        def at(t: np.ndarray) -> np.ndarray:
            t = t[:, None]
            u = 1 - t
            return (
                u**3 * p0[which]
                + 3 * u * u * t * p1[which]
                + 3 * u * t * t * p2[which]
                + t**3 * p3[which]
            )

        a, b = at(step / n), at((step + 1) / n)
        segments = np.concatenate([segments, np.hstack([a, b])])
    x0, y0, x1, y1 = segments.T
    return x0, y0, x1, y1


def coverage(
    ops: Sequence[Op],
    scale: float,
    width: int,
    height: int,
    evenodd: bool = False,
    samples: int = 16,
) -> tuple[np.ndarray, int, int] | None:
    """Anti-aliased coverage (0..1) of a filled path, exact along x, ``samples`` rows per pixel.

    Returns the coverage of the path's bounding box and the box's top-left pixel, or None when
    the path covers nothing inside ``width`` × ``height``.
    """
    x0, y0, x1, y1 = _edges(ops, scale)
    keep = y0 != y1
    x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
    if not len(x0):
        return None
    left = max(int(math.floor(min(x0.min(), x1.min()))), 0)
    right = min(int(math.ceil(max(x0.max(), x1.max()))), width)
    top_px = max(int(math.floor(min(y0.min(), y1.min()))), 0)
    bottom_px = min(int(math.ceil(max(y0.max(), y1.max()))), height)
    if right <= left or bottom_px <= top_px:
        return None
    box_w, box_h = right - left, bottom_px - top_px
    direction = np.where(y1 > y0, 1, -1)
    top, bottom = np.minimum(y0, y1), np.maximum(y0, y1)
    limit = bottom_px * samples
    first = np.clip(np.ceil(top * samples - 0.5), top_px * samples, limit).astype(np.int64)
    last = np.clip(np.ceil(bottom * samples - 0.5), top_px * samples, limit).astype(np.int64)
    counts = np.maximum(last - first, 0)
    which = np.repeat(np.arange(len(x0)), counts)
    row = first[which] + (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts))
    y = (row + 0.5) / samples
    x = x0[which] + (y - y0[which]) * (x1[which] - x0[which]) / (y1[which] - y0[which])
    order = np.lexsort((x, row))
    row, x, wind = row[order], x[order], direction[which][order]
    if evenodd:
        count = np.arange(1, len(x) + 1)
        inside_after, inside_before = count % 2 == 1, count % 2 == 0
    else:
        total = np.cumsum(wind)
        inside_after, inside_before = total != 0, (total - wind) != 0
    value = inside_after.astype(np.float64) - inside_before.astype(np.float64)
    live = value != 0
    x = np.clip(x[live], left, right) - left
    row, value = row[live] // samples - top_px, value[live] / samples
    cell = np.floor(x).astype(np.int64)
    frac = x - cell
    stride = box_w + 2
    base = row * stride + cell
    size = box_h * stride
    acc = np.bincount(base, weights=value * (1 - frac), minlength=size)[:size]
    acc += np.bincount(base + 1, weights=value * frac, minlength=size)[:size]
    cover = np.cumsum(acc.reshape(box_h, stride), axis=1, dtype=np.float32)[:, :box_w]
    return np.clip(cover, 0.0, 1.0, out=cover), left, top_px


def rasterise(scene: Scene, width_px: int) -> Image.Image:
    """The scene as an RGBA image ``width_px`` wide (transparent where nothing is painted)."""
    scale = width_px / scene.width
    height_px = max(1, round(scene.height * scale))
    # Premultiplied colour and alpha, one plane per channel, painted fill by fill ("over")
    # inside each fill's box; a thin shape in a large box (a frame) is painted pixel by pixel.
    canvas = np.zeros((4, height_px, width_px), dtype=np.float32)
    for fill in scene.fills:
        found = coverage(fill.ops, scale, width_px, height_px, fill.evenodd)
        if found is None:
            continue
        a, left, top = found
        h, w = a.shape
        colour = [int(fill.colour[i : i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0]
        box = canvas[:, top : top + h, left : left + w]
        touched = np.flatnonzero(a)
        if len(touched) < a.size // 4:
            ys, xs = np.divmod(touched, w)
            cover = a.ravel()[touched]
            for channel, value in enumerate(colour):
                plane = box[channel]
                plane[ys, xs] = plane[ys, xs] * (1 - cover) + cover * value
            continue
        keep = 1 - a
        for channel, value in enumerate(colour):
            plane = box[channel]
            plane *= keep
            if value:
                plane += a if value == 1 else a * np.float32(value)
    alpha = canvas[3]
    # Back to straight colour for PNG; only pixels that are partly transparent need dividing.
    partial = (alpha > 0) & (alpha < 1)
    for channel in range(3):
        np.divide(canvas[channel], alpha, out=canvas[channel], where=partial)
    np.clip(canvas, 0, 1, out=canvas)
    canvas *= 255
    pixels = np.rint(canvas).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels.transpose(1, 2, 0)), "RGBA")


def png_bytes(image: Image.Image, dpi: int | None = None) -> bytes:
    """PNG without timestamps or text chunks; ``dpi`` recorded in pHYs when given."""
    buffer = io.BytesIO()
    options: dict[str, Any] = {"dpi": (dpi, dpi)} if dpi else {}
    image.save(buffer, format="PNG", compress_level=6, **options)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the mark


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


def _emblem(info: MarkInfo, layout: dict[str, float]) -> list[Op]:
    """The stars on a gentle arc; for a level without stars, a ringed tick between two rules."""
    r, pitch, rise, y0 = (
        layout["star_radius"],
        layout["star_pitch"],
        layout["star_rise"],
        layout["star_y"],
    )
    ops: list[Op] = []
    if info.stars > 0:
        span = 2 * pitch
        for i in range(info.stars):
            dx = (i - (info.stars - 1) / 2) * pitch
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


def mark_scene(info: MarkInfo, style: MarkStyle, variant: str = "colour") -> Scene:
    """The star mark, 100 units wide, in one of :data:`VARIANTS`."""
    return mark_scenes(info, style)[variant]


def mark_scenes(info: MarkInfo, style: MarkStyle) -> dict[str, Scene]:
    """The star mark in every one of :data:`VARIANTS`, its text laid out once."""
    lay = style.layout
    code = qr.symbol(info.url)
    module = lay["qr_width"] / code.size_with_quiet_zone
    qr_bottom = lay["qr_y"] + lay["qr_width"]
    number_y = qr_bottom + lay["number_size"] * 0.95
    body_y = number_y + lay["body_size"] * 1.45
    height = body_y + lay["bottom"]
    words = style.words
    title = f"{info.level_zh} {words['scheme']} {words['standard']} {info.number} {info.body_name}"
    corner, border, panel = lay["corner"], lay["border"], lay["panel"]

    inset = 100 - 2 * border
    frame = rounded_rect(0, 0, 100, height, corner) + _reverse(
        rounded_rect(border, border, inset, height - 2 * border, max(corner - border, 0.1))
    )
    panel_ops = rounded_rect(0, 0, 100, panel, corner, bottom=False)
    emblem = _emblem(info, lay)
    level = text_ops(
        info.level_zh,
        "bold",
        fit_size(info.level_zh, "bold", lay["level_size"], 84, 0.08),
        50,
        lay["level_y"],
        tracking=0.08,
    )
    level_en_text = info.level_en.upper()
    level_en = text_ops(
        level_en_text,
        "bold",
        fit_size(level_en_text, "bold", lay["level_en_size"], 80, 0.22),
        50,
        lay["level_en_y"],
        tracking=0.22,
    )
    scheme = text_ops(
        style.words["scheme"],
        "bold",
        fit_size(style.words["scheme"], "bold", lay["scheme_size"], 100 - 2 * border - 8, 0.06),
        50,
        lay["scheme_y"],
        tracking=0.06,
    )
    standard = text_ops(
        style.words["standard"], "bold", lay["standard_size"], 50, lay["standard_y"], tracking=0.12
    )
    x_qr = 50 - lay["qr_width"] / 2
    modules = [
        op
        for y, x, length in code.runs()
        for op in rect(
            x_qr + (x + qr.QUIET_ZONE) * module,
            lay["qr_y"] + (y + qr.QUIET_ZONE) * module,
            length * module,
            module,
        )
    ]
    number = text_ops(
        info.number,
        "bold",
        fit_size(info.number, "bold", lay["number_size"], 84, 0.04),
        50,
        number_y,
        tracking=0.04,
    )
    body = text_ops(
        info.body_name,
        "regular",
        fit_size(info.body_name, "regular", lay["body_size"], 88, 0.02),
        50,
        body_y,
        tracking=0.02,
    )

    scenes = {variant: Scene(100.0, height, [], title) for variant in VARIANTS}
    c = style.colour
    scene = scenes["colour"]
    scene.add(rounded_rect(0, 0, 100, height, corner), c("paper"), "paper")
    scene.add(frame, c("primary"), "frame")
    scene.add(panel_ops, c("primary"), "panel")
    scene.add(rect(border, panel, 100 - 2 * border, lay["band"]), c("accent"), "band")
    scene.add(emblem, c("accent"), "stars")
    scene.add(level, c("paper"), "level")
    scene.add(level_en, c("accent"), "level-en")
    scene.add(scheme, c("primary"), "scheme")
    scene.add(standard, c("primary"), "standard")
    scene.add(modules, c("text"), "qr")
    scene.add(number, c("text"), "number")
    scene.add(body, c("text"), "body")
    for variant in ("mono", "reverse"):
        scene, ink = scenes[variant], c(variant)
        # One ink: what is light in colour becomes a knock-out showing the substrate.
        scene.add(frame, ink, "frame")
        scene.add(panel_ops + emblem + level + level_en, ink, "panel", evenodd=True)
        scene.add(scheme + standard, ink, "scheme")
        if variant == "reverse":
            # The QR code must stay dark on light: a solid box with the modules knocked out.
            box = rect(x_qr, lay["qr_y"], lay["qr_width"], lay["qr_width"])
            scene.add(box + modules, ink, "qr", evenodd=True)
        else:
            scene.add(modules, ink, "qr")
        scene.add(number + body, ink, "number")
    return scenes


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


# --------------------------------------------------------------------------- display sheet


def display_scene(info: MarkInfo, style: MarkStyle, mark: Scene | None = None) -> Scene:
    """The A4 sheet for service premises: the mark, who holds it, for what, until when."""
    c = style.colour
    width, height = A4
    margin = 20.0
    text_width = width - 2 * margin
    scene = Scene(
        width, height, [], f"{info.name} {info.level_zh} {style.words['scheme']} {info.number}"
    )
    scene.add(rect(0, 0, width, 36), c("primary"), "header")
    scene.add(rect(0, 36, width, 1.6), c("accent"), "band")
    scene.add(
        text_ops(style.words["scheme"], "bold", 11, width / 2, 19.5, tracking=0.18), c("paper")
    )
    english = f"{style.words['scheme_en']} · {info.standard}"
    scene.add(
        text_ops(
            english,
            "regular",
            fit_size(english, "regular", 3.6, text_width, 0.1),
            width / 2,
            28.5,
            tracking=0.1,
        ),
        c("accent"),
    )

    y = 56.0
    name_size = 9.5
    lines = wrap(info.name, "bold", name_size, text_width)
    if len(lines) > 2:
        name_size = 7.5
        lines = wrap(info.name, "bold", name_size, text_width)
    for line in lines:
        scene.add(text_ops(line, "bold", name_size, width / 2, y), c("text"))
        y += name_size * 1.3
    if info.name_en:
        y += -name_size * 1.3 + 7.5
        for line in wrap(info.name_en, "regular", 4.2, text_width):
            scene.add(text_ops(line, "regular", 4.2, width / 2, y), c("text"))
            y += 5.6
    y += 6

    mark = mark or mark_scene(info, style)
    mark_width = 62.0
    scale = mark_width / mark.width
    mark_height = mark.height * scale
    for fill in mark.fills:
        scene.add(
            transform(fill.ops, scale, (width - mark_width) / 2, y),
            fill.colour,
            evenodd=fill.evenodd,
        )
    y += mark_height + 12

    rows = [
        ("认证星级", "Level", [(f"{info.level_zh}  {info.level_en}", "bold", 4.2)]),
        ("认证范围", "Scope", [(info.scope_zh, "bold", 4.2), (info.scope_en, "regular", 3.3)]),
        ("有效期", "Validity", [(f"{info.issued} 至 {info.expires}", "bold", 4.2)]),
        ("证书编号", "Certificate No.", [(info.number, "bold", 4.2)]),
        ("认证依据", "Standard", [(info.standard, "bold", 4.2)]),
    ]
    label_x, value_x = margin, margin + 36
    value_width = width - margin - value_x
    rule = 0.3
    scene.add(rect(margin, y - 8, text_width, rule), c("primary"))
    for zh, en, values in rows:
        scene.add(text_ops(zh, "bold", 4.0, label_x, y, anchor="start"), c("primary"))
        scene.add(text_ops(en, "regular", 2.8, label_x, y + 4.4, anchor="start"), c("primary"))
        value_y = y
        for value, weight, size in values:
            for line in wrap(value, weight, size, value_width):
                scene.add(text_ops(line, weight, size, value_x, value_y, anchor="start"), c("text"))
                value_y += size * 1.5
        y = max(y + 11.0, value_y + 4.0)
    scene.add(rect(margin, y - 3.5, text_width, rule), c("primary"))

    notice = (
        "证书状态以认证机构网站公示为准；"
        "证书被暂停、撤销、注销或过期后，不得继续展示本证书和认证标志。"
    )
    notice_en = (
        "The certificate's status is what the certification body publishes at the address above. "
        "Once it is suspended, withdrawn, cancelled or expired, "
        "this sheet and the mark must not be displayed."
    )
    body = f"{info.body_name}  {info.body_name_en}"
    yy = height - 8.0
    scene.add(
        text_ops(body, "regular", fit_size(body, "regular", 2.7, text_width), width / 2, yy),
        c("primary"),
    )
    yy -= 6.0
    for line in reversed(wrap(notice_en, "regular", 2.5, text_width)):
        scene.add(text_ops(line, "regular", 2.5, width / 2, yy), c("text"))
        yy -= 3.5
    for line in reversed(wrap(notice, "regular", 2.9, text_width)):
        scene.add(text_ops(line, "regular", 2.9, width / 2, yy), c("text"))
        yy -= 4.2
    verify = f"{style.words['scan']}  {style.words['scan_en']}:  {info.url}"
    scene.add(
        text_ops(
            verify,
            "bold",
            fit_size(verify, "bold", 3.6, text_width, 0.02),
            width / 2,
            yy - 2.5,
            tracking=0.02,
        ),
        c("primary"),
    )
    return scene


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
            archive.writestr(entry, files[name], compresslevel=None if packed else 9)
    return buffer.getvalue()


def _web_image(scene: Scene, printed: Image.Image, width: int) -> Image.Image:
    """The web image, scaled down from the print image (cheaper than drawing it again)."""
    if width >= printed.width:
        return rasterise(scene, width)
    height = round(printed.height * width / printed.width)
    # Resample premultiplied, so transparent corners do not bleed dark fringes.
    return printed.convert("RGBa").resize((width, height), Image.Resampling.LANCZOS).convert("RGBA")


def render_files(info: MarkInfo, style: MarkStyle) -> dict[str, bytes]:
    """Every artwork file of one certificate, by file name."""
    sizes = style.sizes
    width_mm = sizes["recommended_mm"]
    scenes = mark_scenes(info, style)
    colour = scenes["colour"]
    print_px = round(width_mm / 25.4 * sizes["print_dpi"])
    sheet = display_scene(info, style, colour)
    printed = rasterise(colour, print_px)
    files: dict[str, bytes] = {
        "mark.svg": to_svg(colour, width_mm).encode("utf-8"),
        "mark-mono.svg": to_svg(scenes["mono"], width_mm).encode("utf-8"),
        "mark-reverse.svg": to_svg(scenes["reverse"], width_mm).encode("utf-8"),
        "mark.png": png_bytes(_web_image(colour, printed, int(sizes["web_png_px"]))),
        "mark-print.png": png_bytes(printed, int(sizes["print_dpi"])),
        "qr.svg": qr.qr_svg(info.url).encode("utf-8"),
        "qr.png": qr.qr_png(info.url, module_px=10, dpi=300),
        "display.pdf": pdf.write_pdf(sheet.fills, sheet.width, sheet.height, sheet.title),
    }
    usage = {USAGE_FILE: usage_text(info, style).encode("utf-8")}
    files["marks.zip"] = _zip(files | usage, info.number)
    return files


# --------------------------------------------------------------------------- the registry


@cache
def _versions() -> dict[str, str]:
    """Versions of everything else that shapes the bytes (looked up once per process)."""
    found = {}
    for package in ("qrcode", "pillow", "numpy", "fonttools"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    found["zlib"] = zlib.ZLIB_RUNTIME_VERSION
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
    digests and the versions of qrcode, Pillow, numpy, fontTools and zlib.
    """
    record = json.dumps(asdict(info), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(_shared_key(style.source) + record).hexdigest()


def _read_bundle(path: Path) -> dict[str, bytes] | None:
    try:
        with zipfile.ZipFile(path) as bundle:
            files = {name: bundle.read(name) for name in bundle.namelist()}
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return files if set(files) == {name for name, _zh, _en in MARK_FILES} else None


def _write_bundle(path: Path, files: dict[str, bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as bundle:
        for name in sorted(files):
            bundle.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), files[name])
    os.replace(tmp, path)


def _render_job(info: MarkInfo, style: MarkStyle) -> dict[str, bytes]:
    return render_files(info, style)


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
            problems.append(_glyph_problem("registry/registry.yaml", key, char))
    for level in settings.levels:
        for char in missing_characters(level.zh + level.en):
            problems.append(_glyph_problem("registry/registry.yaml", f"levels ({level.key})", char))
    try:
        style = load_style(settings.root)
        for key, text in style.words.items():
            for char in missing_characters(text):
                problems.append(_glyph_problem(STYLE_FILE, f"words.{key}", char))
    except InputError as exc:
        problems += exc.problems
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        for key, text in info.texts().items():
            if key == "body":
                continue
            for char in missing_characters(text):
                problems.append(_glyph_problem(cert.source, key, char))
    return sorted(set(problems))


def _glyph_problem(path: str, key: str, char: str) -> Problem:
    return Problem(
        path,
        0,
        f"{key}: character '{char}' (U+{ord(char):04X}) is not in the star-mark font, so its "
        f"mark and display sheet cannot be drawn; add it with scripts/subset_font.py "
        f"or write a common equivalent",
    )


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
        bundle = cache_dir / f"{cache_key(info, style)}.zip"
        files = _read_bundle(bundle) if bundle.exists() else None
        if files is None:
            jobs.append((info, bundle))
            continue
        _publish(out, info.number, files)
        cached += 1
        if progress:
            progress(1)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    for info, files in _run(jobs, style, workers):
        _write_bundle(cache_dir / f"{cache_key(info, style)}.zip", files)
        _publish(out, info.number, files)
        if progress:
            progress(1)
    return MarkStats(rendered=len(jobs), cached=cached)


def _run(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle, workers: int
) -> Iterator[tuple[MarkInfo, dict[str, bytes]]]:
    if workers == 1 or len(jobs) < 3:
        for info, _bundle in jobs:
            yield info, render_files(info, style)
        return
    # Processes, not threads: drawing is mostly Python. "spawn" is safe inside a threaded host
    # (mkdocs serve) where forking could copy a held lock.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(_render_job, info, style): info for info, _bundle in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _publish(out: Output, number: str, files: dict[str, bytes]) -> None:
    for name, _zh, _en in MARK_FILES:
        out.write(f"c/{number}/{name}", files[name])


def mark_files_of(number: str) -> list[str]:
    """Site paths of one certificate's artwork (for pages that link to them)."""
    return [f"c/{number}/{name}" for name, _zh, _en in MARK_FILES]


def default_cache_dir(root: Path) -> Path:
    return root / CACHE_DIR
