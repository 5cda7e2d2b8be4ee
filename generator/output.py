"""Write build outputs by content, reusing what the last two builds made where nothing changed.

Every renderer writes through :class:`Output`, so a build knows every file it produced and the
digest of each. The build records them in a :class:`Manifest` kept in the cache folder, and
groups them in *units* (one certificate's page, feed and artwork; a listing; the search index;
the open data), each with the hash of all of its inputs.

A build writes into a folder that is not the live site: a new one, or the *spare* tree, the site
that was live before the last build (kept, with its manifest, in the cache folder). A unit whose
input hash is unchanged is not rendered: its files are kept as they are in the spare tree, or
hard-linked from the live site; a file whose bytes come out the same is kept or linked too.
Files of the spare tree that this build did not produce are removed at the end (:meth:`sweep`).

The live site is never written to: a file is created beside its target and renamed over it, so
a hard-linked file is replaced, never modified in place. A file is kept or linked only when its
size, modification time and inode are still those recorded, so a tree changed behind the
build's back is rendered afresh rather than trusted.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import marshal
import os
import stat
import struct
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .forked import Forked

MANIFEST_VERSION = 2  # 2: marshal (plain data: written in a sixth of pickle's time)
# A file as the manifest records it: size, mtime (ns), inode, blake2b-128 digest of the bytes.
FILE_STATE = struct.Struct("<QqQ16s")


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading many thousands of objects (none of them in
    cycles) would otherwise run it again and again over all of them."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


@contextlib.contextmanager
def gc_frozen() -> Iterator[None]:
    """Everything made so far (the loaded registry: hundreds of thousands of objects, none in a
    cycle) left out of the cyclic collector's passes while inside, and young objects collected
    less often: a build makes many short-lived containers, and every full collection would
    otherwise walk the whole registry again. Acyclic garbage is still freed at once; cycles
    are collected as usual, less often."""
    outermost = gc.get_freeze_count() == 0
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        if outermost:
            gc.unfreeze()


def read_cache(path: Path | None, version: int) -> dict[Any, Any]:
    """A cache of plain data that :func:`write_cache` wrote with this ``version``; empty when
    there is none, or it cannot be read, or it is of another version (a cache is never an
    error: what it would give is made again)."""
    if path is None:
        return {}
    try:
        # marshal.load(file) reads in small pieces, many times slower than this.
        with open(path, "rb") as handle, gc_paused():
            stored = marshal.loads(handle.read())
    except (OSError, EOFError, ValueError, TypeError):
        return {}
    if (isinstance(stored, tuple) and len(stored) == 2 and stored[0] == version
            and isinstance(stored[1], dict)):
        return stored[1]
    return {}


def write_cache(path: Path, version: int, data: dict[Any, Any]) -> None:
    """Write a cache for :func:`read_cache`, atomically; one that cannot be written is no error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            marshal.dump((version, data), handle)
        os.replace(tmp, path)
    except (OSError, ValueError):  # ValueError: a value marshal cannot write
        pass


def safe_relpath(rel: str) -> PurePosixPath:
    """Refuse any output path that could leave the output folder."""
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or "\\" in rel:
        raise ValueError(f"unsafe output path: {rel!r}")
    return path


def digester() -> Any:
    """A hash to feed piece by piece: its ``digest()`` is :func:`digest` of the pieces joined."""
    return hashlib.blake2b(digest_size=16)


def digest(data: bytes) -> bytes:
    """The content digest recorded for every output file."""
    h = digester()
    h.update(data)
    return h.digest()


def digest_parts(*parts: bytes) -> bytes:
    """One digest of several byte strings, each length-prefixed (so no two lists collide)."""
    return hashlib.blake2b(b"".join([len(part).to_bytes(8, "little") + part for part in parts]),
                           digest_size=16).digest()


def _state(path: str, content_digest: bytes) -> bytes:
    st = os.lstat(path)
    return FILE_STATE.pack(st.st_size, st.st_mtime_ns, st.st_ino, content_digest)


def _fstate(fd: int, content_digest: bytes) -> bytes:
    st = os.fstat(fd)
    return FILE_STATE.pack(st.st_size, st.st_mtime_ns, st.st_ino, content_digest)


@dataclass
class Manifest:
    """What one build published: every file's state and every unit's input hash and files.

    A unit is a group of files rendered together from the same inputs (``cert:<NUMBER>``,
    ``listing:<slug>``, ``search``, ``data``); its hash covers all of those inputs.
    """

    files: dict[str, bytes] = field(default_factory=dict)
    units: dict[str, tuple[bytes, tuple[str, ...]]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # entries of units checked by count
    version: int = MANIFEST_VERSION

    def save(self, path: Path) -> None:
        """Write atomically: a manifest that is half written is never read."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            marshal.dump((self.version, self.files, self.units, self.counts), handle)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none or it is of another version."""
        try:
            # marshal.load(file) reads in small pieces, many times slower than this.
            with open(path, "rb") as handle, gc_paused():
                version, files, units, counts = marshal.loads(handle.read())
        except (OSError, EOFError, ValueError, TypeError):
            return None
        if (version != MANIFEST_VERSION or not isinstance(files, dict)
                or not isinstance(units, dict) or not isinstance(counts, dict)):
            return None
        return cls(files, units, counts, version)


@dataclass(frozen=True)
class Previous:
    """A built tree (the live site, or the spare one) and the manifest that describes it."""

    site_dir: Path
    manifest: Manifest


def _relative(rel: str) -> str:
    """``rel`` as a path below the output folder, refused if it could leave it (fast check)."""
    parts = f"/{rel}/"  # a part that is empty, "." or "..": between two slashes here
    if (rel[:1] in ("", "/") or "\\" in rel or "\0" in rel or "//" in parts or "/./" in parts
            or "/../" in parts):
        raise ValueError(f"unsafe output path: {rel!r}")
    return rel if os.sep == "/" else rel.replace("/", os.sep)


def link_over(source: str, target: str) -> None:
    """Make ``target`` a hard link to ``source``, replacing whatever ``target`` was.

    The replaced file is never written into (it may be linked from the live site): a link is
    made beside it and renamed over it. When the two are already the same inode, rename(2)
    does nothing and succeeds, leaving the temporary name behind: it is removed, so that no
    stray name is ever published.
    """
    try:
        os.link(source, target)
        return
    except FileExistsError:
        if os.path.samefile(source, target):
            return
    tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.lnk"
    os.link(source, tmp)
    try:
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


@dataclass
class Record:
    """What an :class:`Output` did (see :meth:`Output.record`)."""

    states: dict[str, bytes]
    written: set[str]
    changed: set[str]
    created: set[str]
    units: dict[str, tuple[bytes, tuple[str, ...]]]
    linked: int
    kept: int


class Output:
    """A site folder written to by content, remembering the state of every file it produced.

    ``previous``: the live site to link unchanged files from. ``spare``: the manifest of what
    ``site_dir`` already holds (a spare tree), whose unchanged files are kept in place.
    """

    def __init__(self, site_dir: Path, previous: Previous | None = None,
                 spare: Manifest | None = None, stale: set[str] | None = None) -> None:
        self.site_dir = site_dir
        self.previous = previous
        self.spare = spare
        # The spare tree's files that are no longer as ``spare`` recorded them, when a
        # SpareCheck found them already (else each file is checked where it is used).
        self._stale = stale
        self.written: set[str] = set()
        self.changed: set[str] = set()  # files whose bytes were written (not linked, not kept)
        self.linked = 0
        self.kept = 0
        self.created: set[str] = set()  # names this build linked or wrote into the folder
        self.states: dict[str, bytes] = {}
        self.units: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self._root = os.fspath(site_dir)
        self._prefix = os.path.join(self._root, "")
        self._before = os.fspath(previous.site_dir) if previous else ""
        self._dirs: set[str] = set()
        self._lock = threading.Lock()

    def path(self, rel: str) -> Path:
        return self.site_dir.joinpath(*safe_relpath(rel).parts)

    def _mkdir(self, folder: str) -> None:
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)

    def write(self, rel: str, content: bytes | str) -> bool:
        """Put ``content`` at ``rel``; True if bytes were written (not linked, not kept)."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        return self.write_chunks(rel, (data,), digest(data))

    def write_chunks(self, rel: str, chunks: Sequence[bytes], content_digest: bytes) -> bool:
        """:meth:`write` of the bytes of ``chunks`` one after the other, whose :func:`digest`
        the caller made (:func:`digester`, fed chunk by chunk): the largest files are never
        joined in memory (certificates.json is 200 MB at 100,000 records: joined, hashed and
        written whole it took 1.0–1.3 s, in chunks of a few MB that stay in the processor's
        cache 0.8 s, standalone)."""
        local = _relative(rel)
        target = os.path.join(self._root, local)
        new = content_digest
        size = sum(len(chunk) for chunk in chunks)
        with self._lock:
            self.written.add(rel)
        if self._reuse_file(rel, local, new):
            return False
        if self.spare is None:  # a folder written into again (mkdocs serve, --dirty)
            try:
                if os.stat(target).st_size == size:
                    with open(target, "rb") as handle:
                        if digest(handle.read()) == new:
                            self._record(rel, _state(target, new))
                            return False
            except OSError:
                pass
        self._mkdir(os.path.dirname(target))
        state = self._overwrite(rel, target, chunks, size, new)
        if state is not None:
            with self._lock:
                self.changed.add(rel)
                self.created.add(rel)
            self._record(rel, state)
            return True
        try:
            with open(target, "xb") as handle:  # a new file: a new inode, written directly
                handle.writelines(chunks)
                handle.flush()
                state = _fstate(handle.fileno(), new)
        except FileExistsError:
            tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(tmp, "wb") as handle:
                handle.writelines(chunks)
                handle.flush()
                state = _fstate(handle.fileno(), new)
            os.replace(tmp, target)  # never into an existing inode: a linked file is replaced
        with self._lock:
            self.changed.add(rel)
            self.created.add(rel)
        self._record(rel, state)
        return True

    def link_from(self, rel: str, source: str, content_digest: bytes) -> bool:
        """Put the file ``source`` (a finished, never-modified file, e.g. cached artwork whose
        bytes digest to ``content_digest``) at ``rel`` as a hard link: no bytes are copied.
        Copies when the two folders are on different file systems. True if the file is new."""
        local = _relative(rel)
        with self._lock:
            self.written.add(rel)
        if self._reuse_file(rel, local, content_digest):
            return False
        target = os.path.join(self._root, local)
        if self.spare is None:  # a folder written into again: the same link is kept
            try:
                if os.path.samefile(source, target):
                    self._record(rel, _state(target, content_digest))
                    return False
            except OSError:
                pass
        self._mkdir(os.path.dirname(target))
        try:
            link_over(source, target)
        except OSError:  # another file system, or links not allowed: copy the bytes
            with open(source, "rb") as handle:
                data = handle.read()
            with self._lock:
                self.written.discard(rel)
            return self.write(rel, data)
        with self._lock:
            self.changed.add(rel)
            self.created.add(rel)
        self._record(rel, _state(target, content_digest))
        return True

    def _overwrite(self, rel: str, target: str, chunks: Sequence[bytes], length: int,
                   new: bytes) -> bytes | None:
        """Write ``chunks`` (``length`` bytes in all) over the spare tree's own copy of ``rel``,
        in place, and return its state; None when that is not safe. Only a regular file that
        is still exactly the one the spare manifest recorded and that no other tree shares (a
        single link) is written over, so the live site is never written to. On most file
        systems this costs a fraction of a new file and a rename (no inode to allocate, no
        directory entry to change)."""
        recorded = self.spare.files.get(rel) if self.spare is not None else None
        if recorded is None:
            return None
        try:
            fd = os.open(target, os.O_WRONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
        except OSError:
            return None
        try:
            st = os.fstat(fd)
            size, mtime, inode, _digest = FILE_STATE.unpack(recorded)
            if (st.st_nlink != 1 or not stat.S_ISREG(st.st_mode)
                    or (st.st_size, st.st_mtime_ns, st.st_ino) != (size, mtime, inode)):
                return None
            for chunk in chunks:
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            os.ftruncate(fd, length)
            return _fstate(fd, new)
        finally:
            os.close(fd)

    def adopt(self, rel: str, source: Path) -> None:
        """Move the file ``source`` (written by someone else, e.g. mkdocs) to ``rel``."""
        local = _relative(rel)
        data = source.read_bytes()
        new = digest(data)
        with self._lock:
            self.written.add(rel)
        if self._reuse_file(rel, local, new):
            source.unlink()
            return
        target = os.path.join(self._root, local)
        self._mkdir(os.path.dirname(target))
        os.replace(source, target)
        with self._lock:
            self.changed.add(rel)
            self.created.add(rel)
        self._record(rel, _state(target, new))

    def keep_file(self, rel: str, content_digest: bytes) -> bool:
        """Keep the spare tree's ``rel``, or link the live one, if it holds exactly the bytes
        whose digest is ``content_digest`` (then the file need not be made); else False."""
        try:
            local = _relative(rel)
        except ValueError:
            return False
        if self._reuse_file(rel, local, content_digest):
            with self._lock:
                self.written.add(rel)
            return True
        return False

    def keep_files(self, wanted: Iterable[tuple[str, bytes]]) -> set[str]:
        """:meth:`keep_file` for many files: those kept or linked. The spare tree's files are
        checked in one pass (a stat each, the states taken once): at 100,000 records the
        per-file calls cost more than the stats."""
        spare = self.spare.files if self.spare is not None else {}
        kept: dict[str, bytes] = {}
        linked = set()
        for rel, content_digest in wanted:
            state = spare.get(rel)
            if (state is not None and state[-16:] == content_digest  # FILE_STATE ends so
                    and self._in_spare(rel, state)):
                kept[rel] = state
            elif self.keep_file(rel, content_digest):
                linked.add(rel)
        self._kept_all(kept)
        return linked.union(kept)

    def _in_spare(self, rel: str, state: bytes) -> bool:
        """Whether the spare tree's ``rel`` is still what ``state`` (its manifest's record)
        says: from the :class:`SpareCheck` when there was one, else by a stat (called for every
        file of every unchanged unit, 74,000 at 10,000 records: no path join)."""
        if self._stale is not None:
            return rel not in self._stale
        try:
            return self._same(self._prefix + _relative(rel), state)
        except ValueError:
            return False

    def _kept_all(self, kept: dict[str, bytes]) -> None:
        """Take the spare tree's files ``kept`` (path → state) as they are, all at once."""
        with self._lock:
            self.written.update(kept)
            self.states.update(kept)
            self.kept += len(kept)

    def _reuse_file(self, rel: str, local: str, new: bytes) -> bool:
        """Keep the spare tree's ``rel``, or link the live one, if it holds exactly ``new``."""
        if self.spare is not None:
            kept = self.spare.files.get(rel)
            if kept is not None and FILE_STATE.unpack(kept)[3] == new and self._keep(rel, local,
                                                                                    kept):
                return True
        old = self.previous.manifest.files.get(rel) if self.previous else None
        return old is not None and FILE_STATE.unpack(old)[3] == new and self._link(rel, local, old)

    def _record(self, rel: str, state: bytes) -> None:
        with self._lock:
            self.states[rel] = state

    @staticmethod
    def _same(path: str, state: bytes) -> bool:
        try:
            st = os.lstat(path)
        except OSError:
            return False
        size, mtime, inode, _digest = FILE_STATE.unpack(state)
        return st.st_size == size and st.st_mtime_ns == mtime and st.st_ino == inode

    def _keep(self, rel: str, local: str, state: bytes) -> bool:
        """Keep the spare tree's ``rel`` where it is if it is still what was recorded
        (``state``, its manifest's record)."""
        if self._stale is not None:
            if rel in self._stale:
                return False
        elif not self._same(self._prefix + local, state):
            return False
        self._kept_all({rel: state})
        return True

    def _link(self, rel: str, local: str, state: bytes) -> bool:
        """Hard-link the live site's ``rel`` into place if it is still what was recorded."""
        source = os.path.join(self._before, local)
        target = os.path.join(self._root, local)
        if not self._same(source, state):
            return False
        try:
            self._mkdir(os.path.dirname(target))
            link_over(source, target)
        except OSError:
            return False
        with self._lock:
            self.written.add(rel)
            self.created.add(rel)
            self.states[rel] = state
            self.linked += 1
        return True

    def reuse(self, unit: str, inputs: bytes) -> tuple[str, ...] | None:
        """Keep or link every file of ``unit`` if its input hash is unchanged.

        The spare tree's copy is kept in place if it is complete, else the live site's is
        linked. Returns the unit's files, or None when the unit must be rendered.
        """
        for source in (self.spare, self.previous.manifest if self.previous else None):
            if source is None:
                continue
            recorded = source.units.get(unit)
            if recorded is None or recorded[0] != inputs:
                continue
            files = recorded[1]
            use = self._keep if source is self.spare else self._link
            done: list[str] = []
            for rel in files:
                state = source.files.get(rel)
                try:
                    local = _relative(rel)
                except ValueError:
                    state = None
                if state is None or not use(rel, local, state):
                    self._forget(done)
                    break
                done.append(rel)
            else:
                self.unit(unit, inputs, files)
                return files
        return None

    def reuse_units(self, wanted: Iterable[tuple[str, bytes]]) -> list[str]:
        """:meth:`reuse` for many units: those that must be rendered. The spare tree's units
        are checked in one pass (a stat of each file, the states taken once): at 100,000
        certificates the per-file calls, or a worker's report of 300,000 states, cost more
        than the stats."""
        units = self.spare.units if self.spare is not None else {}
        files = self.spare.files if self.spare is not None else {}
        kept: dict[str, bytes] = {}
        reused: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        missing = []
        for unit, inputs in wanted:
            recorded = units.get(unit)
            if recorded is not None and recorded[0] == inputs:
                states: dict[str, bytes] = {}
                for rel in recorded[1]:
                    state = files.get(rel)
                    if state is None or not self._in_spare(rel, state):
                        break
                    states[rel] = state
                else:
                    kept.update(states)
                    reused[unit] = recorded
                    continue
            if self.reuse(unit, inputs) is None:  # the live site's, linked
                missing.append(unit)
        self._kept_all(kept)
        with self._lock:
            self.units.update(reused)
        return missing

    def _forget(self, rels: Iterable[str]) -> None:
        """Undo keeping or linking ``rels`` (a unit that turned out incomplete is rendered)."""
        with self._lock:
            for rel in rels:
                self.written.discard(rel)
                self.states.pop(rel, None)

    def unit(self, unit: str, inputs: bytes, files: Iterable[str]) -> None:
        """Record that ``files`` were made from inputs whose hash is ``inputs``."""
        with self._lock:
            self.units[unit] = (inputs, tuple(files))

    def keep_units(self, prefix: str, files: Iterable[str]) -> None:
        """Record again the units named ``prefix``… of the manifests this build reuses from
        whose files are all among ``files`` (those of a unit reused whole, kept or linked with
        it): the next build knows them, although nothing made them this time."""
        held = set(files)
        for source in (self.spare, self.previous.manifest if self.previous else None):
            if source is None:
                continue
            for unit, (inputs, rels) in source.units.items():
                if unit.startswith(prefix) and unit not in self.units and held.issuperset(rels):
                    self.unit(unit, inputs, rels)

    def add_units(self, units: Mapping[str, tuple[bytes, tuple[str, ...]]]) -> None:
        """:meth:`unit` for many units at once (unit → its inputs' hash and its files)."""
        with self._lock:
            self.units.update(units)

    def record(self) -> Record:
        """What this output did, to send from a worker process to the parent's output."""
        return Record(self.states, self.written, self.changed, self.created, self.units,
                      self.linked, self.kept)

    def merge(self, other: Record) -> None:
        """Take in what another output (a worker process's) did in the same folder."""
        with self._lock:
            self.states.update(other.states)
            self.written.update(other.written)
            self.changed.update(other.changed)
            self.created.update(other.created)
            self.units.update(other.units)
            self.linked += other.linked
            self.kept += other.kept

    def claim(self, rel: str) -> None:
        """Record that ``rel`` belongs to this build although it was written by someone else."""
        with self._lock:
            self.written.add(rel)

    def digest_of(self, rel: str) -> bytes:
        """The content digest of a file this output holds."""
        return FILE_STATE.unpack(self.states[rel])[3]

    def manifest(self, counts: dict[str, int] | None = None) -> Manifest:
        """The manifest of what this output holds now (for the next build)."""
        return Manifest(dict(self.states), dict(self.units), dict(counts or {}))

    def sweep(self) -> list[str]:
        """Remove what the spare tree held, or this build put in, that this build did not
        produce (stale certificates, artwork of suspended ones, units rendered afresh)."""
        held = set(self.spare.files) if self.spare else set()
        stale = sorted((held | self.created) - self.written)
        folders: set[str] = set()
        for rel in stale:
            path = os.path.join(self._root, _relative(rel))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            folders.add(os.path.dirname(path))
        for folder in sorted(folders, key=len, reverse=True):
            while folder != self._root and folder.startswith(self._root):
                try:
                    os.rmdir(folder)
                except OSError:
                    break
                folder = os.path.dirname(folder)
        return stale

    def prune(self, owned: Iterable[str], keep: Iterable[str] = ()) -> list[str]:
        """Remove files under the ``owned`` folders that this build neither wrote nor keeps."""
        kept = set(keep)
        removed = []
        for prefix in owned:
            base = self.path(prefix)
            if not base.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(base, topdown=False):
                for name in files:
                    full = Path(dirpath) / name
                    rel = full.relative_to(self.site_dir).as_posix()
                    if rel not in self.written and rel not in kept:
                        full.unlink()
                        removed.append(rel)
                if not os.listdir(dirpath):
                    os.rmdir(dirpath)
        return sorted(removed)


class SpareCheck:
    """Which files of the spare tree are no longer what its manifest recorded (changed or
    gone), found by a forked process while this one loads the registry.

    A build keeps every file of every unchanged unit only after comparing its stat with the
    manifest's record. At 100,000 certificates that is 300,000 stats (4 µs each on a virtual
    machine's disk, 2 s with the Python around them) on the build's critical path, while the
    second core has nothing to do during the load. The check is the same comparison, made a few
    seconds earlier; the build's writes into the spare tree all come after it.
    """

    def __init__(self, site_dir: Path, manifest: Manifest) -> None:
        self.manifest = manifest  # what it checks the files against
        self._forked = Forked(_stale_files, os.fspath(site_dir), manifest.files)
        self._stale: set[str] | None = None

    def stale(self) -> set[str] | None:
        """The stale files (waiting for the check if it is still running); None when the check
        did not finish (then every file is checked where it is used)."""
        if self._stale is None:
            found = self._forked.result()
            self._stale = set(found) if isinstance(found, list) else None
        return self._stale

    def close(self) -> None:
        """Stop the check (a build that failed does not wait for it)."""
        self._forked.close()


def _stale_files(root: str, files: dict[str, bytes]) -> list[str]:
    """In the :class:`SpareCheck`'s process: the paths of ``files`` (under ``root``) whose stat
    is no longer the recorded one."""
    prefix = os.path.join(root, "")
    same = Output._same
    stale = []
    for rel, state in files.items():
        try:
            if same(prefix + _relative(rel), state):
                continue
        except ValueError:
            pass
        stale.append(rel)
    return stale
