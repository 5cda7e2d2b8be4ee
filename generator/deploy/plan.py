"""What a deploy sends, with which headers, in which order: the same for every destination.

A built site is read into :class:`LocalFile` entries (content hashes, Content-Type,
Cache-Control, phase). Destinations upload the changed ones phase by phase, so that a visitor
never meets a page whose files or data are not there yet, and delete stale files only after
every upload succeeded:

1. files: artwork, scripts, styles, content-hashed assets (nothing links to a new one yet);
2. data: open data and the search index the pages read;
3. pages: every ``.html``;
4. last: the signed checkpoint, the Atom feeds and the sitemap, which announce the new state;
5. then stale files (on the server, not in the site) are deleted.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import mimetypes
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Protocol

from ..data import API


class Phase(enum.IntEnum):
    """Upload order: a phase starts only when every file of the one before it is on the server."""

    FILES = 1
    DATA = 2
    PAGES = 3
    LAST = 4


# Caching: a content-hashed name never changes content, so it is cached for a year. Everything
# else keeps its URL across builds (certificate pages, artwork, open data), and a suspension must
# reach visitors within minutes: short. The checkpoint is what verifiers compare with, so a cache
# must ask the server every time.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=300"
REVALIDATE = "no-cache"

# mkdocs-material's bundle.a5f9d56c.min.js, main.57a0d79d.min.css (and their .map files).
HASHED_NAME = re.compile(r"\.[0-9a-f]{8,}\.")

# Names that announce a new state of the registry: uploaded after the pages they point to.
ANNOUNCE = frozenset({"feed.xml", "sitemap.xml", "sitemap.xml.gz", "robots.txt"})
CHECKPOINTS = f"{API}/checkpoint"  # checkpoint.json/.txt/.sig and any checkpoints/ folder

UTF8 = "; charset=utf-8"
# By suffix, where the platform's mimetypes table is missing, wrong or lacks a charset.
CONTENT_TYPES = {
    ".html": "text/html" + UTF8,
    ".css": "text/css" + UTF8,
    ".js": "text/javascript" + UTF8,
    ".mjs": "text/javascript" + UTF8,
    ".json": "application/json" + UTF8,
    ".map": "application/json" + UTF8,
    ".webmanifest": "application/manifest+json" + UTF8,
    ".csv": "text/csv" + UTF8,
    ".txt": "text/plain" + UTF8,
    ".xml": "application/xml" + UTF8,
    ".svg": "image/svg+xml" + UTF8,
    ".gz": "application/gzip",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".sig": "application/octet-stream",
}
ATOM = "application/atom+xml" + UTF8


@dataclass(frozen=True)
class LocalFile:
    """One file of the built site and how it is served."""

    path: str  # site-relative, with forward slashes: also the object key under the prefix
    size: int
    md5: str  # hex; equals an S3 ETag of a single-part upload
    sha256: str  # hex; stored with the object, the content hash a deploy compares
    content_type: str
    cache_control: str
    phase: Phase

    @property
    def md5_base64(self) -> str:
        """The Content-MD5 header: the server refuses the upload if the bytes arrived changed."""
        return base64.b64encode(bytes.fromhex(self.md5)).decode()


def content_type(path: str) -> str:
    """The Content-Type a file is served with (UTF-8 charset on every text type)."""
    name = PurePosixPath(path).name
    if name == "feed.xml":
        return ATOM
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in CONTENT_TYPES:
        return CONTENT_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed is None:
        # The checkpoint's text formats may come without a suffix; everything else is bytes.
        return "text/plain" + UTF8 if path.startswith(CHECKPOINTS) else "application/octet-stream"
    return guessed + UTF8 if guessed.startswith("text/") else guessed


def phase(path: str) -> Phase:
    """The upload phase of a site-relative path."""
    name = PurePosixPath(path).name
    if path.startswith(CHECKPOINTS) or name in ANNOUNCE or name == "feed.xml":
        return Phase.LAST
    if name.endswith(".html"):
        return Phase.PAGES
    if path.startswith(API + "/") or name.endswith((".json", ".csv")):
        return Phase.DATA
    return Phase.FILES


def cache_control(path: str) -> str:
    """The Cache-Control a file is served with."""
    if path.startswith(CHECKPOINTS):
        return REVALIDATE
    if HASHED_NAME.search(PurePosixPath(path).name):
        return IMMUTABLE
    return SHORT


def site_folder(site: Path) -> Path:
    """The folder a deploy reads: ``site`` with every symbolic link resolved, checked to be a build.

    A build may make ``site/`` a link to the folder it built; a deploy reads that folder, so a
    build that swaps the link meanwhile cannot mix two builds into one upload.
    """
    folder = site.resolve()
    if not folder.is_dir():
        raise FileNotFoundError(f"{site}: no such folder (build the site first: starmark build)")
    if not (folder / "index.html").is_file():
        # An empty or wrong folder would make every file on the server stale, and delete it.
        raise FileNotFoundError(f"{site}: not a built site (it has no index.html)")
    return folder


def hidden(path: str) -> bool:
    """Whether a site-relative path has a dot-file or dot-folder in it: never sent, never deleted
    (a server's own ``.well-known/`` stays)."""
    return any(part.startswith(".") for part in path.split("/"))


def walk(folder: Path) -> Iterator[tuple[str, Path]]:
    """Every file under ``folder`` as (site-relative path, file), following links, sorted."""
    found: list[tuple[str, Path]] = []
    for top, dirs, files in os.walk(folder, followlinks=True):
        dirs[:] = [d for d in dirs if not hidden(d)]
        base = Path(top)
        for name in files:
            if hidden(name):
                continue
            file = base / name
            found.append((file.relative_to(folder).as_posix(), file))
    return iter(sorted(found))


def describe(path: str, data: bytes) -> LocalFile:
    """The :class:`LocalFile` of ``data`` published at ``path``."""
    return LocalFile(
        path=path,
        size=len(data),
        md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        content_type=content_type(path),
        cache_control=cache_control(path),
        phase=phase(path),
    )


def scan(paths: Iterable[tuple[str, Path]],
         progress: Callable[[int], object] = lambda _: None) -> list[LocalFile]:
    """The :class:`LocalFile` of every (site-relative path, file) of :func:`walk`, in upload
    order (phase, then path); ``progress(1)`` after each file."""
    files = []
    for path, file in paths:
        files.append(describe(path, file.read_bytes()))
        progress(1)
    return ordered(files)


def ordered(files: Iterable[LocalFile]) -> list[LocalFile]:
    """``files`` in upload order: by phase, then by path."""
    return sorted(files, key=lambda f: (f.phase, f.path))


class Progress(Protocol):
    """A progress bar (tqdm's): told the bytes to send once known, then each file sent."""

    def reset(self, total: float | None = None) -> None:
        """Start again, with ``total`` bytes to send (None: not known beforehand)."""

    def update(self, n: float | None = 1) -> bool | None:
        """``n`` more bytes were sent."""


@dataclass
class Outcome:
    """What a deploy did (or, in a dry run, would do)."""

    uploaded: list[LocalFile]
    deleted: list[str]
    unchanged: int

    @property
    def uploaded_bytes(self) -> int:
        """Bytes sent (or to send)."""
        return sum(f.size for f in self.uploaded)
