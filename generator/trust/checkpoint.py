"""The checkpoint: what a signature vouches for (registry, tree size, root hash, as-of, time)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import data
from ..settings import Settings
from .keys import ALGORITHM, fingerprint
from .tree import b64, unb64

FORMAT = "starmark-checkpoint/1"
CHECKPOINT_JSON = f"{data.API}/checkpoint.json"
CHECKPOINT_TEXT = f"{data.API}/checkpoint.txt"
CHECKPOINT_SIG = f"{data.API}/checkpoint.sig"


def built_time(as_of: dt.date, environ: dict[str, str] | None = None) -> str:
    """SOURCE_DATE_EPOCH when set, else the as-of day at 00:00 UTC: never the wall clock."""
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    when = (
        dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        if epoch.isdigit()
        else dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    )
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Checkpoint:
    """What a signature vouches for: this registry held these records on this day."""

    origin: str
    tree_size: int
    root_hash: bytes
    as_of: dt.date
    built: str

    def body(self) -> bytes:
        """The exact bytes that are signed (C2SP tlog-checkpoint layout, two extension lines)."""
        lines = [
            self.origin,
            str(self.tree_size),
            b64(self.root_hash),
            f"as-of {self.as_of.isoformat()}",
            f"built {self.built}",
        ]
        return ("\n".join(lines) + "\n").encode("utf-8")

    @classmethod
    def parse_body(cls, body: bytes) -> Checkpoint:
        """Read a checkpoint body back; ValueError says what is wrong with it."""
        lines = body.decode("utf-8").split("\n")
        if len(lines) != 6 or lines[-1] != "":
            raise ValueError("a checkpoint body has exactly five lines, each ending in a newline")
        origin, size, root, as_of, built = lines[:5]
        if not size.isdigit() or str(int(size)) != size:
            raise ValueError(f"line 2 must be the tree size, got {size!r}")
        raw = unb64(root, 32)
        if raw is None:
            raise ValueError("line 3 must be a base64 SHA-256 root hash")
        if not as_of.startswith("as-of ") or not built.startswith("built "):
            raise ValueError("lines 4 and 5 must be 'as-of <date>' and 'built <time>'")
        parsed = cls(origin, int(size), raw, dt.date.fromisoformat(as_of[6:]), built[6:])
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
            "built": self.built,
            "body": self.body().decode("utf-8"),
            "signed": signature is not None,
            "signature": None
            if signature is None or key is None
            else {
                "algorithm": ALGORITHM,
                "key": fingerprint(key),
                "value": b64(signature),
            },
        }


def checkpoint_url(settings: Settings) -> str:
    return settings.site_url + CHECKPOINT_JSON
