"""The Jinja environment for starmark's own fragments: autoescaped, with the scheme's labels."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from functools import cache
from pathlib import Path

import jinja2

TEMPLATES = Path(__file__).parent / "templates"

# Material Design Icons (Apache-2.0), the same set mkdocs-material ships; inlined so that the
# verdict banner needs no extra request and no JavaScript.
ICONS = {
    "valid": (
        "M12 2C6.5 2 2 6.5 2 12s4.5 10 10 10 10-4.5 10-10S17.5 2 12 2m-2 15-5-5"
        " 1.41-1.41L10 14.17l7.59-7.59L19 8z"
    ),
    "suspended": (
        "M15 16h-2V8h2m-4 8H9V8h2m1-6A10 10 0 0 0 2 12a10 10 0 0 0 10 10 10 10 "
        "0 0 0 10-10A10 10 0 0 0 12 2"
    ),
    "withdrawn": (
        "M12 2c5.53 0 10 4.47 10 10s-4.47 10-10 10S2 17.53 2 12 6.47 2 12 2m3.5"
        "9 5L12 10.59 8.41 7 7 8.41 10.59 12 7 15.59 8.41 17 12 13.41 15.59 17 "
        "17 15.59 13.41 12 17 8.41z"
    ),
    "cancelled": (
        "M12 2c5.5 0 10 4.5 10 10s-4.5 10-10 10S2 17.5 2 12 6.5 2 12 2m0 2c-1.9"
        " 0-3.6.6-4.9 1.7l11.2 11.2c1-1.4 1.7-3.1 1.7-4.9 0-4.4-3.6-8-8-8m4.9 1"
        "4.3L5.7 7.1C4.6 8.4 4 10.1 4 12c0 4.4 3.6 8 8 8 1.9 0 3.6-.6 4.9-1.7"
    ),
    "expired": (
        "M20 12h2v6h-2zm0 8h2v2h-2zM12 2C6.5 2 2 6.5 2 12s4.5 10 10 10c2.3 0 4."
        "3-.8 6-2V10h3.8c-.9-4.6-5-8-9.8-8m4.2 14.2L11 13V7h1.5v5.2l4.5 2.7z"
    ),
    "alert": (
        "M13 13h-2V7h2m0 10h-2v-2h2M12 2A10 10 0 0 0 2 12a10 10 0 0 0 10 10 10 "
        "10 0 0 0 10-10A10 10 0 0 0 12 2"
    ),
}


def score_text(value: Decimal | None) -> str:
    """A score as people write it: 96.5, 95, never 95.00."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def zh_date(value: dt.date | None) -> str:
    """2025-04-01 → 2025年4月1日."""
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


@cache
def environment() -> jinja2.Environment:
    """One shared environment; templates are compiled once per process."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(("html", "xml", "svg"), default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["score"] = score_text
    env.filters["zh_date"] = zh_date
    env.globals["icons"] = ICONS
    return env


def compile_into(folder: Path, version: str) -> None:
    """Keep the templates compiled in ``folder``/``version`` (a build's cache), so a build that
    renders one page does not compile every template it needs first (0.1 s). Jinja keys each
    by its source; ``version`` stands for the rest (this environment's options, Jinja's own
    version), and the folders of other versions are removed. A folder that cannot be made is
    no error: the templates are compiled as before."""
    try:
        for old in folder.glob("*"):
            if old.name != version:
                shutil.rmtree(old, ignore_errors=True)
        (folder / version).mkdir(parents=True, exist_ok=True)
    except OSError:
        return
    environment().bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder / version))


def render(template: str, **context: object) -> str:
    """Render one of starmark's templates."""
    return environment().get_template(template).render(**context)
