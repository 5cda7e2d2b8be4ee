"""Signed checkpoints: Merkle tree, keys, checkpoint, inclusion proofs and ``starmark verify``.

The trust files are built without mkdocs, as ``build.render_site`` builds them: load the registry,
``trust.publish`` (or ``trust.compute`` with an explicit key), then ``data.write_data`` with the
proofs. Every test key is generated here; no private key lives in the repository.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from generator import counterfeits, data, notfound, trust
from generator import settings as settings_mod
from generator.cli import Context
from generator.errors import InputError
from generator.load import load_registry
from generator.output import Output
from generator.trust import MerkleTree, leaf_hash, node_hash, root_from_path
from generator.trust import cli as trust_cli

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
NUMBER = "ASC-2025-000123"
SUSPENDED = "ASC-2025-000186"
RECORD_FILE = f"{data.API}/certificates/{NUMBER}.json"

# --- the Merkle tree against RFC 6962 -------------------------------------------------------------

# The certificate-transparency test leaves and MTH(D[0:n]) for n = 0..8, as published with the
# reference implementations (hex). Cross-checked below with a literal reading of RFC 6962 §2.1.
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# PATH(5, D[0:8]) from the same test suite.
CT_PATH_5_OF_8 = [
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
]


def _split(n: int) -> int:
    """The largest power of two smaller than n (RFC 6962 §2.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(entries: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 defines it, recursively over the raw entries."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return hashlib.sha256(b"\x00" + entries[0]).digest()
    k = _split(len(entries))
    return hashlib.sha256(b"\x01" + naive_mth(entries[:k]) + naive_mth(entries[k:])).digest()


def naive_path(m: int, entries: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as RFC 6962 §2.1.1 defines it."""
    if len(entries) == 1:
        return []
    k = _split(len(entries))
    if m < k:
        return naive_path(m, entries[:k]) + [naive_mth(entries[k:])]
    return naive_path(m - k, entries[k:]) + [naive_mth(entries[:k])]


def test_roots_match_the_certificate_transparency_vectors() -> None:
    for n, expected in enumerate(CT_ROOTS):
        assert MerkleTree([leaf_hash(e) for e in CT_LEAVES[:n]]).root.hex() == expected
        assert naive_mth(CT_LEAVES[:n]).hex() == expected


def test_audit_path_matches_the_certificate_transparency_vector() -> None:
    tree = MerkleTree([leaf_hash(e) for e in CT_LEAVES])
    assert [h.hex() for h in tree.path(5)] == CT_PATH_5_OF_8
    assert root_from_path(5, 8, leaf_hash(CT_LEAVES[5]), tree.path(5)) == tree.root


@pytest.mark.parametrize("size", range(1, 34))
def test_tree_and_every_audit_path_agree_with_the_rfc_definition(size: int) -> None:
    entries = [f"record {i}".encode() for i in range(size)]
    tree = MerkleTree([leaf_hash(e) for e in entries])
    assert tree.root == naive_mth(entries)
    for m in range(size):
        path = tree.path(m)
        assert path == naive_path(m, entries)
        assert root_from_path(m, size, leaf_hash(entries[m]), path) == tree.root


def test_a_proof_fails_for_another_leaf_index_size_or_path() -> None:
    entries = [bytes([i]) for i in range(7)]
    tree = MerkleTree([leaf_hash(e) for e in entries])
    leaf, path = leaf_hash(entries[3]), tree.path(3)
    assert root_from_path(3, 7, leaf, path) == tree.root
    assert root_from_path(2, 7, leaf, path) != tree.root
    assert root_from_path(3, 4, leaf, path) is None  # a path longer than the tree is deep
    assert root_from_path(6, 7, leaf, path) != tree.root
    assert root_from_path(3, 7, leaf, path[:-1]) != tree.root
    assert root_from_path(3, 7, leaf, [*path, path[0]]) is None
    assert root_from_path(7, 7, leaf, path) is None
    bad = [bytes([path[0][0] ^ 1]) + path[0][1:], *path[1:]]
    assert root_from_path(3, 7, leaf, bad) != tree.root
    assert node_hash(b"a", b"b") != node_hash(b"b", b"a")


def run(command: Any, root: Path, *args: str) -> Any:
    """Invoke a command as `starmark --root ROOT <command> ARGS` would."""
    return CliRunner().invoke(command, list(args), obj=Context(root.resolve()))


# --- keys and the checkpoint ---------------------------------------------------------------------


def test_keygen_writes_a_private_key_only_its_owner_can_read(tmp_path: Path) -> None:
    private, public, fp = trust.generate_keys(tmp_path / "keys")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    key = trust.read_public_key(public)
    der = serialization.load_pem_public_key(public.read_bytes()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert fp == trust.fingerprint(key) == "SHA256:" + hashlib.sha256(der).hexdigest()
    with pytest.raises(trust.KeyFileError, match="refusing to overwrite"):
        trust.generate_keys(tmp_path / "keys")


def test_keygen_command(tmp_path: Path) -> None:
    result = run(trust_cli.keygen, tmp_path, "--out", str(tmp_path / "k"))
    assert result.exit_code == 0, result.output
    assert "fingerprint: SHA256:" in result.output
    assert stat.S_IMODE((tmp_path / "k" / "signing.key").stat().st_mode) == 0o600
    assert "inside the registry folder" in result.output  # k/ is under --root


def test_a_raw_32_byte_private_key_is_accepted(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    (tmp_path / "raw.key").write_bytes(raw)
    loaded = trust.read_private_key(tmp_path / "raw.key")
    assert trust.fingerprint(loaded.public_key()) == trust.fingerprint(key.public_key())


def test_the_committed_public_key_is_an_ed25519_pem_key() -> None:
    key = trust.read_public_key(REPO / trust.PUBLIC_KEY_PATH)
    assert trust.fingerprint(key).startswith("SHA256:")


NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
NOON_EPOCH = {"SOURCE_DATE_EPOCH": "1795780800"}  # 2026-11-27T12:00:00Z


def test_checkpoint_body_is_the_c2sp_layout_and_parses_back() -> None:
    cp = trust.Checkpoint(
        "registry.example.org", 3, bytes(range(32)), AS_OF, NOON, 7, bytes(32)
    )
    body = cp.body().decode()
    assert body == (
        "registry.example.org\n3\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
        "as-of 2026-11-27\ntime 2026-11-27T12:00:00Z\nstale-after-days 7\n"
        "files AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
    )
    assert trust.Checkpoint.parse_body(cp.body()) == cp
    with pytest.raises(ValueError):
        trust.Checkpoint.parse_body(cp.body().replace(b"\n3\n", b"\n03\n"))
    with pytest.raises(ValueError):
        trust.Checkpoint.parse_body(cp.body().replace(b"time ", b"built "))


def test_the_origin_is_the_site_url_without_scheme() -> None:
    assert trust.origin_of("https://registry.example.org/") == "registry.example.org"
    assert trust.origin_of("https://example.org/asc/") == "example.org/asc"


def test_signing_time_is_the_clock_or_source_date_epoch() -> None:
    later = dt.datetime(2026, 11, 28, 8, 30, 15, 999, tzinfo=dt.UTC)
    assert trust.signing_time(AS_OF, True, NOON_EPOCH, later) == NOON
    assert trust.signing_time(AS_OF, True, {}, later) == later.replace(microsecond=0)
    # unsigned: the time vouches for nothing, and keeps unsigned builds reproducible
    assert trust.signing_time(AS_OF, False, {}, later) == dt.datetime(2026, 11, 27, tzinfo=dt.UTC)


def test_an_as_of_date_in_the_future_of_the_signing_time_is_named() -> None:
    assert trust.as_of_problem(AS_OF, NOON) is None
    # 14 hours ahead of UTC the next day has begun; two days ahead it has not
    assert trust.as_of_problem(AS_OF + dt.timedelta(days=1), NOON) is None
    assert "in the future" in str(trust.as_of_problem(dt.date(2031, 1, 1), NOON))


# --- a built registry ----------------------------------------------------------------------------


def _copy_registry(root: Path) -> None:
    root.mkdir(parents=True)
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("keys")
    private, public, _ = trust.generate_keys(base / "good")
    other, other_pub, _ = trust.generate_keys(base / "other")
    return {"private": private, "public": public, "other": other, "other_public": other_pub}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, Any]:
    """A registry copy pinned to a fresh test key, and its signed open data in site/."""
    base = tmp_path_factory.mktemp("built")
    root = base / "root"
    _copy_registry(root)
    shutil.copy(keys["public"], root / trust.PUBLIC_KEY_PATH)
    registry = load_registry(root, AS_OF)
    environ = {trust.KEY_ENV: str(keys["private"]), **NOON_EPOCH}
    trust.publish(registry, Output(base / "site"), environ=environ)
    return {"root": root, "site": base / "site", "registry": registry}


def _pins(
    built: dict[str, Any], keys: dict[str, Path], *, settings: bool = True, **kw: Any
) -> trust.Pins:
    found = counterfeits.for_registry(built["registry"])
    return trust.Pins(
        trust.read_public_key(keys["public"]),
        built["registry"].settings if settings else None,
        found.number_set,
        found.domain_set,
        **({"now": NOON + dt.timedelta(hours=1)} | kw),
    )


@pytest.fixture
def site(built: dict[str, Any], tmp_path: Path) -> Path:
    """A throw-away copy of the built site, to alter."""
    shutil.copytree(built["site"], tmp_path / "site")
    return tmp_path / "site"


def _flip(path: Path, needle: bytes, offset: int = 0) -> None:
    raw = bytearray(path.read_bytes())
    at = raw.index(needle) + offset
    raw[at] ^= 0x01
    path.write_bytes(bytes(raw))


def _edit_json(path: Path, change: Any, pretty: bool = True) -> None:
    doc = json.loads(path.read_bytes())
    change(doc)
    path.write_bytes(trust.pretty(doc) if pretty else data.canonical_json(doc))


def test_every_record_names_its_leaf_in_the_log_published_as_tiles(
    built: dict[str, Any],
) -> None:
    site: Path = built["site"]
    entry = json.loads((site / RECORD_FILE).read_bytes())
    checkpoint = json.loads((site / trust.CHECKPOINT_JSON).read_bytes())
    assert entry["log"] == {"leaf_index": entry["log"]["leaf_index"]}
    assert entry["schema_version"] == data.SCHEMA_VERSION == 2
    # outside git the log holds the records as they are, in number order
    all_doc = json.loads((site / data.API / "certificates.json").read_bytes())
    numbers = [e["record"]["number"] for e in all_doc["certificates"]]
    assert numbers == sorted(numbers) and entry["log"]["leaf_index"] == numbers.index(NUMBER)
    assert checkpoint["tree_size"] == len(numbers)
    entries = trust.tiles.read_entries(site / data.API, len(numbers))
    assert entries[numbers.index(NUMBER)] == data.canonical_json(entry["record"])
    tree = MerkleTree([leaf_hash(e) for e in entries])
    assert trust.b64(tree.root) == checkpoint["root_hash"]
    level0 = (site / data.API / "tile/0/000.p" / str(len(numbers))).read_bytes()
    assert level0 == b"".join(tree.levels[0])


def test_the_checkpoint_is_signed_and_openssl_readable(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    site: Path = built["site"]
    body = (site / trust.CHECKPOINT_TEXT).read_bytes()
    signature = (site / trust.CHECKPOINT_SIG).read_bytes()
    trust.read_public_key(keys["public"]).verify(signature, body)  # raises if not
    doc = json.loads((site / trust.CHECKPOINT_JSON).read_bytes())
    assert doc["signed"] is True and doc["body"] == body.decode()
    assert doc["origin"] == "registry.example.org" and doc["as_of"] == "2026-11-27"
    assert doc["time"] == "2026-11-27T12:00:00Z"
    openssl = shutil.which("openssl")
    if openssl:
        import subprocess

        run = subprocess.run(
            [
                openssl,
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(keys["public"]),
                "-rawin",
                "-in",
                str(site / trust.CHECKPOINT_TEXT),
                "-sigfile",
                str(site / trust.CHECKPOINT_SIG),
            ],
            capture_output=True,
            text=True,
        )
        if "-rawin" not in run.stderr:  # OpenSSL < 3 has no -rawin
            assert run.returncode == 0, run.stderr


def test_builds_are_reproducible(built: dict[str, Any], keys: dict[str, Path]) -> None:
    registry = built["registry"]
    key = trust.read_private_key(keys["private"])
    one, two = trust.compute(registry, key, NOON_EPOCH), trust.compute(registry, key, NOON_EPOCH)
    assert one.files() == two.files()


def test_verify_passes_on_a_fresh_build_and_says_what_is_proven(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    report = trust.verify_paths([built["site"]], _pins(built, keys))
    assert report.ok, [str(f) for f in report.failures]
    assert set(report.proven) == {c.number for c in built["registry"].certificates}
    lines = trust.statement(report)
    assert (
        f"record {NUMBER} is in the registry registry.example.org as signed at "
        "2026-11-27T12:00:00Z: status valid on 2026-11-27"
    ) in lines
    assert any(f"record {SUSPENDED} " in ln and "status suspended" in ln for ln in lines)


def test_verify_one_downloaded_record_with_its_checkpoint(
    built: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    shutil.copy(built["site"] / RECORD_FILE, downloads)
    shutil.copy(built["site"] / trust.CHECKPOINT_JSON, downloads)
    # without the list of file digests the derived fields are bound to nothing
    failures = _failed(trust.verify_paths([downloads / f"{NUMBER}.json"], _pins(built, keys)))
    assert any(f.startswith(f"{downloads}/files.sha256: files: missing") for f in failures)
    shutil.copy(built["site"] / trust.FILES, downloads)
    for pins in (_pins(built, keys), _pins(built, keys, settings=False)):
        report = trust.verify_paths([downloads / f"{NUMBER}.json"], pins)
        assert report.ok, [str(f) for f in report.failures]
        assert list(report.proven) == [NUMBER]


def test_verify_a_downloaded_certificates_json(
    built: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    shutil.copy(built["site"] / data.API / "certificates.json", tmp_path)
    checkpoint = built["site"] / trust.CHECKPOINT_JSON
    report = trust.verify_paths([tmp_path / "certificates.json"], _pins(built, keys), checkpoint)
    assert report.ok and len(report.proven) == len(built["registry"].certificates)


def _failed(report: trust.Report) -> list[str]:
    assert not report.ok
    return [str(f) for f in report.failures]


def test_a_flipped_byte_in_a_record_fails_naming_file_record_and_check(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    _flip(site / RECORD_FILE, "示例路1号".encode(), 2)  # inside the address, still valid UTF-8?
    report = trust.verify_paths([site], _pins(built, keys))
    failures = _failed(report)
    assert any(f.file == RECORD_FILE and f.record == NUMBER for f in report.failures), failures
    assert NUMBER not in report.proven


def test_an_edited_record_fails_its_digest_and_its_leaf_in_the_log(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    _edit_json(site / RECORD_FILE, lambda d: d["record"].update(score=99))
    report = trust.verify_paths([site], _pins(built, keys))
    checks = {(f.file, f.record, f.check) for f in report.failures}
    assert (RECORD_FILE, NUMBER, "digest") in checks
    assert (RECORD_FILE, NUMBER, "inclusion") in checks


def test_a_flipped_byte_in_certificates_json_fails_the_record_and_the_tree(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    all_file = site / data.API / "certificates.json"
    # The record's status (derived.periods, earlier in the entry, says "suspended" too).
    record_status = b'"standard":"GB/T 27922-2011","status":"suspended"'
    _flip(all_file, record_status, len(record_status) - len(b'pended"'))
    report = trust.verify_paths([site], _pins(built, keys))
    where = {(f.file, f.check) for f in report.failures}
    assert (f"{data.API}/certificates.json", "digest") in where
    assert any(
        f.file.endswith("certificates.json") and f.record and f.check == "inclusion"
        for f in report.failures
    ), _failed(report)


def test_a_flipped_byte_in_the_checkpoint_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    cp = site / trust.CHECKPOINT_JSON
    root_hash = json.loads(cp.read_bytes())["root_hash"].encode()
    _flip(cp, root_hash, 5)  # in the "root_hash" field (the body still has the signed value)
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any("checkpoint.json: fields" in f or "checkpoint.json: body" in f for f in failures)


def test_a_flipped_byte_in_the_signature_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    cp = site / trust.CHECKPOINT_JSON
    value = json.loads(cp.read_bytes())["signature"]["value"].encode()
    _flip(cp, value, 3)
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any(f"{trust.CHECKPOINT_JSON}: signature" in f for f in failures), failures


def test_a_re_signed_body_with_another_key_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    other = trust.read_private_key(keys["other"])
    result = trust.compute(built["registry"], other, {})
    (site / trust.CHECKPOINT_JSON).write_bytes(result.files()[trust.CHECKPOINT_JSON])
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any("not the pinned key" in f for f in failures), failures


def test_a_flipped_byte_in_the_log_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:

    bundle = next(p for p in (site / data.API / "tile" / "entries").rglob("*") if p.is_file())
    _flip(bundle, NUMBER.encode(), 5)
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any(
        "tile/entries" in f and ": log: the log's entries do not hash to the checkpoint's" in f
        for f in failures
    ), failures


def test_a_record_pointing_at_another_leaf_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    _edit_json(site / RECORD_FILE, lambda d: d["log"].update(leaf_index=0))
    report = trust.verify_paths([site], _pins(built, keys))
    assert any(f.check == "inclusion" and f.record == NUMBER for f in report.failures), (
        _failed(report)
    )


def test_a_forged_status_in_the_unsigned_part_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    """The attack that matters: say 'valid' for a suspended certificate, leave the record alone."""
    path = site / data.API / "certificates" / f"{SUSPENDED}.json"
    _edit_json(
        path,
        lambda d: d["derived"].update(
            verdict="valid", verdict_zh="有效", verdict_en="Valid", mark_allowed=True
        ),
    )
    for pins in (_pins(built, keys), _pins(built, keys, settings=False)):
        report = trust.verify_paths([path], pins, site / trust.CHECKPOINT_JSON)
        assert any(
            f.check == "derived" and f.record == SUSPENDED and "'verdict'" in f.message
            for f in report.failures
        ), _failed(report)


@pytest.mark.parametrize("name", [RECORD_FILE, trust.CHECKPOINT_JSON])
def test_any_altered_byte_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path], name: str
) -> None:
    """Flip one bit at every 5th byte of a record file and of the checkpoint: never verified."""
    target = site / name
    original = target.read_bytes()
    pins = _pins(built, keys)
    record, checkpoint = site / RECORD_FILE, site / trust.CHECKPOINT_JSON
    missed = []
    for at in range(0, len(original), 5):
        changed = bytearray(original)
        changed[at] ^= 0x01
        target.write_bytes(bytes(changed))
        if trust.verify_paths([record], pins, checkpoint).ok:
            missed.append(at)
    target.write_bytes(original)
    assert trust.verify_paths([record], pins, checkpoint).ok
    assert not missed, [original[max(0, a - 15) : a + 15] for a in missed]


def test_a_missing_or_extra_record_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    (site / RECORD_FILE).unlink()
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any(NUMBER in f and "missing" in f for f in failures)
    _edit_json(
        site / data.API / "certificates.json", lambda d: d["certificates"].pop(0), pretty=False
    )
    failures = _failed(trust.verify_paths([site], _pins(built, keys)))
    assert any("certificates.json: count" in f for f in failures)


def test_unsigned_build_warns_and_verify_refuses_it_unless_asked(
    built: dict[str, Any],
    keys: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(trust.KEY_ENV, raising=False)
    trust.publish(built["registry"], Output(tmp_path / "site"))
    assert not (tmp_path / "site" / trust.CHECKPOINT_SIG).exists()
    doc = json.loads((tmp_path / "site" / trust.CHECKPOINT_JSON).read_bytes())
    assert doc["signed"] is False and doc["signature"] is None
    failures = _failed(trust.verify_paths([tmp_path / "site"], _pins(built, keys)))
    assert any("UNSIGNED" in f for f in failures)
    report = trust.verify_paths([tmp_path / "site"], _pins(built, keys, allow_unsigned=True))
    assert report.ok and any("UNSIGNED" in n for n in report.notes)


def test_publish_signs_with_the_key_named_by_the_environment(
    built: dict[str, Any], keys: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(trust.KEY_ENV, str(keys["private"]))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", NOON_EPOCH["SOURCE_DATE_EPOCH"])
    trust.publish(built["registry"], Output(tmp_path / "site"))
    assert trust.verify_paths([tmp_path / "site"], _pins(built, keys)).ok


def test_a_key_that_does_not_match_the_committed_public_key_fails_the_build(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    settings = built["registry"].settings
    with pytest.raises(InputError, match="does not match the committed public key"):
        trust.signing_key(settings, {trust.KEY_ENV: str(keys["other"])})
    with pytest.raises(InputError, match="cannot read the signing key"):
        trust.signing_key(settings, {trust.KEY_ENV: str(keys["other"]) + ".missing"})
    assert trust.signing_key(settings, {}) is None


def test_a_key_without_a_committed_public_key_fails_the_build(
    keys: dict[str, Path], tmp_path: Path
) -> None:
    _copy_registry(tmp_path / "root")
    (tmp_path / "root" / trust.PUBLIC_KEY_PATH).unlink()
    settings = settings_mod.load(tmp_path / "root")
    with pytest.raises(InputError, match="no public key is committed"):
        trust.signing_key(settings, {trust.KEY_ENV: str(keys["private"])})


def test_a_look_alike_origin_is_named(built: dict[str, Any], keys: dict[str, Path]) -> None:
    pins = trust.Pins(
        trust.read_public_key(keys["public"]),
        None,
        lookalike_domains=frozenset({"registry.example.org"}),
    )
    failures = _failed(trust.verify_paths([built["site"]], pins))
    assert any("LOOK-ALIKE" in f for f in failures)


# --- the command ---------------------------------------------------------------------------------


def test_verify_command_proves_a_record_and_exits_0(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    result = run(
        trust_cli.verify, built["root"], "--verbose", "--at", "2026-11-28", str(built["site"])
    )
    assert result.exit_code == 0, result.output
    assert (
        f"record {NUMBER} is in the registry registry.example.org as signed at "
        "2026-11-27T12:00:00Z: status valid (有效) on 2026-11-27"
    ) in result.output
    assert "the data is 1 day old" in result.output and "STALE" not in result.output
    stale = run(trust_cli.verify, built["root"], "--at", "2026-12-06", str(built["site"]))
    assert stale.exit_code == 0 and "! STALE: the data is of 2026-11-27, 9 days ago" in stale.output


def test_verify_command_names_what_failed_and_exits_1(site: Path, built: dict[str, Any]) -> None:
    _edit_json(site / RECORD_FILE, lambda d: d["record"]["organization"].update(name="假冒公司"))
    result = run(trust_cli.verify, built["root"], str(site / RECORD_FILE))
    assert result.exit_code == 1
    assert f"✗ {site / RECORD_FILE}: record {NUMBER}: inclusion:" in result.output


def test_verify_command_needs_a_pinned_key(tmp_path: Path, built: dict[str, Any]) -> None:
    result = run(trust_cli.verify, tmp_path, str(built["site"]))
    assert result.exit_code == 2 and "no pinned public key" in result.output


def test_verify_command_with_an_explicit_public_key(
    built: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    result = run(
        trust_cli.verify,
        tmp_path,
        "--public-key",
        str(keys["public"]),
        str(built["site"] / RECORD_FILE),
    )
    assert result.exit_code == 0, result.output
    assert f"record {NUMBER} is in the registry" in result.output


# --- counterfeits and the not-found page ---------------------------------------------------------


def test_the_sample_counterfeit_list_loads(built: dict[str, Any]) -> None:
    found = counterfeits.for_registry(built["registry"])
    assert "ASC-2025-009999" in found.number_set and found.has_samples
    assert all(e.sample for e in (*found.numbers, *found.domains))


def test_a_counterfeit_list_naming_an_issued_number_or_our_own_site_is_refused(
    tmp_path: Path,
) -> None:
    _copy_registry(tmp_path / "root")
    (tmp_path / "root" / counterfeits.DISPLAY).write_text(
        "numbers:\n  - {number: ASC-2025-000123, reported: 2026-01-01}\n"
        "domains:\n  - {domain: www.registry.example.org, reported: 2026-01-01}\n"
        "  - {domain: 'https://bad.example/', reported: 2026-01-01}\n",
        "utf-8",
    )
    registry = load_registry(tmp_path / "root", AS_OF)
    with pytest.raises(InputError) as caught:
        counterfeits.for_registry(registry)
    messages = [str(p) for p in caught.value.problems]
    assert any(
        m.startswith("registry/counterfeits.yaml:2:") and "was issued" in m for m in messages
    )
    assert any(":4:" in m and "own address" in m for m in messages)
    assert any(":5:" in m and "host name" in m for m in messages)


def test_the_counterfeits_page_lists_numbers_and_sites_without_linking_them(
    built: dict[str, Any],
) -> None:
    page = counterfeits.page_markdown(built["registry"])
    assert "ASC-2025-009999" in page and "registry-example.org.cn" in page
    assert "示例" in page and "不符合本机构的编号格式" in page  # ASC2025-00123 is malformed
    assert 'href="https://registry-example' not in page and "400-000-0000" in page


def test_js_pattern_drops_named_groups_and_refuses_python_only_syntax() -> None:
    assert (
        notfound.js_pattern("^ASC-(?P<year>[0-9]{4})-(?P<serial>[0-9]{6})$")
        == "^(?:^ASC-([0-9]{4})-([0-9]{6})$)$"
    )
    assert notfound.js_pattern(r"\AASC(?P=x)\Z") is None


def test_the_not_found_block_carries_pattern_counterfeits_and_contact(
    built: dict[str, Any],
) -> None:
    page = "<html>…<!-- starmark:notfound -->…</html>"
    filled = notfound.fill(page, built["registry"])
    assert notfound.MARKER not in filled
    assert 'data-base="/"' in filled and "data-pattern=" in filled
    assert "ASC-2025-009999" in filled and "verify@example.org" in filled
    assert 'data-sm-nf="unissued"' in filled and 'data-sm-nf="malformed"' in filled
    assert notfound.base_path("https://example.org/registry/") == "/registry/"


def test_the_404_template_uses_the_marker_and_absolute_asset_urls() -> None:
    template = (REPO / "generator" / "theme" / "404.html").read_text("utf-8")
    assert notfound.MARKER in template
    assert "{{ 'assets/starmark/notfound.js' | url }}" in template


def test_no_private_key_is_kept_in_registry() -> None:
    for path in (REPO / "registry").rglob("*"):
        assert not path.is_file() or b"PRIVATE KEY" not in path.read_bytes(), path


def test_the_verification_page_can_print_the_public_key(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    text = trust.public_key_markdown(built["registry"].settings)
    assert trust.public_pem(trust.read_public_key(keys["public"])).decode().strip() in text
    assert trust.fingerprint(trust.read_public_key(keys["public"])) in text
