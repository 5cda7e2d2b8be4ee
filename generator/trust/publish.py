"""A build's trust artefacts: the tree over every record, the signed checkpoint, every proof."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import data
from ..errors import InputError, Problem
from ..model import Registry
from ..output import Output
from ..settings import Settings
from . import note
from .checkpoint import (
    CHECKPOINT_JSON,
    CHECKPOINT_NOTE,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    FILES,
    Checkpoint,
    as_of_problem,
    checkpoint_url,
    origin_of,
    signing_time,
)
from .keys import KEY_ENV, fingerprint, pinned_key, public_pem, signing_key
from .tree import MerkleTree, b64, leaf_hash


@dataclass
class Trust:
    """The trust artefacts of one build: the checkpoint, its signature and every record's proof."""

    checkpoint: Checkpoint
    signature: bytes | None
    public_key: Ed25519PublicKey | None
    proofs: Proofs
    manifest: bytes = b""  # files.sha256

    def files(self) -> dict[str, bytes]:
        """Site-relative path → content of the checkpoint files."""
        body = self.checkpoint.body()
        out = {
            CHECKPOINT_JSON: pretty(self.checkpoint.to_json(self.signature, self.public_key)),
            CHECKPOINT_TEXT: body,
            CHECKPOINT_NOTE: body,
            FILES: self.manifest,
        }
        if self.signature is not None and self.public_key is not None:
            raw = note.key_hash(self.checkpoint.origin, self.public_key) + self.signature
            line = f"{note.DASH} {self.checkpoint.origin} {b64(raw)}\n".encode()
            out[CHECKPOINT_NOTE] = body + b"\n" + line
            out[CHECKPOINT_SIG] = self.signature
        return out


class Proofs(data.Serialized):
    """Every record's inclusion proof (``{"proof": {…}}`` by certificate number), made from the
    tree as they are asked for, and serialized directly for :func:`generator.data.write_data`."""

    def __init__(
        self, tree: MerkleTree, numbers: Sequence[str], url: str, prepared: data.Prepared | None
    ) -> None:
        self.tree = tree
        self.url = url
        self.prepared = prepared
        self.index = {number: i for i, number in enumerate(numbers)}
        self.root = b64(tree.root)
        self._levels: list[list[str]] | None = None
        self._above: list[tuple[str, str]] = []
        self._last = -1
        size = str(tree.size)
        url_json = json.dumps(url, ensure_ascii=False)
        self._pretty = (
            ',\n    "checkpoint": ' + url_json + ',\n    "leaf_hash": "',
            '",\n    "leaf_index": ',
            ',\n    "root_hash": "' + self.root + '",\n    "tree_size": ' + size + "\n  }",
        )
        self._compact = (
            ',"checkpoint":' + url_json + ',"leaf_hash":"',
            '","leaf_index":',
            ',"root_hash":"' + self.root + '","tree_size":' + size + "}",
        )

    def __getitem__(self, number: str) -> dict[str, Any]:
        i = self.index[number]
        return {
            "proof": {
                "checkpoint": self.url,
                "leaf_index": i,
                "tree_size": self.tree.size,
                "leaf_hash": b64(self.tree.levels[0][i]),
                "audit_path": [b64(h) for h in self.tree.path(i)],
                "root_hash": self.root,
            }
        }

    def __contains__(self, number: object) -> bool:
        return number in self.index

    def __iter__(self) -> Iterator[str]:
        return iter(self.index)

    def __len__(self) -> int:
        return len(self.index)

    def _paths(self, index: int) -> tuple[str, str, str]:
        """Leaf ``index``'s hash and audit path, in base64, the path as indented and compact JSON.

        Each node is encoded once, and the path's text above the lowest level where this leaf's
        ancestors differ from the last leaf asked for is kept: for leaves in order, each proof
        costs about two joins.
        """
        if self._levels is None:
            self._levels = [[b64(h) for h in level] for level in self.tree.levels]
            # the path's text from each level up, with a leading comma: indented, compact
            self._above = [("", "")] * len(self._levels)
            self._last = -1
        levels, above = self._levels, self._above
        top = len(levels) - 1
        start = top if self._last < 0 else min(top, (self._last ^ index).bit_length())
        for depth in range(start - 1, -1, -1):
            level, sibling = levels[depth], (index >> depth) ^ 1
            indented, compact = above[depth + 1]
            if sibling < len(level):
                node = level[sibling]
                indented = ',\n      "' + node + '"' + indented
                compact = ',"' + node + '"' + compact
            above[depth] = (indented, compact)
        self._last = index
        indented, compact = above[0]
        if not indented:
            return levels[0][index], "[]", "[]"
        return levels[0][index], "[" + indented[1:] + "\n    ]", "[" + compact[1:] + "]"

    def members(self, number: str) -> list[tuple[str, bytes, bytes]]:
        """The ``proof`` member, as json.dumps writes it indented and compact."""
        i = self.index[number]
        leaf, indented_path, compact_path = self._paths(i)
        p_checkpoint, p_index, p_end = self._pretty
        c_checkpoint, c_index, c_end = self._compact
        index = str(i)
        indented = "".join(
            (
                '  "proof": {\n    "audit_path": ',
                indented_path,
                p_checkpoint,
                leaf,
                p_index,
                index,
                p_end,
            )
        )
        compact = "".join(
            ('"proof":{"audit_path":', compact_path, c_checkpoint, leaf, c_index, index, c_end)
        )
        return [("proof", indented.encode("utf-8"), compact.encode("utf-8"))]


def tree_and_proofs(registry: Registry, prepared: data.Prepared | None = None) -> Proofs:
    """Hash every record in number order into the tree and make every inclusion proof.

    ``prepared``: the records serialized (:func:`generator.data.prepare`), else done here.
    """
    if prepared is None or prepared.registry is not registry:
        prepared = data.prepare(registry)
    certs = registry.certificates
    order = sorted(range(len(certs)), key=lambda i: certs[i].number)
    tree = MerkleTree([leaf_hash(prepared.fragments[i].canonical) for i in order])
    url = checkpoint_url(registry.settings)
    return Proofs(tree, [certs[i].number for i in order], url, prepared)


def manifest(digests: Mapping[str, bytes]) -> bytes:
    """files.sha256: a ``sha256sum`` line per data file (path relative to api/v1/), by path."""
    prefix = data.API + "/"
    lines = [
        f"{digests[rel].hex()}  {rel.removeprefix(prefix)}\n" for rel in sorted(digests)
    ]
    return "".join(lines).encode("utf-8")


def contradictions(registry: Registry) -> list[Problem]:
    """Records whose history runs past the as-of date: a status derived for that day would
    contradict them (a suspension "since" a later day), so such a checkpoint is not signed."""
    found = []
    for cert in registry.certificates:
        dates = [e.date for e in cert.events] + [a.date for a in cert.audits]
        since = registry.standing(cert).since
        latest = max(dates) if dates else cert.issued
        if latest > registry.as_of or (since is not None and since > registry.as_of):
            found.append(
                Problem(
                    cert.source or cert.number,
                    0,
                    f"the record has an entry dated {latest}, after the as-of date "
                    f"{registry.as_of}; a checkpoint of that day would contradict it "
                    "(build with a later --as-of)",
                )
            )
    return found


def compute(
    registry: Registry,
    key: Ed25519PrivateKey | None,
    environ: Mapping[str, str] | None = None,
    *,
    digests: Mapping[str, bytes] | None = None,
    proofs: Proofs | None = None,
    now: dt.datetime | None = None,
) -> Trust:
    """Sign the checkpoint over the tree and the published files' ``digests``.

    A signed checkpoint is refused (:class:`InputError`) when its as-of date is in the future of
    its signing time or contradicts a record.
    """
    proofs = proofs or tree_and_proofs(registry)
    settings = registry.settings
    time = signing_time(registry.as_of, key is not None, environ, now)
    listed = manifest(digests or {})
    checkpoint = Checkpoint(
        origin_of(settings.site_url),
        proofs.tree.size,
        proofs.tree.root,
        registry.as_of,
        time,
        settings.stale_after_days,
        hashlib.sha256(listed).digest(),
    )
    if key is not None:
        problem = as_of_problem(registry.as_of, time)
        problems = [Problem("--as-of", 0, problem)] if problem else contradictions(registry)
        if problems:
            raise InputError(problems)
    signature = key.sign(checkpoint.body()) if key is not None else None
    public = key.public_key() if key is not None else None
    return Trust(checkpoint, signature, public, proofs, listed)


def publish(
    registry: Registry,
    out: Output,
    *,
    cache_dir: Path | None = None,
    keys: Mapping[str, bytes] | None = None,
    environ: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Write the open data with every record's proof, then sign (with $STARMARK_SIGNING_KEY, if
    set) a checkpoint over the tree and the digest of every file written; return the number of
    records. ``cache_dir`` and ``keys``: see :func:`generator.data.prepare`.
    """
    env = os.environ if environ is None else environ
    key = signing_key(registry.settings, dict(env))
    prepared = data.prepare(registry, cache_dir=cache_dir, keys=keys)
    proofs = tree_and_proofs(registry, prepared)
    digests: dict[str, bytes] = {}
    count = data.write_data(registry, out, extra=proofs, prepared=prepared, digests=digests)
    trust = compute(registry, key, env, digests=digests, proofs=proofs, now=now)
    for rel, content in trust.files().items():
        out.write(rel, content)
    return count


def is_signed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a build will sign: $STARMARK_SIGNING_KEY names a key file."""
    env = os.environ if environ is None else environ
    return bool(env.get(KEY_ENV, "").strip())


UNSIGNED_WARNING = (
    f"${KEY_ENV} is not set: the checkpoint ({CHECKPOINT_JSON}) is UNSIGNED and proves nothing "
    "about who published the records. Set it to the private key file to sign."
)


def pretty(value: Any) -> bytes:
    """The published form of the per-record and checkpoint JSON files (as generator.data writes)."""
    return data.pretty(value)


def public_key_markdown(settings: Settings) -> str:
    """The committed public key (PEM) and its fingerprint, for the verification page.

    Meant for a ``<!-- starmark:signing-key -->`` block marker; a key file that cannot be read
    is a ValueError naming it, as markers report their problems.
    """
    try:
        key = pinned_key(settings)
    except InputError as exc:
        raise ValueError(str(exc)) from None
    if key is None:
        return (
            '<p>本登记库尚未发布签名公钥。<span lang="en">This registry has not published a '
            "signing key yet.</span></p>"
        )
    pem = public_pem(key).decode("ascii").strip()
    return (
        f"```text\n{pem}\n```\n\n"
        f'<p>公钥指纹 <span lang="en">Key fingerprint</span>: <code>{fingerprint(key)}</code></p>'
    )
