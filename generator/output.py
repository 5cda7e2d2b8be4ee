"""Write build outputs by content, reusing the previous site's files where nothing changed.

Every renderer writes through :class:`Output`, so a build knows every file it produced and the
digest of each. The build records them in a :class:`Manifest` kept in the cache folder. The next
build, which writes into a fresh temporary folder, hard-links a file from the previous (live)
site instead of writing it when the bytes are the same, and a whole *unit* (one certificate's
page, feed and artwork; a listing; the search index) without rendering it at all when the hash
of the unit's inputs is the one recorded.

The live site is never written to: a file is created beside its target and renamed over it, so a
hard-linked file is replaced, never modified in place. A previous file is linked only when its
size, modification time and inode are still the ones recorded, so a site changed behind the
build's back is rendered afresh rather than trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import struct
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MANIFEST_VERSION = 1
# A file as the manifest records it: size, mtime (ns), inode, blake2b-128 digest of the bytes.
FILE_STATE = struct.Struct("<QqQ16s")


def safe_relpath(rel: str) -> PurePosixPath:
    """Refuse any output path that could leave the output folder."""
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or "\\" in rel:
        raise ValueError(f"unsafe output path: {rel!r}")
    return path


def digest(data: bytes) -> bytes:
    """The content digest recorded for every output file."""
    return hashlib.blake2b(data, digest_size=16).digest()


def _state(path: str, content_digest: bytes) -> bytes:
    st = os.lstat(path)
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
            pickle.dump((self.version, self.files, self.units, self.counts), handle, protocol=5)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: Path) -> Manifest | None:
        """The manifest at ``path``, or None when there is none or it is of another version."""
        try:
            with open(path, "rb") as handle:
                version, files, units, counts = pickle.load(handle)
        except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError):
            return None
        if version != MANIFEST_VERSION:
            return None
        return cls(files, units, counts, version)


@dataclass(frozen=True)
class Previous:
    """The live site of the previous build and the manifest that describes it."""

    site_dir: Path
    manifest: Manifest


def _relative(rel: str) -> str:
    """``rel`` as a path below the output folder, refused if it could leave it (fast check)."""
    if not rel or rel[0] == "/" or "\\" in rel or "\0" in rel or any(
            part in ("", ".", "..") for part in rel.split("/")):
        raise ValueError(f"unsafe output path: {rel!r}")
    return rel if os.sep == "/" else rel.replace("/", os.sep)


class Output:
    """A site folder written to by content, remembering the state of every file it produced."""

    def __init__(self, site_dir: Path, previous: Previous | None = None) -> None:
        self.site_dir = site_dir
        self.previous = previous
        self.written: set[str] = set()
        self.changed: set[str] = set()  # files whose bytes were written (not linked, not kept)
        self.linked = 0
        self.states: dict[str, bytes] = {}
        self.units: dict[str, tuple[bytes, tuple[str, ...]]] = {}
        self._root = os.fspath(site_dir)
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
        local = _relative(rel)
        target = os.path.join(self._root, local)
        new = digest(data)
        with self._lock:
            self.written.add(rel)
        old = self.previous.manifest.files.get(rel) if self.previous else None
        if old is not None and FILE_STATE.unpack(old)[3] == new and self._link(rel, local, old):
            return False
        try:
            if os.stat(target).st_size == len(data):
                with open(target, "rb") as handle:
                    if digest(handle.read()) == new:
                        self._record(rel, _state(target, new))
                        return False
        except OSError:
            pass
        self._mkdir(os.path.dirname(target))
        tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)  # never into an existing inode: a linked file is replaced
        with self._lock:
            self.changed.add(rel)
        self._record(rel, _state(target, new))
        return True

    def _record(self, rel: str, state: bytes) -> None:
        with self._lock:
            self.states[rel] = state

    def _link(self, rel: str, local: str, state: bytes) -> bool:
        """Hard-link the previous build's ``rel`` into place if it is still what was recorded."""
        source = os.path.join(self._before, local)
        target = os.path.join(self._root, local)
        try:
            st = os.lstat(source)
            size, mtime, inode, _digest = FILE_STATE.unpack(state)
            if (st.st_size, st.st_mtime_ns, st.st_ino) != (size, mtime, inode):
                return False
            self._mkdir(os.path.dirname(target))
            try:
                os.link(source, target)
            except FileExistsError:
                tmp = f"{target}.{os.getpid()}.{threading.get_ident()}.lnk"
                os.link(source, tmp)
                os.replace(tmp, target)
        except OSError:
            return False
        with self._lock:
            self.written.add(rel)
            self.states[rel] = state
            self.linked += 1
        return True

    def reuse(self, unit: str, inputs: bytes) -> tuple[str, ...] | None:
        """Link every file of ``unit`` from the previous build if its input hash is unchanged.

        Returns the files linked, or None (nothing linked) when the unit must be rendered.
        """
        if self.previous is None:
            return None
        recorded = self.previous.manifest.units.get(unit)
        if recorded is None or recorded[0] != inputs:
            return None
        files = recorded[1]
        states = self.previous.manifest.files
        done: list[str] = []
        for rel in files:
            state = states.get(rel)
            try:
                local = _relative(rel)
            except ValueError:
                state = None
            if state is None or not self._link(rel, local, state):
                for linked in done:  # all or nothing: a re-render writes the unit anew
                    with contextlib.suppress(OSError):
                        os.unlink(os.path.join(self._root, _relative(linked)))
                    with self._lock:
                        self.written.discard(linked)
                        self.states.pop(linked, None)
                        self.linked -= 1
                return None
            done.append(rel)
        self.unit(unit, inputs, files)
        return files

    def unit(self, unit: str, inputs: bytes, files: Iterable[str]) -> None:
        """Record that ``files`` were made from inputs whose hash is ``inputs``."""
        with self._lock:
            self.units[unit] = (inputs, tuple(files))

    def merge(self, states: dict[str, bytes], changed: Iterable[str], linked: int) -> None:
        """Take in what a worker process wrote into the same folder."""
        with self._lock:
            self.states.update(states)
            self.written.update(states)
            self.changed.update(changed)
            self.linked += linked

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
