"""SVG writing: path data to 0.01 unit, path elements and the document head with its size in mm."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .shapes import Fill, Op, Scene


def num(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_SVG_TEMPLATES = {"M": "M%.2f %.2f", "L": "L%.2f %.2f", "C": "C%.2f %.2f %.2f %.2f %.2f %.2f"}
_TRAILING_ZEROS = re.compile(r"\.(\d*?)0+(?!\d)")


def path_number(value: float) -> str:
    """One number as :func:`path_data` writes it."""
    return _TRAILING_ZEROS.sub(lambda m: "." + m.group(1) if m.group(1) else "", f"{value:.2f}")


def path_data(ops: Sequence[Op]) -> str:
    """SVG path data to 0.01 unit, without trailing zeros (one formatting pass for the path)."""
    template = "".join([_SVG_TEMPLATES.get(op[0], "Z") for op in ops])
    text = template % tuple(v for op in ops for v in op[1:])
    return _TRAILING_ZEROS.sub(lambda m: "." + m.group(1) if m.group(1) else "", text)


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
    height_mm = width_mm * height / width
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg"'
        f' width="{num(width_mm)}mm" height="{num(height_mm)}mm"'
        f' viewBox="0 0 {num(width)} {num(height)}" role="img">\n'
        f"<title>{xml_escape(title)}</title>\n"
    )


def to_svg(scene: Scene, width_mm: float) -> str:
    """The scene as SVG: paths only, a viewBox in scene units and a physical size in mm."""
    body = "".join([svg_element(fill) for fill in scene.fills])
    return svg_head(scene.width, scene.height, scene.title, width_mm) + body + "</svg>\n"
