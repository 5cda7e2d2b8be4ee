"""A build's trust artefacts: the tree over every record, the signed checkpoint, every proof."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import data
from ..errors import InputError
from ..model import Registry
from ..output import Output
from ..settings import Settings
from .checkpoint import (
    CHECKPOINT_JSON,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    Checkpoint,
    built_time,
    checkpoint_url,
)
from .keys import KEY_ENV, fingerprint, log, pinned_key, public_pem, signing_key
from .tree import MerkleTree, b64, leaf_hash


@dataclass
class Trust:
    """The trust artefacts of one build: the checkpoint, its signature and every record's proof."""

    checkpoint: Checkpoint
    signature: bytes | None
    public_key: Ed25519PublicKey | None
    proofs: Proofs

    def files(self) -> dict[str, bytes]:
        """Site-relative path → content of the checkpoint files."""
        out = {
            CHECKPOINT_JSON: pretty(self.checkpoint.to_json(self.signature, self.public_key)),
            CHECKPOINT_TEXT: self.checkpoint.body(),
        }
        if self.signature is not None:
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


def compute(
    registry: Registry,
    key: Ed25519PrivateKey | None,
    environ: dict[str, str] | None = None,
    *,
    prepared: data.Prepared | None = None,
) -> Trust:
    """Hash every record in number order, sign the checkpoint, and make every inclusion proof.

    ``prepared``: the records serialized (:func:`generator.data.prepare`), else done here.
    """
    if prepared is None or prepared.registry is not registry:
        prepared = data.prepare(registry)
    certs = registry.certificates
    order = sorted(range(len(certs)), key=lambda i: certs[i].number)
    tree = MerkleTree([leaf_hash(prepared.fragments[i].canonical) for i in order])
    settings = registry.settings
    checkpoint = Checkpoint(
        settings.site_url, tree.size, tree.root, registry.as_of, built_time(registry.as_of, environ)
    )
    signature = key.sign(checkpoint.body()) if key is not None else None
    proofs = Proofs(tree, [certs[i].number for i in order], checkpoint_url(settings), prepared)
    return Trust(checkpoint, signature, key.public_key() if key is not None else None, proofs)


def publish(
    registry: Registry,
    out: Output,
    *,
    cache_dir: Path | None = None,
    keys: Mapping[str, bytes] | None = None,
) -> Proofs:
    """Sign (with $STARMARK_SIGNING_KEY, if set), write the checkpoint files, return the proofs.

    The proofs are the ``extra`` that :func:`generator.data.write_data` adds to each record; they
    carry the records serialized once for both (``cache_dir`` and ``keys``: see
    :func:`generator.data.prepare`).
    """
    key = signing_key(registry.settings)
    if key is None:
        log.warning(
            "starmark: $%s is not set: %s is UNSIGNED and cannot prove that the records "
            "are the certification body's. Set it to the private key file to sign.",
            KEY_ENV,
            CHECKPOINT_JSON,
        )
    prepared = data.prepare(registry, cache_dir=cache_dir, keys=keys)
    trust = compute(registry, key, prepared=prepared)
    for rel, content in trust.files().items():
        out.write(rel, content)
    return trust.proofs


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
