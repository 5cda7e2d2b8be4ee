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
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import logging
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import data
from .errors import InputError, Problem
from .model import Certificate, Registry, standing
from .output import Output
from .settings import PUBLIC_KEY_FILE, REGISTRY_DIR, Lifecycle, Settings

# Not under the "mkdocs" logger: in strict mode mkdocs aborts a build on any warning there, and an
# unsigned build must still build.
log = logging.getLogger("starmark.trust")

FORMAT = "starmark-checkpoint/1"
KEY_ENV = "STARMARK_SIGNING_KEY"
CHECKPOINT_JSON = f"{data.API}/checkpoint.json"
CHECKPOINT_TEXT = f"{data.API}/checkpoint.txt"
CHECKPOINT_SIG = f"{data.API}/checkpoint.sig"
PRIVATE_KEY_NAME = "signing.key"
PUBLIC_KEY_NAME = PUBLIC_KEY_FILE
PUBLIC_KEY_PATH = f"{REGISTRY_DIR}/{PUBLIC_KEY_FILE}"
ALGORITHM = "Ed25519"
ENTRY_KEYS = frozenset({"schema_version", "record", "derived", "links", "proof"})
PROOF_KEYS = frozenset(
    {"checkpoint", "leaf_index", "tree_size", "leaf_hash", "audit_path", "root_hash"}
)


# --- Merkle tree (RFC 6962 §2.1) ------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """An RFC 6962 tree over leaf hashes, kept level by level so every audit path is cheap.

    Pairing nodes level by level and carrying an odd last node up unchanged builds exactly the
    tree of RFC 6962's recursive split at the largest power of two below the size.
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        while len(self.levels[-1]) > 1:
            below = self.levels[-1]
            above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            if len(below) % 2:
                above.append(below[-1])
            self.levels.append(above)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    @property
    def root(self) -> bytes:
        """MTH(D[n]); the hash of the empty string for an empty tree."""
        return self.levels[-1][0] if self.size else hashlib.sha256(b"").digest()

    def path(self, index: int) -> list[bytes]:
        """PATH(index, D[n]): the audit path from leaf ``index`` up to the root."""
        if not 0 <= index < self.size:
            raise IndexError(f"leaf {index} is not in a tree of {self.size}")
        out = []
        for level in self.levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                out.append(level[sibling])
            index //= 2
        return out


def root_from_path(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root that ``path`` leads to from ``leaf`` (RFC 9162 §2.1.3.2), or None if it cannot."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def unb64(text: object, length: int | None = None) -> bytes | None:
    """Strict base64 decoding; None for anything that is not exactly that."""
    if not isinstance(text, str):
        return None
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None
    if b64(raw) != text or (length is not None and len(raw) != length):
        return None
    return raw


def record_leaf(record: Any) -> bytes:
    """The leaf hash of one record as published (the ``record`` part of its JSON)."""
    return leaf_hash(data.canonical_json(record))


# --- keys -----------------------------------------------------------------------------------------


class KeyFileError(ValueError):
    """A key file that cannot be used; the message says which file and why."""


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA256:<hex> of the DER public key, as ``openssl pkey -pubin -outform DER | sha256sum``."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return "SHA256:" + hashlib.sha256(der).hexdigest()


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def read_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (as ``starmark keygen`` writes and openssl reads)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the public key: {exc.strerror or exc}") from None
    try:
        key = serialization.load_pem_public_key(raw)
    except ValueError:
        raise KeyFileError(
            f"{path}: not a PEM public key (expected '-----BEGIN PUBLIC KEY-----')"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: the public key is not an Ed25519 key")
    return key


def read_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS#8) file or a raw 32-byte seed file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"{path}: cannot read the signing key: {exc.strerror or exc}") from None
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    try:
        key = serialization.load_pem_private_key(raw, password=None)
    except (ValueError, TypeError):
        raise KeyFileError(
            f"{path}: not an unencrypted PEM private key or a raw 32-byte Ed25519 key"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: the private key is not an Ed25519 key")
    return key


def generate_keys(out_dir: Path, *, force: bool = False) -> tuple[Path, Path, str]:
    """Write a new key pair into ``out_dir``: (private key path, public key path, fingerprint).

    The private key is written with mode 0600 from the start, never readable by others.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    private_path, public_path = out_dir / PRIVATE_KEY_NAME, out_dir / PUBLIC_KEY_NAME
    for path in (private_path, public_path):
        if path.exists() and not force:
            raise KeyFileError(f"{path} exists; refusing to overwrite a key (use --force)")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.unlink(missing_ok=True)
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    os.chmod(private_path, 0o600)
    public_path.write_bytes(public_pem(key.public_key()))
    return private_path, public_path, fingerprint(key.public_key())


def pinned_key(settings: Settings) -> Ed25519PublicKey | None:
    """The public key committed in ``registry/``, or None when the registry has none."""
    path = settings.root / REGISTRY_DIR / PUBLIC_KEY_FILE
    if not path.exists():
        return None
    try:
        return read_public_key(path)
    except KeyFileError as exc:
        raise InputError([Problem(PUBLIC_KEY_PATH, 0, str(exc).split(": ", 1)[-1])]) from None


def signing_key(
    settings: Settings, environ: dict[str, str] | None = None
) -> Ed25519PrivateKey | None:
    """The private key in the file named by $STARMARK_SIGNING_KEY, checked against the pin.

    Not set: None (the build is unsigned). Set but unusable, or not the pinned key: an error,
    because publishing under the wrong key would make every honest record look forged.
    """
    env = os.environ if environ is None else environ
    name = env.get(KEY_ENV, "").strip()
    pinned = pinned_key(settings)
    if not name:
        return None
    path = Path(name).expanduser()
    try:
        key = read_private_key(path)
    except KeyFileError as exc:
        raise InputError([Problem(f"${KEY_ENV}", 0, str(exc))]) from None
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            log.warning(
                "starmark: the signing key %s can be read by other users; chmod 600 it", path
            )
    except OSError:
        pass
    if pinned is None:
        raise InputError(
            [
                Problem(
                    PUBLIC_KEY_PATH,
                    0,
                    (
                        "no public key is committed, so nobody could check this build's "
                        f"signature; commit the public key of ${KEY_ENV} "
                        f"({fingerprint(key.public_key())}) as {PUBLIC_KEY_PATH}"
                    ),
                )
            ]
        )
    if fingerprint(key.public_key()) != fingerprint(pinned):
        raise InputError(
            [
                Problem(
                    PUBLIC_KEY_PATH,
                    0,
                    (
                        f"the signing key in ${KEY_ENV} ({path}, {fingerprint(key.public_key())}) "
                        f"does not match the committed public key ({fingerprint(pinned)}); the "
                        "build would publish signatures that fail verification. Use the right "
                        "key, or commit its public key if the key was rotated"
                    ),
                )
            ]
        )
    return key


# --- checkpoint -----------------------------------------------------------------------------------


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


# --- verification ---------------------------------------------------------------------------------


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
class Report:
    """The outcome of ``starmark verify``: what was proven, what failed, what was not checked."""

    failures: list[Failure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    checkpoint: Checkpoint | None = None
    signed_by: str | None = None
    signature: bytes | None = None
    proven: dict[str, Proven] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

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
        "built",
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
            "root_hash, as_of or built was altered)",
        )
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
        and set(signature) == {"algorithm", "key", "value"}
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


def check_origin(checkpoint: Checkpoint, shown: str, pins: Pins, report: Report) -> None:
    """The checkpoint must name the pinned registry, and never a reported look-alike site."""
    host = (urlsplit(checkpoint.origin).hostname or checkpoint.origin).lower()
    if host in pins.lookalike_domains:
        report.fail(
            shown,
            "origin",
            f"{checkpoint.origin} is a REPORTED LOOK-ALIKE SITE, not the "
            "certification body's registry (see the counterfeits page)",
        )
    if pins.settings is not None and checkpoint.origin != pins.settings.site_url:
        report.fail(
            shown,
            "origin",
            f"the checkpoint is for {checkpoint.origin}, but the pinned "
            f"registry is {pins.settings.site_url}",
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
    """Check one record's JSON: its proof, and its unsigned parts against its signed part.

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

    leaf = record_leaf(record)
    proof = entry.get("proof")
    if not isinstance(proof, dict) or set(proof) != PROOF_KEYS:
        report.fail(shown, "inclusion proof", "missing or malformed 'proof'", label)
    else:
        _check_proof(proof, leaf, shown, label, checkpoint, report, index)

    verdict = None
    try:
        cert = _certificate(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.fail(
            shown, "record", f"not a certificate record ({type(exc).__name__}: {exc})", label
        )
        return None
    if data.canonical_json(data.record_dict(cert)) != data.canonical_json(record):
        report.fail(shown, "record", "not in the registry's record form", label)
    verdict = _check_derived(entry, cert, shown, label, checkpoint, pins, report)
    return verdict if len(report.failures) == before else None


def _check_proof(
    proof: dict[str, Any],
    leaf: bytes,
    shown: str,
    label: str | None,
    checkpoint: Checkpoint,
    report: Report,
    index: int | None,
) -> None:
    if proof["leaf_hash"] != b64(leaf):
        report.fail(
            shown,
            "record hash",
            "the record does not hash to the proof's leaf_hash: the record was altered",
            label,
        )
    if proof["checkpoint"] != checkpoint.origin + CHECKPOINT_JSON:
        report.fail(shown, "inclusion proof", f"names checkpoint {proof['checkpoint']!r}", label)
    if proof["tree_size"] != checkpoint.tree_size or proof["root_hash"] != b64(
        checkpoint.root_hash
    ):
        report.fail(
            shown,
            "inclusion proof",
            "is for another checkpoint (tree_size or root_hash differs from the checkpoint's)",
            label,
        )
    if index is not None and proof["leaf_index"] != index:
        report.fail(
            shown,
            "inclusion proof",
            f"leaf_index {proof['leaf_index']!r} but the record is at position {index}",
            label,
        )
    path = (
        [unb64(h, 32) for h in proof["audit_path"]]
        if isinstance(proof["audit_path"], list)
        else None
    )
    idx = proof["leaf_index"]
    if (
        path is None
        or any(h is None for h in path)
        or not isinstance(idx, int)
        or isinstance(idx, bool)
    ):
        report.fail(shown, "inclusion proof", "leaf_index or audit_path is malformed", label)
        return
    root = root_from_path(idx, checkpoint.tree_size, leaf, cast(list[bytes], path))
    if root != checkpoint.root_hash:
        report.fail(
            shown,
            "inclusion proof",
            "the audit path does not lead from this record to the "
            "checkpoint's root hash: the record or its proof was altered",
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
    """``derived`` and ``links`` are not signed: they must follow from the signed record."""
    derived, links = entry.get("derived"), entry.get("links")
    if not isinstance(derived, dict) or not isinstance(links, dict):
        report.fail(shown, "derived", "missing 'derived' or 'links'", label)
        return None
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
    if not all(isinstance(v, str) and v.startswith(checkpoint.origin) for v in links.values()):
        report.fail(shown, "links", f"links lead outside {checkpoint.origin}", label)
    return verdict


def check_all(
    doc: Any, raw: bytes, shown: str, checkpoint: Checkpoint, pins: Pins, report: Report
) -> dict[str, dict[str, Any]]:
    """Check certificates.json: every entry, then the whole tree against the checkpoint."""
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
    if doc.get("count") != len(entries) or len(entries) != checkpoint.tree_size:
        report.fail(
            shown,
            "count",
            f"holds {len(entries)} records, says {doc.get('count')!r}, the "
            f"checkpoint says {checkpoint.tree_size}: records were added or removed",
        )
    reg = doc.get("registry")
    want: dict[str, Any] = {"site_url": checkpoint.origin}
    if pins.settings is not None:
        want |= {"body": pins.settings.body.name, "body_en": pins.settings.body.name_en}
    if (
        not isinstance(reg, dict)
        or any(reg.get(k) != v for k, v in want.items())
        or (pins.settings is not None and set(reg) != set(want))
    ):
        report.fail(
            shown,
            "registry",
            "the registry's identity differs from the checkpoint's or the pinned registry's",
        )
    by_number: dict[str, dict[str, Any]] = {}
    leaves = []
    for i, entry in enumerate(entries):
        record = entry.get("record") if isinstance(entry, dict) else None
        leaves.append(record_leaf(record))
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
    if MerkleTree(leaves).root != checkpoint.root_hash:
        report.fail(
            shown,
            "tree",
            "the records do not hash to the checkpoint's root hash: a record "
            "was altered, added, removed or reordered",
        )
    return by_number


# --- finding the files ----------------------------------------------------------------------------


@dataclass
class Inputs:
    """The files to check, found from the paths given on the command line."""

    checkpoint: Path | None = None
    all_records: Path | None = None
    records: list[Path] = field(default_factory=list)
    site: Path | None = None


def _kind(path: Path) -> str | None:
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
    """Sort the given files and folders into checkpoint, all-records file and record files."""
    found = Inputs(checkpoint=checkpoint)
    for path in paths:
        if path.is_dir():
            api = path / data.API if (path / data.API).is_dir() else path
            if api != path:
                found.site = path
            found.checkpoint = found.checkpoint or _existing(api / "checkpoint.json")
            found.all_records = found.all_records or _existing(api / "certificates.json")
            folder = api / "certificates"
            if folder.is_dir():
                found.records += sorted(folder.glob("*.json"))
            continue
        kind = _kind(path) if path.is_file() else None
        if kind == "checkpoint" and found.checkpoint is None:
            found.checkpoint = path
        elif kind == "all":
            found.all_records = path
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
    for path in ([found.all_records] if found.all_records else []) + found.records:
        yield path.parent / "checkpoint.json"
        yield path.parent.parent / "checkpoint.json"


def _shown(path: Path, base: Path | None) -> str:
    if base is not None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            pass
    return str(path)


def verify_paths(paths: Sequence[Path], pins: Pins, checkpoint: Path | None = None) -> Report:
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
    if base is not None:
        _check_side_files(base, cp, report)

    by_number: dict[str, dict[str, Any]] = {}
    if found.all_records is not None:
        shown = _shown(found.all_records, base)
        report.files.append(shown)
        loaded = _read_json(found.all_records, shown, report)
        if loaded is not None:
            by_number = check_all(*loaded, shown, cp, pins, report)
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
        _exact(raw, pretty(entry), shown, report, number)
        if isinstance(number, str) and by_number.get(number) == entry:
            seen.add(number)  # the same entry as in certificates.json, checked there
            continue
        verdict = check_entry(entry, shown, cp, pins, report)
        if not isinstance(number, str):
            continue
        seen.add(number)
        if found.site is not None and path.name != f"{number}.json":
            report.fail(shown, "file name", f"holds record {number}", number)
        if by_number and by_number.get(number) != entry:
            report.fail(
                shown, "record", f"differs from its entry in {data.API}/certificates.json", number
            )
        if verdict is None:
            report.proven.pop(number, None)
        elif number not in report.proven:
            report.proven[number] = Proven(number, verdict, shown)
    if found.site is not None and by_number:
        for number in sorted(set(by_number) - seen):
            report.fail(f"{data.API}/certificates/{number}.json", "file", "missing", number)
    return report


def _check_side_files(site: Path, cp: Checkpoint, report: Report) -> None:
    """checkpoint.txt and checkpoint.sig, for openssl users, must say the same as the JSON."""
    text = site / CHECKPOINT_TEXT
    if not text.is_file() or text.read_bytes() != cp.body():
        report.fail(CHECKPOINT_TEXT, "body", "missing or differs from the body in checkpoint.json")
    sig = site / CHECKPOINT_SIG
    if report.signature is not None and (not sig.is_file() or sig.read_bytes() != report.signature):
        report.fail(
            CHECKPOINT_SIG, "signature", "missing or differs from the signature in checkpoint.json"
        )


def statement(report: Report, verdict_label: dict[str, str] | None = None) -> list[str]:
    """What was proven, in plain words, one line per fact."""
    cp = report.checkpoint
    if cp is None:
        return []
    labels = verdict_label or {}
    signed = (
        f"signed on {cp.as_of} by key {report.signed_by}"
        if report.signed_by
        else f"of {cp.as_of}, UNSIGNED"
    )
    lines = [
        f"checkpoint: registry {cp.origin}, {cp.tree_size} records, root {b64(cp.root_hash)}, "
        f"{signed}"
    ]
    for proven in sorted(report.proven.values(), key=lambda p: p.number):
        label = f" ({labels[proven.verdict]})" if proven.verdict in labels else ""
        lines.append(
            f"record {proven.number} is in the registry {cp.origin} "
            f"{'signed' if report.signed_by else 'published (unsigned)'} on {cp.as_of}, "
            f"status {proven.verdict}{label}, as of that date"
        )
    return lines
