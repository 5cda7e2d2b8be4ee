"""Helpers for the real-browser tests: paths, phone sizes, skipping, screenshots, colours."""

from __future__ import annotations

import colorsys
import datetime as dt
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
AS_OF = dt.date(2026, 11, 27)  # the test site's build date, and the browsers' clock
YEAR_LATER = AS_OF + dt.timedelta(days=365)  # a registry whose daily rebuild stopped a year ago
TIMEZONE = "Asia/Shanghai"
SCREENSHOTS = REPO / "tests" / "output" / "screenshots"
NODE_MODULES = REPO / "node_modules"
PHONES = {"360x640": (360, 640), "390x844": (390, 844)}
VERDICTS = ("valid", "suspended", "withdrawn", "cancelled", "expired")

missing: list[str] = []


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(what: str) -> None:
    """Skip (loudly) on a developer's machine; fail under CI, where everything must be there."""
    message = f"{what} — browser tests NOT RUN"
    if in_ci():
        pytest.fail(f"CI: {message}", pytrace=False)
    if message not in missing:
        missing.append(message)
        warnings.warn(message, stacklevel=2)
    pytest.skip(message)


def pinned_context(browser: Any, today: dt.date = AS_OF, **options: Any) -> Any:
    """A browser context whose clock reads noon of ``today`` in China, never the real clock:
    the pages judge dates on the viewer's device (freshness.js). Timers still run."""
    context = browser.new_context(timezone_id=TIMEZONE, locale="zh-CN", **options)
    noon = dt.datetime.combine(today, dt.time(12), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    context.clock.set_fixed_time(noon)
    return context


def add_style(page: Any, css: str) -> None:
    """Add a style sheet; unlike page.add_style_tag this also works with JavaScript off (it
    would wait forever for a load event)."""
    page.evaluate("""css => { const s = document.createElement('style');
                              s.textContent = css; document.head.append(s); }""", css)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save a screenshot under tests/output/screenshots/ for people to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# Colours: CSS colours as getComputedStyle gives them, hue, WCAG contrast.
RGB = tuple[float, float, float]


def parse(css: str) -> RGB:
    """``rgb(11, 107, 58)`` or ``rgba(…)`` (as getComputedStyle gives it) → 0-255 floats."""
    match = re.match(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)", css)
    if not match:
        raise ValueError(f"not an rgb() colour: {css!r}")
    r, g, b = (float(x) for x in match.groups())
    return r, g, b


def hue(rgb: RGB) -> float:
    """Hue in degrees, 0-360."""
    h, _, _ = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return h * 360


def saturation(rgb: RGB) -> float:
    _, _, s = colorsys.rgb_to_hls(*(c / 255 for c in rgb))
    return s


def luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance."""

    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1-21."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def distance(a: RGB, b: RGB) -> float:
    """A rough perceptual distance ("redmean"), 0-765; under ~100 colours look alike."""
    rmean = (a[0] + b[0]) / 2
    dr, dg, db = (x - y for x, y in zip(a, b, strict=True))
    return ((2 + rmean / 256) * dr * dr + 4 * dg * dg + (2 + (255 - rmean) / 256) * db * db) ** 0.5


def is_green(rgb: RGB) -> bool:
    return 90 <= hue(rgb) <= 170 and saturation(rgb) > 0.3


def is_red(rgb: RGB) -> bool:
    h = hue(rgb)
    return (h >= 340 or h <= 12) and saturation(rgb) > 0.4


def is_amber(rgb: RGB) -> bool:
    return 18 <= hue(rgb) <= 50 and saturation(rgb) > 0.4
