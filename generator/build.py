"""Render every registry output into a site folder: pages, listings, search, data, feeds, marks.

This is the core of a build, free of mkdocs: the plugin hands it the page shells that
mkdocs-material rendered, and it writes everything else through :class:`Output`, then checks
that every record has its page, JSON entry, search entry and feed.

A build is incremental when it is given the live site and the spare tree with their manifests
(see :mod:`generator.output`). Outputs are grouped in units (one certificate's page, feed and
artwork; its open-data JSON; one listing; the search index; the open data), each with a hash
of all of its inputs: the record, its derived standing on the as-of date, the registry
settings, the page frame, and the generator's code, templates, fonts and library versions. A
unit whose hash is unchanged is kept in the spare tree or hard-linked from the live site
without being rendered; any other unit is rendered, and a file whose bytes come out the same
is kept or linked rather than written.

This process keeps or links the unchanged certificates' files (a stat of each, in one pass).
Two forked worker processes (they share the registry in memory) render the other certificate
pages and feeds in slices and return what they wrote; then they render the listings while this
process builds the search and status indexes; last, once they have exited, this process writes
the open data and the signed log (the largest working set: alone, it keeps the peak memory of
100,000 certificates under 2 GB). When few records changed since the last build, one worker
makes the open data and the log from the start instead, beside all of that (it is then the
longest path of the build).
"""

from __future__ import annotations

import gc
import hashlib
import json
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from tqdm import tqdm

from . import check, data, feeds, listings, marks, pages, search, templating, trust
from .load import record_digest
from .model import Certificate, Registry
from .output import (
    Manifest,
    Output,
    Previous,
    Record,
    digest_parts,
    gc_paused,
    read_cache,
    write_cache,
)
from .shell import Shell

# Folders whose every file this stage writes: what it did not write this time is stale.
OWNED = ("c", "list", "api", "search/idx")
PACKAGE_DIR = Path(__file__).parent
# Libraries whose version can change an output byte (templates, escaping, images, signatures).
PACKAGES = ("jinja2", "markupsafe", "mkdocs", "mkdocs-material", "pillow", "zxing-cpp", "numpy",
            "skia-python", "pikepdf", "zlib-ng", "fonttools", "cryptography", "pyyaml")
CHUNK = 200  # certificates per task handed to a worker: small enough for a smooth progress bar
LINK_CHUNK = 5000  # certificates whose unchanged files are kept or linked between bar updates
FEW_CHANGED = 0.1  # a worker makes the open data when at most this share of records changed
MKDOCS_UNIT = "mkdocs"  # the files mkdocs wrote, as a unit (see generator.frames)
T = TypeVar("T")

# A tqdm monitor thread would make forking unsafe (a thread may hold a lock); bars update inline.
tqdm.monitor_interval = 0


class NotReplayed(Exception):
    """mkdocs' files of the last build are not all in place: mkdocs must run."""


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
    mkdocs_skipped: bool = False  # mkdocs' files and frames were the last build's
    reused: int = 0  # certificates whose page, feed and artwork were kept or linked
    changed: int = 0  # files whose bytes were written
    linked: int = 0  # files linked from the live site
    kept: int = 0  # files of the spare tree kept where they were
    removed: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    manifest: Manifest | None = field(default=None, repr=False)

    def mismatches(self) -> list[str]:
        """Every count that differs from the number of records."""
        counts = {"pages": self.pages, "JSON entries": self.json_entries,
                  "search entries": self.search_entries, "certificate feeds": self.feeds}
        return [f"{name}: {value} for {self.records} records" for name, value in counts.items()
                if value != self.records]

    def summary(self) -> dict[str, Any]:
        """The report as plain data (written next to the manifest for tools and benchmarks)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("manifest", "removed")} | {
            "removed": len(self.removed)}


def progress(items: Iterable[T], total: int, label: str, quiet: bool) -> Iterator[T]:
    """A progress bar with counts and an ETA on a terminal; silent when quiet or piped."""
    yield from tqdm(items, total=total, desc=label, unit="", disable=True if quiet else None,
                    leave=False, dynamic_ncols=True)


def bar(total: int, label: str, quiet: bool) -> tqdm:
    """A progress bar to update by hand (see :func:`progress`)."""
    return tqdm(total=total, desc=label, unit="", disable=True if quiet else None, leave=False,
                dynamic_ncols=True)


# --------------------------------------------------------------------------- input hashes


_hash = digest_parts


def tree_digest(folder: Path) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    files = (p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in sorted(files):
        h.update(path.relative_to(folder).as_posix().encode() + b"\0")
        h.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return h.digest()


@cache
def code_digest() -> bytes:
    """The generator's version: its code, templates, theme and fonts, and library versions."""
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package}=-")
    return _hash(tree_digest(PACKAGE_DIR), sys.version.encode(), ";".join(versions).encode())


def frame_digest(shells: dict[int, Shell]) -> bytes:
    """The page frames that mkdocs-material rendered (header, navigation, footer, assets)."""
    return _hash(*(repr((depth, shells[depth].parts, shells[depth].slots)).encode()
                   for depth in sorted(shells)))


def settings_inputs(registry: Registry) -> bytes:
    """The generator's version and all of registry/ (settings, regions, mark layout, key)."""
    return _hash(code_digest(), tree_digest(registry.settings.root / "registry"))


def global_inputs(registry: Registry, shells: dict[int, Shell], extra: bytes = b"") -> bytes:
    """What every output depends on: settings (all of registry/), frames, code, as-of date."""
    return _hash(settings_inputs(registry), frame_digest(shells),
                 registry.as_of.isoformat().encode(), extra)


def certificate_inputs(cert: Certificate, registry: Registry, base: bytes,
                       record: bytes | None = None) -> bytes:
    """The hash of everything one certificate's page, feed and artwork are made from
    (``record``: its :func:`record_digest`, when known)."""
    return _hash(base, record if record is not None else record_digest(cert),
                 repr(registry.standing(cert)).encode("utf-8"))


class UnitCache:
    """Each certificate's unit inputs (:func:`certificate_inputs`, :func:`json_unit`), kept in
    the cache folder between builds by its :func:`record_digest`, under one ``key`` (what
    every output depends on and what signs the log): with its standing, a certificate's
    inputs are a function of its record and of those. A cache that cannot be read (or is of
    another format or key) is ignored, one that cannot be written is no error."""

    FORMAT = 1

    def __init__(self, cache_dir: Path | None, registry: Registry, base: bytes,
                 signer: bytes) -> None:
        self.path = cache_dir / "inputs" / "certificates.marshal" if cache_dir else None
        self.registry, self.base, self.signer = registry, base, signer
        self.key = _hash(base, signer)
        stored = read_cache(self.path, self.FORMAT)
        self.old: dict[bytes, Any] = (
            (stored.get("units") or {}) if stored.get("key") == self.key else {})
        self.used: dict[bytes, tuple[bytes, bytes]] = {}

    def get(self, cert: Certificate, record: bytes) -> tuple[bytes, bytes]:
        """The certificate's page inputs and JSON unit inputs (``record``: its record digest)."""
        found = self.old.get(record)
        if not (isinstance(found, tuple) and len(found) == 2):
            inputs = certificate_inputs(cert, self.registry, self.base, record)
            found = inputs, json_unit(cert.number, inputs, self.signer)[1]
        self.used[record] = found
        return found

    def save(self) -> None:
        if self.path is not None and self.used.keys() != self.old.keys():
            write_cache(self.path, self.FORMAT, {"key": self.key, "units": self.used})


class StatusCache:
    """The compact number of each certificate and the bytes of each shard of the status index,
    kept in the cache folder between builds under one state of the settings: only the shards
    whose members changed are made again, their certificates' periods derived again and
    serialized (at 100,000 certificates the entries of every record, read and written again,
    were 1 s of a one-record build). A certificate stands for its entry by its record's
    :func:`load.record_digest` (the entry is a function of the record and the settings), a
    shard by its members' in order. A cache that cannot be read (or is of another format or
    settings) is ignored, one that cannot be written is no error."""

    FORMAT = 3  # 3: compact numbers, not entries

    def __init__(self, cache_dir: Path | None, settings: bytes) -> None:
        self.path = cache_dir / "status" / "index.marshal" if cache_dir is not None else None
        self.settings = settings
        stored = read_cache(self.path, self.FORMAT)
        if stored.get("settings") != settings:
            stored = {}
        self.compacts: dict[bytes, Any] = stored.get("compacts") or {}
        self.shards: dict[bytes, bytes] = stored.get("shards") or {}
        self.used: dict[bytes, str] = {}
        self.dumped: dict[bytes, bytes] = {}

    def compact(self, records: dict[str, bytes]) -> Callable[[Certificate], tuple[str, bytes]]:
        def compact_of(cert: Certificate) -> tuple[str, bytes]:
            key = records[cert.number]
            found = self.compacts.get(key)
            if type(found) is not str:
                found = check.compact_number(cert.number)
            self.used[key] = found
            return found, key
        return compact_of

    def dump(self, members: bytes, make: Callable[[], check.Shard]) -> bytes:
        found = self.shards.get(members)
        if not isinstance(found, bytes):
            found = check.dump(make())
        self.dumped[members] = found
        return found

    def save(self) -> None:
        if self.path is not None and (self.used.keys() != self.compacts.keys()
                                      or self.dumped.keys() != self.shards.keys()):
            write_cache(self.path, self.FORMAT, {"settings": self.settings,
                                                 "compacts": self.used, "shards": self.dumped})


class SearchCache:
    """Each certificate's :func:`search.field_digest`, kept in the cache folder between builds
    by its :func:`load.record_digest` (the fields are a function of the record): a build
    tells whether the search index changed (:func:`search.inputs_key`) without reading the
    fields of every record (0.6 s at 100,000 certificates). A cache that cannot be read (or
    is of another format or search code) is ignored, one that cannot be written is no error."""

    FORMAT = 1

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / "search" / "fields.marshal" if cache_dir is not None else None
        stored = read_cache(self.path, self.FORMAT)
        self.old: dict[bytes, Any] = (
            (stored.get("fields") or {}) if stored.get("code") == search.CODE else {})
        self.used: dict[bytes, bytes] = {}

    def key(self, registry: Registry, records: dict[str, bytes]) -> bytes:
        """:func:`search.inputs_key` of ``registry`` (``records``: each record's digest)."""
        old, used = self.old, self.used
        digests = []
        for cert in registry.certificates:
            record = records[cert.number]
            found = old.get(record)
            if type(found) is not bytes:
                found = search.field_digest(cert)
            used[record] = found
            digests.append(found)
        return search.inputs_key(registry, digests)

    def save(self) -> None:
        if self.path is not None and self.used.keys() != self.old.keys():
            write_cache(self.path, self.FORMAT, {"code": search.CODE, "fields": self.used})


def trust_inputs() -> bytes:
    """What the signed checkpoint depends on besides the records: the signing key named by
    $STARMARK_SIGNING_KEY (its file's bytes) and SOURCE_DATE_EPOCH (the build time)."""
    key_file = os.environ.get(trust.KEY_ENV, "").strip()
    try:
        key = Path(key_file).expanduser().read_bytes() if key_file else b""
    except OSError:
        key = b"unreadable"
    return _hash(key_file.encode(), key, os.environ.get("SOURCE_DATE_EPOCH", "").encode())


# --------------------------------------------------------------------------- workers


@dataclass
class _Job:
    """What forked workers read: set in the parent just before the pool starts."""

    registry: Registry
    shells: dict[int, Shell]
    site_dir: Path
    previous: Previous | None
    spare: Manifest | None
    spare_stale: set[str] | None
    hashes: dict[str, bytes]
    facets: Sequence[listings.Facet]
    cache_dir: Path | None
    downloads: tuple[tuple[str, str, str, str], ...] = ()  # the artwork a page offers


_JOB: _Job | None = None


@dataclass
class _Done:
    """What a worker did for one task: what its output did, and the items it could not keep
    or link (they must be rendered)."""

    indices: list[int]
    record: Record
    missing: list[int] = field(default_factory=list)
    count: int = 0


def _done(indices: list[int], out: Output, count: int, missing: list[int] | None = None) -> _Done:
    return _Done(indices, out.record(), missing or [], count)


def _job() -> tuple[_Job, Output]:
    assert _JOB is not None
    return _JOB, Output(_JOB.site_dir, _JOB.previous, _JOB.spare, _JOB.spare_stale)


def json_unit(number: str, record_inputs: bytes, trust: bytes) -> tuple[str, bytes]:
    """The unit of one certificate's open-data JSON, keyed by what its page is made from
    (``record_inputs``, :func:`certificate_inputs`) and what signs the log (``trust``,
    :func:`trust_inputs`): linked with the page when neither changed. The file also names the
    record's leaf in the log, which the history of every record decides: the open-data stage
    checks that (:class:`generator.trust.publish.RecordFiles`) and makes the file again if its
    leaf moved."""
    return f"json:{number}", _hash(trust, record_inputs)


def _certificate_pages(indices: list[int]) -> _Done:
    job, out = _job()
    shell = job.shells[2]
    for i in indices:
        cert = job.registry.certificates[i]
        page = pages.render_page(cert, job.registry, job.downloads)
        out.write(f"c/{cert.number}/index.html", shell.fill(
            url=f"c/{cert.number}/", title=page.title, description=page.description,
            content=page.content, head=page.head))
    return _done(indices, out, len(indices))


def _certificate_feeds(indices: list[int]) -> _Done:
    job, out = _job()
    for i in indices:
        cert = job.registry.certificates[i]
        out.write(f"c/{cert.number}/feed.xml", feeds.certificate_feed(cert, job.registry))
    return _done(indices, out, len(indices))


def _listing_pages(task: list[int]) -> _Done:
    """Some pages of one listing: ``task`` is the listing's index, then the page numbers."""
    job, out = _job()
    for listing in listings.render_facet(job.facets[task[0]], job.registry, task[1:]):
        out.write(f"{listing.url}index.html", job.shells[listing.depth].fill(
            url=listing.url, title=listing.title, description=listing.description,
            content=listing.content))
    return _done(task, out, len(task) - 1)


def listing_inputs(facet: listings.Facet, registry: Registry, base: bytes,
                   ordered: Sequence[bytes]) -> dict[int, bytes]:
    """The input hash of each page of a listing: its titles, the listing's size, the page's
    number and the certificates it shows (``ordered``: each certificate's hash, in registry
    order). One changed record re-renders the pages it is on (and every page of its listings
    when the count of a listing changed)."""
    pages = listings.page_count(facet, registry)
    head = _hash(base, facet.slug.encode(), facet.zh.encode(), facet.en.encode(),
                 f"{len(facet.certificates)} {pages}".encode())
    # Every certificate's hash is a 16-byte digest: joined, a page's are one slice (one pass in
    # C over a listing, by position: 0.30 → 0.08 s at 100,000 certificates).
    joined = b"".join(map(ordered.__getitem__, facet.positions))
    size = 16 * max(1, registry.settings.listing_page_size)
    return {page: _hash(head, str(page).encode(), joined[(page - 1) * size : page * size])
            for page in range(1, pages + 1)}



def _open_data() -> tuple[int, Record]:
    """The open data and the signed log, in a worker, beside the rest of a build that changed
    few records (see :func:`render_site`)."""
    job, out = _job()
    with gc_paused():  # hundreds of thousands of short-lived objects, none in a cycle
        count = trust.publish(job.registry, out, cache_dir=job.cache_dir, keys=job.hashes)
    return count, out.record()


def _task(args: tuple[Callable[[list[int]], _Done], list[int]]) -> _Done:
    fn, indices = args
    return fn(indices)


class Workers:
    """Forked processes that share the registry in memory; in-process when forking is unsafe.

    Forked when the pool starts, so they see what the parent held then (``_JOB``); tasks name
    certificates and listings by their index.
    """

    def __init__(self, count: int) -> None:
        self.pool: Any = None
        self.thaw = False  # whether close() unfreezes what this froze
        # fork copies held locks: only safe while this is the only thread (not in mkdocs serve).
        forkable = "fork" in multiprocessing.get_all_start_methods()
        if count > 1 and threading.active_count() == 1 and forkable:
            # What the parent holds stays shared with the workers only while nothing writes to
            # it: a garbage collection in a worker would touch every object and copy it all.
            # (Frozen already by the caller, gc_frozen: then it also thaws.)
            self.thaw = gc.get_freeze_count() == 0
            gc.collect()
            gc.freeze()
            self.pool = multiprocessing.get_context("fork").Pool(count)

    def run(self, fn: Callable[[list[int]], _Done], indices: Sequence[int],
            size: int = CHUNK) -> Iterator[_Done]:
        """Results of ``fn`` over ``indices`` in chunks of ``size``, in any order."""
        tasks = [list(indices[i : i + size]) for i in range(0, len(indices), size)]
        if self.pool is None or len(tasks) < 2:
            for task in tasks:
                yield fn(task)
            return
        yield from self.pool.imap_unordered(_task, [(fn, task) for task in tasks])

    def start_tasks(self, fn: Callable[[list[int]], _Done],
                    tasks: list[list[int]]) -> Iterator[_Done]:
        """Results of ``fn`` over each of ``tasks``, in any order: the workers start now, while
        this process does other work."""
        if self.pool is None:
            return (fn(task) for task in tasks)
        return iter(self.pool.imap_unordered(_task, [(fn, task) for task in tasks]))

    def call(self, fn: Callable[..., T], *args: Any) -> Callable[[], T] | None:
        """Start ``fn(*args)`` in a worker now; what gives its result (None: no workers)."""
        if self.pool is None:
            return None
        return self.pool.apply_async(fn, args).get

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool.join()
            self.pool = None
            if self.thaw:
                gc.unfreeze()


# --------------------------------------------------------------------------- the build


def render_site(registry: Registry, site_dir: Path, shells: dict[int, Shell], *, cache_dir: Path,
                quiet: bool = False, workers: int | None = None, previous: Previous | None = None,
                spare: Manifest | None = None, spare_stale: set[str] | None = None,
                mkdocs_dir: Path | None = None,
                finish: Callable[[Output], None] | None = None, prune: bool = False,
                keep: Iterable[str] = (), inputs: bytes = b"",
                records: dict[str, bytes] | None = None, frames: bytes = b"",
                replay: bool = False, later: list[Callable[[], None]] | None = None
                ) -> BuildReport:
    """Write every registry output into ``site_dir``.

    ``previous``: the live site and its manifest, to link unchanged outputs from. ``spare``:
    the manifest of what ``site_dir`` holds already (the spare tree), whose unchanged files are
    kept and whose other files are removed; ``spare_stale``: those of its files found no
    longer as that manifest records them, when they were checked before (else each is checked
    where it is used). ``mkdocs_dir``: where mkdocs wrote the rest of the site, moved into
    ``site_dir`` at the end (else mkdocs wrote into ``site_dir`` itself).
    ``finish``: writes more (the sitemap) through the same output once every page is in place
    (before the open data's worker is waited for). ``prune``:
    remove stale files under the folders this stage owns (for a site folder that was not
    emptied first), except ``keep`` (mkdocs' own pages there). ``inputs``: more bytes that every
    output depends on (the mkdocs configuration). ``records``: the :func:`load.record_digest`
    of the certificates, by number, as loading gave them (else computed here). ``frames``: the
    key of mkdocs' inputs (:func:`generator.frames.key`): the files adopted from ``mkdocs_dir``
    are kept as a unit of that key; with ``replay``, mkdocs did not run and that unit of the
    last build is kept or linked instead (:class:`NotReplayed` if it cannot be). ``later``:
    work that can wait (the record cache's save), run (and taken off the list) while the open
    data's worker runs, off the path of the build's longest stage.
    """
    global _JOB
    started = time.perf_counter()
    report = BuildReport(records=len(registry.certificates))
    out = Output(site_dir, previous, spare, spare_stale)
    workers = max(1, workers if workers is not None else min(2, os.cpu_count() or 1))
    clock = _Clock(report.timings)
    if replay:
        if not frames or out.reuse(MKDOCS_UNIT, frames) is None:
            raise NotReplayed
        report.mkdocs_skipped = True

    # The caches' saves wait with ``later``'s jobs (if any) for the open data's worker.
    defer: Callable[[Callable[[], None]], Any] = (
        later.append if later is not None else lambda job: job())
    base = global_inputs(registry, shells, inputs)
    # Before the workers fork, so theirs too (the code's digest covers the environment).
    templating.compile_into(cache_dir / "templates", code_digest().hex()[:16])
    certs = registry.certificates
    known = records or {}
    records = {cert.number: known.get(cert.number) or record_digest(cert) for cert in certs}
    signer = trust_inputs()
    units = UnitCache(cache_dir, registry, base, signer)
    hashes: dict[str, bytes] = {}
    json_units: dict[str, bytes] = {}
    for cert in certs:
        hashes[cert.number], json_units[cert.number] = units.get(cert, records[cert.number])
    everything = _hash(base, *(hashes[c.number] for c in certs))
    json_inputs = _hash(everything, signer)
    all_facets = [f for f in listings.facets(registry) if f.certificates or f.slug == "all"]
    # When few records changed since the last build, a worker makes the open data and the log
    # (the longest stage of such a build) from the start, beside everything else, and the
    # record files are its own. Else this process makes them last, once the workers are gone:
    # at 100,000 certificates it is the build's largest working set, and in a worker it would
    # also keep its copy of every page of this process's heap that this process rewrites
    # meanwhile (peak of the process tree 2.2–2.6 GB instead of 1.6).
    last = previous.manifest.units if previous else spare.units if spare else None
    early = last is not None and (last.get("data") or (b"",))[0] != json_inputs and sum(
        1 for number, inputs in hashes.items()
        if (last.get(f"cert:{number}") or (b"",))[0] != inputs) <= FEW_CHANGED * len(certs)
    clock.lap("hash")

    _JOB = _Job(registry, shells, site_dir, previous, spare, spare_stale, hashes, all_facets,
                cache_dir, marks.downloads(marks.load_style(registry.settings.root)))
    pool = Workers(workers if len(certs) > CHUNK else 1)
    try:
        opened = pool.call(_open_data) if early else None
        defer(units.save)
        ordered = [hashes[c.number] for c in certs]
        page_inputs = [listing_inputs(f, registry, base, ordered) for f in all_facets]
        # Keep or link the page, feed and artwork of each unchanged certificate, and its JSON
        # (unless the open data's worker, which started first, sees to that).
        todo: list[int] = []
        json_missing = 0 if previous or spare else len(certs)
        if previous is None and spare is None:
            todo = list(range(len(certs)))
        else:
            with bar(len(certs), "unchanged", quiet) as stage:
                for at in range(0, len(certs), LINK_CHUNK):
                    chunk = certs[at : at + LINK_CHUNK]
                    wanted = [(f"cert:{c.number}", hashes[c.number]) for c in chunk]
                    if not early:
                        wanted += [(f"json:{c.number}", json_units[c.number]) for c in chunk]
                    missing = set(out.reuse_units(wanted))
                    todo += [at + i for i, c in enumerate(chunk) if f"cert:{c.number}" in missing]
                    json_missing += sum(1 for unit in missing if unit.startswith("json:"))
                    stage.update(len(chunk))
        report.reused = len(certs) - len(todo)
        counts = {**(spare.counts if spare else {}),
                  **(previous.manifest.counts if previous else {})}
        data_files = (out.reuse("data", json_inputs)
                      if not early and json_missing == 0 and "data" in counts else None)
        data_reused = data_files is not None
        if data_files is not None:
            # The log's entry bundles are among those files: their units stay known, so that
            # the next build that changes a record appends to the kept log, rather than
            # deriving it whole to write a bundle it would not know is in place (2 s at
            # 100,000 records).
            out.keep_units("log:", data_files)
        clock.lap("link")

        changed = Registry(registry.settings, tuple(certs[i] for i in todo), registry.as_of,
                           registry.standings)
        allowed = sum(1 for c in changed.certificates if registry.verdict(c).mark_allowed)
        style = marks.load_style(registry.settings.root)
        if style.artwork_base_url:  # every file whole, in a tree of its own (all certificates)
            allowed = sum(1 for _cert in marks.marked(registry))
            with bar(allowed, "marks", quiet) as stage:
                stats = marks.render_tree(registry, registry.settings.root / marks.ARTWORK_TREE,
                                          cache_dir, workers=workers, progress=stage.update)
        else:
            with bar(allowed, "marks", quiet) as stage:
                stats = marks.render_marks(changed, out, cache_dir, workers=workers,
                                           progress=stage.update)
            marks.link_parts(registry, out, cache_dir)
        report.marks_rendered, report.marks_cached = stats.rendered, stats.cached
        clock.lap("marks")

        for label, fn in (("pages", _certificate_pages), ("feeds", _certificate_feeds)):
            with bar(len(todo), label, quiet) as stage:
                for done in pool.run(fn, todo):
                    _merge(out, done)
                    stage.update(done.count)
            clock.lap(label)

        # The pool's workers render the listings while this process builds the search and
        # status indexes.
        stale = []  # per listing: its index, then the pages to render
        for i, facet in enumerate(all_facets):
            pages = [page for page, unit_inputs in page_inputs[i].items()
                     if out.reuse(f"listing:{facet.slug}:{page}", unit_inputs) is None]
            for at in range(0, len(pages), 50):  # 50 pages a task: both workers get some
                stale.append([i, *pages[at : at + 50]])
        listed = pool.start_tasks(_listing_pages, stale)

        # The index reads a few fields of each record: kept when none of them changed. Not
        # keyed by the as-of date (a new day changes the index only through a status).
        fields = SearchCache(cache_dir)
        search_inputs = _hash(settings_inputs(registry), fields.key(registry, records))
        defer(fields.save)
        if out.reuse("search", search_inputs) is not None and "search" in counts:
            report.search_entries = counts["search"]
        else:
            index = search.build_index(search.read_inputs(registry))
            for rel, content in index.items():
                out.write(rel, content)
            out.unit("search", search_inputs, sorted(index))
            report.search_entries = search.entry_count(index)
        clock.lap("search")

        # The bulk check's status index (api/v1/status/): every record's periods, by number.
        # Periods do not depend on the as-of date: a new day alone keeps the index.
        status_inputs = _hash(settings_inputs(registry), *(records[c.number] for c in certs))
        if out.reuse("status", status_inputs) is None:
            cached = StatusCache(cache_dir, settings_inputs(registry))
            status_files = check.build_index(registry, cached.compact(records), cached.dump)
            defer(cached.save)
            for rel, content in status_files.items():
                out.write(rel, content)
            out.unit("status", status_inputs, sorted(status_files))
        clock.lap("status")

        with bar(len(stale), "listings", quiet) as stage:
            for done in listed:
                _merge(out, done)
                facet = all_facets[done.indices[0]]
                for page in done.indices[1:]:
                    url = listings.page_url(facet.slug, page)
                    out.unit(f"listing:{facet.slug}:{page}", page_inputs[done.indices[0]][page],
                             [f"{url}index.html"])
                stage.update(1)
        clock.lap("listings")

        # Everything else this process writes, before it waits for the open data's worker:
        # at 100,000 certificates the worker finishes last, and what follows its result is
        # on the critical path of every build.
        for i in todo:
            cert = certs[i]
            folder = f"c/{cert.number}/"
            files = [folder + "index.html", folder + "feed.xml"]
            files += stats.published.get(cert.number, ())
            out.unit(f"cert:{cert.number}", hashes[cert.number], files)
        report.pages = report.feeds = sum(
            1 for c in certs if f"c/{c.number}/index.html" in out.states
            and f"c/{c.number}/feed.xml" in out.states)
        out.write("feed.xml", feeds.registry_feed(registry))
        if finish is not None:
            finish(out)
        clock.lap("finish")

        # The open data (every record's JSON, all records in one JSON and one CSV) and the
        # signed log: its tiles, the file digests and the checkpoint that binds them. Every
        # record is serialized once, or taken from the cache by the hash of its inputs (the
        # hash its page is reused by); the files the link stage put in place are not checked
        # again.
        run_later(later or [])
        if data_reused:
            report.json_entries = counts["data"]
        else:
            record_units = {f"json:{cert.number}": (json_units[cert.number],
                                                    (data.record_path(cert.number),))
                            for cert in certs}
            if opened is not None:
                report.json_entries, record = opened()
                pool.close()
                out.merge(record)
                written = set(record.written)
            else:
                pool.close()
                before = set(out.written)
                report.json_entries = trust.publish(registry, out, cache_dir=cache_dir,
                                                    keys=hashes)
                written = out.written - before
            out.add_units(record_units)
            written.difference_update(rels[0] for _inputs, rels in record_units.values())
            out.unit("data", json_inputs, sorted(written))
    finally:
        pool.close()
        _JOB = None
    report.listing_pages = sum(len(pages) for pages in page_inputs)
    clock.lap("data")

    if mkdocs_dir is not None:
        adopted = []
        for folder, _dirs, names in os.walk(mkdocs_dir):
            for name in names:
                path = Path(folder, name)
                rel = path.relative_to(mkdocs_dir).as_posix()
                if rel not in out.written:
                    out.adopt(rel, path)
                    adopted.append(rel)
        if frames:
            out.unit(MKDOCS_UNIT, frames, sorted(adopted))
    report.removed = out.sweep()
    if prune:
        report.removed += out.prune(OWNED, keep)
    clock.lap("finish")
    report.changed = len(out.changed)
    report.linked = out.linked
    report.kept = out.kept
    report.manifest = out.manifest(counts={"search": report.search_entries,
                                           "data": report.json_entries})
    report.timings["render_site"] = time.perf_counter() - started
    return report


def run_later(jobs: list[Callable[[], None]]) -> None:
    """Run what was left for later, taking each job off the list first (a list run twice runs
    each job once)."""
    while jobs:
        jobs.pop(0)()


def _merge(out: Output, done: _Done) -> None:
    out.merge(done.record)


class _Clock:
    """Seconds spent in each stage, into ``timings``."""

    def __init__(self, timings: dict[str, float]) -> None:
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def count_json_entries(site_dir: Path) -> int:
    """How many certificates the published all-records JSON holds (for the final check)."""
    doc = json.loads((site_dir / data.API / "certificates.json").read_text("utf-8"))
    return len(doc["certificates"])


def manifest_path(cache_dir: Path, site_dir: Path) -> Path:
    """Where the manifest of the site at ``site_dir`` is kept."""
    key = hashlib.blake2b(str(site_dir.resolve()).encode(), digest_size=8).hexdigest()
    return cache_dir / "sites" / f"{key}.manifest"
