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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import pickle
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeGuard

from .. import data, history, source
from .. import schema as schema_mod
from ..model import Certificate, Registry
from ..output import read_cache, write_cache

CERTIFICATES = "certificates"
CACHE_FOLDER = "log"  # under the build's cache folder
COMMITS_FORMAT = 1


@dataclass(frozen=True)
class Growth:
    """A commit after which the log had ``size`` leaves."""

    size: int
    commit: str
    time: dt.datetime


@dataclass
class Log:
    """The leaves in order: each the canonical JSON of one version of one record."""

    entries: list[bytes] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    latest: dict[str, int] = field(default_factory=dict)  # number → its current version's leaf
    growth: list[Growth] = field(default_factory=list)

    def append(self, number: str, entry: bytes) -> bool:
        """Add ``entry`` as ``number``'s next version unless it is its latest already."""
        at = self.latest.get(number)
        if at is not None and self.entries[at] == entry:
            return False
        self.latest[number] = len(self.entries)
        self.entries.append(entry)
        self.numbers.append(number)
        return True


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


def _history(root: Path, cache_dir: Path | None = None
             ) -> Iterator[tuple[str, dt.datetime, list[tuple[str, str]]]]:
    """:func:`_commits` of ``HEAD``, with the time as a datetime. With ``cache_dir``, what the
    last build read is kept with the commit it read to: when that commit is on ``HEAD``'s
    first-parent line, only the commits after it are read (the whole history of 100,000
    records is 0.8 s to read); any other history is read whole."""
    head = _git(root, "rev-parse", "--verify", "-q", "HEAD")
    head_id = head.decode().strip() if head else ""
    path = cache_dir / CACHE_FOLDER / "commits.marshal" if cache_dir and head_id else None
    stored = read_cache(path, COMMITS_FORMAT)
    known, upto = stored.get("commits"), stored.get("head")
    where = str(root.resolve())
    found: list[Commit] | None = None
    if _is_history(known) and isinstance(upto, str) and stored.get("root") == where:
        if upto == head_id:
            found = known
        else:
            line = _git(root, "rev-list", "--first-parent", "HEAD")
            if line is not None and upto.encode() in line.split():
                more = _commits(root, upto)
                found = None if more is None else known + more
    if found is None:
        found = _commits(root) or []
    if path is not None and found is not known:
        write_cache(path, COMMITS_FORMAT, {"root": where, "head": head_id, "commits": found})
    for commit, seconds, changed in found:
        yield commit, dt.datetime.fromtimestamp(seconds, tz=dt.UTC), changed


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
    registry: Registry, current: dict[str, bytes], cache_dir: Path | None = None
) -> Log:
    """The log of ``registry``: its git history, then ``current`` (number → the leaf of the
    record as it is now)."""
    root = registry.settings.root
    schema = registry.settings.schema
    log = Log()
    commits = list(_history(root, cache_dir))
    cache = _EntryCache(cache_dir, schema)
    missing = sorted({blob for _, _, changed in commits for _, blob in changed} - set(cache.known))
    if missing:
        contents = _blobs(root, missing)
        for blob in missing:
            raw = contents.get(blob)
            entry = None if raw is None else version_entry(raw, blob, schema)
            cache.add(blob, None if entry is None else (number_of(entry), entry))
    cache.save(bool(missing))
    for commit, time, changed in commits:
        grew = False
        for _path, blob in changed:
            known = cache.known.get(blob)
            if known is not None:
                grew |= log.append(*known)
        if grew:
            log.growth.append(Growth(len(log.entries), commit, time))
    for number in sorted(current):
        log.append(number, current[number])
    return log


# In canonical JSON the top-level "number" is a plain string between two members.
NUMBER_KEY = re.compile(rb'[{,]"number":"([A-Za-z0-9-]+)"[,}]')


def number_of(entry: bytes) -> str:
    """The certificate number of a leaf (its canonical JSON has it as a top-level key)."""
    found = NUMBER_KEY.search(entry)
    return found.group(1).decode() if found else str(json.loads(entry)["number"])
