"""``starmark keygen`` and ``starmark verify``: make the signing key pair; check records offline."""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from .. import counterfeits, trust
from .. import settings as settings_mod

# More records than this are summarised unless --verbose asks for one line each.
LIST_LIMIT = 20


@click.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the key pair; keep it OUTSIDE the repository.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing key pair in that folder.")
@click.pass_obj
def keygen(obj: Any, out_dir: Path, force: bool) -> None:
    """Make an Ed25519 key pair for signing the registry's checkpoints.

    Writes OUT/signing.key (the private key, PEM, mode 0600) and OUT/signing-key.pub (the public
    key, PEM). Commit the public key as registry/signing-key.pub; give the private key to the
    build through the environment, never through the repository:

        STARMARK_SIGNING_KEY=OUT/signing.key starmark build
    """
    out_dir = out_dir.resolve()
    root: Path = obj.root
    try:
        private, public, fp = trust.generate_keys(out_dir, force=force)
    except trust.KeyFileError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"private key: {private} (mode 0600; never commit it, never share it)")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {fp}")
    click.echo("next:")
    click.echo(f"  cp {public} {root / trust.PUBLIC_KEY_PATH}   # commit this file")
    click.echo(f"  export {trust.KEY_ENV}={private}")
    if out_dir.is_relative_to(root):
        click.echo(
            f"warning: {out_dir} is inside the registry folder {root}; move the private key "
            "out of it so that it can never be committed",
            err=True,
        )


def _pins(
    root: Path, public_key: Path | None, allow_unsigned: bool, now: dt.datetime | None = None
) -> trust.Pins:
    settings = None
    if (root / settings_mod.REGISTRY_DIR / settings_mod.SETTINGS_FILE).is_file():
        settings = settings_mod.load(root)
    key_path = public_key or root / trust.PUBLIC_KEY_PATH
    if not key_path.is_file():
        raise click.UsageError(
            f"no pinned public key: {key_path} does not exist. Give the certification body's "
            "public key with --public-key FILE, or run in the registry folder (--root)"
        )
    try:
        key = trust.read_public_key(key_path)
    except trust.KeyFileError as exc:
        raise click.UsageError(str(exc)) from None
    found = counterfeits.load(settings) if settings is not None else counterfeits.Counterfeits()
    return trust.Pins(key, settings, found.number_set, found.domain_set, allow_unsigned, now)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The body's public key (PEM). Default: registry/signing-key.pub under --root.",
)
@click.option(
    "--checkpoint",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="The checkpoint.json to check against. Default: found next to the files.",
)
@click.option(
    "--allow-unsigned",
    is_flag=True,
    help="Check the hashes of an unsigned build instead of failing on it.",
)
@click.option(
    "--since",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="An older checkpoint (checkpoint.json, or a checkpoints/<size> tree head): prove the "
    "log now extends it (nothing rewritten, dropped or forked since).",
)
@click.option(
    "--at",
    "now",
    type=click.DateTime(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d"]),
    help="Judge the data's age as at this UTC time (YYYY-MM-DDTHH:MM:SSZ). Default: now.",
)
@click.option("-v", "--verbose", is_flag=True, help="One line for every record proven.")
@click.pass_obj
def verify(
    obj: Any,
    paths: tuple[Path, ...],
    public_key: Path | None,
    checkpoint: Path | None,
    allow_unsigned: bool,
    since: Path | None,
    now: dt.datetime | None,
    verbose: bool,
) -> None:
    """Check downloaded records offline against the body's signed checkpoint.

    PATH is a built site folder (default: <root>/site), a downloaded certificates.json, or one
    record's JSON (api/v1/certificates/<NUMBER>.json); the checkpoint (api/v1/checkpoint.json)
    is found next to them or given with --checkpoint, files.sha256 and the log's tiles (tile/)
    beside it. Checks the Ed25519 signature with the pinned public key, that every file is byte
    for byte the one signed under its name (files.sha256), that the log's entries hash to the
    signed root, that each record is the latest version of its number in the log (an older one
    is reported superseded, with what changed), that the derived status
    follows from the record on the as-of date, and that the as-of date is not after the signing
    time. Says what is proven and how old the data is (STALE past the registry's
    stale-after-days); exits 1 naming the file, record and check of anything that does not hold.
    """
    root: Path = obj.root
    at = now.replace(tzinfo=dt.UTC) if now is not None else None
    pins = _pins(root, public_key, allow_unsigned, at)
    targets = list(paths) or [root / "site"]
    report = trust.verify_paths(targets, pins, checkpoint, since)
    labels = {s.key: s.zh for s in pins.settings.statuses} if pins.settings else {}
    lines = trust.statement(report, labels)
    if lines:
        click.echo(f"✓ {lines[0]}" if report.signed_by else f"! {lines[0]}")
    records = lines[1:]
    if len(records) <= LIST_LIMIT or verbose:
        for line in records:
            click.echo(f"✓ {line}")
    elif records:
        counts = Counter(p.verdict for p in report.proven.values())
        summary = ", ".join(f"{n} {v}" for v, n in counts.most_common())
        click.echo(
            f"✓ {len(records)} records are in the registry as signed ({summary}); "
            "--verbose lists each"
        )
    for line in report.since:
        click.echo(f"✓ {line}")
    for note in report.notes:
        click.echo(f"! {note}")
    for failure in report.failures:
        click.echo(f"✗ {failure}")
    if report.files:
        n = len(report.files)
        shown = report.files if n <= 4 else [*report.files[:2], f"and {n - 2} more"]
        click.echo(f"checked {n} file{'s' if n != 1 else ''}: {', '.join(shown)}", err=True)
    if not report.ok:
        n = len(report.failures)
        click.echo(f"NOT VERIFIED: {n} check{'s' if n != 1 else ''} failed", err=True)
        sys.exit(1)
    click.echo(
        "verified: the checkpoint, the JSON records and the CSV are covered; web pages, "
        "feeds and artwork are not",
        err=True,
    )
