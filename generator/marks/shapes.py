"""Shape primitives: filled paths as M/L/C/Z operations, and scenes that paint them in order."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import skia

Op = tuple[Any, ...]  # ("M", x, y) | ("L", x, y) | ("C", x1, y1, x2, y2, x, y) | ("Z",)


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


def reverse(ops: list[Op]) -> list[Op]:
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
