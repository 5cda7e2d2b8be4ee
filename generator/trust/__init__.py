"""Signed checkpoints: a Merkle tree over every record, Ed25519 signed notes, proofs, verification.

Each build hashes every record (``record`` in the open data, in number order) into an RFC 6962
Merkle tree, writes the open data with every record's inclusion proof, lists the SHA-256 of every
data file in ``api/v1/files.sha256``, and signs a checkpoint (a C2SP signed note) naming the
registry, the tree, the as-of date, the signing time and the digest of that list. Anyone holding
the body's public key (``registry/signing-key.pub``) can then check offline that a downloaded
record, certificates.json or the CSV is byte for byte what the body published
(:func:`verify_paths`, CLI ``starmark verify``). The formats are documented on the open-data
page; leaf hash = SHA-256(0x00 ‖ canonical JSON of ``record``), node = SHA-256(0x01 ‖ l ‖ r).

The parts, each testable alone: :mod:`.tree` (RFC 6962 hashing and proofs), :mod:`.keys`
(Ed25519 key files), :mod:`.checkpoint` (the signed body), :mod:`.note` (C2SP signed notes),
:mod:`.log` (the log's state, from git history), :mod:`.tiles` (the log as tlog-tiles),
:mod:`.publish` (a build's log, files and checkpoint), :mod:`.verify` (offline verification:
finding the files, the log, ``--since``), :mod:`.checks` (the checks of each file),
:mod:`.report` (what verification found and trusts), :mod:`.cli` (``starmark keygen`` /
``verify``).
"""

from __future__ import annotations

from .checkpoint import (
    CHECKPOINT_JSON,
    CHECKPOINT_NOTE,
    CHECKPOINT_SIG,
    CHECKPOINT_TEXT,
    CHECKPOINTS,
    FILES,
    FORMAT,
    Checkpoint,
    TreeHead,
    as_of_problem,
    checkpoint_url,
    origin_of,
    parse_head,
    signing_time,
)
from .checks import ENTRY_KEYS, LOG_KEYS, check_all, check_checkpoint, check_entry, check_origin
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
from .publish import (
    UNSIGNED_WARNING,
    LogState,
    Trust,
    compute,
    is_signed,
    log_state,
    manifest,
    pretty,
    public_key_markdown,
    publish,
    tree_heads,
)
from .report import Failure, LogView, Pins, Proven, Report
from .tree import MerkleTree, b64, leaf_hash, node_hash, record_leaf, root_from_path, unb64
from .verify import find_inputs, statement, verify_paths

__all__ = [
    "ALGORITHM",
    "CHECKPOINT_JSON",
    "CHECKPOINT_SIG",
    "CHECKPOINT_TEXT",
    "ENTRY_KEYS",
    "FORMAT",
    "KEY_ENV",
    "PRIVATE_KEY_NAME",
    "LOG_KEYS",
    "PUBLIC_KEY_NAME",
    "PUBLIC_KEY_PATH",
    "Checkpoint",
    "Failure",
    "KeyFileError",
    "MerkleTree",
    "Pins",
    "LogState",
    "LogView",
    "Proven",
    "Report",
    "Trust",
    "b64",
    "as_of_problem",
    "CHECKPOINT_NOTE",
    "FILES",
    "CHECKPOINTS",
    "TreeHead",
    "parse_head",
    "UNSIGNED_WARNING",
    "is_signed",
    "manifest",
    "origin_of",
    "signing_time",
    "log_state",
    "tree_heads",
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
