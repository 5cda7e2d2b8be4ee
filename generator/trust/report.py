"""What a verification found (:class:`Report`), what it trusts (:class:`Pins`), and the signed
log as it read it (:class:`LogView`)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import data
from ..settings import Settings
from .checkpoint import (
    Checkpoint,
)
from .log import number_of
from .tiles import leaves_of
from .tree import MerkleTree


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


def read_json(path: Path, shown: str, report: Report) -> tuple[Any, bytes] | None:
    """A JSON file's value and bytes, or None after saying in ``report`` why it cannot be read."""
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


def check_exact(
    raw: bytes, expected: bytes, shown: str, report: Report, record: str | None = None
) -> None:
    """The bytes must be the registry's exact form of their value (names the first byte off)."""
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
