"""The issue's attacks on the signed open data, each performed on a signed build: every one must
make ``verify`` fail with a message that names the file and the check. And the honest case
that used to fail: a build and a verify inside a git checkout."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_trust import _copy_registry

from generator import counterfeits, data, trust
from generator.errors import InputError
from generator.load import load_registry
from generator.output import Output

AS_OF = dt.date(2026, 11, 27)
NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
NOON_EPOCH = "1795780800"  # 2026-11-27T12:00:00Z
SUSPENDED = "ASC-2025-000186"  # suspended since 2026-09-28
VALID = "ASC-2025-000123"
API = data.API


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("keys")
    private, public, _ = trust.generate_keys(base)
    return {"private": private, "public": public}


def _build(root: Path, site: Path, keys: dict[str, Path], as_of: dt.date, epoch: str) -> Any:
    registry = load_registry(root, as_of)
    env = {trust.KEY_ENV: str(keys["private"]), "SOURCE_DATE_EPOCH": epoch}
    trust.publish(registry, Output(site), environ=env)
    return registry


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("tamper")
    root = base / "root"
    _copy_registry(root)
    shutil.copy(keys["public"], root / trust.PUBLIC_KEY_PATH)
    registry = _build(root, base / "site", keys, AS_OF, NOON_EPOCH)
    return {"root": root, "site": base / "site", "registry": registry}


@pytest.fixture
def site(built: dict[str, Any], tmp_path: Path) -> Path:
    shutil.copytree(built["site"], tmp_path / "site")
    return tmp_path / "site"


def pins(built: dict[str, Any], keys: dict[str, Path], *, settings: bool = False) -> trust.Pins:
    """A tender officer's pins by default: the public key only, no registry folder."""
    found = counterfeits.for_registry(built["registry"])
    return trust.Pins(
        trust.read_public_key(keys["public"]),
        built["registry"].settings if settings else None,
        found.number_set,
        found.domain_set,
        now=NOON + dt.timedelta(hours=2),
    )


def failures(report: trust.Report) -> list[str]:
    assert not report.ok
    return [str(f) for f in report.failures]


def test_an_honest_site_verifies(built: dict[str, Any], keys: dict[str, Path]) -> None:
    for settings in (False, True):
        report = trust.verify_paths([built["site"]], pins(built, keys, settings=settings))
        assert report.ok, [str(f) for f in report.failures]


def _rewrite_as_valid(entry: dict[str, Any]) -> None:
    entry["derived"].update(
        verdict_zh="有效",
        verdict_en="Valid",
        mark_allowed=True,
        since=None,
        next_surveillance="2027-05-11",
    )


def test_a_suspended_record_shown_as_valid_fails_in_its_file_and_in_certificates_json(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    record = site / API / "certificates" / f"{SUSPENDED}.json"
    entry = json.loads(record.read_bytes())
    _rewrite_as_valid(entry)
    record.write_bytes(data.pretty(entry))  # in the registry's exact form: only the values lie
    every = site / API / "certificates.json"
    doc = json.loads(every.read_bytes())
    for e in doc["certificates"]:
        if e["record"]["number"] == SUSPENDED:
            _rewrite_as_valid(e)
    every.write_bytes(data.canonical_json(doc))
    found = failures(trust.verify_paths([site], pins(built, keys)))
    assert any(
        f.startswith(f"{API}/certificates/{SUSPENDED}.json: record {SUSPENDED}: digest:")
        for f in found
    ), found
    assert any(f.startswith(f"{API}/certificates.json: digest:") for f in found), found
    # one downloaded record with the checkpoint and file list beside it fails the same way
    downloads = site.parent / "downloads"
    downloads.mkdir()
    for rel in (trust.CHECKPOINT_JSON, trust.FILES):
        shutil.copy(site / rel, downloads)
    shutil.copy(record, downloads)
    found = failures(trust.verify_paths([downloads / record.name], pins(built, keys)))
    assert any(f"{SUSPENDED}.json: record {SUSPENDED}: digest:" in f for f in found), found


def test_a_rewritten_file_list_fails_against_the_checkpoint(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    """The forger also lists the new digest: the list no longer hashes to the signed one."""
    record = site / API / "certificates" / f"{SUSPENDED}.json"
    entry = json.loads(record.read_bytes())
    _rewrite_as_valid(entry)
    record.write_bytes(data.pretty(entry))
    listing = site / trust.FILES
    lines = listing.read_text().splitlines(keepends=True)

    digest = hashlib.sha256(record.read_bytes()).hexdigest()
    lines = [
        f"{digest}  certificates/{SUSPENDED}.json\n" if ln.endswith(f"/{SUSPENDED}.json\n") else ln
        for ln in lines
    ]
    listing.write_text("".join(lines))
    found = failures(trust.verify_paths([site], pins(built, keys)))
    assert (
        f"{trust.FILES}: files: its SHA-256 is not the checkpoint's 'files' hash: it was altered"
        in found
    )


def test_two_record_files_swapped_under_each_others_names_fail(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    folder = site / API / "certificates"
    one, two = folder / f"{SUSPENDED}.json", folder / f"{VALID}.json"
    a, b = one.read_bytes(), two.read_bytes()
    one.write_bytes(b)
    two.write_bytes(a)
    found = failures(trust.verify_paths([site], pins(built, keys)))
    assert (
        f"{API}/certificates/{SUSPENDED}.json: record {VALID}: file name: holds record {VALID}"
        in found
    )
    assert any(
        f.startswith(f"{API}/certificates/{VALID}.json: record {SUSPENDED}: digest:") for f in found
    ), found


def test_an_edited_status_column_in_the_csv_fails(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:
    path = site / API / "certificates.csv"
    text = path.read_bytes().decode("utf-8")
    row = next(line for line in text.split("\r\n") if line.startswith(SUSPENDED + ","))
    path.write_bytes(text.replace(row, row.replace(",suspended,", ",valid,", 1)).encode())
    assert path.read_bytes().decode() != text
    found = failures(trust.verify_paths([site], pins(built, keys)))
    assert any(f.startswith(f"{API}/certificates.csv: digest:") for f in found), found
    # the CSV given alone, as a tender officer downloads it
    downloads = site.parent / "dl"
    downloads.mkdir()
    for rel in (trust.CHECKPOINT_JSON, trust.FILES, f"{API}/certificates.csv"):
        shutil.copy(site / rel, downloads)
    found = failures(trust.verify_paths([downloads / "certificates.csv"], pins(built, keys)))
    assert any("certificates.csv: digest:" in f for f in found), found


def test_two_signed_builds_of_one_day_are_told_apart_by_their_signing_time(
    built: dict[str, Any], keys: dict[str, Path], tmp_path: Path
) -> None:
    later = str(int(NOON_EPOCH) + 3600)
    _build(built["root"], tmp_path / "later", keys, AS_OF, later)
    old = json.loads((built["site"] / trust.CHECKPOINT_JSON).read_bytes())
    new = json.loads((tmp_path / "later" / trust.CHECKPOINT_JSON).read_bytes())
    assert (old["as_of"], old["time"]) == ("2026-11-27", "2026-11-27T12:00:00Z")
    assert (new["as_of"], new["time"]) == ("2026-11-27", "2026-11-27T13:00:00Z")
    report = trust.verify_paths([tmp_path / "later"], pins(built, keys))
    assert report.ok and "signed at 2026-11-27T13:00:00Z" in trust.statement(report)[0]


def test_signing_an_as_of_in_the_future_is_refused(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    registry = load_registry(built["root"], dt.date(2031, 1, 1))
    key = trust.read_private_key(keys["private"])
    with pytest.raises(InputError) as caught:
        trust.compute(registry, key, {"SOURCE_DATE_EPOCH": NOON_EPOCH})
    assert "--as-of:" in str(caught.value) and "in the future of the signing time" in str(
        caught.value
    )


def test_signing_an_as_of_before_a_records_own_entries_is_refused(
    built: dict[str, Any], keys: dict[str, Path]
) -> None:
    """ "suspended as of 2026-01-05, since 2026-09-28" would contradict itself."""
    registry = load_registry(built["root"], dt.date(2026, 1, 5))
    key = trust.read_private_key(keys["private"])
    with pytest.raises(InputError) as caught:
        trust.compute(registry, key, {"SOURCE_DATE_EPOCH": NOON_EPOCH})
    assert (
        f"{SUSPENDED}.yaml: the record has an entry dated 2026-09-28, "
        "after the as-of date 2026-01-05" in str(caught.value)
    )


def _forge(site: Path, keys: dict[str, Path], change: Any) -> None:
    """Re-sign checkpoint.json with the body's own key after ``change`` (what a buggy or
    coerced signer could produce): the checks below must not rest on the signature alone."""
    path = site / trust.CHECKPOINT_JSON
    doc = json.loads(path.read_bytes())
    cp = trust.Checkpoint.parse_body(doc["body"].encode())
    cp = change(cp)
    key = trust.read_private_key(keys["private"])
    signed = trust.Trust(cp, key.sign(cp.body()), key.public_key(), None)  # type: ignore[arg-type]
    path.write_bytes(trust.pretty(cp.to_json(signed.signature, signed.public_key)))


def test_a_signed_checkpoint_dated_after_its_signing_time_is_refused(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:

    _forge(site, keys, lambda cp: dataclasses.replace(cp, as_of=dt.date(2031, 1, 1)))
    found = failures(trust.verify_paths([site / trust.CHECKPOINT_JSON], pins(built, keys)))
    assert any(
        f.startswith(f"{site / trust.CHECKPOINT_JSON}: freshness: the as-of date 2031-01-01")
        for f in found
    ), found


def test_a_record_whose_since_is_after_the_as_of_is_refused(
    site: Path, built: dict[str, Any], keys: dict[str, Path]
) -> None:

    _forge(site, keys, lambda cp: dataclasses.replace(cp, as_of=dt.date(2026, 1, 5)))
    record = site / API / "certificates" / f"{SUSPENDED}.json"
    found = failures(trust.verify_paths([record], pins(built, keys), site / trust.CHECKPOINT_JSON))
    assert any(
        f.endswith(
            f"record {SUSPENDED}: contradiction: 'since' is 2026-09-28, after the "
            "checkpoint's as-of date 2026-01-05"
        )
        for f in found
    ), found


def _git(root: Path, *args: str, date: str = "2026-11-27T09:00:00+00:00") -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_an_honest_build_inside_a_git_checkout_verifies(
    keys: dict[str, Path], tmp_path: Path
) -> None:
    """last_changed comes from git history: verify must accept it (it is signed by digest)."""
    root = tmp_path / "repo"
    _copy_registry(root)
    shutil.copy(keys["public"], root / trust.PUBLIC_KEY_PATH)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "registry")
    registry = _build(root, tmp_path / "site", keys, AS_OF, NOON_EPOCH)
    cert = registry.get(VALID)
    assert cert.committed == dt.date(2026, 11, 27)  # the git path is the one exercised
    assert cert.last_changed != max(e.date for e in cert.events)
    found = counterfeits.for_registry(registry)
    pinned = trust.Pins(
        trust.read_public_key(keys["public"]),
        registry.settings,
        found.number_set,
        found.domain_set,
        now=NOON,
    )
    report = trust.verify_paths([tmp_path / "site"], pinned)
    assert report.ok, [str(f) for f in report.failures]
    assert len(report.proven) == len(registry.certificates)


def test_the_unsigned_warning_is_said_once_never_with_quiet_and_can_be_an_error(
    sample_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from generator import publish
    from generator.cli import cli

    builds: list[bool] = []

    def fake_build_site(root: Path, **kw: Any) -> Any:
        builds.append(kw["quiet"])
        return type(
            "Report", (), {"records": 1, "listing_pages": 1, "marks_rendered": 0, "marks_cached": 0}
        )()

    monkeypatch.setattr(publish, "build_site", fake_build_site)
    monkeypatch.delenv(trust.KEY_ENV, raising=False)
    root = ["--root", str(sample_root)]
    loud = CliRunner().invoke(cli, [*root, "build"])
    assert loud.exit_code == 0 and loud.output.count("UNSIGNED") == 1, loud.output
    quiet = CliRunner().invoke(cli, [*root, "build", "--quiet"])
    assert quiet.exit_code == 0 and quiet.output == "", quiet.output
    site = sample_root / "site"
    required = CliRunner().invoke(cli, [*root, "build", "--quiet", "--require-signature"])
    assert required.exit_code == 1 and "--require-signature" in required.output
    assert builds == [False, True] and not site.exists()  # refused before building anything
