"""Listing pages: every certificate by star level, status, province and industry, paginated.

A listing is ``list/<facet>-<value>/`` (page 1) and ``list/<facet>-<value>/<n>/``; the index at
``list/`` counts every facet value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .model import Certificate, Registry
from .templating import render


@dataclass(frozen=True)
class Facet:
    """One listing: its slug, its titles and its certificates in order."""

    slug: str
    zh: str
    en: str
    certificates: tuple[Certificate, ...]
    positions: Sequence[int] = ()  # where each of them is in the registry's order


@dataclass(frozen=True)
class ListingPage:
    """One rendered page of a listing."""

    url: str
    depth: int
    title: str
    description: str
    content: str


_FACETS: list[tuple[Registry, list[Facet]]] = []  # the last registry's, reused by identity


def facets(registry: Registry) -> list[Facet]:
    """Every listing, in the order the index shows them (sorted in one pass over the
    certificates; the build, the index page and the sitemap all ask for the same registry's)."""
    if _FACETS and _FACETS[0][0] is registry:
        return _FACETS[0][1]
    s = registry.settings
    certs = registry.certificates
    # Each listing's certificates by position in the registry (a build hashes a page's from
    # one list in registry order: 500,000 lookups by number at 100,000 certificates).
    by_level: dict[str, list[int]] = defaultdict(list)
    by_status: dict[str, list[int]] = defaultdict(list)
    by_province: dict[str, list[int]] = defaultdict(list)
    by_industry: dict[str, list[int]] = defaultdict(list)
    standings = registry.standings
    for i, c in enumerate(certs):
        by_level[c.level].append(i)
        by_status[standings[c.number].verdict].append(i)
        by_province[c.organization.region[:2] + "0000"].append(i)
        by_industry[c.industry].append(i)

    def facet(slug: str, zh: str, en: str, positions: list[int]) -> Facet:
        return Facet(slug, zh, en, tuple(map(certs.__getitem__, positions)), positions)

    out = [Facet("all", "全部证书", "All certificates", certs, range(len(certs)))]
    for level in s.levels:
        out.append(facet(f"level-{level.key}", f"{level.zh}证书", f"{level.en} certificates",
                         by_level[level.key]))
    for status in s.statuses:
        out.append(facet(f"status-{status.key}", f"{status.zh}的证书",
                         f"{status.en} certificates", by_status[status.key]))
    for code in sorted(by_province):
        region = s.regions.get(code)
        out.append(facet(f"region-{code}", region.zh if region else code,
                         region.en if region else code, by_province[code]))
    for key, label in s.industries.items():
        out.append(facet(f"industry-{key}", label.zh, label.en, by_industry[key]))
    _FACETS[:] = [(registry, out)]
    return out


def page_url(slug: str, page: int) -> str:
    return f"list/{slug}/" if page == 1 else f"list/{slug}/{page}/"


def _window(page: int, pages: int) -> list[int]:
    """Page numbers around the current one, with 0 marking a gap."""
    keep = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    out: list[int] = []
    for n in keep:
        if out and n - out[-1] > 1:
            out.append(0)
        out.append(n)
    return out


def _row(cert: Certificate, registry: Registry) -> dict[str, Any]:
    s = registry.settings
    verdict = registry.standing(cert).verdict
    return {
        "number": cert.number,
        "name": cert.organization.name,
        "verdict": verdict,
        "verdict_zh": s.status(verdict).zh,
        "verdict_en": s.status(verdict).en,
        "level_zh": s.level(cert.level).zh,
        "region": s.region_name(cert.organization.region),
        "expires": cert.expires,
    }


def page_count(facet: Facet, registry: Registry) -> int:
    """How many pages a listing has (one, empty, when it has no certificate)."""
    return max(1, -(-len(facet.certificates) // max(1, registry.settings.listing_page_size)))


def render_facet(facet: Facet, registry: Registry,
                 only: Iterable[int] | None = None) -> Iterator[ListingPage]:
    """The pages of one listing (one empty page when it has no certificate); ``only``: just
    these page numbers (a page shows its own certificates, the count and the page count)."""
    size = max(1, registry.settings.listing_page_size)
    total = len(facet.certificates)
    pages = page_count(facet, registry)
    for page in (range(1, pages + 1) if only is None else only):
        depth = 2 if page == 1 else 3
        root = "../" * depth

        def href(n: int, _root: str = root) -> str:
            return _root + page_url(facet.slug, n)

        chunk = facet.certificates[(page - 1) * size : page * size]
        content = render(
            "listing.html",
            title_zh=facet.zh,
            title_en=facet.en,
            total=total,
            page=page,
            pages=pages,
            rows=[_row(c, registry) for c in chunk],
            root=root,
            page_href=href,
            window=_window(page, pages),
        )
        suffix = f" 第{page}页" if page > 1 else ""
        yield ListingPage(
            url=page_url(facet.slug, page),
            depth=depth,
            title=f"{facet.zh}{suffix} {facet.en}",
            description=(
                f"{facet.zh}：共 {total} 个商品售后服务认证证书。{facet.en}: {total} certificates."
            ),
            content=content,
        )


def render_listings(registry: Registry) -> Iterator[ListingPage]:
    """Every page of every listing that has certificates (and the full list always)."""
    for facet in facets(registry):
        if facet.certificates or facet.slug == "all":
            yield from render_facet(facet, registry)


def index_markdown(registry: Registry, link: Callable[[str], str] = lambda u: u) -> str:
    """The ``list/`` page: every listing with its count."""
    groups: dict[str, list[Facet]] = defaultdict(list)
    for facet in facets(registry):
        groups[facet.slug.split("-", 1)[0]].append(facet)
    titles = {
        "all": ("全部", "All"),
        "level": ("按星级", "By star level"),
        "status": ("按状态", "By status"),
        "region": ("按地区（省级）", "By province"),
        "industry": ("按行业", "By industry"),
    }
    lines = ['# 证书名录 <span lang="en">Browse certificates</span>', ""]
    for key, (zh, en) in titles.items():
        lines += [f'## {zh} <span lang="en">{en}</span>', ""]
        for facet in groups.get(key, []):
            count = len(facet.certificates)
            label = f'{facet.zh} <span lang="en">{facet.en}</span>'
            lines.append(
                f"- [{label}]({link(facet.slug)}) ({count})"
                if count or key == "all"
                else f"- {label} (0)"
            )
        lines.append("")
    return "\n".join(lines)


@dataclass(frozen=True)
class ListingUrl:
    """Where a listing page is, without rendering it."""

    url: str


def render_listing_urls(registry: Registry) -> Iterator[ListingUrl]:
    """The URL of every listing page, in the order ``render_listings`` writes them."""
    size = max(1, registry.settings.listing_page_size)
    for facet in facets(registry):
        if facet.certificates or facet.slug == "all":
            pages = max(1, -(-len(facet.certificates) // size))
            for page in range(1, pages + 1):
                yield ListingUrl(page_url(facet.slug, page))
