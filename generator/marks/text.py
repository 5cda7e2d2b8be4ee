"""Glyph runs and text fitting: the committed font subset, outlines per character, line setting,
fitting a line to a width and wrapping Chinese and English."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import skia
from fontTools.pens.basePen import BasePen

from .. import glyphs, pdf
from .shapes import Op, skia_path


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
        head = fonts.subset["head"]  # the design box; the whole font's glyphs share it
        self.bbox = (float(head.xMin), float(head.yMin), float(head.xMax), float(head.yMax))
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
