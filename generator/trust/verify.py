"""Checking downloaded files offline against the pinned key: what is proven, what failed."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import data
from ..model import Certificate, Registry, standing
from ..settings import Lifecycle, Settings
from . import note
from .checkpoint import (
    CHECKPOINT_NOTE,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    FILES,
    FORMAT,
    TIME_FORMAT,
    Checkpoint,
    as_of_problem,
    origin_of,
    parse_head,
)
from .keys import ALGORITHM, fingerprint
from .log import number_of
from .publish import pretty
from .tiles import FOLDER as TILES
from .tiles import TileError, check_tiles, leaves_of, read_entries
from .tree import MerkleTree, b64, consistency_proof, unb64, verify_consistency

ENTRY_KEYS = frozenset({"schema_version", "record", "derived", "links", "log"})
LOG_KEYS = frozenset({"leaf_index"})


@dataclass(frozen=True)
class Failure:
    """One check that did not hold: the file, the record if any, the check and what was found."""

    file: str
    check: str
    message: str
    record: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}: record {self.record}" if self.record else self.file
        return f"{where}: {self.check}: {self.message}"


@dataclass(frozen=True)
class Proven:
    """A record that passed every check, and what the signed data says about it."""

    number: str
    verdict: str
    file: str


@dataclass
class LogView:
    """The signed log as read from its tiles: every version, checked against the checkpoint."""

    entries: list[bytes]
    tree: MerkleTree
    latest: dict[str, int]

    @classmethod
    def of(cls, entries: list[bytes]) -> LogView:
        latest = {}
        for i, entry in enumerate(entries):
            latest[number_of(entry)] = i
        return cls(entries, MerkleTree(leaves_of(entries)), latest)

    def check_leaf(
        self,
        index: int,
        record: Any,
        shown: str,
        label: str | None,
        report: Report,
        canonical: bytes | None = None,
    ) -> None:
        """The record must be leaf ``index`` of the log, and the latest version of its number."""
        if not 0 <= index < len(self.entries):
            report.fail(
                shown, "log", f"leaf {index} is not in the signed log of {len(self.entries)}", label
            )
            return
        # the entries hash to the signed root, so equal bytes are the leaf
        if self.entries[index] != (canonical or data.canonical_json(record)):
            report.fail(
                shown,
                "inclusion",
                f"the record is not leaf {index} of the signed log: the record was altered",
                label,
            )
            return
        number = record.get("number") if isinstance(record, dict) else None
        latest = self.latest.get(str(number))
        if latest is not None and latest != index:
            newer = json.loads(self.entries[latest])
            report.fail(
                shown,
                "superseded",
                f"this is version {index} of the log, but version {latest} replaced it: "
                f"{changes(record, newer)}",
                label,
            )


def changes(old: Any, new: Any) -> str:
    """What differs between two versions of a record, field by field, in a line."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        return "the record differs"
    said = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, list) and isinstance(b, list) and b[: len(a)] == a:
            added = ", ".join(
                f"{e.get('date')} {e.get('kind')}" if isinstance(e, dict) else str(e)
                for e in b[len(a) :]
            )
            said.append(f"{key} + {added}")
        elif isinstance(a, dict | list) or isinstance(b, dict | list):
            said.append(f"{key} changed")
        else:
            said.append(f"{key} {a} → {b}")
    return "; ".join(said) or "only the form differs"


@dataclass
class Report:
    """The outcome of ``starmark verify``: what was proven, what failed, what was not checked."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    signed_by: str | None = None
    signature: bytes | None = None
    proven: dict[str, Proven] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    listed: dict[str, str] | None = None  # files.sha256: path under api/v1/ → SHA-256 hex
    age_days: int | None = None
    stale: bool = False
    log: LogView | None = None
    since: list[str] = field(default_factory=list)  # what --since proved

    @property
    def ok(self) -> bool:
        return not self.failures and self.checkpoint is not None

    def fail(self, file: str, check: str, message: str, record: str | None = None) -> None:
        self.failures.append(Failure(file, check, message, record))


@dataclass(frozen=True)
class Pins:
    """What the verifier trusts: the public key, and (from a registry folder) its settings."""

    key: Ed25519PublicKey
    settings: Settings | None = None
    counterfeit_numbers: frozenset[str] = frozenset()
    lookalike_domains: frozenset[str] = frozenset()
    allow_unsigned: bool = False
    now: dt.datetime | None = None  # the verifier's clock (default: the system's)

    def clock(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


def _read_json(path: Path, shown: str, report: Report) -> tuple[Any, bytes] | None:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        report.fail(shown, "read", exc.strerror or str(exc))
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        report.fail(
            shown, "encoding", f"byte {exc.start} is not UTF-8: the file was altered or damaged"
        )
        return None
    try:
        return json.loads(text), raw
    except json.JSONDecodeError as exc:
        report.fail(
            shown, "JSON", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        )
        return None


def _exact(
    raw: bytes, expected: bytes, shown: str, report: Report, record: str | None = None
) -> None:
    if raw != expected:
        at = next(
            (i for i, (a, b) in enumerate(zip(raw, expected, strict=False)) if a != b),
            min(len(raw), len(expected)),
        )
        report.fail(
            shown,
            "exact form",
            f"differs from the registry's byte-exact form at byte {at} "
            "(spacing, order or escaping was changed)",
            record,
        )


def check_checkpoint(
    doc: Any, raw: bytes, shown: str, pins: Pins, report: Report
) -> Checkpoint | None:
    """Check checkpoint.json: its form, its fields against the signed body, and the signature."""
    _exact(raw, pretty(doc), shown, report)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        report.fail(shown, "format", f"not a starmark checkpoint ('format' must be {FORMAT!r})")
        return None
    expected_keys = {
        "format",
        "origin",
        "tree_size",
        "root_hash",
        "as_of",
        "time",
        "stale_after_days",
        "files",
        "body",
        "signed",
        "signature",
    }
    if set(doc) != expected_keys:
        extra, missing = sorted(set(doc) - expected_keys), sorted(expected_keys - set(doc))
        report.fail(shown, "fields", f"unexpected {extra} / missing {missing}")
        return None
    body = doc["body"].encode("utf-8") if isinstance(doc["body"], str) else b""
    try:
        checkpoint = Checkpoint.parse_body(body)
    except (ValueError, UnicodeDecodeError) as exc:
        report.fail(shown, "body", str(exc))
        return None
    if (
        checkpoint.to_json(None, None) | {"signed": doc["signed"], "signature": doc["signature"]}
        != doc
    ):
        report.fail(
            shown,
            "fields",
            "the fields differ from the signed body (origin, tree_size, "
            "root_hash, as_of, time, stale_after_days or files was altered)",
        )
    _check_freshness(checkpoint, shown, pins, report)
    signature = doc["signature"]
    if doc["signed"] is not True or signature is None:
        if doc["signed"] is not False or signature is not None:
            report.fail(shown, "signature", "'signed' and 'signature' disagree")
        elif pins.allow_unsigned:
            report.notes.append(
                "the checkpoint is UNSIGNED: the hashes agree, but nothing proves "
                "that the certification body published these records"
            )
        else:
            report.fail(
                shown,
                "signature",
                "the checkpoint is UNSIGNED: nothing proves that the "
                "certification body published it (use --allow-unsigned to check hashes only)",
            )
        return checkpoint
    ok_shape = (
        isinstance(signature, dict)
        and set(signature) == {"algorithm", "key", "key_name", "key_hash", "value"}
        and signature["algorithm"] == ALGORITHM
    )
    value = unb64(signature.get("value"), 64) if isinstance(signature, dict) else None
    if not ok_shape or value is None:
        report.fail(shown, "signature", f"not an {ALGORITHM} signature object with a 64-byte value")
        return checkpoint
    pinned = fingerprint(pins.key)
    if signature["key"] != pinned:
        report.fail(
            shown, "signature", f"signed by key {signature['key']}, not the pinned key {pinned}"
        )
    key_hash = note.key_hash(checkpoint.origin, pins.key).hex()
    if signature["key_name"] != checkpoint.origin or signature["key_hash"] != key_hash:
        report.fail(
            shown,
            "signature",
            f"the note key is {signature['key_name']!r}+{signature['key_hash']!r}, "
            f"not {checkpoint.origin!r}+{key_hash!r}",
        )
    try:
        pins.key.verify(value, body)
    except InvalidSignature:
        report.fail(
            shown,
            "signature",
            f"the {ALGORITHM} signature does not match the checkpoint "
            f"body under the pinned key {pinned}: the checkpoint was altered or is not the body's",
        )
    else:
        report.signed_by, report.signature = pinned, value
    return checkpoint


# A signing time this far ahead of the verifier's clock is a clock error, not a forgery.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _check_freshness(cp: Checkpoint, shown: str, pins: Pins, report: Report) -> None:
    """The as-of date must not be after the signing time, nor the signing time after now; the
    data's age is reported, and called stale past the checkpoint's stale-after-days."""
    problem = as_of_problem(cp.as_of, cp.time)
    if problem:
        report.fail(shown, "freshness", problem)
    now = pins.clock()
    if cp.time > now + CLOCK_SKEW:
        report.fail(
            shown,
            "freshness",
            f"signed at {cp.time_text}, in the future of this computer's clock "
            f"({now.strftime(TIME_FORMAT)})",
        )
        return
    age = (now.date() - cp.as_of).days
    report.age_days = age
    if age > cp.stale_after_days:
        report.stale = True
        report.notes.append(
            f"STALE: the data is of {cp.as_of}, {age} days ago (signed {cp.time_text}); the "
            f"registry says it is current for {cp.stale_after_days} days. Get the latest "
            "checkpoint: a status may have changed since"
        )


def check_origin(checkpoint: Checkpoint, shown: str, pins: Pins, report: Report) -> None:
    """The checkpoint must name the pinned registry, and never a reported look-alike site."""
    host = (urlsplit("//" + checkpoint.origin).hostname or checkpoint.origin).lower()
    if host in pins.lookalike_domains:
        report.fail(
            shown,
            "origin",
            f"{checkpoint.origin} is a REPORTED LOOK-ALIKE SITE, not the "
            "certification body's registry (see the counterfeits page)",
        )
    if pins.settings is not None and checkpoint.origin != origin_of(pins.settings.site_url):
        report.fail(
            shown,
            "origin",
            f"the checkpoint is for {checkpoint.origin}, but the pinned "
            f"registry is {origin_of(pins.settings.site_url)}",
        )


def _certificate(record: dict[str, Any]) -> Certificate:
    """A Certificate from a published record (numbers back to exact decimals)."""

    def typed(value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            return Decimal(repr(value))
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return value

    return Certificate.from_data(typed(record), source="")


def check_entry(
    entry: Any,
    shown: str,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
    index: int | None = None,
) -> str | None:
    """Check one record's JSON: its leaf in the log, and its derived parts against its record.

    Returns the verdict the signed record gives on the checkpoint's as-of date, or None.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
        report.fail(shown, "record", "no 'record' object")
        return None
    record = entry["record"]
    number = record.get("number") if isinstance(record.get("number"), str) else None
    label = number or (f"#{index}" if index is not None else None)
    before = len(report.failures)
    if set(entry) != ENTRY_KEYS:
        report.fail(
            shown,
            "fields",
            f"unexpected {sorted(set(entry) - ENTRY_KEYS)} / missing "
            f"{sorted(ENTRY_KEYS - set(entry))}",
            label,
        )
    if entry.get("schema_version") != data.SCHEMA_VERSION:
        report.fail(shown, "schema_version", f"must be {data.SCHEMA_VERSION}", label)
    if number and number in pins.counterfeit_numbers:
        report.fail(
            shown,
            "counterfeit",
            f"{number} is a REPORTED COUNTERFEIT number, never issued by the certification body",
            label,
        )

    canonical = data.canonical_json(record)
    member = entry.get("log")
    index_ = member.get("leaf_index") if isinstance(member, dict) else None
    if (
        not isinstance(member, dict)
        or set(member) != LOG_KEYS
        or not isinstance(index_, int)
        or isinstance(index_, bool)
    ):
        report.fail(shown, "log", "missing or malformed 'log' ({\"leaf_index\": n})", label)
    elif report.log is not None:
        report.log.check_leaf(index_, record, shown, label, report, canonical)

    verdict = None
    try:
        cert = _certificate(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.fail(
            shown, "record", f"not a certificate record ({type(exc).__name__}: {exc})", label
        )
        return None
    if data.canonical_json(data.record_dict(cert)) != canonical:
        report.fail(shown, "record", "not in the registry's record form", label)
    verdict = _check_derived(entry, cert, shown, label, checkpoint, pins, report)
    return verdict if len(report.failures) == before else None


# Derived from git history at build time (the last commit that touched the record), so not
# recomputable from the record; its bytes are bound by files.sha256 like every other field.
FROM_GIT = frozenset({"last_changed"})


def _check_contradictions(
    cert: Certificate,
    derived: dict[str, Any],
    shown: str,
    label: str | None,
    checkpoint: Checkpoint,
    report: Report,
) -> None:
    """Nothing a record says may be dated after the checkpoint's as-of date."""
    as_of = checkpoint.as_of.isoformat()
    since = derived.get("since")
    if isinstance(since, str) and since > as_of:
        report.fail(
            shown,
            "contradiction",
            f"'since' is {since}, after the checkpoint's as-of date {as_of}",
            label,
        )
    dates = [e.date for e in cert.events] + [a.date for a in cert.audits]
    if dates and max(dates) > checkpoint.as_of:
        report.fail(
            shown,
            "contradiction",
            f"the record has an entry dated {max(dates)}, after the as-of date {as_of}",
            label,
        )


def _check_derived(
    entry: dict[str, Any],
    cert: Certificate,
    shown: str,
    label: str | None,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
) -> str | None:
    """``derived`` and ``links`` must follow from the signed record on the as-of date (their
    bytes are signed through files.sha256; this also catches a registry that signed nonsense)."""
    derived, links = entry.get("derived"), entry.get("links")
    if not isinstance(derived, dict) or not isinstance(links, dict):
        report.fail(shown, "derived", "missing 'derived' or 'links'", label)
        return None
    _check_contradictions(cert, derived, shown, label, checkpoint, report)
    if pins.settings is not None:
        registry = Registry.create(pins.settings, [cert], checkpoint.as_of)
        try:
            want_derived = data.derived_dict(cert, registry)
            want_links = data.links_dict(cert, registry)
        except (KeyError, StopIteration) as exc:
            report.fail(
                shown,
                "derived",
                f"the record names something the pinned registry does not know ({exc})",
                label,
            )
            return None
        for key in sorted(set(want_derived) | set(derived)):
            if key in FROM_GIT and key in derived:
                continue
            if derived.get(key, ...) != want_derived.get(key, ...):
                report.fail(
                    shown,
                    "derived",
                    f"'{key}' is {derived.get(key)!r} but the signed record "
                    f"gives {want_derived.get(key)!r} on {checkpoint.as_of}",
                    label,
                )
        if links != want_links:
            report.fail(
                shown, "links", "links do not point to this record in the pinned registry", label
            )
        return registry.standing(cert).verdict
    # Without the registry's settings only the verdict and dates can be derived (default rules).
    rules = cast(Settings, SimpleNamespace(lifecycle=Lifecycle()))
    verdict = standing(cert, rules, checkpoint.as_of).verdict
    if derived.get("as_of") != checkpoint.as_of.isoformat():
        report.fail(
            shown,
            "derived",
            f"'as_of' is {derived.get('as_of')!r}, the checkpoint's is {checkpoint.as_of}",
            label,
        )
    if derived.get("verdict") != verdict:
        report.fail(
            shown,
            "derived",
            f"'verdict' is {derived.get('verdict')!r} but the signed "
            f"record gives {verdict!r} on {checkpoint.as_of}",
            label,
        )
    if not all(
        isinstance(v, str) and origin_of(v).startswith(checkpoint.origin + "/")
        for v in links.values()
    ):
        report.fail(shown, "links", f"links lead outside {checkpoint.origin}", label)
    return verdict


def check_all(
    doc: Any,
    raw: bytes,
    shown: str,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
    *,
    exact: bool = False,
) -> dict[str, dict[str, Any]]:
    """Check certificates.json: every entry, and that it holds every record of the log.
    ``exact``: its bytes are known to be the signed ones (else its form is checked)."""
    if not exact:
        _exact(raw, data.canonical_json(doc), shown, report)
    if not isinstance(doc, dict) or not isinstance(doc.get("certificates"), list):
        report.fail(shown, "fields", "no 'certificates' list")
        return {}
    keys = {"schema_version", "as_of", "registry", "count", "certificates"}
    if set(doc) != keys:
        report.fail(
            shown,
            "fields",
            f"unexpected {sorted(set(doc) - keys)} / missing {sorted(keys - set(doc))}",
        )
    entries = doc["certificates"]
    if doc.get("schema_version") != data.SCHEMA_VERSION:
        report.fail(shown, "schema_version", f"must be {data.SCHEMA_VERSION}")
    if doc.get("as_of") != checkpoint.as_of.isoformat():
        report.fail(
            shown, "as_of", f"{doc.get('as_of')!r} is not the checkpoint's {checkpoint.as_of}"
        )
    in_log = len(report.log.latest) if report.log is not None else len(entries)
    if doc.get("count") != len(entries) or len(entries) != in_log:
        report.fail(
            shown,
            "count",
            f"holds {len(entries)} records, says {doc.get('count')!r}, the signed log has "
            f"{in_log}: records were added or removed",
        )
    reg = doc.get("registry")
    want: dict[str, Any] = {}
    if pins.settings is not None:
        want = {
            "site_url": pins.settings.site_url,
            "body": pins.settings.body.name,
            "body_en": pins.settings.body.name_en,
        }
    if (
        not isinstance(reg, dict)
        or not isinstance(reg.get("site_url"), str)
        or origin_of(reg["site_url"]) != checkpoint.origin
        or any(reg.get(k) != v for k, v in want.items())
        or (pins.settings is not None and set(reg) != set(want))
    ):
        report.fail(
            shown,
            "registry",
            "the registry's identity differs from the checkpoint's or the pinned registry's",
        )
    by_number: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        record = entry.get("record") if isinstance(entry, dict) else None
        number = record.get("number") if isinstance(record, dict) else None
        verdict = check_entry(entry, shown, checkpoint, pins, report, index=i)
        if isinstance(number, str):
            if number in by_number:
                report.fail(shown, "order", "appears twice", number)
            by_number[number] = entry
            if verdict is not None:
                report.proven[number] = Proven(number, verdict, shown)
    numbers = [
        e["record"]["number"]
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("record"), dict)
        and isinstance(e["record"].get("number"), str)
    ]
    if numbers != sorted(numbers):
        report.fail(shown, "order", "records are not in number order")
    if report.log is not None:
        for number in sorted(set(report.log.latest) - set(numbers)):
            report.fail(shown, "count", "is in the signed log but not in this file", number)
    return by_number


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
        loaded = _read_json(path, shown, sub)
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
    loaded = _read_json(found.checkpoint, shown, report)
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
        loaded = _read_json(found.all_records, shown, report)
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
        loaded = _read_json(path, shown, report)
        if loaded is None:
            continue
        entry, raw = loaded
        number = (
            entry.get("record", {}).get("number")
            if isinstance(entry, dict) and isinstance(entry.get("record"), dict)
            else None
        )
        if not _check_digest(raw, _listed_name(path, "record", base), shown, report, number):
            _exact(raw, pretty(entry), shown, report, number)  # what else differs
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
            report.fail(f"{data.API}/certificates/{number}.json", "file", "missing", number)
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
