"""Load a registry: find record files, read, type, check every rule, and build the model.

``load_registry`` is the front of the pipeline that both the CLI and the mkdocs plugin call;
it returns every problem in every record rather than stopping at the first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import os
import pickle
import re
import shutil
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

from . import horizon, rules, schema, source
from . import settings as settings_mod
from .errors import InputError, Problem, capped
from .forked import Forked
from .model import Certificate, Registry, Standing, share_values
from .output import gc_paused, read_cache, write_cache
from .settings import Settings
from .source import PathKey

CERTIFICATES_DIR = "certificates"
RECORD_SUFFIX = ".yaml"


def as_of_default() -> dt.date:
    """Today, or the day of SOURCE_DATE_EPOCH when set, so that builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.fromtimestamp(time.time())


def display_path(root: Path, path: Path) -> str:
    """A record's path as problems name it: relative to the root where it lies inside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def record_stem(path: Path) -> str:
    """The certificate number a record file is named for."""
    name = path.name
    return name[: -len(RECORD_SUFFIX)] if name.endswith(RECORD_SUFFIX) else path.stem


def misnamed(name: str) -> str | None:
    """Why a file named like a YAML record is not read as one (``X.yml``, ``X.YAML``), or
    None: any case of ``.yaml``/``.yml`` is a record or a problem, never silently skipped."""
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in ("yaml", "yml") or dot + suffix == RECORD_SUFFIX:
        return None
    if suffix == "yml":
        return f"record files must end in {RECORD_SUFFIX}, not .yml"
    return (f"record files must end in {RECORD_SUFFIX} (lower case), not .{suffix}: "
            f"rename it to {stem}{RECORD_SUFFIX}")


def _inside(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder)


def _resolved(path: Path, real_folders: dict[Path, Path]) -> Path:
    """``path.resolve()``, resolving each folder once: a file that is not itself a link
    resolves to its folder's real path and its own name."""
    if path.is_symlink():
        return path.resolve()
    real = real_folders.get(path.parent)
    if real is None:
        real = real_folders[path.parent] = path.parent.resolve()
    return real / path.name


def find_records(root: Path, paths: Iterable[Path] = ()) -> tuple[list[Path], list[Problem]]:
    """Record files under ``certificates/`` (or the given files and folders), sorted.

    A record, or a folder of records, inside ``certificates/`` that is a link to somewhere
    outside it is refused: what is published must be what is in the repository.
    """
    paths = list(paths)
    if not paths and _FAST_PATHS:
        found, problems = _walk_records(root)
        return [Path(record.path) for record in found], problems
    return _find_records(root, paths)


def _find_records(root: Path, paths: Iterable[Path] = ()) -> tuple[list[Path], list[Problem]]:
    """:func:`find_records` with paths as :class:`Path` objects, for given files and folders
    and where paths are not plain POSIX strings."""
    base = root / CERTIFICATES_DIR
    resolved_base = base.resolve()
    targets = [Path(p) for p in paths] or [base]
    found: list[Path] = []
    problems: list[Problem] = []
    for target in targets:
        target = target if target.is_absolute() else (Path.cwd() / target)
        if target.is_file():
            found.append(target)
            continue
        if not target.is_dir():
            problems.append(Problem(display_path(root, target), 0, "no such file or folder"))
            continue
        for dirpath, dirnames, filenames in os.walk(target):
            here = Path(dirpath)
            for name in list(dirnames):
                folder = here / name
                if folder.is_symlink() and not _inside(folder.resolve(), resolved_base):
                    problems.append(
                        Problem(
                            display_path(root, folder),
                            0,
                            "folder is a link to a place outside certificates/",
                        )
                    )
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = here / name
                if name.startswith("."):
                    continue
                wrong = misnamed(name)
                if wrong:
                    problems.append(Problem(display_path(root, path), 1, wrong))
                elif name.endswith(RECORD_SUFFIX):
                    found.append(path)
    safe = []
    lexical_base = os.path.abspath(base)
    real_folders: dict[Path, Path] = {}
    for path in found:
        lexical = os.path.abspath(path)
        lexically_inside = lexical == lexical_base or lexical.startswith(lexical_base + os.sep)
        if lexically_inside and not _inside(_resolved(path, real_folders), resolved_base):
            problems.append(
                Problem(display_path(root, path), 1,
                        "record is a link to a file outside certificates/")
            )
        else:
            safe.append(path)
    return sorted(set(safe)), problems


# Paths as plain strings (os.scandir, no pathlib for each file) where they compare as pathlib
# compares them: on POSIX, case-sensitive and "/"-separated.
_FAST_PATHS = os.name == "posix"


class _Found(NamedTuple):
    """A record file: its absolute path and its path as problems name it."""

    path: str
    display: str


def _within(path: str, folder: str) -> bool:
    """``Path(path).is_relative_to(folder)`` for normalised absolute POSIX strings."""
    return path == folder or path.startswith(folder if folder.endswith("/") else folder + "/")


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _display_prefix(root: Path, folder: str) -> str:
    """What :func:`display_path` puts before a file name of ``folder``."""
    try:
        shown = Path(folder).relative_to(root).as_posix()
    except ValueError:
        shown = str(Path(folder))
        return shown if shown.endswith("/") else shown + "/"
    return "" if shown == "." else shown + "/"


def _walk_records(root: Path) -> tuple[list[_Found], list[Problem]]:
    """:func:`find_records` of everything under certificates/, with one ``os.scandir`` a
    folder and plain strings: the same files, problems and order."""
    base = root / CERTIFICATES_DIR
    resolved_base = str(base.resolve())
    target = base if base.is_absolute() else (Path.cwd() / base)
    problems: list[Problem] = []
    if target.is_file():
        return [_Found(str(target), display_path(root, target))], problems
    if not target.is_dir():
        problems.append(Problem(display_path(root, target), 0, "no such file or folder"))
        return [], problems
    found: list[tuple[list[str], _Found]] = []
    outside: list[str] = []

    def walk(top: str) -> None:  # os.walk(top), top-down, not into links, errors skipped
        try:
            with os.scandir(top) as listing:
                entries = list(listing)
        except OSError:
            return
        folders: list[os.DirEntry[str]] = []
        files: list[os.DirEntry[str]] = []
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            (folders if is_dir else files).append(entry)
        for entry in folders:
            if _is_link(entry) and not _within(os.path.realpath(entry.path), resolved_base):
                problems.append(
                    Problem(display_path(root, Path(entry.path)), 0,
                            "folder is a link to a place outside certificates/")
                )
        prefix: str | None = None
        real_top: str | None = None  # a file that is no link resolves to real_top + its name
        top_inside = False
        for entry in sorted(files, key=lambda e: e.name):
            name = entry.name
            if name.startswith("."):
                continue
            wrong = misnamed(name)
            if wrong:
                problems.append(Problem(display_path(root, Path(entry.path)), 1, wrong))
            elif name.endswith(RECORD_SUFFIX):
                path = entry.path
                if _is_link(entry):
                    inside = _within(os.path.realpath(path), resolved_base)
                else:
                    if real_top is None:
                        real_top = os.path.realpath(top)
                        top_inside = _within(real_top, resolved_base)
                    inside = top_inside or _within(os.path.join(real_top, name), resolved_base)
                if not inside:
                    outside.append(path)
                    continue
                if prefix is None:
                    prefix = _display_prefix(root, top)
                found.append((path.split("/"), _Found(path, prefix + name)))
        for entry in sorted((e for e in folders if not e.name.startswith(".")),
                            key=lambda e: e.name):
            if not _is_link(entry):
                walk(entry.path)

    walk(str(target))
    for path in outside:
        problems.append(Problem(display_path(root, Path(path)), 1,
                                "record is a link to a file outside certificates/"))
    found.sort(key=lambda item: item[0])  # the order of sorted Paths: part by part
    return [record for _, record in found], problems


def check_file(
    path: Path, display: str, settings: Settings, as_of: dt.date | None = None
) -> tuple[dict[str, Any] | None, source.Document | None, list[Problem]]:
    """Read, type and check one record file; returns its data only when it has no problem.

    Every rule whose fields are usable runs even when the file has other problems (a
    duplicate key, a schema error), so that one run reports everything wrong with it; but no
    rule computes with a date the scheme cannot use (see :mod:`horizon`; ``as_of``: the day
    its limit counts from, by default today or SOURCE_DATE_EPOCH's day).
    """
    doc, problems = source.read_file(path, display)
    if doc is None:
        return None, None, capped(problems)
    typed = schema.check(doc, settings.schema)
    problems = problems + typed.problems
    if typed.data is not None:
        unusable = horizon.problems(typed.data, doc, settings, as_of or as_of_default())
        problems += unusable
        if not unusable:
            problems += rules.check_record(typed.data, doc, settings, record_stem(path),
                                           typed.broken)
    return (typed.data if not problems else None), doc, capped(sorted(set(problems)))


_check_file_here = check_file


def registry_key_problems(root: Path, settings: Settings) -> list[Problem]:
    """Keys of registry/industries.yaml and regions.yaml that records could never name safely.

    They become parts of URLs and output paths, so they must match the record schema's
    pattern for the field that names them (no '/', '..' or other path characters).
    """
    checks: tuple[tuple[str, PathKey, Iterable[str]], ...] = (
        (settings_mod.INDUSTRIES_FILE, ("industry",), settings.industries),
        (settings_mod.REGIONS_FILE, ("organization", "region"), settings.regions),
    )
    problems: list[Problem] = []
    for name, field, keys in checks:
        pattern = _schema_pattern(settings.schema, field)
        bad = [key for key in keys if pattern is not None and not re.fullmatch(pattern, key)]
        if not bad:
            continue
        display = f"{settings_mod.REGISTRY_DIR}/{name}"
        doc, _ = source.read_file(root / settings_mod.REGISTRY_DIR / name, display)
        for key in bad:
            line = doc.key_line((key,)) if doc is not None else 0
            message = f"key {key!r} must match {pattern}: it becomes part of URLs"
            problems.append(Problem(display, line, message))
    return problems


def _schema_pattern(record_schema: dict[str, Any], field: PathKey) -> str | None:
    node: Any = record_schema
    for part in field:
        node = node.get("properties", {}).get(part, {}) if isinstance(node, dict) else {}
    pattern = node.get("pattern") if isinstance(node, dict) else None
    return pattern if isinstance(pattern, str) else None


def _clashing_records(
    root: Path, numbers: Iterable[Any], skip: set[Path]
) -> list[tuple[Any, str, int]]:
    """Other records under certificates/ whose file name folds to a number being checked, as
    (number, path, line of the number).

    Used when only some files are validated. A valid record's number is its file name, so
    only the few files whose names clash need to be read.
    """
    wanted = {rules.fold_number(number) for number in numbers if isinstance(number, str)}
    files, _ = find_records(root)
    out = []
    for path in files:
        if path.resolve() in skip or rules.fold_number(record_stem(path)) not in wanted:
            continue
        doc, _ = source.read_file(path, display_path(root, path))
        if doc is not None and isinstance(doc.data, dict):
            out.append((doc.data.get("number"), doc.path, doc.line(("number",))))
    return out


Checked = tuple[dict[str, Any], source.Document]
Progress = Callable[[Sequence[Path]], Iterable[Path]]


# The modules of the package whose code decides what checking a record gives and what the
# record cache holds: this one and every module it imports, directly or not (a test keeps the
# list whole). A change to any other module (pages, the build...) keeps the cache.
CHECKING_MODULES = ("creditcode", "errors", "forked", "history", "horizon", "lifecycle", "load",
                    "model", "output", "rules", "schema", "settings", "source")


def checking_code() -> bytes:
    """The version of the code that checks records: the modules of
    :data:`CHECKING_MODULES`, PyYAML and jsonschema, and Python."""
    h = hashlib.blake2b(digest_size=16)
    folder = Path(__file__).parent
    for name in CHECKING_MODULES:
        path = folder / f"{name}.py"
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("pyyaml", "jsonschema"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(metadata.version(name).encode())
    h.update(sys.version.encode())
    return h.digest()


# A file's stat (size, times, inode) stands for its content only when the file had not
# changed for this long before the stat was taken: a change within one tick of a coarse
# file-system clock, right after the stat, could otherwise leave every field as it was (git's
# "racy clean" problem). Such a file is hashed again next time. ctime cannot be set back by
# tools that keep mtime (cp -p, rsync -t, touch -d, git checkout sets both to now).
RACY_NS = 3_000_000_000
# Where st_ctime is the change time; elsewhere (Windows: creation time) every file is hashed.
_TRUST_STAT = os.name == "posix"
_stat = os.stat
# 4: an index (marshal) and a file per shard, named by its content; 5: a certificate is kept
# with its standing on the day of the last load, (certificate, day, standing)
CACHE_FORMAT = 5
SHARDS = 64  # records are stored in this many pickles: a changed record re-writes one
INDEX = "index.marshal"
_SHARD_FILE = re.compile(r"(certs|data)-[0-9]{2}-[0-9a-f]{16}")

Signature = tuple[int, int, int, int, int]


class CacheEntry(NamedTuple):
    """A record that passed every check: its content digest, the stat that stood for it (None
    when not to be trusted), its number as written and the line of it, its shard, and the
    :func:`certificate_digest` of its certificate (before its last commit is set)."""

    sig: Signature | None
    digest: bytes
    number: Any
    line: int
    shard: int
    cert_digest: bytes = b""


def _shard(display: str) -> int:
    return zlib.crc32(display.encode("utf-8", "surrogateescape")) % SHARDS


_CACHE_ERRORS = (OSError, EOFError, ValueError, TypeError, AttributeError, KeyError,
                 IndexError, ImportError, pickle.UnpicklingError)


def _signature(path: str) -> Signature | None:
    """A record file's stat as the cache keeps it; None when it cannot be taken."""
    try:
        st = _stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev


def _stamp(path: str, now: int, known: Signature | None = None,
           taken: Signature | None = None) -> tuple[Signature | None, bytes | None] | None:
    """The stat signature of a record file (None when not to be trusted: the file changed
    within :data:`RACY_NS` before ``now``) and the digest of its bytes, which is not read
    (None) when the signature is ``known``. None when the file cannot be read. ``taken``:
    its signature, taken already (by :class:`_FilesAside`)."""
    full = taken if taken is not None else _signature(path)
    if full is None:
        return None
    sig: Signature | None = full
    if not _TRUST_STAT or max(full[1], full[2]) >= now - RACY_NS:
        sig = None
    if sig is not None and sig == known:
        return sig, None
    try:
        with open(path, "rb") as handle:
            return sig, hashlib.blake2b(handle.read(), digest_size=16).digest()
    except OSError:
        return None


# From how many cached records a forked process finds the record files and takes their
# signatures while this one unpickles the cache (below that, starting it costs more).
FILES_ASIDE_MIN = 5_000


class _FilesAside:
    """:func:`_walk_records` and the stat signature of each record file, in a forked process
    while this one unpickles the record cache: at 100,000 records the walk and the stats are
    0.5 s that the second core takes. Any failure gives no answer (the walk is done here)."""

    def __init__(self, root: Path) -> None:
        self._forked = Forked(_found_files, root)

    def result(self) -> tuple[list[_Found], list[Problem], dict[str, Signature]] | None:
        """The records found, the walk's problems and each file's signature, by path."""
        sent = self._forked.result()
        if sent is None:
            return None
        try:
            paths, displays, problems, signatures = sent
            found = [_Found(path, display) for path, display in zip(paths, displays,
                                                                  strict=True)]
            taken = {path: sig for path, sig in zip(paths, signatures, strict=True)
                     if sig is not None}
            return found, [Problem(*problem) for problem in problems], taken
        except (ValueError, TypeError):
            return None


def _found_files(root: Path) -> tuple[list[str], list[str], list[tuple[str, int, str]],
                                      list[Signature | None]]:
    """In the :class:`_FilesAside` process: walk, and take each file's signature."""
    found, problems = _walk_records(root)
    paths = [record.path for record in found]
    return (paths, [record.display for record in found],
            [(p.path, p.line, p.message) for p in problems], [_signature(path) for path in paths])


class RecordCache:
    """Records that passed every check, by file name and content digest.

    A cache folder holds the records checked under one state of ``registry/`` and of the
    checking code (every module of the package, PyYAML and jsonschema versions); any change to
    those starts a new one (and the others are removed). It also keeps the settings read from
    that ``registry/``.

    A record is looked up by its path: when the file's stat (size, mtime, ctime, inode, device)
    is the one stored with it, and the file had not changed for :data:`RACY_NS` before that
    stat was taken, its bytes are not read; otherwise they are hashed and compared with the
    stored digest. A cached record comes back as its :class:`Certificate` (what
    ``load_registry`` needs) or as the typed data that checking it would return, with a
    :class:`source.Document` that keeps only its path and the line of its number (what the
    registry-wide rules read); a certificate comes with its standing on the day of the load
    that kept it, when that is :attr:`as_of`. Records are stored in :data:`SHARDS` pickles,
    each read only when needed and written again only when one of its records (or standings)
    changed; an index (``index.marshal``) holds each record's entry and names the shard files.
    Only records used by the last run are kept, so the cache does not grow.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        context = hashlib.blake2b(checking_code(), digest_size=12)
        for path in sorted(root.glob(f"{settings_mod.REGISTRY_DIR}/**/*")):
            if path.is_file():
                name = path.relative_to(root).as_posix()
                context.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        # One folder per key: the index (index.marshal) names the shard files it was
        # written with; a shard file's name has its content's digest, so an index never
        # reads a shard of another write.
        self.path = folder / context.hexdigest()
        self.now = time.time_ns()
        self.entries: dict[str, CacheEntry] = {}
        self.used: dict[str, CacheEntry] = {}
        self._files: dict[str, list[str | None]] = {"certs": [None] * SHARDS,
                                                    "data": [None] * SHARDS}
        self._loaded: dict[str, list[dict[str, Any] | None]] = {"certs": [None] * SHARDS,
                                                                "data": [None] * SHARDS}
        self._settings: bytes | None = None
        self._settings_changed = False
        self._pending: dict[str, tuple[Signature | None, bytes | None]] = {}
        self._new: dict[str, tuple[dict[str, Any] | None, Certificate]] = {}
        self._changed = False  # an entry's stat changed
        self.taken: dict[str, Signature] = {}  # each file's signature, taken by _FilesAside
        self.as_of: dt.date | None = None  # the day of the standings kept (see certificate)
        self._standings: dict[str, Standing] = {}
        stored = read_cache(self.path / INDEX, CACHE_FORMAT)
        try:
            entries, files = stored["index"], stored["files"]
            settings = stored.get("settings")
            if not (isinstance(entries, dict) and isinstance(files, dict)
                    and (settings is None or isinstance(settings, bytes))):
                raise ValueError("not an index")
            shards = {kind: list(files[kind]) for kind in ("certs", "data")}
            if any(len(names) != SHARDS or not all(
                    name is None or (type(name) is str and _SHARD_FILE.fullmatch(name))
                    for name in names) for names in shards.values()):
                raise ValueError("another number of shards")
            values = list(entries.values())
            if not all(type(entry) is tuple and len(entry) == len(CacheEntry._fields)
                       and type(entry[4]) is int and 0 <= entry[4] < SHARDS
                       for entry in values):
                raise ValueError("an entry of another shape")
            self.entries = dict(zip(entries, map(CacheEntry._make, values), strict=True))
            self._files, self._settings = shards, settings
        except (KeyError, ValueError, TypeError):
            self.entries = {}

    # -- settings

    def settings(self, root: Path) -> Settings | None:
        """The settings read from this ``registry/`` before, or None."""
        if self._settings is None:
            return None
        try:
            with gc_paused():
                settings = pickle.loads(self._settings)
        except _CACHE_ERRORS:
            return None
        if not isinstance(settings, Settings):
            return None
        return settings if settings.root == root else dataclasses.replace(settings, root=root)

    def keep_settings(self, settings: Settings) -> None:
        try:
            self._settings = pickle.dumps(settings, protocol=5)
            self._settings_changed = True
        except (pickle.PicklingError, TypeError, AttributeError):
            self._settings = None

    # -- records

    def lookup(self, display: str, path: str) -> CacheEntry | None:
        """The entry of the record at ``path`` if its content is the one that passed."""
        entry = self.entries.get(display)
        stamp = _stamp(path, self.now, entry.sig if entry is not None else None,
                       self.taken.get(path))
        if stamp is None:
            return None
        sig, digest = stamp
        if entry is not None and (digest is None or entry.digest == digest):
            if entry.sig != sig:
                entry = entry._replace(sig=sig)
                self._changed = True
            self.used[display] = entry
            return entry
        self._pending[display] = stamp
        return None

    def knows(self, display: str) -> bool:
        """Whether a record was kept under this name, or its file was already looked at."""
        return display in self.entries or display in self._pending

    def stamped(self, display: str, stamp: tuple[Signature | None, bytes | None] | None
                ) -> None:
        """What :func:`_stamp` said of a record's file before another process checked it."""
        if stamp is not None and stamp[1] is not None:
            self._pending[display] = stamp

    def miss(self, display: str, entry: CacheEntry) -> None:
        """The entry's record could not be read from the cache: it is checked again."""
        self.used.pop(display, None)
        self._pending[display] = (entry.sig, entry.digest)

    def certificate(self, display: str, entry: CacheEntry
                    ) -> tuple[Certificate, Standing | None] | None:
        """The record's certificate, with its standing on :attr:`as_of` when it was kept."""
        found = self._shard("certs", entry.shard)
        kept = found.get(display) if found is not None else None
        if not (type(kept) is tuple and len(kept) == 3 and isinstance(kept[0], Certificate)):
            return None
        cert, day, standing = kept
        if day != self.as_of or not isinstance(standing, Standing):
            standing = None
        return cert, standing

    def keep_standings(self, standings: dict[str, Standing]) -> None:
        """The standings on :attr:`as_of` of the records whose standing was not kept (by
        path), kept with their certificates when the cache is saved."""
        self._standings = standings

    def data(self, display: str, entry: CacheEntry) -> dict[str, Any] | None:
        found = self._shard("data", entry.shard)
        data = found.get(display) if found is not None else None
        return data if isinstance(data, dict) else None

    def read_all(self, kind: str) -> None:
        """Unpickle every shard of ``kind`` now (while another process takes the files'
        signatures) rather than at the first record of each."""
        for number in range(SHARDS):
            self._shard(kind, number)

    def _shard(self, kind: str, number: int) -> dict[str, Any] | None:
        loaded = self._loaded[kind][number]
        if loaded is None:
            name = self._files[kind][number]
            if name is None:
                return None
            try:
                with open(self.path / name, "rb") as handle, gc_paused():
                    loaded = pickle.loads(handle.read())
            except _CACHE_ERRORS:
                loaded = None
            if not isinstance(loaded, dict):
                self._files[kind][number] = None
                return None
            self._loaded[kind][number] = loaded
        return loaded

    def put(self, display: str, data: dict[str, Any] | None, number: Any, line: int,
            cert: Certificate) -> None:
        """Keep a record that passed every check (``number``: as written, on ``line``): its
        certificate, and its data when given (what :func:`validate` gives back)."""
        pending = self._pending.pop(display, None)
        if pending is None:
            return  # the file could not be read before it was checked
        sig, digest = pending
        assert digest is not None
        self.used[display] = CacheEntry(sig, digest, number, line, _shard(display),
                                        certificate_digest(cert))
        self._new[display] = (data, cert)

    def save(self) -> None:
        """Keep the records of this run (atomically; an unwritable cache is no error)."""
        if (not self._new and not self._changed and not self._settings_changed
                and not self._standings and self.used.keys() == self.entries.keys()):
            return  # every record (and standing) came from the cache, every cached one used
        members: list[list[str]] = [[] for _ in range(SHARDS)]
        for display, entry in self.used.items():
            members[entry.shard].append(display)
        before: list[set[str]] = [set() for _ in range(SHARDS)]
        for display, entry in self.entries.items():
            before[entry.shard].add(display)
        files: dict[str, list[str | None]] = {"certs": [], "data": []}
        written: dict[str, bytes] = {}
        with gc_paused():
            for number, displays in enumerate(members):
                dirty = set(displays) != before[number] or any(
                    d in self._new or d in self._standings for d in displays)
                for kind, position in (("certs", 1), ("data", 0)):
                    if not dirty:
                        files[kind].append(self._files[kind][number])
                        continue
                    old = self._shard(kind, number) or {}
                    shard: dict[str, Any] = {}
                    for display in displays:
                        made = self._new.get(display)
                        value: Any = made[position] if made is not None else old.get(display)
                        if kind == "certs" and made is not None:
                            value = (value, None, None)
                        if kind == "certs" and value is not None and display in self._standings:
                            value = (value[0], self.as_of, self._standings[display])
                        if value is not None:
                            shard[display] = value
                        elif kind == "certs":
                            self.used.pop(display, None)  # cannot be stored: checked next time
                        # a record without its data is checked again when validate asks
                    if kind == "certs":
                        shard = share_values(shard)
                    if not shard:
                        files[kind].append(None)
                        continue
                    blob = pickle.dumps(shard, protocol=5)
                    name = f"{kind}-{number:02d}-{hashlib.blake2b(blob, digest_size=8).hexdigest()}"
                    written[name] = blob
                    files[kind].append(name)
            index = {display: tuple(entry) for display, entry in self.used.items()}
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            for name, blob in written.items():
                tmp = self.path / f".{name}.{os.getpid()}.tmp"
                tmp.write_bytes(blob)
                os.replace(tmp, self.path / name)
        except OSError:
            return
        write_cache(self.path / INDEX, CACHE_FORMAT,
                    {"index": index, "files": files, "settings": self._settings})
        # What no index names any more: the shards replaced, and the caches of other keys.
        wanted = {name for names in files.values() for name in names if name is not None}
        with contextlib.suppress(OSError):
            for path in self.path.iterdir():
                if path.name != INDEX and path.name not in wanted:
                    path.unlink(missing_ok=True)
            for other in self.path.parent.iterdir():
                if other != self.path:
                    if other.is_dir():
                        shutil.rmtree(other, ignore_errors=True)
                    else:
                        other.unlink(missing_ok=True)


class _PathList(Sequence[Path]):
    """The record files as the :class:`Path` objects a progress wrapper sees, made one at a
    time as it iterates."""

    def __init__(self, root: Path, found: list[_Found]) -> None:
        self.root, self.found = root, found
        self.last: tuple[Path, int] | None = None
        self.by_path: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.found)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [Path(record.path) for record in self.found[index]]
        return Path(self.found[index].path)

    def __iter__(self) -> Iterator[Path]:
        for position, record in enumerate(self.found):
            path = Path(record.path)
            self.last = (path, position)
            yield path

    def record(self, path: Path) -> tuple[int, _Found]:
        """The record file of a path the wrapper gave back, and its index (-1: not one of
        the files given to it)."""
        if self.last is not None and path is self.last[0]:
            return self.last[1], self.found[self.last[1]]
        if self.by_path is None:
            self.by_path = {record.path: i for i, record in enumerate(self.found)}
        known = self.by_path.get(str(path))
        if known is not None:
            return known, self.found[known]
        path = path if path.is_absolute() else Path.cwd() / path
        return -1, _Found(str(path), display_path(self.root, path))


def _progressed(root: Path, found: list[_Found],
                progress: Progress | None) -> Iterator[tuple[int, _Found]]:
    if progress is None:
        yield from enumerate(found)
        return
    files = _PathList(root, found)
    for path in progress(files):
        yield files.record(path)


@dataclasses.dataclass(slots=True)
class _Good:
    """A record that passed: its data or its certificate (whichever was asked for), and its
    document (a slim one when it came from the cache, none when checked by a worker); for a
    record from the cache, its number as written and the line of it."""

    display: str
    data: dict[str, Any] | None
    doc: source.Document | None
    cert: Certificate | None
    number: Any = None
    line: int = 0
    cert_digest: bytes = b""
    standing: Standing | None = None  # kept by the cache for this day (see RecordCache.as_of)


def _cached(cache: RecordCache | None, record: _Found, certificates: bool) -> _Good | None:
    """The record from the cache, if its content passed before and the cache holds it."""
    if cache is None:
        return None
    display = record.display
    entry = cache.lookup(display, record.path)
    if entry is None:
        return None
    if certificates:
        kept = cache.certificate(display, entry)
        if kept is not None:
            return _Good(display, None, None, kept[0], entry.number, entry.line,
                         entry.cert_digest, kept[1])
    else:
        data = cache.data(display, entry)
        if data is not None:
            return _Good(display, data, _slim_doc(display, entry), None, entry.number,
                         entry.line)
    cache.miss(display, entry)
    return None


# What checking one record gives: whether it passed, its data (when asked for), its document
# (when checked here), its problems, (its number as written, path, line of the number) when it
# is a mapping, and its certificate (when asked for and it passed).
Checked1 = tuple[bool, dict[str, Any] | None, source.Document | None, list[Problem],
                 tuple[Any, str, int] | None, Certificate | None]


def _check_one(record: _Found, settings: Settings, *, data_wanted: bool, certificate: bool,
               dates: dict[str, dt.date], texts: dict[str, str]) -> Checked1:
    """:func:`check_file` of one record (``dates`` and ``texts``: see
    :meth:`Certificate.from_data`)."""
    data, doc, problems = check_file(Path(record.path), record.display, settings)
    number = None
    if doc is not None and isinstance(doc.data, dict):
        number = (doc.data.get("number"), doc.path, doc.line(("number",)))
    passed = data is not None and doc is not None
    cert = None
    if passed and certificate:
        assert data is not None and doc is not None
        cert = Certificate.from_data(data, doc.path, dates=dates, texts=texts)
    return passed, (data if data_wanted else None), doc, problems, number, cert


# Above this many records to check, load_registry checks them in forked worker processes.
PARALLEL_MIN = 1000
_CHUNK = 200  # records a task


def _fork_safe() -> bool:
    """Whether this process may fork: it can, and no other thread runs (as in mkdocs serve,
    where a forked child could find a lock held for ever)."""
    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


def _workers() -> int:
    """How many processes may check records: 1 where forking is unsafe (another thread
    runs, as in mkdocs serve), impossible, or where check_file was replaced (a test that
    counts its calls)."""
    if not _fork_safe() or check_file is not _check_file_here:
        return 1
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(4, available))


# What the forked workers check records against, and the time their stats are judged by
# (see _stamp): set while the pool starts.
_JOB: tuple[Settings, int] | None = None
Stamp = tuple[Signature | None, bytes | None]


def _check_chunk(chunk: list[tuple[int, str, str, bool]]
                 ) -> list[tuple[int, Checked1, Stamp | None]]:
    """A worker's task: check these records (index, path, display, whether to stamp the file
    for the cache first)."""
    assert _JOB is not None
    settings, now = _JOB
    dates: dict[str, dt.date] = {}
    texts: dict[str, str] = {}
    out: list[tuple[int, Checked1, Stamp | None]] = []
    for index, path, display, stamp_it in chunk:
        stamp = _stamp(path, now) if stamp_it else None  # before the file is read to check
        passed, _, _, problems, number, cert = _check_one(
            _Found(path, display), settings, data_wanted=False, certificate=True,
            dates=dates, texts=texts)
        out.append((index, (passed, None, None, problems, number, cert), stamp))
    return out


class _ParallelChecks:
    """Records checked by forked processes, in order, while this one takes their results."""

    def __init__(self, pool: Any, results: Iterator[list[tuple[int, Checked1, Stamp | None]]],
                 wanted: set[int]) -> None:
        self.pool, self.results, self.wanted = pool, results, wanted
        self.ready: dict[int, tuple[Checked1, Stamp | None]] = {}

    @classmethod
    def start(cls, found: list[_Found], misses: list[int], settings: Settings,
              workers: int, cache: RecordCache | None) -> _ParallelChecks | None:
        """Check the records ``misses`` (indices into ``found``) in ``workers`` processes;
        those the cache has not looked at are stamped there for it."""
        global _JOB
        tasks = [(i, found[i].path, found[i].display,
                  cache is not None and not cache.knows(found[i].display)) for i in misses]
        chunks = [tasks[k : k + _CHUNK] for k in range(0, len(tasks), _CHUNK)]
        _JOB = settings, (cache.now if cache is not None else 0)
        try:
            pool = multiprocessing.get_context("fork").Pool(workers)
        except (OSError, AssertionError, ValueError):  # no fork here (a daemon process...)
            return None
        finally:
            _JOB = None
        return cls(pool, pool.imap(_check_chunk, chunks), set(misses))

    def __contains__(self, index: int) -> bool:
        return index in self.wanted

    def result(self, index: int) -> tuple[Checked1, Stamp | None]:
        while index not in self.ready:
            for done, checked, stamp in next(self.results):
                self.ready[done] = checked, stamp
        self.wanted.discard(index)
        return self.ready.pop(index)

    def close(self) -> None:
        if self.wanted:  # stopped early (an error): the rest is not wanted
            self.pool.terminate()
        else:
            self.pool.close()
        self.pool.join()


def _slim_doc(display: str, entry: CacheEntry) -> source.Document:
    return source.Document(display, {"number": entry.number}, {(): 1, ("number",): entry.line},
                           {("number",): entry.line})


def _check_records(
    root: Path, paths: Iterable[Path], cache_dir: Path | None, progress: Progress | None,
    *, certificates: bool, as_of: dt.date | None = None,
) -> tuple[Settings | None, list[_Good], list[Problem], RecordCache | None]:
    """:func:`validate`, giving each good record's :class:`Certificate` when
    ``certificates`` (and its data otherwise), with its standing on ``as_of`` when the cache
    kept it; and the cache, for the caller to save."""
    paths = list(paths)
    cache = RecordCache(cache_dir / "records", root) if cache_dir is not None else None
    if cache is not None:
        cache.as_of = as_of
    settings = cache.settings(root) if cache is not None else None
    if settings is None:
        try:
            settings = settings_mod.load(root)
        except InputError as exc:
            return None, [], exc.problems, cache
        if cache is not None:
            cache.keep_settings(settings)
    found: list[_Found]
    if paths or not _FAST_PATHS:
        files, problems = _find_records(root, paths)
        found = [_Found(str(path), display_path(root, path)) for path in files]
    else:
        walked = None
        if cache is not None and len(cache.entries) >= FILES_ASIDE_MIN and _fork_safe():
            aside = _FilesAside(root)
            cache.read_all("certs" if certificates else "data")
            walked = aside.result()
        if walked is None:
            found, problems = _walk_records(root)
        else:
            found, problems, taken = walked
            if cache is not None:
                cache.taken = taken
    problems += registry_key_problems(root, settings)
    good: list[_Good] = []
    numbers: list[tuple[Any, str, int]] = []  # (number as written, path, line) of each record
    dates: dict[str, dt.date] = {}
    texts: dict[str, str] = {}
    hits: list[_Good | None] | None = None  # the cache's answers, when asked before checking
    parallel: _ParallelChecks | None = None
    workers = _workers() if certificates and len(found) >= PARALLEL_MIN else 1
    if workers > 1:
        # Files the cache knows are looked up here; the others are read first by the workers.
        hits = [_cached(cache, record, certificates) if cache is not None
                and cache.knows(record.display) else None for record in found]
        misses = [i for i, hit in enumerate(hits) if hit is None]
        if len(misses) >= PARALLEL_MIN:
            parallel = _ParallelChecks.start(found, misses, settings, workers, cache)
        if parallel is None and cache is not None:
            hits = [hit if hit is not None or cache.knows(record.display)
                    else _cached(cache, record, certificates)
                    for hit, record in zip(hits, found, strict=True)]
    try:
        for index, record in _progressed(root, found, progress):
            display = record.display
            if hits is not None and index >= 0:
                hit = hits[index]
            else:
                hit = _cached(cache, record, certificates)
            if hit is not None:
                numbers.append((hit.number, display, hit.line))
                good.append(hit)
                continue
            if parallel is not None and index in parallel:
                checked, stamp = parallel.result(index)
                passed, data, doc, found_problems, number, cert = checked
                if cache is not None:
                    cache.stamped(display, stamp)
            else:
                passed, data, doc, found_problems, number, cert = _check_one(
                    record, settings, data_wanted=not certificates,
                    certificate=certificates or cache is not None, dates=dates, texts=texts)
            problems += found_problems
            if number is not None:
                numbers.append(number)
            if not passed or number is None:
                continue
            if cache is not None and cert is not None:
                cache.put(display, data, number[0], number[2], cert)
                entry = cache.used.get(display)
                good.append(_Good(display, data, doc, cert, number[0], number[2],
                                  entry.cert_digest if entry is not None else b""))
                continue
            good.append(_Good(display, data, doc, cert))
    finally:
        if parallel is not None:
            parallel.close()
    if paths:
        shown = {path for _, path, _ in numbers}
        skip = {Path(record.path).resolve() for record in found}
        others = _clashing_records(root, (number for number, _, _ in numbers), skip)
        problems += [p for p in rules.duplicate_numbers(others + numbers) if p.path in shown]
    else:
        problems += rules.duplicate_numbers(numbers)
    return settings, good, sorted(set(problems)), cache


def validate(
    root: Path, paths: Iterable[Path] = (), *, cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Settings | None, list[tuple[dict[str, Any], source.Document]], list[Problem]]:
    """Check every record; return the settings, the good records and every problem.

    With ``paths``, only those files are checked, but their numbers are still compared with
    every record under certificates/. With ``cache_dir``, a record whose bytes passed every
    check before, under the same settings and code, is taken from the cache (see
    :class:`RecordCache`). ``progress`` wraps the list of files (a progress bar).
    """
    with gc_paused():
        settings, good, problems, cache = _check_records(root, paths, cache_dir, progress,
                                                         certificates=False)
        if cache is not None:
            cache.save()
        return settings, [(g.data, g.doc) for g in good if g.data is not None
                          and g.doc is not None], problems


def certificate_digest(cert: Certificate) -> bytes:
    """A digest of every field of a certificate as checking made it (its last commit aside)."""
    if cert.committed is not None:
        cert = cert._replace(committed=None)
    return hashlib.blake2b(repr(cert).encode("utf-8"), digest_size=16).digest()


def record_digest(cert: Certificate, checked: bytes = b"") -> bytes:
    """A digest of a loaded certificate, every field and its last commit: what the build keys
    the outputs of a record by. ``checked``: its :func:`certificate_digest`, when known."""
    h = hashlib.blake2b(checked or certificate_digest(cert), digest_size=16)
    h.update(cert.committed.isoformat().encode() if cert.committed is not None else b"-")
    return h.digest()


def load_registry(root: Path, as_of: dt.date | None = None, *, cache_dir: Path | None = None,
                  progress: Progress | None = None,
                  digests: dict[str, bytes] | None = None,
                  later: list[Callable[[], None]] | None = None) -> Registry:
    """Load and check the whole registry; raise :class:`InputError` with every problem.

    ``cache_dir`` and ``progress``: see :func:`validate`; the cache also keeps what git
    says of each record's last change (see :func:`history.last_changed`). When more than
    :data:`PARALLEL_MIN` records are to be checked and forking is safe, forked workers check
    them (the same problems and certificates). ``digests``: filled with the
    :func:`record_digest` of each certificate, by number (from the cache, where it has them).
    ``later``: given, the record cache is not written here; what writes it is appended, for the
    caller to run when it has time (the build, while a worker makes the open data: 0.5 s at
    100,000 records after one changed).
    """
    as_of = as_of or as_of_default()
    with gc_paused():
        settings, good, problems, cache = _check_records(root, (), cache_dir, progress,
                                                         certificates=True, as_of=as_of)
        # The records that passed are kept even when others did not; with the standings
        # derived below when the load gets to them.
        save = cache.save if cache is not None else (lambda: None)
        if later is not None:
            later.append(save)
        try:
            if problems or settings is None:
                raise InputError(problems)
            from . import history  # history reads record files through this module

            committed = history.last_changed(root, cache_dir=cache_dir)
            certificates = []
            for record in good:
                cert = record.cert
                assert cert is not None
                day = committed.get(cert.source)
                if day is not None:
                    cert = cert.committed_on(day)
                certificates.append(cert)
                if digests is not None:
                    digests[cert.number] = record_digest(cert, record.cert_digest)
            known = {r.cert.number: r.standing for r in good
                     if r.standing is not None and r.cert is not None}
            registry = Registry.create(settings, certificates, as_of, known)
            if cache is not None:
                cache.keep_standings({r.display: registry.standings[r.cert.number]
                                      for r in good if r.standing is None and r.cert is not None})
            return registry
        finally:
            if later is None:
                save()
