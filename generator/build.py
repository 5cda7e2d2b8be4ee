"""Render every registry output into a site folder: pages, listings, search, data, feeds, marks.

This is the core of a build, free of mkdocs: the plugin hands it the page shells that
mkdocs-material rendered, and it writes everything else through :class:`Output`, then checks
that every record has its page, JSON entry, search entry and feed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from tqdm import tqdm

from . import data, feeds, listings, marks, pages, search
from .errors import InputError
from .model import Registry
from .output import Output
from .shell import Shell

# Folders whose every file this stage writes: what it did not write this time is stale.
OWNED = ("c", "list", "api", "search/idx")
T = TypeVar("T")


@dataclass
class BuildReport:
    """What a build produced, for the count check and the closing line of the CLI."""

    records: int = 0
    pages: int = 0
    json_entries: int = 0
    search_entries: int = 0
    feeds: int = 0
    listing_pages: int = 0
    marks_rendered: int = 0
    marks_cached: int = 0
    changed: int = 0
    removed: list[str] = field(default_factory=list)

    def mismatches(self) -> list[str]:
        """Every count that differs from the number of records."""
        counts = {"pages": self.pages, "JSON entries": self.json_entries,
                  "search entries": self.search_entries, "certificate feeds": self.feeds}
        return [f"{name}: {value} for {self.records} records" for name, value in counts.items()
                if value != self.records]


def progress(items: Iterable[T], total: int, label: str, quiet: bool) -> Iterator[T]:
    """A progress bar with counts and an ETA on a terminal; silent when quiet or piped."""
    yield from tqdm(items, total=total, desc=label, unit="", disable=True if quiet else None,
                    leave=False, dynamic_ncols=True)


def render_site(registry: Registry, site_dir: Path, shells: dict[int, Shell], *, cache_dir: Path,
                quiet: bool = False, workers: int | None = None) -> BuildReport:
    """Write every registry output into ``site_dir`` (which mkdocs has filled with the rest)."""
    report = BuildReport(records=len(registry.certificates))
    out = Output(site_dir)
    problems = marks.check_glyphs(registry)
    if problems:
        raise InputError(problems)

    with tqdm(total=sum(1 for c in registry.certificates if registry.verdict(c).mark_allowed),
              desc="marks", disable=True if quiet else None, leave=False) as bar:
        stats = marks.render_marks(registry, out, cache_dir, workers=workers, progress=bar.update)
    report.marks_rendered, report.marks_cached = stats.rendered, stats.cached

    shell = shells[2]
    for cert in progress(registry.certificates, len(registry.certificates), "pages", quiet):
        page = pages.render_page(cert, registry, marks.MARK_FILES)
        out.write(f"c/{cert.number}/index.html", shell.fill(
            url=f"c/{cert.number}/", title=page.title, description=page.description,
            content=page.content, head=page.head))
        report.pages += 1

    for listing in listings.render_listings(registry):
        out.write(f"{listing.url}index.html", shells[listing.depth].fill(
            url=listing.url, title=listing.title, description=listing.description,
            content=listing.content))
        report.listing_pages += 1

    index = search.build_index(registry)
    for rel, content in index.items():
        out.write(rel, content)
    report.search_entries = search.entry_count(index)

    report.json_entries = data.write_data(registry, out)
    report.feeds = feeds.write_feeds(registry, out) - 1
    report.removed = out.prune(OWNED)
    report.changed = len(out.changed)
    return report


def count_json_entries(site_dir: Path) -> int:
    """How many certificates the published all-records JSON holds (for the final check)."""
    doc = json.loads((site_dir / data.API / "certificates.json").read_text("utf-8"))
    return len(doc["certificates"])
