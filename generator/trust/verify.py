"""Checking downloaded files offline against the pinned key: what is proven, what failed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import data
from . import note
from .checkpoint import (
    CHECKPOINT_NOTE,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    FILES,
    FORMAT,
    Checkpoint,
    parse_head,
)
from .checks import check_all, check_checkpoint, check_entry, check_origin
from .publish import pretty
from .report import LogView, Pins, Proven, Report, check_exact, read_json
from .tiles import FOLDER as TILES
from .tiles import TileError, check_tiles, read_entries
from .tree import b64, consistency_proof, verify_consistency

# --- finding the files ----------------------------------------------------------------------------


@dataclass
class Inputs:
    """The files to check, found from the paths given on the command line."""

    checkpoint: Path | None = None
    all_records: Path | None = None
    records: list[Path] = field(default_factory=list)
    csv: Path | None = None
    site: Path | None = None


def _kind(path: Path) -> str | None:
    if path.suffix == ".csv":
        return "csv"
    try:
        head = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(head, dict):
        if head.get("format") == FORMAT:
            return "checkpoint"
        if "certificates" in head:
            return "all"
        if "record" in head:
            return "record"
    return None


def find_inputs(paths: Iterable[Path], checkpoint: Path | None = None) -> Inputs:
    """Sort the given files and folders into checkpoint, all-records file, CSV and records."""
    found = Inputs(checkpoint=checkpoint)
    for path in paths:
        if path.is_dir():
            api = path / data.API if (path / data.API).is_dir() else path
            if api != path:
                found.site = path
            found.checkpoint = found.checkpoint or _existing(api / "checkpoint.json")
            found.all_records = found.all_records or _existing(api / "certificates.json")
            found.csv = found.csv or _existing(api / "certificates.csv")
            folder = api / "certificates"
            if folder.is_dir():
                found.records += sorted(folder.glob("*.json"))
            continue
        kind = _kind(path) if path.is_file() else None
        if kind == "checkpoint" and found.checkpoint is None:
            found.checkpoint = path
        elif kind == "all":
            found.all_records = path
        elif kind == "csv":
            found.csv = path
        else:
            found.records.append(path)  # checked, and named if unreadable
    if found.checkpoint is None:
        for near in _near(found):
            if near.is_file():
                found.checkpoint = near
                break
    return found


def _existing(path: Path) -> Path | None:
    return path if path.is_file() else None


def _near(found: Inputs) -> Iterator[Path]:
    """Where a checkpoint usually sits next to downloaded files: beside them, or one folder up."""
    given = [p for p in (found.all_records, found.csv) if p is not None] + found.records
    for path in given:
        yield path.parent / "checkpoint.json"
        yield path.parent.parent / "checkpoint.json"


def _shown(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)


def _listed_name(path: Path, kind: str, base: Path | None) -> str:
    """The name a file is listed under in files.sha256: its path under api/v1/ in a site, else
    what its kind and file name say (a downloaded file keeps its published name)."""
    if base is not None:
        try:
            return path.relative_to(base / data.API).as_posix()
        except ValueError:
            pass
    return f"certificates/{path.name}" if kind == "record" else path.name


def _check_listing(cp_path: Path, cp: Checkpoint, base: Path | None, report: Report) -> None:
    """Read files.sha256 beside the checkpoint and check it is the one the checkpoint signed."""
    path = cp_path.parent / Path(FILES).name
    shown = _shown(path, base)
    report.files.append(shown)
    try:
        raw = path.read_bytes()
    except OSError:
        report.fail(
            shown,
            "files",
            "missing: without it nothing binds the derived fields, the bulk files and the file "
            "names to the checkpoint (download it from beside checkpoint.json)",
        )
        return
    if hashlib.sha256(raw).digest() != cp.files:
        report.fail(
            shown, "files", "its SHA-256 is not the checkpoint's 'files' hash: it was altered"
        )
        return
    listed: dict[str, str] = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    report.listed = listed


def _check_digest(
    raw: bytes, name: str, shown: str, report: Report, record: str | None = None
) -> bool:
    """A file's bytes must be those the checkpoint signed under its name; True when they are."""
    if report.listed is None:
        return False
    want = report.listed.get(name)
    if want is None:
        report.fail(
            shown, "file name", f"{name} is not a file of this checkpoint (files.sha256)", record
        )
    elif hashlib.sha256(raw).hexdigest() != want:
        report.fail(
            shown,
            "digest",
            f"its SHA-256 differs from the one signed for {name} in files.sha256: the file was "
            "altered, or is another file under this name",
            record,
        )
    else:
        return True
    return False


def _load_log(cp_path: Path, cp: Checkpoint, base: Path | None, report: Report) -> None:
    """Read the log's entries beside the checkpoint, and check they hash to its root and that
    the published hash tiles hold the same tree."""
    folder = cp_path.parent
    if not (folder / TILES).is_dir():
        report.notes.append(
            f"the log ({TILES}/ beside the checkpoint) was not given: the files are checked by "
            "their signed digests, but not their place in the append-only log"
        )
        return
    prefix = _shown(folder, base) + "/" if base is None else f"{data.API}/"
    try:
        entries = read_entries(folder, cp.tree_size)
    except TileError as exc:
        report.fail(prefix + str(exc).split(": ", 1)[0], "log", str(exc).split(": ", 1)[-1])
        return
    try:
        view = LogView.of(entries)
    except (ValueError, AttributeError, KeyError, TypeError):
        report.fail(prefix + f"{TILES}/entries", "log", "an entry is not a record's JSON")
        return
    if view.tree.root != cp.root_hash:
        report.fail(
            prefix + f"{TILES}/entries",
            "log",
            "the log's entries do not hash to the checkpoint's root hash: the log was altered",
        )
        return
    for rel in check_tiles(folder, view.tree)[:5]:
        report.fail(prefix + rel, "log", "the hash tile differs from the tree of the entries")
    report.log = view


def check_since(path: Path, cp: Checkpoint, pins: Pins, report: Report) -> None:
    """``--since OLD``: OLD (a checkpoint.json, a signed note or a ``checkpoints/<size>`` tree
    head) must be signed by the pinned key, and the log now an extension of the log then."""
    shown = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.fail(shown, "since", exc.strerror or str(exc))
        return
    if raw.lstrip().startswith(b"{"):
        sub = Report()
        loaded = read_json(path, shown, sub)
        old = check_checkpoint(*loaded, shown, pins, sub) if loaded else None
        report.failures += [f for f in sub.failures if f.check != "freshness"]
        if old is None:
            return
        origin, size, root = old.origin, old.tree_size, old.root_hash
    else:
        try:
            parsed = note.parse(raw)
            origin, size, root = parse_head(parsed.text)
        except ValueError as exc:
            report.fail(shown, "since", f"not a checkpoint or signed tree head: {exc}")
            return
        if not parsed.verified_by(origin, pins.key):
            report.fail(shown, "since", f"no signature of key {origin} holds under the pinned key")
            return
    if origin != cp.origin:
        report.fail(shown, "since", f"is a checkpoint of {origin}, not of {cp.origin}")
        return
    log = report.log
    if log is None:
        report.fail(shown, "since", f"the new log ({TILES}/) is needed to prove an extension")
        return
    if size > log.tree.size:
        report.fail(
            shown,
            "consistency",
            f"the old log had {size} versions, the new one only {log.tree.size}: versions "
            "were dropped",
        )
        return
    proof = consistency_proof(log.tree, size)
    if not verify_consistency(size, log.tree.size, root, log.tree.root, proof):
        report.fail(
            shown,
            "consistency",
            f"the log of {log.tree.size} versions does not extend the old one of {size}: "
            "its history was rewritten, reordered, dropped or forked",
        )
        return
    added = sorted({json.loads(e)["number"] for e in log.entries[size:]})
    report.since.append(
        f"the log of {size} versions ({path.name}) is a prefix of this one of "
        f"{log.tree.size}: RFC 6962 consistency proof of {len(proof)} hashes holds; "
        f"{log.tree.size - size} versions appended since"
        + (f", of {', '.join(added[:10])}{' …' if len(added) > 10 else ''}" if added else "")
    )


def verify_paths(
    paths: Sequence[Path], pins: Pins, checkpoint: Path | None = None, since: Path | None = None
) -> Report:
    """Check every given file or site folder against the pinned key; see :class:`Report`."""
    report = Report()
    found = find_inputs(paths, checkpoint)
    base = found.site
    if found.checkpoint is None:
        report.fail(
            ", ".join(str(p) for p in paths) or ".",
            "checkpoint",
            "no checkpoint.json found; give it with --checkpoint FILE",
        )
        return report
    shown = _shown(found.checkpoint, base)
    report.files.append(shown)
    loaded = read_json(found.checkpoint, shown, report)
    if loaded is None:
        return report
    cp = check_checkpoint(*loaded, shown, pins, report)
    if cp is None:
        return report
    report.checkpoint = cp
    check_origin(cp, shown, pins, report)
    _check_listing(found.checkpoint, cp, base, report)
    _load_log(found.checkpoint, cp, base, report)
    if since is not None:
        check_since(since, cp, pins, report)
    if base is not None:
        _check_side_files(base, cp, pins, report)

    by_number: dict[str, dict[str, Any]] = {}
    if found.all_records is not None:
        shown = _shown(found.all_records, base)
        report.files.append(shown)
        loaded = read_json(found.all_records, shown, report)
        if loaded is not None:
            signed = _check_digest(
                loaded[1], _listed_name(found.all_records, "all", base), shown, report
            )
            by_number = check_all(*loaded, shown, cp, pins, report, exact=signed)
    if found.csv is not None:
        shown = _shown(found.csv, base)
        report.files.append(shown)
        try:
            raw_csv = found.csv.read_bytes()
            _check_digest(raw_csv, _listed_name(found.csv, "csv", base), shown, report)
        except OSError as exc:
            report.fail(shown, "read", exc.strerror or str(exc))
    seen: set[str] = set()
    for path in found.records:
        shown = _shown(path, base)
        report.files.append(shown)
        loaded = read_json(path, shown, report)
        if loaded is None:
            continue
        entry, raw = loaded
        number = (
            entry.get("record", {}).get("number")
            if isinstance(entry, dict) and isinstance(entry.get("record"), dict)
            else None
        )
        if not _check_digest(raw, _listed_name(path, "record", base), shown, report, number):
            check_exact(raw, pretty(entry), shown, report, number)  # what else differs
        if isinstance(number, str) and path.name != f"{number}.json":
            report.fail(shown, "file name", f"holds record {number}", number)
        if isinstance(number, str) and by_number.get(number) == entry:
            seen.add(number)  # the same entry as in certificates.json, checked there
            continue
        verdict = check_entry(entry, shown, cp, pins, report)
        if not isinstance(number, str):
            continue
        seen.add(number)
        if by_number and by_number.get(number) != entry:
            report.fail(
                shown, "record", f"differs from its entry in {data.API}/certificates.json", number
            )
        if verdict is None:
            report.proven.pop(number, None)
        elif number not in report.proven:
            report.proven[number] = Proven(number, verdict, shown)
    if base is not None and report.listed is not None:
        for name in sorted(report.listed):
            if not (base / data.API / name).is_file():
                report.fail(f"{data.API}/{name}", "file", "listed in files.sha256 but missing")
    if found.site is not None and by_number:
        for number in sorted(set(by_number) - seen):
            report.fail(data.record_path(number), "file", "missing", number)
    return report


def _check_side_files(site: Path, cp: Checkpoint, pins: Pins, report: Report) -> None:
    """checkpoint (the signed note), checkpoint.txt and checkpoint.sig, for note and openssl
    users, must say the same as the JSON."""
    text = site / CHECKPOINT_TEXT
    if not text.is_file() or text.read_bytes() != cp.body():
        report.fail(CHECKPOINT_TEXT, "body", "missing or differs from the body in checkpoint.json")
    sig = site / CHECKPOINT_SIG
    if report.signature is not None and (not sig.is_file() or sig.read_bytes() != report.signature):
        report.fail(
            CHECKPOINT_SIG, "signature", "missing or differs from the signature in checkpoint.json"
        )
    path = site / CHECKPOINT_NOTE
    raw = path.read_bytes() if path.is_file() else None
    if report.signature is None:
        if raw is not None and raw != cp.body():
            report.fail(CHECKPOINT_NOTE, "note", "differs from the body in checkpoint.json")
        return
    try:
        parsed = note.parse(raw) if raw is not None else None
    except ValueError as exc:
        report.fail(CHECKPOINT_NOTE, "note", f"not a signed note: {exc}")
        return
    if parsed is None or parsed.text != cp.body():
        report.fail(CHECKPOINT_NOTE, "note", "missing or its text differs from checkpoint.json")
    elif not parsed.verified_by(cp.origin, pins.key):
        report.fail(
            CHECKPOINT_NOTE,
            "note",
            f"no signature line of key {cp.origin} that holds under the pinned key",
        )


def statement(report: Report, verdict_label: dict[str, str] | None = None) -> list[str]:
    """What was proven, in plain words, one line per fact."""
    cp = report.checkpoint
    if cp is None:
        return []
    labels = verdict_label or {}
    signed = (
        f"signed at {cp.time_text} by key {report.signed_by}"
        if report.signed_by
        else f"UNSIGNED (time {cp.time_text})"
    )
    days = report.age_days
    age = f"; the data is {days} day{'' if days == 1 else 's'} old" if days is not None else ""
    lines = [
        f"checkpoint: registry {cp.origin}, log of {cp.tree_size} record versions, "
        f"root {b64(cp.root_hash)}, as of {cp.as_of}, {signed}{age}"
    ]
    for proven in sorted(report.proven.values(), key=lambda p: p.number):
        label = f" ({labels[proven.verdict]})" if proven.verdict in labels else ""
        how = f"as signed at {cp.time_text}" if report.signed_by else "as published (unsigned)"
        lines.append(
            f"record {proven.number} is in the registry {cp.origin} {how}: "
            f"status {proven.verdict}{label} on {cp.as_of}"
        )
    return lines
