"""The published limits of free static hosts, and a check of a built site against them.

One table, read by ``starmark hostcheck`` and quoted in docs/publishing.md ("Where to host").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .plan import walk

GB = 1000**3  # the hosts say "1 GB"; the decimal reading is the stricter one
MiB = 1024**2

WAY_OUT = (
    "publish to object storage instead (starmark deploy s3://BUCKET/PREFIX) or serve the "
    "star-mark artwork from a second origin; see 'Where to host' in docs/publishing.md"
)


@dataclass(frozen=True)
class Host:
    """What one static host accepts per published site (None: no published limit)."""

    name: str
    site_bytes: int | None
    files: int | None
    file_bytes: int | None
    source: str  # where the host publishes these figures


HOSTS: dict[str, Host] = {
    "github-pages": Host(
        "GitHub Pages", site_bytes=1 * GB, files=None, file_bytes=None,
        source="https://docs.github.com/en/pages/getting-started-with-github-pages/"
        "github-pages-limits",
    ),
    "gitlab-pages": Host(
        "GitLab Pages", site_bytes=1 * GB, files=200_000, file_bytes=None,
        source="https://docs.gitlab.com/user/gitlab_com/#gitlab-pages",
    ),
    "cloudflare-pages": Host(
        "Cloudflare Pages", site_bytes=None, files=20_000, file_bytes=25 * MiB,
        source="https://developers.cloudflare.com/pages/platform/limits/",
    ),
}


@dataclass(frozen=True)
class Measure:
    """A built site's size: total bytes, number of files and its largest file."""

    bytes: int
    files: int
    largest: tuple[int, str]  # (bytes, site-relative path)


def measure(folder: Path) -> Measure:
    """Count what a host would store of the site in ``folder`` (dot-files are never published)."""
    total = count = 0
    largest = (0, "")
    for path, file in walk(folder):
        size = file.stat().st_size
        total += size
        count += 1
        largest = max(largest, (size, path))
    return Measure(total, count, largest)


def human(size: int) -> str:
    """A byte count as people write it: 1.2 GB, 25 MiB, 310 KB."""
    if size >= GB:
        return f"{size // GB} GB" if size % GB == 0 else f"{size / GB:.2f} GB"
    if size >= MiB and size % MiB == 0:
        return f"{size // MiB} MiB"
    if size >= 1000**2:
        return f"{size / 1000**2:.1f} MB"
    return f"{size / 1000:.0f} KB"


def check(site: Measure, host: Host) -> list[str]:
    """Every limit of ``host`` that ``site`` exceeds, each as one sentence with the way out."""
    over: list[str] = []
    if host.site_bytes is not None and site.bytes > host.site_bytes:
        over.append(
            f"the site is {human(site.bytes)} ({site.bytes:,} bytes), over {host.name}' limit of "
            f"{human(host.site_bytes)} per site; way out: {WAY_OUT}"
        )
    if host.files is not None and site.files > host.files:
        over.append(
            f"the site has {site.files:,} files, over {host.name}' limit of {host.files:,} "
            f"files per site; way out: {WAY_OUT}"
        )
    size, path = site.largest
    if host.file_bytes is not None and size > host.file_bytes:
        over.append(
            f"{path} is {human(size)}, over {host.name}' limit of {human(host.file_bytes)} "
            f"per file; way out: {WAY_OUT}"
        )
    return over
