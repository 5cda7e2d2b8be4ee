"""The checkpoint: what a signature vouches for, as a C2SP tlog-checkpoint body.

::

    <origin: site_url without its scheme and final slash>
    <tree size>
    <root hash, base64>
    as-of <YYYY-MM-DD>                    the day the records' statuses are derived for
    time <YYYY-MM-DDTHH:MM:SSZ>           when it was signed (UTC)
    stale-after-days <N>                  how long the body says its data stays current
    files <base64 SHA-256 of files.sha256> every published data file, bound by digest

The first three lines are the tlog-checkpoint's; the rest are its extension lines. The signed
note (:mod:`.note`) adds the signature line; ``checkpoint.json`` repeats the fields for JSON
readers, ``checkpoint.txt`` / ``checkpoint.sig`` are the body and bare signature for openssl.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import data
from ..settings import Settings
from . import note
from .keys import ALGORITHM, fingerprint
from .tree import b64, unb64

FORMAT = "starmark-checkpoint/2"
CHECKPOINT_NOTE = f"{data.API}/checkpoint"
CHECKPOINT_JSON = f"{data.API}/checkpoint.json"
CHECKPOINT_TEXT = f"{data.API}/checkpoint.txt"
CHECKPOINT_SIG = f"{data.API}/checkpoint.sig"
FILES = f"{data.API}/files.sha256"
CHECKPOINTS = f"{data.API}/checkpoints"  # one signed tree head per commit that grew the log
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The as-of day may have begun somewhere on earth before it began in UTC, but never more than
# 14 hours before (UTC+14): an as-of later than that is in the future of the signing time.
EARLIEST_ZONE = dt.timedelta(hours=14)
EXTENSIONS = ("as-of", "time", "stale-after-days", "files")


def origin_of(site_url: str) -> str:
    """The checkpoint origin of a site: its URL without scheme and final slash."""
    return site_url.split("://", 1)[-1].rstrip("/")


def signing_time(
    as_of: dt.date,
    signed: bool,
    environ: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> dt.datetime:
    """SOURCE_DATE_EPOCH when set (reproducible builds); else, for a signed checkpoint, the
    clock (``now``); an unsigned one, whose time vouches for nothing, the as-of day's start."""
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    if signed:
        return (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    return dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)


def as_of_problem(as_of: dt.date, time: dt.datetime) -> str | None:
    """Why a checkpoint of ``as_of`` signed at ``time`` cannot be true, or None."""
    if as_of > (time + EARLIEST_ZONE).date():
        return (
            f"the as-of date {as_of} is in the future of the signing time "
            f"{time.strftime(TIME_FORMAT)}: statuses cannot be vouched for a day not yet begun"
        )
    return None


@dataclass(frozen=True)
class Checkpoint:
    """What a signature vouches for: this registry's log and files at this time."""

    origin: str
    tree_size: int
    root_hash: bytes
    as_of: dt.date
    time: dt.datetime
    stale_after_days: int
    files: bytes

    @property
    def time_text(self) -> str:
        return self.time.strftime(TIME_FORMAT)

    def body(self) -> bytes:
        """The exact bytes that are signed (the note's text)."""
        lines = [
            self.origin,
            str(self.tree_size),
            b64(self.root_hash),
            f"as-of {self.as_of.isoformat()}",
            f"time {self.time_text}",
            f"stale-after-days {self.stale_after_days}",
            f"files {b64(self.files)}",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    @classmethod
    def parse_body(cls, body: bytes) -> Checkpoint:
        """Read a checkpoint body back; ValueError says what is wrong with it."""
        lines = body.decode("utf-8").split("\n")
        if len(lines) != 8 or lines[-1] != "":
            raise ValueError("a checkpoint body has exactly seven lines, each ending in a newline")
        origin, size, root = lines[:3]
        if not size.isdigit() or str(int(size)) != size:
            raise ValueError(f"line 2 must be the tree size, got {size!r}")
        raw = unb64(root, 32)
        if raw is None:
            raise ValueError("line 3 must be a base64 SHA-256 root hash")
        values = []
        for i, (line, name) in enumerate(zip(lines[3:7], EXTENSIONS, strict=True), start=4):
            if not line.startswith(name + " "):
                raise ValueError(f"line {i} must be '{name} …', got {line[:40]!r}")
            values.append(line[len(name) + 1 :])
        as_of, time, stale, files = values
        digest = unb64(files, 32)
        if digest is None or not stale.isdigit():
            raise ValueError("'stale-after-days' must be a number and 'files' a SHA-256 hash")
        try:
            parsed = cls(
                origin,
                int(size),
                raw,
                dt.date.fromisoformat(as_of),
                dt.datetime.strptime(time, TIME_FORMAT).replace(tzinfo=dt.UTC),
                int(stale),
                digest,
            )
        except ValueError as exc:
            raise ValueError(f"a date or time is malformed: {exc}") from None
        if parsed.body() != body:
            raise ValueError("the body is not in its canonical form")
        return parsed

    def to_json(self, signature: bytes | None, key: Ed25519PublicKey | None) -> dict[str, Any]:
        """The published ``checkpoint.json``: the fields, the signed body and the signature."""
        return {
            "format": FORMAT,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root_hash": b64(self.root_hash),
            "as_of": self.as_of.isoformat(),
            "time": self.time_text,
            "stale_after_days": self.stale_after_days,
            "files": b64(self.files),
            "body": self.body().decode("utf-8"),
            "signed": signature is not None,
            "signature": None
            if signature is None or key is None
            else {
                "algorithm": ALGORITHM,
                "key": fingerprint(key),
                "key_name": self.origin,
                "key_hash": note.key_hash(self.origin, key).hex(),
                "value": b64(signature),
            },
        }


@dataclass(frozen=True)
class TreeHead:
    """A tree head of the log's past: its size and root after a commit, at the commit's time.

    ::

        <origin>
        <tree size>
        <root hash, base64>
        time <YYYY-MM-DDTHH:MM:SSZ>
        commit <git commit id>
    """

    origin: str
    tree_size: int
    root_hash: bytes
    time: dt.datetime
    commit: str

    def body(self) -> bytes:
        lines = [
            self.origin,
            str(self.tree_size),
            b64(self.root_hash),
            f"time {self.time.strftime(TIME_FORMAT)}",
            f"commit {self.commit}",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")


def parse_head(body: bytes) -> tuple[str, int, bytes]:
    """Origin, tree size and root hash of any tlog-checkpoint body (a checkpoint or a tree
    head); ValueError when its first three lines are not those."""
    lines = body.decode("utf-8").split("\n")
    if len(lines) < 4 or lines[-1] != "":
        raise ValueError("not a checkpoint body: origin, size and root hash lines expected")
    origin, size, root = lines[:3]
    raw = unb64(root, 32)
    if not size.isdigit() or str(int(size)) != size or raw is None:
        raise ValueError("lines 2 and 3 must be the tree size and a base64 SHA-256 root hash")
    return origin, int(size), raw


def checkpoint_url(settings: Settings) -> str:
    return settings.site_url + CHECKPOINT_JSON
