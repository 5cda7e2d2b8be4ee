"""Signed checkpoints: a Merkle tree over every record, Ed25519 signatures, proofs, verification.

Each build hashes every record (``record`` in the open data, in number order) into an RFC 6962
Merkle tree, signs a checkpoint that names the registry, the number of records, the root hash and
the as-of date, and gives every record's JSON its inclusion proof. Anyone holding the body's
public key (``registry/signing-key.pub``) can then check offline that a downloaded record is the
body's own and unaltered (:func:`verify_paths`, CLI ``starmark verify``).

Formats (documented for tender officers on the verification page):

* leaf hash = SHA-256(0x00 ‖ canonical JSON of ``record``); node = SHA-256(0x01 ‖ left ‖ right);
  trees of any size are split as RFC 6962 §2.1 says. Hashes are written in base64.
* checkpoint body: the C2SP tlog-checkpoint layout, UTF-8, each line ending in ``\\n``::

      <origin: site_url>
      <tree size>
      <root hash, base64>
      as-of <YYYY-MM-DD>
      built <YYYY-MM-DDTHH:MM:SSZ>

  The Ed25519 signature covers exactly these bytes, so ``openssl pkeyutl -verify -rawin`` can
  check ``checkpoint.txt`` against ``checkpoint.sig`` with the PEM public key.

The parts, each testable alone: :mod:`.tree` (RFC 6962 hashing and proofs), :mod:`.keys`
(Ed25519 key files), :mod:`.checkpoint` (the signed body), :mod:`.publish` (a build's checkpoint
and proofs), :mod:`.verify` (offline checks), :mod:`.cli` (``starmark keygen`` / ``verify``).
"""

from __future__ import annotations

from .checkpoint import (
    CHECKPOINT_JSON,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    FORMAT,
    Checkpoint,
    built_time,
    checkpoint_url,
)
from .keys import (
    ALGORITHM,
    KEY_ENV,
    PRIVATE_KEY_NAME,
    PUBLIC_KEY_NAME,
    PUBLIC_KEY_PATH,
    KeyFileError,
    fingerprint,
    generate_keys,
    pinned_key,
    public_pem,
    read_private_key,
    read_public_key,
    signing_key,
)
from .publish import Proofs, Trust, compute, pretty, public_key_markdown, publish
from .tree import MerkleTree, b64, leaf_hash, node_hash, record_leaf, root_from_path, unb64
from .verify import (
    ENTRY_KEYS,
    PROOF_KEYS,
    Failure,
    Pins,
    Proven,
    Report,
    check_all,
    check_checkpoint,
    check_entry,
    check_origin,
    find_inputs,
    statement,
    verify_paths,
)

__all__ = [
    "ALGORITHM",
    "CHECKPOINT_JSON",
    "CHECKPOINT_SIG",
    "CHECKPOINT_TEXT",
    "ENTRY_KEYS",
    "FORMAT",
    "KEY_ENV",
    "PRIVATE_KEY_NAME",
    "PROOF_KEYS",
    "PUBLIC_KEY_NAME",
    "PUBLIC_KEY_PATH",
    "Checkpoint",
    "Failure",
    "KeyFileError",
    "MerkleTree",
    "Pins",
    "Proofs",
    "Proven",
    "Report",
    "Trust",
    "b64",
    "built_time",
    "check_all",
    "check_checkpoint",
    "check_entry",
    "check_origin",
    "checkpoint_url",
    "compute",
    "find_inputs",
    "fingerprint",
    "generate_keys",
    "leaf_hash",
    "node_hash",
    "pinned_key",
    "pretty",
    "public_key_markdown",
    "public_pem",
    "publish",
    "read_private_key",
    "read_public_key",
    "record_leaf",
    "root_from_path",
    "signing_key",
    "statement",
    "unb64",
    "verify_paths",
]
