"""The log's state: every version of every record ever published, in order, from git history.

The registry's records live in git, and main's history is their append-only record: CI builds
from a clone with the whole history. So the log is not stored anywhere; every build derives it
again, the same way, from the commits of ``HEAD`` along their first parents, oldest first:

* each commit appends, for each record file it added or changed (by path), the record as it
  then read (the canonical JSON of ``record``, as published) unless it equals that record's
  latest version in the log (a change of comments or layout appends nothing);
* then the working tree's records append the same way, in number order (a build with
  uncommitted changes, or of a folder outside git, which gives the current records in number
  order).

A version that does not read as a record under the current schema is not a version (it could
never have been published). Rewriting main's history (an amended, dropped or reordered commit,
a force-push) changes the leaves, so the next checkpoint is not an extension of the ones
before: ``starmark verify --since OLD`` and every monitor holding an old checkpoint see it.
Each commit that grew the log gets a tree head signed at its commit time (``checkpoints/``),
derived again by every build, so every tree head stays published.

What a build read of git is kept in its cache folder (``log/``): the commits up to the one it
read to, and what each blob reads as. The next build reads only the commits after that one when
it is on ``HEAD``'s first-parent line, and the whole history otherwise (a rewrite included).

The log the commits made is kept there too (``state.marshal``: the numbers, the latest leaf of
each, the growth, the tree's levels and the entries of its last, partial bundle), with the
commit it ends at. When that commit is on ``HEAD``'s first-parent line, the next build appends
the commits after it to that log instead of deriving it again (at 100,000 records: the entries
of every version are then not read, nor their leaves and the tree hashed again). Any other
history, or a kept state that does not read back, is derived whole, as above.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

from .. import data, history, source
from .. import schema as schema_mod
from ..model import Certificate, Registry
from ..output import read_cache, write_cache
from .tiles import WIDTH
from .tree import MerkleTree, leaf_hash

CERTIFICATES = "certificates"
CACHE_FOLDER = "log"  # under the build's cache folder
COMMITS_FORMAT = 1
STATE_FORMAT = 1


@dataclass(frozen=True)
class Growth:
    """A commit after which the log had ``size`` leaves."""

    size: int
    commit: str
    time: dt.datetime


@dataclass
class Log:
    """The leaves in order: each the canonical JSON of one version of one record (None where
    this build did not read it: the log was appended to a kept state, see :func:`derive`)."""

    entries: list[bytes | None] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    latest: dict[str, int] = field(default_factory=dict)  # number → its current version's leaf
    growth: list[Growth] = field(default_factory=list)
    leaves: list[bytes] = field(default_factory=list)  # each entry's leaf hash
    # The levels of the tree over the first len(levels[0]) leaves, when known (see tree()).
    levels: list[list[bytes]] | None = None

    def append(self, number: str, entry: bytes, leaf: bytes | None = None) -> bool:
        """Add ``entry`` (whose leaf hash is ``leaf``, when known) as ``number``'s next version
        unless it is its latest already (the same leaf hash: the same bytes)."""
        at = self.latest.get(number)
        if leaf is None or (at is not None and self.leaves[at] != leaf):
            leaf = leaf_hash(entry)  # what is appended is hashed here, whatever was given
        if at is not None and self.leaves[at] == leaf:
            return False
        self.latest[number] = len(self.entries)
        self.entries.append(entry)
        self.numbers.append(number)
        self.leaves.append(leaf)
        return True

    def tree(self) -> MerkleTree:
        """The RFC 6962 tree over the leaves (grown from :attr:`levels` when known)."""
        if self.levels is None:
            return MerkleTree(self.leaves)
        return MerkleTree.grown(self.levels, self.leaves[len(self.levels[0]):])


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    try:
        return history.git(root, *args, stdin=stdin)
    except history.GitError:
        return None


Commit = tuple[str, int, list[tuple[str, str]]]  # id, commit time (Unix), (path, blob) changed


def _commits(root: Path, since: str | None = None) -> list[Commit] | None:
    """(commit, time, [(path, blob)] of record files added or changed), oldest first: of
    ``HEAD`` along its first parents, after ``since`` when given. None when git cannot tell."""
    out = _git(
        root,
        "log",
        "--first-parent",
        "--reverse",
        "--root",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--diff-merges=first-parent",
        "--relative",
        "--format=%x01%H %ct",
        *([f"{since}..HEAD"] if since else []),
        "--",
        CERTIFICATES,
    )
    if out is None:
        return None
    found = []
    for chunk in out.decode("utf-8", "replace").split("\x01")[1:]:
        lines = chunk.split("\n")
        commit, seconds = lines[0].split(" ")
        changed = []
        for line in lines[1:]:
            if not line.startswith(":"):
                continue
            meta, path = line.split("\t", 1)
            fields = meta.split(" ")
            if fields[4] != "D" and path.endswith(".yaml"):
                changed.append((path, fields[3]))
        found.append((commit, int(seconds), sorted(changed)))
    return found


def _head(root: Path) -> str:
    """The id of ``HEAD``, or "" when git cannot tell."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    return head.decode().strip() if head else ""


def _commits_since(root: Path, upto: str, head: str) -> list[Commit] | None:
    """:func:`_commits` after ``upto`` (none when it is ``head``); None when ``upto`` is not on
    ``HEAD``'s first-parent line (a rewritten or another history) or git cannot tell."""
    if upto == head:
        return []
    line = _git(root, "rev-list", "--first-parent", "HEAD")
    if line is None or upto.encode() not in line.split():
        return None
    return _commits(root, upto)


def _history(root: Path, cache_dir: Path | None = None) -> tuple[str, list[Commit]]:
    """``HEAD`` and :func:`_commits` of it. With ``cache_dir``, what the last build read is
    kept with the commit it read to: when that commit is on ``HEAD``'s first-parent line, only
    the commits after it are read (the whole history of 100,000 records is 0.8 s to read); any
    other history is read whole."""
    head_id = _head(root)
    path = cache_dir / CACHE_FOLDER / "commits.marshal" if cache_dir and head_id else None
    stored = read_cache(path, COMMITS_FORMAT)
    known, upto = stored.get("commits"), stored.get("head")
    where = str(root.resolve())
    found: list[Commit] | None = None
    if _is_history(known) and isinstance(upto, str) and stored.get("root") == where:
        more = _commits_since(root, upto, head_id)
        if more is not None:
            found = known + more if more else known  # the same list: not written again
    if found is None:
        found = _commits(root) or []
    if path is not None and found is not known:
        write_cache(path, COMMITS_FORMAT, {"root": where, "head": head_id, "commits": found})
    return head_id, found


def _append_commits(log: Log, commits: list[Commit],
                    known: Mapping[str, tuple[str, bytes] | None]) -> None:
    """Append each commit's versions (``known``: blob → its number and leaf, None when it does
    not read as a record) to ``log``, and the commits that grew it to its growth."""
    for commit, seconds, changed in commits:
        grew = False
        for _path, blob in changed:
            found = known.get(blob)
            if found is not None:
                grew |= log.append(*found)
        if grew:
            log.growth.append(Growth(len(log.entries), commit,
                                     dt.datetime.fromtimestamp(seconds, tz=dt.UTC)))


def _is_history(value: object) -> TypeGuard[list[Commit]]:
    """Whether a cached value has the shape of :func:`_commits`' answer."""
    return isinstance(value, list) and all(
        type(c) is tuple and len(c) == 3 and type(c[0]) is str and type(c[1]) is int
        and type(c[2]) is list and all(
            type(x) is tuple and len(x) == 2 and type(x[0]) is str and type(x[1]) is str
            for x in c[2]) for c in value)


def _blobs(root: Path, shas: list[str]) -> dict[str, bytes]:
    """The contents of git blobs, read in one ``git cat-file --batch``."""
    if not shas:
        return {}
    out = _git(root, "cat-file", "--batch", stdin="".join(s + "\n" for s in shas).encode())
    found: dict[str, bytes] = {}
    at = 0
    while out is not None and at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].split(b" ")
        at = end + 1
        if len(header) != 3:
            continue
        size = int(header[2])
        found[header[0].decode()] = out[at : at + size]
        at += size + 1
    return found


def version_entry(raw: bytes, display: str, schema: dict[str, object]) -> bytes | None:
    """The leaf of one record file's bytes (canonical JSON of ``record``), or None when they
    do not read as a record under ``schema``."""
    try:
        doc, problems = source.parse_text(raw.decode("utf-8"), display)
    except UnicodeDecodeError:
        return None
    if doc is None or problems:
        return None
    typed = schema_mod.check(doc, schema)  # type: ignore[arg-type]
    if typed.data is None or typed.problems:
        return None
    try:
        cert = Certificate.from_data(typed.data, display)
        return data.canonical_json(data.record_dict(cert))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


class _EntryCache:
    """Blob id → the number and leaf it reads as, kept between builds (the same schema and code
    read a blob the same). What later builds add goes to a second, small file until it is a
    tenth of the first: a build that adds one version does not write every version again."""

    def __init__(self, cache_dir: Path | None, schema: dict[str, object]) -> None:
        self.path: Path | None = None
        self.known: dict[str, tuple[str, bytes] | None] = {}
        self.more: dict[str, tuple[str, bytes] | None] = {}  # what the second file holds
        if cache_dir is None:
            return
        key = hashlib.blake2b(digest_size=12)
        key.update(repr(sorted(schema.items())).encode())
        for name in ("log.py", "../data.py", "../model.py", "../schema.py", "../source.py"):
            key.update((Path(__file__).parent / name).read_bytes())
        self.path = cache_dir / CACHE_FOLDER / f"{key.hexdigest()}.pickle"
        self.known = self._read(self.path)
        self.has_base = bool(self.known)  # else the next save writes it
        if self.has_base:
            self.more = self._read(self._more_path(self.path))
            self.known.update(self.more)

    @staticmethod
    def _more_path(path: Path) -> Path:
        return path.with_name(f"{path.stem}.more.pickle")

    @staticmethod
    def _read(path: Path) -> dict[str, tuple[str, bytes] | None]:
        try:
            with open(path, "rb") as handle:
                loaded = pickle.load(handle)
        except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError):
            return {}
        if not isinstance(loaded, dict):
            return {}
        # What is of another shape is read again.
        return {blob: known for blob, known in loaded.items() if known is None or (
            type(known) is tuple and len(known) == 2 and type(known[0]) is str
            and type(known[1]) is bytes)}

    def add(self, blob: str, known: tuple[str, bytes] | None) -> None:
        self.known[blob] = self.more[blob] = known

    def save(self, added: bool) -> None:
        if self.path is None or not added:
            return
        more = self._more_path(self.path)
        small = len(self.more) <= max(1000, len(self.known) // 10)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            for old in self.path.parent.glob("*.pickle"):
                if old not in (self.path, more):
                    old.unlink(missing_ok=True)
            target, content = (more, self.more) if small and self.has_base else (
                self.path, self.known)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                pickle.dump(content, handle, protocol=5)
            os.replace(tmp, target)
            if target == self.path:
                more.unlink(missing_ok=True)
        except OSError:
            pass


def derive(
    registry: Registry, current: dict[str, bytes], cache_dir: Path | None = None,
    keys: Mapping[str, bytes] | None = None, *, resume: bool = True,
) -> Log:
    """The log of ``registry``: its git history, then ``current`` (number → the leaf of the
    record as it is now). With ``cache_dir``, the log of the commits is appended to the one the
    last build kept, when ``resume`` and its history goes on (see the module's docstring).
    ``keys``: number → a digest of everything the record's leaf is made from (the open data's
    key, :func:`generator.data.prepare`): a leaf hash made before under the same key is not
    made again."""
    root = registry.settings.root
    schema = registry.settings.schema
    kept = _KeptState(cache_dir, schema, root) if cache_dir is not None else None
    log = kept.resume() if kept is not None and resume else None
    if log is None:
        head, log = _derive_commits(root, schema, cache_dir)
        log.levels = MerkleTree(log.leaves).levels
        if kept is not None:
            kept.save(log, head)
    memo = _LeafMemo(cache_dir)
    for number in sorted(current):
        entry = current[number]
        key = keys.get(number) if keys is not None else None
        log.append(number, entry, memo.leaf(key, entry))
    memo.save()
    return log


def _derive_commits(root: Path, schema: dict[str, object],
                    cache_dir: Path | None) -> tuple[str, Log]:
    """``HEAD`` and the log of its first-parent history, derived whole."""
    log = Log()
    head, commits = _history(root, cache_dir)
    cache = _EntryCache(cache_dir, schema)
    missing = sorted({blob for _, _, changed in commits for _, blob in changed} - set(cache.known))
    if missing:
        contents = _blobs(root, missing)
        for blob in missing:
            raw = contents.get(blob)
            entry = None if raw is None else version_entry(raw, blob, schema)
            cache.add(blob, None if entry is None else (number_of(entry), entry))
    cache.save(bool(missing))
    _append_commits(log, commits, cache.known)
    return head, log


class _KeptState:
    """The log of the commits, kept between builds with the commit it ends at (under the same
    schema, code and registry folder: else another state)."""

    def __init__(self, cache_dir: Path, schema: dict[str, object], root: Path) -> None:
        key = hashlib.blake2b(digest_size=12)
        key.update(repr(sorted(schema.items())).encode() + b"\0" + str(root.resolve()).encode())
        for name in ("log.py", "tree.py", "../data.py", "../model.py", "../schema.py",
                     "../source.py"):
            key.update((Path(__file__).parent / name).read_bytes())
        self.path = cache_dir / CACHE_FOLDER / "state.marshal"
        self.key = key.hexdigest()
        self.root = root
        self.schema = schema

    def resume(self) -> Log | None:
        """The kept log with the commits after its own appended; None when there is none, it
        does not read back, or its commit is not on ``HEAD``'s first-parent line."""
        stored = read_cache(self.path, STATE_FORMAT)
        log = self._read(stored) if stored.get("key") == self.key else None
        if log is None:
            return None
        upto, head = stored["head"], _head(self.root)
        commits = _commits_since(self.root, upto, head) if head else None
        if commits is None:
            return None
        if upto == head:
            return log
        blobs = sorted({blob for _, _, changed in commits for _, blob in changed})
        contents = _blobs(self.root, blobs)
        known = {}
        for blob in blobs:
            entry = version_entry(contents[blob], blob, self.schema) if blob in contents else None
            known[blob] = None if entry is None else (number_of(entry), entry)
        size = len(log.leaves)
        _append_commits(log, commits, known)
        assert log.levels is not None
        log.levels = MerkleTree.grown(log.levels, log.leaves[size:]).levels
        self.save(log, head)
        return log

    def _read(self, stored: dict[object, object]) -> Log | None:
        """The kept log, if every part of it has its shape; else None."""
        numbers, latest, growth = stored.get("numbers"), stored.get("latest"), stored.get("growth")
        levels, tail, head = stored.get("levels"), stored.get("tail"), stored.get("head")
        if not (isinstance(numbers, list) and isinstance(latest, dict)
                and isinstance(growth, list) and isinstance(levels, list) and levels
                and isinstance(tail, list) and isinstance(head, str)):
            return None
        size = len(numbers)
        widths = [size]
        while widths[-1] > 1:
            widths.append((widths[-1] + 1) // 2)
        # (Checked with map: 300,000 values at 100,000 records.)
        if ([len(level) if isinstance(level, list) else -1 for level in levels] != widths
                or len(tail) != size % WIDTH
                or not set(map(type, numbers)) <= {str}
                or not all(set(map(type, level)) <= {bytes} and set(map(len, level)) <= {32}
                           for level in levels)
                or not set(map(type, tail)) <= {bytes}
                or not set(map(type, latest)) <= {str}
                or not set(map(type, latest.values())) <= {int}
                or (latest and not 0 <= min(latest.values()) <= max(latest.values()) < size)
                or not all(map(str.__eq__, map(numbers.__getitem__, latest.values()), latest))
                or not all(type(g) is tuple and len(g) == 3 and type(g[0]) is int
                           and type(g[1]) is str and type(g[2]) is int for g in growth)):
            return None
        entries: list[bytes | None] = [None] * (size - len(tail))
        return Log(entries + tail, list(numbers), dict(latest),
                   [Growth(n, c, dt.datetime.fromtimestamp(t, tz=dt.UTC)) for n, c, t in growth],
                   list(levels[0]), levels)

    def save(self, log: Log, head: str) -> None:
        """Keep ``log``, the log of the commits up to ``head``."""
        size = len(log.leaves)
        tail = log.entries[size - size % WIDTH:]
        if not head or log.levels is None or any(e is None for e in tail):
            return
        write_cache(self.path, STATE_FORMAT, {
            "key": self.key, "head": head, "numbers": log.numbers, "latest": log.latest,
            "growth": [(g.size, g.commit, int(g.time.timestamp())) for g in log.growth],
            "levels": log.levels, "tail": tail,
        })


class _LeafMemo:
    """The leaf hash of each record as it is now, by its open-data key (see :func:`derive`),
    kept between builds: the records' 100,000 leaves are not hashed again every build."""

    FORMAT = 1

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = cache_dir / CACHE_FOLDER / "leaves.marshal" if cache_dir else None
        self.old: dict[bytes, bytes] = read_cache(self.path, self.FORMAT)
        self.used: dict[bytes, bytes] = {}

    def leaf(self, key: bytes | None, entry: bytes) -> bytes:
        if key is None:
            return leaf_hash(entry)
        found = self.old.get(key)
        if not (type(found) is bytes and len(found) == 32):
            found = leaf_hash(entry)
        self.used[key] = found
        return found

    def save(self) -> None:
        if self.path is not None and self.used and self.used.keys() != self.old.keys():
            write_cache(self.path, self.FORMAT, self.used)


# In canonical JSON the top-level "number" is a plain string between two members.
NUMBER_KEY = re.compile(rb'[{,]"number":"([A-Za-z0-9-]+)"[,}]')


def number_of(entry: bytes) -> str:
    """The certificate number of a leaf (its canonical JSON has it as a top-level key)."""
    found = NUMBER_KEY.search(entry)
    return found.group(1).decode() if found else str(json.loads(entry)["number"])
