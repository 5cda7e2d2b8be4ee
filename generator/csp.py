"""The Content-Security-Policy of every generated page, and a header file for hosts.

Scripts run only from the site's own files, or inline where the theme writes a tiny script into
the page (mkdocs-material's ``__md_scope`` and anchor scripts), each listed by its SHA-256 hash:
no inline handlers, no ``eval``, nothing from another host. Styles allow inline ``style``
attributes (Markdown tables align cells with them). The policy goes into each page as a
``<meta http-equiv>`` (it works on any static host, GitHub Pages included) and, with the
directives a meta element cannot carry, into ``_headers`` (Netlify, Cloudflare Pages).
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable

HEADERS_FILE = "_headers"
# Directives besides script-src, the same on every page.
DIRECTIVES = (
    "default-src 'self'",
    "img-src 'self' data:",  # the theme's icons are data: URLs in its CSS
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
)
# Only a header can say these (a meta element's frame-ancestors is ignored).
HEADER_ONLY = ("frame-ancestors 'none'",)
_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
_SRC = re.compile(r"\ssrc\s*=", re.I)
_TYPE = re.compile(r"""\stype\s*=\s*["']?([^"'\s>]+)""", re.I)
_JS_TYPES = frozenset({"", "text/javascript", "application/javascript", "module"})
_CHARSET = re.compile(r"<meta\s+charset=[^>]*>", re.I)


def inline_scripts(page: str) -> list[str]:
    """The text of every inline script of ``page`` that a browser would run."""
    found = []
    for match in _SCRIPT.finditer(page):
        attributes, body = match.groups()
        kind = _TYPE.search(attributes)
        if _SRC.search(attributes) or (kind and kind.group(1).lower() not in _JS_TYPES):
            continue  # a file (allowed as 'self') or a data block (JSON, JSON-LD): never run
        found.append(body)
    return found


def source_hash(script: str) -> str:
    """A CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy(hashes: Iterable[str], *, header: bool = False) -> str:
    """The policy allowing the site's own scripts and the inline ones with these hashes."""
    scripts = " ".join(["'self'", *sorted(set(hashes))])
    return "; ".join([*DIRECTIVES, f"script-src {scripts}", *(HEADER_ONLY if header else ())])


def protect(page: str) -> tuple[str, list[str]]:
    """``page`` with its policy as the first element after the charset; and its hashes.

    A meta policy governs only what follows it, so it goes before the first script.
    """
    hashes = [source_hash(script) for script in inline_scripts(page)]
    meta = (f'<meta http-equiv="Content-Security-Policy" '
            f'content="{html.escape(policy(hashes))}">')
    charset = _CHARSET.search(page)
    if charset is not None:
        at = charset.end()
    else:
        head = re.search(r"<head[^>]*>", page, re.I)
        at = head.end() if head else 0
    return page[:at] + meta + page[at:], hashes


def headers_file(hashes: Iterable[str]) -> str:
    """``_headers`` for Netlify and Cloudflare Pages: the policy of every page as a header."""
    return ("# Security headers for hosts that read _headers (Netlify, Cloudflare Pages);\n"
            "# made by starmark build. nginx: see the publishing page.\n"
            "/*\n"
            f"  Content-Security-Policy: {policy(hashes, header=True)}\n"
            "  X-Content-Type-Options: nosniff\n"
            "  Referrer-Policy: strict-origin-when-cross-origin\n")
