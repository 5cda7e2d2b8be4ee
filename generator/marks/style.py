"""``registry/mark.yaml`` read and typed: the mark's colours, words, sizes and layout numbers."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError, Problem
from ..source import read_file

STYLE_FILE = "registry/mark.yaml"


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
    artwork_base_url: str = ""  # "": on the registry's own site; else the artwork's own origin

    def colour(self, name: str) -> str:
        return self.colours[name].hex


_COLOUR_NAMES = ("primary", "accent", "paper", "text", "mono", "reverse")
_WORD_NAMES = ("scheme", "scheme_en", "standard", "scan", "scan_en")
_SIZE_NAMES = (
    "minimum_mm",
    "letter_mm",
    "qr_tested_mm",
    "recommended_mm",
    "clear_space",
    "web_png_px",
    "print_dpi",
    "qr_mm",
)
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
    base = data.get("artwork_base_url") or ""
    if base and not (isinstance(base, str) and re.fullmatch(r"https?://[^\s]+/", base)):
        problems.append(
            Problem(
                STYLE_FILE,
                doc.line(("artwork_base_url",)),
                "artwork_base_url must be empty or an absolute URL ending in '/'",
            )
        )
    if problems:
        raise InputError(problems)
    return MarkStyle(
        colours, words, sizes, layout, json.dumps(data, sort_keys=True, ensure_ascii=False),
        base,
    )


def _is_hex(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 7
        and value[0] == "#"
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )
