"""The mark's design: where each part goes, the level's shared drawing (frame, stars, words) and
what one certificate adds (its QR code and number). What a record shows is :mod:`.info`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import skia

from .. import qr
from .info import Level, MarkInfo
from .shapes import Fill, Op, Scene, circle, polygon, rect, reverse, rounded_rect, star
from .style import MarkStyle
from .svg import grid, path_data, svg_element
from .text import Run, face, fit_size, set_text

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


def centred(
    text: str, weight: str, size: float, max_width: float, baseline: float, tracking: float
) -> Run:
    """One line set on the mark's centre line, at ``size`` or smaller to fit ``max_width``."""
    fitted = fit_size(text, weight, size, max_width, tracking)
    return set_text(text, weight, fitted, 50, baseline, tracking=tracking)


def level_runs(level: Level, style: MarkStyle) -> dict[str, Run]:
    """The words every certificate of ``level`` shows, set: by the name of their fill."""
    lay, geo, words = style.layout, Geometry.of(style), style.words
    scheme_width = 100 - 2 * lay["border"] - 8
    level_en = level.en.upper()
    return {
        "level": centred(level.zh, "bold", lay["level_size"], 84, lay["level_y"], 0.08),
        "level-en": centred(level_en, "bold", lay["level_en_size"], 80, lay["level_en_y"], 0.22),
        "scheme": centred(
            words["scheme"], "bold", lay["scheme_size"], scheme_width, lay["scheme_y"], 0.06
        ),
        "standard": set_text(
            words["standard"], "bold", lay["standard_size"], 50, lay["standard_y"], tracking=0.12
        ),
        "body": centred(level.body_name, "regular", lay["body_size"], 88, geo.body_y, 0.02),
    }


def letter_height(run: Run) -> float:
    """How tall ``run``'s letters stand above the baseline (mark units): the tallest capital,
    digit or CJK character (its cap height; lower-case letters and signs are left out)."""
    font = face(run.weight)
    tallest = 0.0
    for char, _x in run.glyphs:
        if char.isupper() or char.isdigit() or ord(char) >= 0x2E80:
            top = font.glyph(char).path.getBounds().bottom()  # font units, y up
            tallest = max(tallest, top / font.upm * run.size)
    return tallest


def word_heights(info: MarkInfo, style: MarkStyle, width_mm: float) -> dict[str, float]:
    """The letter height (mm) of every word on the mark printed ``width_mm`` wide."""
    runs = {**level_runs(info.level, style), "number": CertificateArt.of(info, style).number}
    return {name: letter_height(run) * width_mm / 100 for name, run in runs.items()}


def level_scenes(level: Level, style: MarkStyle) -> dict[str, Scene]:
    """What every certificate of ``level`` shares, in every one of :data:`VARIANTS`.

    It is given the level alone, so it cannot draw anything of one certificate by mistake.
    """
    lay, geo = style.layout, Geometry.of(style)
    corner, border, panel = lay["corner"], lay["border"], lay["panel"]
    height = geo.height

    inset = 100 - 2 * border
    frame = rounded_rect(0, 0, 100, height, corner) + reverse(
        rounded_rect(border, border, inset, height - 2 * border, max(corner - border, 0.1))
    )
    panel_ops = rounded_rect(0, 0, 100, panel, corner, bottom=False)
    emblem = _emblem(level, lay)
    runs = level_runs(level, style)
    level_zh, level_en, scheme, standard, body = (
        runs[name].ops() for name in ("level", "level-en", "scheme", "standard", "body")
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
    grid_xs: tuple[int, ...]  # the same in SVG grid steps
    grid_ys: tuple[int, ...]
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
        tuple(grid(v) for v in xs),
        tuple(grid(v) for v in ys),
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
        number = centred(info.number, "bold", lay["number_size"], 84, geo.number_y, 0.04)
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
        canvas.drawPath(self._number_path, skia.Paint(AntiAlias=True))

    @cached_property
    def _number_path(self) -> skia.Path:  # drawn into mark.png and mark-print.png
        return self.number.add_to(skia.Path())

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
            modules = Fill(qr_box(style) + self.module_ops, ink, evenodd=True, name="qr")
        return [modules, Fill(self.number_ops, ink, name="number")]

    def svg(self, style: MarkStyle, variant: str) -> str:
        """:meth:`fills` as SVG path elements, each path's data made once for all variants."""
        # The fills' attributes without their operations (the data stands for them here).
        ink = style.colour("text" if variant == "colour" else variant)
        data, reverse = self._module_data, variant == "reverse"
        if reverse:
            box = qr_box(style)
            data = path_data(box) + self._modules_after((grid(box[0][1]), grid(box[0][2])))
        modules, number = Fill((), ink, reverse, "qr"), Fill((), ink, name="number")
        return svg_element(modules, data) + svg_element(number, self._number_data)

    @cached_property
    def _module_data(self) -> str:
        """``path_data(module_ops)``, written straight from the grid (one rectangle a run)."""
        return self._modules_after(None)

    def _modules_after(self, start: tuple[int, int] | None) -> str:
        """The modules' path data, the first run moved to from ``start`` (grid steps; the start
        of the subpath before them), or from nothing (an absolute move). Only the first move
        depends on ``start``: the rest is :attr:`_module_data`'s."""
        xs, ys = self.grid.grid_xs, self.grid.grid_ys
        if start is not None and self.runs:
            r, c, _n = self.runs[0]
            x0, y0 = xs[c], ys[r]
            first = self._module_data
            rest = first[first.index("h") :]
            dy = y0 - start[1]
            return (f"m{x0 - start[0]}{dy}" if dy < 0 else f"m{x0 - start[0]} {dy}") + rest
        parts = []
        x, y = start or (0, 0)
        for i, (r, c, n) in enumerate(self.runs):
            x0, y0, width, height = xs[c], ys[r], xs[c + n] - xs[c], ys[r + 1] - ys[r]
            if i == 0 and start is None:
                move = f"M{x0} {y0}"
            else:  # as join_numbers writes the pair, inline: this runs for every run
                dy = y0 - y
                move = f"m{x0 - x}{dy}" if dy < 0 else f"m{x0 - x} {dy}"
            parts.append(f"{move}h{width}v{height}h{-width}z")
            x, y = x0, y0
        return "".join(parts)

    @cached_property
    def _number_data(self) -> str:
        return path_data(self.number_ops)


def qr_box(style: MarkStyle) -> tuple[Op, ...]:
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
