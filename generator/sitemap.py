"""Sitemaps: the hand-written pages, every certificate page and every listing, for search engines.

Replaces the sitemap mkdocs writes, which knows nothing of the certificate pages and would list
the page shells. Above 50,000 URLs (the protocol's limit) it becomes an index of sitemap files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape as _html_escape

from zlib_ng import gzip_ng

from .output import Output

LIMIT = 50_000


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities (what xml.sax.saxutils.escape does, without importing
    urllib, http and ssl with it: 10 ms of every build)."""
    return _html_escape(text, quote=False)
NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def loc_urls(mkdocs_sitemap: str, exclude: str) -> list[str]:
    """The page URLs of mkdocs' own sitemap, less those containing ``exclude``."""
    return [u for u in re.findall(r"<loc>([^<]+)</loc>", mkdocs_sitemap) if exclude not in u]


def _urlset(entries: Sequence[tuple[str, str | None]]) -> str:
    rows = "".join(
        f"<url><loc>{escape(url)}</loc>{f'<lastmod>{lastmod}</lastmod>' if lastmod else ''}</url>\n"
        for url, lastmod in entries
    )
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="{NS}">\n{rows}</urlset>\n'


def _gz(text: str) -> bytes:
    # zlib-ng (the artwork's compressor too): the same level in a sixth of the time (77 ms a
    # build at 10,000 certificates with zlib).
    return gzip_ng.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def write_sitemaps(out: Output, site_url: str, entries: Iterable[tuple[str, str | None]]) -> int:
    """Write sitemap.xml (and .gz); returns the number of URLs."""
    items = list(entries)
    if len(items) <= LIMIT:
        text = _urlset(items)
    else:
        parts = []
        for i in range(0, len(items), LIMIT):
            name = f"sitemap-{i // LIMIT + 1}.xml"
            out.write(name, _urlset(items[i : i + LIMIT]))
            parts.append(f"<sitemap><loc>{escape(site_url + name)}</loc></sitemap>\n")
        text = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="{NS}">\n'
            f'{"".join(parts)}</sitemapindex>\n'
        )
    out.write("sitemap.xml", text)
    out.write("sitemap.xml.gz", _gz(text))
    return len(items)
