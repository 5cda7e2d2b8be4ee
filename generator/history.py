"""Facts that only git knows: when each record last changed, and whether a change kept history.

A certificate's record is append-only history. Compared with a base revision, a proposed change
may add records, append audits and events, and change current fields, but it may not delete a
record, change a certificate number, or rewrite or remove a past audit or event.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import pickle
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from . import load, source
from .errors import Problem

CERTIFICATES = load.CERTIFICATES_DIR
SUFFIX = load.RECORD_SUFFIX
HISTORY_LISTS = (("audits", "audit"), ("events", "event"))
_COMMIT = "\x01"  # starts each commit's line in the git log output of last_changed


class GitError(Exception):
    """git is missing, the folder is not a repository, or a revision does not exist."""


def git(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """The output of ``git args`` run in ``root``; GitError when it fails or git is missing."""
    try:
        done = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=stdin,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(message[-1] if message else f"git {args[0]} failed")
    return done.stdout


def last_changed(root: Path, cache_dir: Path | None = None) -> dict[str, dt.date]:
    """Each record's path relative to ``root`` → the day of the last commit that touched it.

    One ``git log`` over certificates/ (fast at 100k records). Empty when git is missing or
    ``root`` is not in a repository; a record never committed is absent (callers fall back to
    the record's last event date). A shallow clone knows only its own commits: CI must fetch
    the full history (``fetch-depth: 0``) for these dates to be true.

    With ``cache_dir``, the answer is kept for the commit checked out (and the shallow
    boundary, if any, and this module's code): while HEAD stays, git is asked only which
    commit that is; when HEAD moved on along a line of commits without merges, only the new
    commits are read.
    """
    if cache_dir is None:
        return _log_dates(root)
    try:
        head, shallow_path = git(root, "rev-parse", "HEAD", "--git-path", "shallow").decode(
            "utf-8", "replace").splitlines()[:2]
    except (GitError, ValueError):
        return _log_dates(root)
    try:
        shallow = (root / shallow_path).read_bytes()
    except OSError:
        shallow = b""
    key = hashlib.blake2b(digest_size=12)
    for part in (Path(__file__).read_bytes(), str(root.resolve()).encode(), shallow):
        key.update(len(part).to_bytes(8, "little") + part)
    path = cache_dir / "history" / f"{key.hexdigest()}.pickle"
    before: tuple[str, dict[str, dt.date]] | None = None
    try:
        with open(path, "rb") as handle:
            stored = pickle.load(handle)
        if (isinstance(stored, tuple) and len(stored) == 2 and isinstance(stored[0], str)
                and isinstance(stored[1], dict)):
            before = stored
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            ImportError, pickle.UnpicklingError):
        before = None
    if before is not None and before[0] == head:
        return dict(before[1])
    dates: dict[str, dt.date] | None = None
    if before is not None and _linear(root, before[0], head):
        try:
            newer = _log_dates(root, f"{before[0]}..{head}", strict=True)
        except GitError:
            newer = None
        if newer is not None:
            dates = {**before[1], **newer}
    if dates is None:
        try:
            dates = _log_dates(root, strict=True)
        except GitError:
            return {}  # as without a cache, and nothing kept
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as handle:
            pickle.dump((head, dates), handle, protocol=5)
        os.replace(tmp, path)
        for old in path.parent.glob("*.pickle"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return dates


def _linear(root: Path, old: str, new: str) -> bool:
    """True when ``new`` descends from ``old`` through commits with one parent each: then
    ``git log new`` lists the commits old..new, newest first, before any commit of ``git log
    old``, so the dates of old..new override those of old and nothing else changes."""
    try:
        git(root, "merge-base", "--is-ancestor", old, new)
        merges = git(root, "rev-list", "--min-parents=2", "--count", f"{old}..{new}")
    except GitError:
        return False
    return merges.strip() == b"0"


def _log_dates(root: Path, revisions: str = "", *, strict: bool = False) -> dict[str, dt.date]:
    """The dates of ``git log [revisions] -- certificates/`` (see :func:`last_changed`);
    empty where git cannot answer, unless ``strict``, which raises :class:`GitError`."""
    try:
        out = git(
            root, "log", "-z", f"--format={_COMMIT}%cs", "--name-only", "--relative",
            *([revisions] if revisions else []), "--", CERTIFICATES,
        )
    except GitError:
        if strict:
            raise
        return {}
    dates: dict[str, dt.date] = {}
    day: dt.date | None = None
    for token in out.decode("utf-8", "replace").split("\0"):
        token = token.lstrip("\n")
        if token.startswith(_COMMIT):
            try:
                day = dt.date.fromisoformat(token[1:].strip())
            except ValueError:
                day = None
        elif token.endswith(SUFFIX) and day is not None:
            dates.setdefault(token, day)  # newest commit first: the first date seen is the last
    return dates


@dataclass(frozen=True)
class _Old:
    """A record as it was at the base revision."""

    path: str
    blob: str
    doc: source.Document | None = None


def _old_records(root: Path, base: str) -> dict[str, _Old]:
    """Number (file name) → the record file at ``base``."""
    out = git(root, "ls-tree", "-r", "-z", base, "--", CERTIFICATES)
    records: dict[str, _Old] = {}
    for entry in out.decode("utf-8", "replace").split("\0"):
        if "\t" not in entry:
            continue
        meta, path = entry.split("\t", 1)
        kind, blob = meta.split()[1:3]
        name = path.rsplit("/", 1)[-1]
        if kind == "blob" and name.endswith(SUFFIX) and not name.startswith("."):
            records[name[: -len(SUFFIX)]] = _Old(path, blob)
    return records


def _changed_paths(root: Path, base: str) -> set[str]:
    """Record paths (relative to root) whose content differs between ``base`` and the disk."""
    out = git(root, "diff", "-z", "--name-only", "--no-renames", "--relative", base, "--",
               CERTIFICATES)
    return {p for p in out.decode("utf-8", "replace").split("\0") if p}


def _read_blobs(root: Path, olds: Sequence[_Old], base: str) -> list[_Old]:
    """Parse the given records at ``base``: one ``git cat-file --batch`` for all of them."""
    if not olds:
        return []
    out = git(root, "cat-file", "--batch", stdin="".join(f"{o.blob}\n" for o in olds).encode())
    parsed = []
    pos = 0
    for old in olds:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        body = out[header_end + 1 : header_end + 1 + size]
        pos = header_end + 1 + size + 1
        text, _ = source.decode(body, old.path)
        doc = source.parse_text(text, f"{old.path} at {base}")[0] if text is not None else None
        parsed.append(_Old(old.path, old.blob, doc))
    return parsed


def _same(old: Any, new: Any) -> bool:
    """Two audit or event items are the same history (scores compared as numbers: 91 = 91.0)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return old.keys() == new.keys() and all(_same(old[k], new[k]) for k in old)
    if isinstance(old, str) and isinstance(new, str) and old != new:
        try:
            return Decimal(old) == Decimal(new)
        except InvalidOperation:
            return False
    return bool(old == new)


def _describe(item: Any) -> str:
    if isinstance(item, dict):
        return " ".join(str(item.get(k)) for k in ("date", "kind") if item.get(k))
    return repr(item)


def _compare(
    old: source.Document, new: source.Document, base: str, *, number: bool = True
) -> Iterable[Problem]:
    """History rewritten in one record: its number (unless ``number`` is False), and every
    past audit and event."""
    before = old.data if isinstance(old.data, dict) else {}
    after = new.data if isinstance(new.data, dict) else {}
    number_before, number_after = before.get("number"), after.get("number")
    if number and isinstance(number_before, str) and number_after != number_before:
        yield Problem(
            new.path,
            new.line(("number",)),
            f"certificate number changed from {number_before} to {number_after}: a number is "
            "printed on packaging and never changes",
        )
    for field, what in HISTORY_LISTS:
        past, now = before.get(field), after.get(field)
        if not isinstance(past, list):
            continue
        now = now if isinstance(now, list) else []
        for i, item in enumerate(past):
            if i >= len(now):
                yield Problem(
                    new.path,
                    new.key_line((field,)),
                    f"{what} {i + 1} ({_describe(item)}), recorded in {base}, was removed: "
                    f"past {field} are kept for good; append a new {what} instead",
                )
            elif not _same(item, now[i]):
                yield Problem(
                    new.path,
                    new.line((field, i)),
                    f"{what} {i + 1} ({_describe(item)}), recorded in {base}, was rewritten: "
                    f"past {field} never change; append a new {what} instead",
                )


def _identity(doc: source.Document | None) -> tuple[str, str] | None:
    """What makes two files the same certificate: holder and first issue (not the number)."""
    data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
    org = data.get("organization")
    events = data.get("events")
    code = org.get("credit_code") if isinstance(org, dict) else None
    first = events[0] if isinstance(events, list) and events else None
    issued = first.get("date") if isinstance(first, dict) else None
    if isinstance(code, str) and isinstance(issued, str):
        return code.upper(), issued
    return None


def _relative(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def history_problems(root: Path, base: str) -> list[Problem]:
    """Every way the records on disk destroy history recorded at git revision ``base``.

    Raises :class:`GitError` when git cannot answer (not a repository, unknown revision).
    """
    root = root.resolve()
    try:
        git(root, "rev-parse", "--show-toplevel")
    except GitError as exc:
        raise GitError(f"{root} is not in a git repository ({exc})") from None
    try:
        git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except GitError:
        raise GitError(f"there is no git revision {base!r} here") from None
    old = _old_records(root, base)
    files, _ = load.find_records(root)
    now = {path.name[: -len(SUFFIX)]: path for path in files}
    shown = {number: _relative(root, path) for number, path in now.items()}
    changed = _changed_paths(root, base)
    to_compare = [
        o for n, o in old.items() if n in now and (o.path in changed or o.path != shown[n])
    ]
    gone = [o for n, o in old.items() if n not in now]
    problems: list[Problem] = []

    for before in _read_blobs(root, to_compare, base):
        number = before.path.rsplit("/", 1)[-1][: -len(SUFFIX)]
        after, _ = source.read_file(now[number], shown[number])
        if before.doc is not None and after is not None:
            problems += _compare(before.doc, after, base)

    added = {n: now[n] for n in now if n not in old}
    added_docs = {n: source.read_file(p, shown[n])[0] for n, p in added.items()}
    for before in _read_blobs(root, gone, base):
        number = before.path.rsplit("/", 1)[-1][: -len(SUFFIX)]
        same = _identity(before.doc)
        renamed = next((n for n, d in added_docs.items() if same and _identity(d) == same), None)
        if renamed is not None and (doc := added_docs[renamed]) is not None:
            problems.append(
                Problem(
                    doc.path,
                    doc.line(("number",)),
                    f"certificate number changed from {number} to {renamed} "
                    f"({before.path} was renamed): a number is printed on packaging and "
                    f"never changes; keep {number}",
                )
            )
            if before.doc is not None:
                problems += _compare(before.doc, doc, base, number=False)
        else:
            problems.append(
                Problem(
                    before.path,
                    0,
                    f"certificate {number} was deleted (it is in {base}): a certificate is never "
                    "deleted; restore the file and record a withdrawal (starmark withdraw) or a "
                    "cancellation (starmark cancel)",
                )
            )
    return sorted(set(problems))
