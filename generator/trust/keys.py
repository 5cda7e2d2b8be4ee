"""Ed25519 keys: the committed public key, the signing key named by the environment, keygen."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import InputError, Problem
from ..settings import PUBLIC_KEY_FILE, REGISTRY_DIR, Settings

# Not under the "mkdocs" logger: in strict mode mkdocs aborts a build on any warning there, and an
# unsigned build must still build.
log = logging.getLogger("starmark.trust")

KEY_ENV = "STARMARK_SIGNING_KEY"
PRIVATE_KEY_NAME = "signing.key"
PUBLIC_KEY_NAME = PUBLIC_KEY_FILE
PUBLIC_KEY_PATH = f"{REGISTRY_DIR}/{PUBLIC_KEY_FILE}"
ALGORITHM = "Ed25519"


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
