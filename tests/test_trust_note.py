"""The signed-note encoding against published vectors, and the checkpoint as a signed note."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from generator import trust
from generator.trust import note

# The test vectors of Go's golang.org/x/mod/sumdb/note (note_test.go: TestNewSigner, TestSign,
# TestOpen, TestNewVerifier), values only: the key pair "PeterNeumann", its verifier key, and
# the note it signs.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNED = GO_TEXT + (
    "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n"
).encode()
GO_ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"


def _go_key() -> Ed25519PrivateKey:
    raw = base64.b64decode(GO_SKEY.split("+", 4)[4])  # PRIVATE+KEY+name+hash+key
    assert raw[:1] == note.ED25519
    return Ed25519PrivateKey.from_private_bytes(raw[1:])


def test_key_hash_and_verifier_key_match_go() -> None:
    key = _go_key().public_key()
    assert note.key_hash("PeterNeumann", key).hex() == "c74f20a3"
    assert note.verifier_key("PeterNeumann", key) == GO_VKEY


def test_a_signed_note_is_byte_for_byte_gos() -> None:
    assert note.sign(GO_TEXT, "PeterNeumann", _go_key()) == GO_SIGNED


def test_gos_note_opens_and_a_changed_byte_does_not_verify() -> None:
    key = _go_key().public_key()
    parsed = note.parse(GO_SIGNED)
    assert parsed.text == GO_TEXT and parsed.verified_by("PeterNeumann", key)
    assert not parsed.verified_by("EnochRoot", key)
    changed = note.parse(GO_SIGNED.replace(b"answer", b"ANSWER"))
    assert not changed.verified_by("PeterNeumann", key)


def test_a_note_with_an_unknown_second_signature_still_opens() -> None:
    enoch = (
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnW"
        "Lox33WWd1RvMc+QQ=\n"
    ).encode()
    parsed = note.parse(GO_SIGNED + enoch)
    assert [s.name for s in parsed.signatures] == ["PeterNeumann", "EnochRoot"]
    assert parsed.signatures[1].hash.hex() == GO_ENOCH_VKEY.split("+")[1]
    assert parsed.verified_by("PeterNeumann", _go_key().public_key())


@pytest.mark.parametrize(
    "message",
    [
        GO_TEXT,  # no signatures
        GO_TEXT + b"\n",
        GO_SIGNED[:-1],  # the last line unterminated
        b"\x01" + GO_SIGNED,  # a control character in the text
        GO_TEXT + b"\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pA=\n",
        GO_SIGNED + b"Unexpected line.\n",
    ],
)
def test_malformed_notes_are_refused_as_go_refuses_them(message: bytes) -> None:
    with pytest.raises(ValueError):
        note.parse(message)


def test_the_published_checkpoint_is_a_signed_note_of_the_body() -> None:
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    cp = trust.Checkpoint(
        "registry.example.org",
        46,
        bytes(32),
        dt.date(2026, 11, 27),
        dt.datetime(2026, 11, 27, 12, tzinfo=dt.UTC),
        7,
        bytes(32),
    )
    signature = key.sign(cp.body())
    files = trust.Trust(cp, signature, key.public_key(), None, b"").files()  # type: ignore[arg-type]
    published = files[trust.CHECKPOINT_NOTE]
    assert published == note.sign(cp.body(), "registry.example.org", key)
    assert published.startswith(b"registry.example.org\n46\n")  # origin without a scheme
    assert note.parse(published).verified_by("registry.example.org", key.public_key())
    assert files[trust.CHECKPOINT_SIG] == signature and files[trust.CHECKPOINT_TEXT] == cp.body()
