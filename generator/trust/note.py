"""C2SP signed notes (https://c2sp.org/signed-note): Ed25519 signature lines with key hashes.

A note is its text (non-empty lines, each ending in a newline), a blank line, then one line per
signature: ``— <key name> <base64(key hash ‖ signature)>``. The key hash is the first four bytes
of SHA-256(key name ‖ "\\n" ‖ 0x01 ‖ the 32-byte Ed25519 public key), 0x01 naming the Ed25519
algorithm; the signature covers the text alone. The same encoding as Go's
``golang.org/x/mod/sumdb/note``, so its tools and a transparency-log witness can read ours.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = b"\x01"  # the signed-note algorithm byte for Ed25519
DASH = "\u2014"  # EM DASH, which starts every signature line
MAX_SIGNATURES = 100


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of an Ed25519 public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def valid_name(name: str) -> bool:
    """A key name: non-empty, no spaces, no '+' (the vkey separator), no control characters."""
    return bool(name) and not any(c.isspace() or c == "+" or ord(c) < 0x20 for c in name)


def key_hash(name: str, key: Ed25519PublicKey) -> bytes:
    """The four bytes that name a key in a signature line."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519 + raw_public(key)).digest()[:4]


def verifier_key(name: str, key: Ed25519PublicKey) -> str:
    """The key in the note "vkey" form ``<name>+<hash hex>+<base64(0x01 ‖ key)>``."""
    encoded = base64.b64encode(ED25519 + raw_public(key)).decode("ascii")
    return f"{name}+{key_hash(name, key).hex()}+{encoded}"


def signature_line(text: bytes, name: str, key: Ed25519PrivateKey) -> bytes:
    """The signature line of ``key`` (known as ``name``) over the note text ``text``."""
    if not valid_name(name):
        raise ValueError(f"{name!r} cannot be a key name in a signed note")
    check_text(text)
    raw = key_hash(name, key.public_key()) + key.sign(text)
    return f"{DASH} {name} {base64.b64encode(raw).decode('ascii')}\n".encode()


def sign(text: bytes, name: str, key: Ed25519PrivateKey) -> bytes:
    """A note of ``text`` with one signature."""
    return text + b"\n" + signature_line(text, name, key)


def check_text(text: bytes) -> None:
    """A note's text must be UTF-8 without control characters but newline, end in a newline
    and have no empty line (the first empty line ends it); ValueError says what is wrong."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the note text is not UTF-8") from None
    if not decoded.endswith("\n"):
        raise ValueError("the note text must end in a newline")
    if "\n\n" in decoded or decoded.startswith("\n"):
        raise ValueError("the note text has an empty line")
    if any(ord(c) < 0x20 and c != "\n" for c in decoded):
        raise ValueError("the note text has a control character")


@dataclass(frozen=True)
class Signature:
    """One signature line: the key's name, its four-byte hash and the signature."""

    name: str
    hash: bytes
    signature: bytes


@dataclass(frozen=True)
class Note:
    """A parsed note: its text and every signature line, verified or not."""

    text: bytes
    signatures: tuple[Signature, ...]

    def verified_by(self, name: str, key: Ed25519PublicKey) -> bool:
        """True when a line names ``name`` with this key's hash and its signature holds."""
        want = key_hash(name, key)
        for sig in self.signatures:
            if sig.name == name and sig.hash == want:
                try:
                    key.verify(sig.signature, self.text)
                except InvalidSignature:
                    return False
                return True
        return False


def parse(message: bytes) -> Note:
    """Split a note into text and signature lines; ValueError for anything malformed."""
    at = message.rfind(b"\n\n")
    if at < 0:
        raise ValueError("no blank line between the text and the signatures")
    text, lines = message[: at + 1], message[at + 2 :]
    check_text(text)
    if not lines.endswith(b"\n"):
        raise ValueError("the last signature line does not end in a newline")
    signatures = []
    for line in lines[:-1].split(b"\n"):
        try:
            decoded = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("a signature line is not UTF-8") from None
        parts = decoded.split(" ")
        if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
            raise ValueError(f"not a signature line: {decoded[:80]!r}")
        try:
            raw = base64.b64decode(parts[2].encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError, ValueError):
            raise ValueError(f"the signature of {parts[1]} is not base64") from None
        if len(raw) < 5:
            raise ValueError(f"the signature of {parts[1]} is too short")
        signatures.append(Signature(parts[1], raw[:4], raw[4:]))
    if not signatures or len(signatures) > MAX_SIGNATURES:
        raise ValueError(f"a note has 1 to {MAX_SIGNATURES} signature lines")
    return Note(text, tuple(signatures))
