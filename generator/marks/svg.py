"""SVG writing: lean path data, path elements and the document head with its size in mm.

Coordinates are written as whole steps of 1/GRID mark unit (the viewBox is GRID times the mark's
size): 0.01 unit is 0.003 mm on a 30 mm mark and 0.1 mm on a 1 m poster, finer than any press.
Each path starts at an absolute point and moves on by relative steps computed between rounded
absolute points, so the rounding never accumulates; numbers carry no decimals, a command letter
is not repeated, and no space comes before a minus sign. That is half the bytes of absolute
coordinates with two decimals, for the same shapes.
"""

from __future__ import annotations

from collections.abc import Sequence

from .shapes import Fill, Op, Scene

GRID = 100  # path steps per mark unit


def num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def grid(value: float) -> int:
    """``value`` (mark units) in whole grid steps."""
    return round(value * GRID)


def join_numbers(numbers: list[int]) -> str:
    """Whole numbers as path data separates them: a space, or nothing before a minus sign."""
    text = ""
    for n in numbers:
        text += f"{n}" if n < 0 or not text else f" {n}"
    return text


def path_data(ops: Sequence[Op]) -> str:
    """SVG path data for ``ops`` (mark units) in grid steps: an absolute start, then relative."""
    parts: list[str] = []
    last = ""
    x = y = start_x = start_y = 0
    first = True
    for op in ops:
        kind = op[0]
        if kind == "Z":
            parts.append("z")
            last = "z"
            x, y = start_x, start_y
            continue
        if kind == "M":
            nx, ny = grid(op[1]), grid(op[2])
            if first:
                parts.append(f"M{nx} {ny}")
                first = False
            else:
                parts.append("m" + join_numbers([nx - x, ny - y]))
            last = "m"
            x = start_x = nx
            y = start_y = ny
        elif kind == "L":
            nx, ny = grid(op[1]), grid(op[2])
            dx, dy = nx - x, ny - y
            if dy == 0:
                command, text = "h", f"{dx}"
            elif dx == 0:
                command, text = "v", f"{dy}"
            else:
                command, text = "l", join_numbers([dx, dy])
            if command == last:
                parts.append(text if text[0] == "-" else " " + text)
            else:
                parts.append(command + text)
            last = command
            x, y = nx, ny
        else:
            points = [grid(v) for v in op[1:]]
            rel = [points[0] - x, points[1] - y, points[2] - x, points[3] - y,
                   points[4] - x, points[5] - y]
            text = join_numbers(rel)
            parts.append((text if text[0] == "-" else " " + text) if last == "c" else "c" + text)
            last = "c"
            x, y = points[4], points[5]
    return "".join(parts)


def xml_escape(text: str) -> str:
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


def svg_head(width: float, height: float, title: str, width_mm: float) -> str:
    height_mm = width_mm * grid(height) / grid(width)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"'
        f' width="{num(width_mm)}mm" height="{num(height_mm)}mm"'
        f' viewBox="0 0 {grid(width)} {grid(height)}" role="img">\n'
        f"<title>{xml_escape(title)}</title>\n"
    )


def to_svg(scene: Scene, width_mm: float) -> str:
    """The scene as SVG: paths only, a viewBox in scene units and a physical size in mm."""
    body = "".join([svg_element(fill) for fill in scene.fills])
    return svg_head(scene.width, scene.height, scene.title, width_mm) + body + "</svg>\n"
