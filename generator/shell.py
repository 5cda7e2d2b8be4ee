"""Page shells: one mkdocs-material page rendered with markers, filled in for thousands of pages.

mkdocs renders a page in about 2.5 ms, most of it the theme's templates; certificate and listing
pages share one frame, so the frame is rendered once per folder depth (relative links depend on
depth only) and each page is a handful of string joins. Values are escaped here, because the
markers sit in HTML text and attribute contexts.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

TITLE = "@@STARMARK-TITLE@@"
DESCRIPTION = "@@STARMARK-DESCRIPTION@@"
HEAD = "@@STARMARK-HEAD@@"
CONTENT = "@@STARMARK-CONTENT@@"
SHELL_DIR = "_starmark_shell"
MARKERS = (TITLE, DESCRIPTION, HEAD, CONTENT)


def shell_url(depth: int) -> str:
    """The URL of the placeholder page rendered for pages ``depth`` folders deep."""
    return "/".join([SHELL_DIR, *(["x"] * (depth - 1))]) + "/"


@dataclass(frozen=True)
class Shell:
    """A rendered page split at its markers and at the placeholder page's own URL."""

    parts: tuple[str, ...]
    slots: tuple[str, ...]

    @classmethod
    def from_html(cls, rendered: str, depth: int) -> Shell:
        """Split mkdocs' output for the placeholder page of ``depth``."""
        own = shell_url(depth)
        pattern = "|".join(re.escape(m) for m in (*MARKERS, own))
        parts: list[str] = []
        slots: list[str] = []
        last = 0
        for match in re.finditer(pattern, rendered):
            parts.append(rendered[last : match.start()])
            slots.append(match.group(0))
            last = match.end()
        parts.append(rendered[last:])
        missing = {CONTENT, TITLE} - set(slots)
        if missing:
            raise RuntimeError(
                f"theme dropped the page markers {sorted(missing)}; check the theme overrides"
            )
        return cls(tuple(parts), tuple(slots))

    def fill(self, *, url: str, title: str, description: str, content: str, head: str = "") -> str:
        """The page at ``url`` (site-relative, e.g. ``c/ASC-2025-000123/``)."""
        values = {
            TITLE: html.escape(title, quote=True),
            DESCRIPTION: html.escape(description, quote=True),
            HEAD: head,
            CONTENT: content,
        }
        out = [self.parts[0]]
        for slot, part in zip(self.slots, self.parts[1:], strict=True):
            out.append(values.get(slot, url))
            out.append(part)
        return "".join(out)
