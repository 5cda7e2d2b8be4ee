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
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from functools import cache
from importlib import metadata
from pathlib import Path

from .. import glyphs
from ..errors import InputError, Problem
from ..model import Certificate, Registry
from ..output import Output
from ..output import digest as output_digest
from .assembly import (
    PARTS_DIR,
    PARTS_FILE,
    STATIC,
    part_file,
    read_header,
    split,
)
from .bundle import MARK_FILES, dated
from .info import MarkInfo
from .style import STYLE_FILE, MarkStyle, load_style

# Bump when a change to this package (or qr.py, pdf.py) changes any output byte.
RENDERER_VERSION = "5"


@dataclass(frozen=True)
class MarkStats:
    """What :func:`render_marks` did: certificates drawn now, those taken from the cache, and
    the site paths published for each certificate."""

    rendered: int
    cached: int
    published: dict[str, tuple[str, ...]] = field(default_factory=dict)

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
    # What PIL.features.version("zlib") reads, without loading PIL.Image (20 ms a build).
    from PIL import _imaging

    found["pillow-zlib"] = getattr(_imaging, "zlib_version", None) or "?"
    return found


@cache
def _shared_key(style_source: str) -> bytes:
    """The part of every cache key that is the same for all certificates of a build."""
    shared = {
        "renderer": RENDERER_VERSION,
        "style": style_source,
        "fonts": glyphs.font_digests(),
        "versions": _versions(),
    }
    return hashlib.sha256(json.dumps(shared, sort_keys=True).encode("utf-8")).digest()


def cache_key(info: MarkInfo, style: MarkStyle) -> str:
    """Hash of everything that affects one certificate's artwork: the cache file's name.

    The record fields drawn, ``registry/mark.yaml``, :data:`RENDERER_VERSION`, the fonts'
    digests and the versions of :data:`LIBRARIES` and of zlib.
    """
    # Its fields, all strings and numbers: what asdict gives, without its deep copy.
    fields = {name: getattr(info, name) for name in _FIELDS}
    record = json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(_shared_key(style.source) + record).hexdigest()


_FIELDS = tuple(f.name for f in dataclass_fields(MarkInfo))

BUNDLE_INDEX = "digests"  # in each cached bundle, written last: the bundle is complete


def bundle_dir(cache_dir: Path, key: str) -> Path:
    """The folder of one certificate's cached artwork: its files, and their digests."""
    return cache_dir / "marks" / key[:2] / key


def _bundle_names(style: MarkStyle) -> set[str]:
    """The files a cached bundle holds: every file when the artwork goes to its own origin,
    else those published whole and the certificate's parts."""
    if style.artwork_base_url:
        return {name for name, _zh, _en in MARK_FILES}
    return {*STATIC, PARTS_FILE}


def _read_bundle(folder: Path, names: set[str]) -> dict[str, bytes] | None:
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
    return found if set(found) == names else None


def _parts_present(folder: Path, parts: Path, seen: set[str]) -> bool:
    """Whether every shared part that the bundle's parts.bin names is in ``parts`` (a bundle
    copied or kept without them is drawn again; ``seen``: parts found already)."""
    try:
        needed = read_header((folder / PARTS_FILE).read_bytes())[0]
    except (OSError, ValueError):
        return False
    for segments in needed.values():
        for segment in segments:
            if segment[0] == "p" and segment[1] not in seen:
                if not (parts / part_file(str(segment[1]))).is_file():
                    return False
                seen.add(str(segment[1]))
    return True


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


def _store(path: Path, data: bytes) -> None:
    """Write a cache file that is named by its content, once (renamed into place)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


# The shared parts this process has stored in this build (cleared as each build starts: a
# long-lived process, mkdocs serve, may see the cache folder emptied between builds).
_STORED: dict[Path, set[str]] = {}


def _render_one(
    info: MarkInfo, folder: Path, style: MarkStyle, cache_dir: Path
) -> dict[str, bytes]:
    """Draw one certificate's files and store its bundle: whole, or split into the files
    published whole and its parts.

    That the parts give back every byte of the reference is the splitter's contract, which
    ``tests/test_marks.py`` checks over the sample records and a few hundred synthetic ones
    (and ``tests/browser`` in Chromium); the build does not assemble every certificate again."""
    from .artwork import artwork  # the drawing code: loaded only by a build that draws

    art = artwork(style)
    files = art.render(info)
    if style.artwork_base_url:
        return _write_bundle(folder, files)
    parts_bin, parts = split(files, art.shared_parts(info))
    store = parts_dir(cache_dir, style)
    stored = _STORED.setdefault(store, set())
    for name, part in parts.items():
        if name not in stored:
            _store(store / part_file(name), part)
            stored.add(name)
    return _write_bundle(folder, {**{name: files[name] for name in STATIC}, PARTS_FILE: parts_bin})


def _render_job(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle, cache_dir: Path
) -> list[tuple[MarkInfo, dict[str, bytes]]]:
    """Draw a few certificates' files and store each bundle (in a worker, or in this process);
    only the digests travel back."""
    return [(info, _render_one(info, folder, style, cache_dir)) for info, folder in jobs]


def marked(registry: Registry) -> Iterator[Certificate]:
    """The certificates whose standing allows the mark today."""
    return (cert for cert in registry.certificates if registry.verdict(cert).mark_allowed)


def check_glyphs(registry: Registry) -> list[Problem]:
    """Every character that the artwork would need and the font subset lacks, by file."""
    problems: list[Problem] = []
    settings = registry.settings
    body = {"body.name": settings.body.name, "body.name_en": settings.body.name_en}
    for key, text in body.items():
        for char in glyphs.missing(text):
            problems.append(_glyph_problem(settings.root, "registry/registry.yaml", key, char))
    for level in settings.levels:
        for char in glyphs.missing(level.zh + level.en):
            problems.append(_glyph_problem(settings.root, "registry/registry.yaml",
                                           f"levels ({level.key})", char))
    try:
        style = load_style(settings.root)
        for key, text in style.words.items():
            for char in glyphs.missing(text):
                problems.append(_glyph_problem(settings.root, STYLE_FILE, f"words.{key}", char))
    except InputError as exc:
        problems += exc.problems
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        for key, text in info.texts().items():
            if key == "body":
                continue
            for char in glyphs.missing(text):
                problems.append(_glyph_problem(settings.root, cert.source, key, char))
    return sorted(set(problems))


def _glyph_problem(root: Path, path: str, key: str, char: str) -> Problem:
    return glyphs.problem(root, path, key, char)


def render_marks(
    registry: Registry,
    out: Output,
    cache_dir: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MarkStats:
    """Put the artwork of every certificate that may use the mark into the site, drawing only
    what the cache lacks: ``c/<NUMBER>/`` gets the files published whole and ``parts.bin``, and
    ``assets/marks/`` the shared parts (see :mod:`.assembly`). When ``registry/mark.yaml`` names
    an ``artwork_base_url``, use :func:`render_tree` instead."""
    style = load_style(registry.settings.root)
    published: dict[str, tuple[str, ...]] = {}

    def publish(info: MarkInfo, folder: Path, digests: dict[str, bytes]) -> None:
        base = os.fspath(folder)
        rels = []
        for name in sorted(digests):
            rel = f"c/{info.number}/{name}"
            out.link_from(rel, os.path.join(base, name), digests[name])
            rels.append(rel)
        published[info.number] = tuple(rels)

    # Each bundle is linked as it comes (this process waits for the workers otherwise).
    stats = _bundles(registry, style, cache_dir, workers, progress, publish)
    return MarkStats(stats.rendered, stats.cached, published)


def parts_dir(cache_dir: Path, style: MarkStyle) -> Path:
    """Where the shared parts of this style, renderer, fonts and libraries are kept."""
    return cache_dir / "marks" / "parts" / _shared_key(style.source).hex()[:32]


def link_parts(registry: Registry, out: Output, cache_dir: Path) -> list[str]:
    """Link every shared part that a certificate's ``parts.bin`` may name into
    ``assets/marks/`` (each build: they are shared by many certificates' units). Parts are
    named by their content and kept per style, renderer and font (:func:`parts_dir`)."""
    style = load_style(registry.settings.root)
    folder = parts_dir(cache_dir, style)
    if style.artwork_base_url or not folder.is_dir():
        return []
    rels = []
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.name.startswith("."):
            continue
        with open(entry.path, "rb") as handle:
            content = output_digest(handle.read())
        rel = PARTS_DIR + entry.name
        out.link_from(rel, entry.path, content)
        rels.append(rel)
    return rels


def render_tree(
    registry: Registry,
    folder: Path,
    cache_dir: Path,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> MarkStats:
    """Write the whole artwork tree for the artwork origin that ``registry/mark.yaml`` names
    (``artwork_base_url``): ``<folder>/c/<NUMBER>/<file>`` for every certificate that may use
    the mark, every file whole, marks.zip dated with the as-of date. The tree is made beside
    ``folder`` and swapped in when complete."""
    style = load_style(registry.settings.root)
    bundles: list[tuple[MarkInfo, Path, dict[str, bytes]]] = []
    stats = _bundles(registry, style, cache_dir, workers, progress,
                     lambda *bundle: bundles.append(bundle))
    new = folder.with_name(f".{folder.name}.{os.getpid()}.new")
    shutil.rmtree(new, ignore_errors=True)
    for info, bundle, _digests in bundles:
        target = new / "c" / info.number
        target.mkdir(parents=True)
        for name, _zh, _en in MARK_FILES:
            if name == "marks.zip":
                data = dated((bundle / name).read_bytes(), registry.as_of)
                (target / name).write_bytes(data)
                continue
            try:
                os.link(bundle / name, target / name)
            except OSError:
                shutil.copyfile(bundle / name, target / name)
    old = folder.with_name(f".{folder.name}.{os.getpid()}.old")
    if folder.exists():
        os.rename(folder, old)
    os.rename(new, folder)
    shutil.rmtree(old, ignore_errors=True)
    return stats


def _bundles(
    registry: Registry,
    style: MarkStyle,
    cache_dir: Path,
    workers: int | None,
    progress: Callable[[int], None] | None,
    use: Callable[[MarkInfo, Path, dict[str, bytes]], None],
) -> MarkStats:
    """Hand ``use`` the cached bundle of every certificate that may use the mark (its folder
    and the digests of its files), drawing the missing: those found first, then each drawn one
    as it comes."""
    glyphs.remember_drawable(cache_dir)  # most texts were checked by the last build
    problems = check_glyphs(registry)
    glyphs.keep_drawable(cache_dir)
    if problems:
        raise InputError(problems)
    _STORED.clear()
    names = _bundle_names(style)
    shared, seen = parts_dir(cache_dir, style), set[str]()
    jobs: list[tuple[MarkInfo, Path]] = []
    folders: dict[str, Path] = {}
    cached = 0
    for cert in marked(registry):
        info = MarkInfo.of(cert, registry)
        folder = bundle_dir(cache_dir, cache_key(info, style))
        bundle = _read_bundle(folder, names)
        if bundle is not None and not style.artwork_base_url:
            bundle = bundle if _parts_present(folder, shared, seen) else None
        if bundle is None:
            jobs.append((info, folder))
            folders[info.number] = folder
            continue
        use(info, folder, bundle)
        cached += 1
        if progress:
            progress(1)
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    for info, digests in _run(jobs, style, workers, cache_dir):
        use(info, folders[info.number], digests)
        if progress:
            progress(1)
    return MarkStats(rendered=len(jobs), cached=cached)


def _run(
    jobs: list[tuple[MarkInfo, Path]], style: MarkStyle, workers: int, cache_dir: Path
) -> Iterator[tuple[MarkInfo, dict[str, bytes]]]:
    if workers == 1 or len(jobs) < 3:
        for job in jobs:
            yield from _render_job([job], style, cache_dir)
        return
    # Processes, not threads: drawing is mostly Python. "spawn" is safe inside a threaded host
    # (mkdocs serve) where forking could copy a held lock. A few certificates per task: fewer
    # round trips, and still a smooth progress bar.
    size = max(1, min(8, len(jobs) // (4 * workers)))
    chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        futures = [pool.submit(_render_job, chunk, style, cache_dir) for chunk in chunks]
        for future in as_completed(futures):
            yield from future.result()


def mark_files_of(number: str, style: MarkStyle) -> list[str]:
    """Site paths of one certificate's artwork files on the registry's own site."""
    if style.artwork_base_url:
        return []
    return [f"c/{number}/{name}" for name in (*STATIC, PARTS_FILE)]
