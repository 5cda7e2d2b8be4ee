"""Caching: the hash of everything that shapes a certificate's artwork names a folder of its files
in the cache; a build links cached files into the site and draws the missing ones in a pool of
worker processes."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import threading
import zlib
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from PIL import features

from ..errors import InputError, Problem
from ..model import Certificate, Registry
from ..output import Output
from ..output import digest as output_digest
from .artwork import render_files
from .bundle import MARK_FILES
from .design import MarkInfo
from .style import STYLE_FILE, MarkStyle, load_style
from .text import font_digests, missing_characters

# Bump when a change to this package (or qr.py, pdf.py) changes any output byte.
RENDERER_VERSION = "3"


@dataclass(frozen=True)
class MarkStats:
    """What :func:`render_marks` did: certificates drawn now, and those taken from the cache."""

    rendered: int
    cached: int

    @property
    def certificates(self) -> int:
        return self.rendered + self.cached


# Libraries whose version can change an output byte.
LIBRARIES = ("zxing-cpp", "skia-python", "pikepdf", "zlib-ng", "pillow", "numpy", "fonttools")


@cache
def _versions() -> dict[str, str]:
    """Versions of everything else that shapes the bytes (looked up once per process)."""
    found = {}
    for package in LIBRARIES:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "?"
    found["zlib"] = zlib.ZLIB_RUNTIME_VERSION
    found["pillow-zlib"] = features.version("zlib") or "?"
    return found


@cache
def _shared_key(style_source: str) -> bytes:
    """The part of every cache key that is the same for all certificates of a build."""
    shared = {
        "renderer": RENDERER_VERSION,
        "style": style_source,
        "fonts": font_digests(),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode("utf-8")).digest()


def cache_key(info: MarkInfo, style: MarkStyle) -> str:
    """Hash of everything that affects one certificate's artwork: the cache file's name.

    The record fields drawn, ``registry/mark.yaml``, :data:`RENDERER_VERSION`, the fonts'
    digests and the versions of :data:`LIBRARIES` and of zlib.
    """
    record = json.dumps(asdict(info), sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(_shared_key(style.source) + record).hexdigest()


BUNDLE_INDEX = "digests"  # in each cached bundle, written last: the bundle is complete


def bundle_dir(cache_dir: Path, key: str) -> Path:
    """The folder of one certificate's cached artwork: its files, and their digests."""
    return cache_dir / "marks" / key[:2] / key


def _read_bundle(folder: Path) -> dict[str, bytes] | None:
    """The digest of every file of a complete cached bundle, or None (absent, or unfinished)."""
    try:
        lines = (folder / BUNDLE_INDEX).read_text("ascii").split()
    except (OSError, UnicodeDecodeError):
        return None
    try:
        found = {name: bytes.fromhex(value) for name, value in zip(lines[::2], lines[1::2],
                                                                    strict=True)}
    except ValueError:
        return None
    return found if set(found) == {name for name, _zh, _en in MARK_FILES} else None


def _write_bundle(folder: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    """Store one certificate's files in the cache (a folder renamed into place when complete:
    a bundle is never seen half written) and return their digests. The site hard-links them,
    so a stored file is never changed again."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.mkdir()
    digests = {}
    for name in sorted(files):
        (tmp / name).write_bytes(files[name])
        digests[name] = output_digest(files[name])
    index = "".join(f"{name} {value.hex()}\n" for name, value in digests.items())
    (tmp / BUNDLE_INDEX).write_text(index, "ascii")
    try:
        os.rename(tmp, folder)
    except OSError:  # another process stored the same bundle first: same bytes
        shutil.rmtree(tmp, ignore_errors=True)
    return digests


def _render_job(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle
) -> list[tuple[MarkInfo, dict[str, bytes]]]:
    """Draw a few certificates' files and store each bundle (in a worker, or in this process);
    only the digests travel back."""
    return [(info, _write_bundle(folder, render_files(info, style))) for info, folder in jobs]


def marked(registry: Registry) -> Iterator[Certificate]:
    """The certificates whose standing allows the mark today."""
    return (cert for cert in registry.certificates if registry.verdict(cert).mark_allowed)


def check_glyphs(registry: Registry) -> list[Problem]:
    """Every character that the artwork would need and the font subset lacks, by file."""
    problems: list[Problem] = []
    settings = registry.settings
    body = {"body.name": settings.body.name, "body.name_en": settings.body.name_en}
    for key, text in body.items():
        for char in missing_characters(text):
            problems.append(_glyph_problem("registry/registry.yaml", key, char))
    for level in settings.levels:
        for char in missing_characters(level.zh + level.en):
            problems.append(_glyph_problem("registry/registry.yaml", f"levels ({level.key})", char))
    try:
        style = load_style(settings.root)
        for key, text in style.words.items():
            for char in missing_characters(text):
                problems.append(_glyph_problem(STYLE_FILE, f"words.{key}", char))
    except InputError as exc:
        problems += exc.problems
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        for key, text in info.texts().items():
            if key == "body":
                continue
            for char in missing_characters(text):
                problems.append(_glyph_problem(cert.source, key, char))
    return sorted(set(problems))


def _glyph_problem(path: str, key: str, char: str) -> Problem:
    return Problem(
        path,
        0,
        f"{key}: character '{char}' (U+{ord(char):04X}) is not in the star-mark font, so its "
        f"mark and display sheet cannot be drawn; add it with scripts/subset_font.py "
        f"or write a common equivalent",
    )


def render_marks(
    registry: Registry,
    out: Output,
    cache_dir: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MarkStats:
    """Write ``c/<NUMBER>/<file>`` for every certificate that may use the mark, using the cache."""
    style = load_style(registry.settings.root)
    problems = check_glyphs(registry)
    if problems:
        raise InputError(problems)
    jobs: list[tuple[MarkInfo, Path]] = []
    cached = 0
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        folder = bundle_dir(cache_dir, cache_key(info, style))
        digests = _read_bundle(folder)
        if digests is None:
            jobs.append((info, folder))
            continue
        _publish(out, info.number, folder, digests)
        cached += 1
        if progress:
            progress(1)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    for info, digests in _run(jobs, style, workers):
        _publish(out, info.number, bundle_dir(cache_dir, cache_key(info, style)), digests)
        if progress:
            progress(1)
    return MarkStats(rendered=len(jobs), cached=cached)


def _run(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle, workers: int
) -> Iterator[tuple[MarkInfo, dict[str, bytes]]]:
    if workers == 1 or len(jobs) < 3:
        for job in jobs:
            yield from _render_job([job], style)
        return
    # Processes, not threads: drawing is mostly Python. "spawn" is safe inside a threaded host
    # (mkdocs serve) where forking could copy a held lock. A few certificates per task: fewer
    # round trips, and still a smooth progress bar.
    size = max(1, min(8, len(jobs) // (4 * workers)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        for future in as_completed([pool.submit(_render_job, chunk, style) for chunk in chunks]):
            yield from future.result()


def _publish(out: Output, number: str, folder: Path, digests: dict[str, bytes]) -> None:
    """Link one certificate's cached files into the site (no bytes copied)."""
    base = os.fspath(folder)
    for name, _zh, _en in MARK_FILES:
        out.link_from(f"c/{number}/{name}", os.path.join(base, name), digests[name])


def mark_files_of(number: str) -> list[str]:
    """Site paths of one certificate's artwork (for pages that link to them)."""
    return [f"c/{number}/{name}" for name, _zh, _en in MARK_FILES]
