"""The ``starmark deploy`` and ``starmark hostcheck`` commands."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from .errors import DeployError
from .limits import HOSTS, check, human, measure
from .plan import Outcome, site_folder

site_dir_option = click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The built site. Default: <root>/site.",
)


def _site(ctx: click.Context, site_dir: Path | None) -> Path:
    root: Path = ctx.obj.root
    try:
        return site_folder(site_dir or root / "site")
    except FileNotFoundError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


@click.command()
@click.argument("dest", metavar="DEST")
@site_dir_option
@click.option("-n", "--dry-run", is_flag=True, help="Say what would be uploaded and deleted.")
@click.option(
    "--endpoint-url",
    metavar="URL",
    default=None,
    help="S3 endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com. "
    "Default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL or the AWS config file, else AWS.",
)
@click.option(
    "--region", default=None, help="S3 region. Default: $AWS_REGION or the AWS config file."
)
@click.option(
    "--path-style",
    is_flag=True,
    help="Address the bucket in the path (MinIO), not in the host name (OSS, COS, OBS, AWS).",
)
@click.option(
    "--all",
    "resend",
    is_flag=True,
    help="Send every file, changed or not (after a change of starmark's caching headers).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def deploy(
    ctx: click.Context,
    dest: str,
    site_dir: Path | None,
    dry_run: bool,
    endpoint_url: str | None,
    region: str | None,
    path_style: bool,
    resend: bool,
    quiet: bool,
) -> None:
    """Publish the built site to DEST, sending only the files that changed.

    DEST is s3://BUCKET/PREFIX (S3-compatible object storage: Aliyun OSS, Tencent COS,
    Huawei OBS, MinIO, AWS), USER@HOST:/PATH (a server over SSH, with rsync),
    rsync://HOST/MODULE/PATH (an rsync daemon), or a local folder.

    Files are compared by content with what is on the server and sent in an order that never
    shows a half-deployed registry: artwork and other files, then open data and the search
    index, then pages, then the checkpoint, feeds and sitemap; files the site no longer has are
    deleted last. Credentials come only from the environment or the tool's own configuration
    (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or AWS_PROFILE for S3; ssh keys or
    RSYNC_PASSWORD for rsync). A failure prints one line, the file and the cause, and exits 1;
    every file is then its previous or its new version, no page lacks a file it links to, the
    checkpoint and feeds still announce the previous registry, and running again finishes.
    """
    from tqdm import tqdm

    from . import plan, rsync, s3

    folder = _site(ctx, site_dir)
    try:
        kind = destination_kind(dest)
        paths = list(plan.walk(folder))
        with tqdm(total=len(paths), unit=" files", desc="reading", leave=False,
                  disable=True if quiet else None) as bar:
            files = plan.scan(paths, progress=bar.update)
        with tqdm(unit="B", unit_scale=True, desc="uploading", leave=False,
                  disable=True if quiet or dry_run else None) as bar:
            if kind == "s3":
                client = s3.client(endpoint_url, region, path_style)
                outcome = s3.deploy(folder, files, dest, dry_run=dry_run, s3=client,
                                    resend=resend, progress=bar)
            else:
                outcome = rsync.deploy(folder, files, dest, dry_run=dry_run, resend=resend,
                                       progress=bar)
    except DeployError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    _say(outcome, dest, dry_run)


SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def destination_kind(dest: str) -> str:
    """"s3" or "rsync" (SSH, an rsync daemon or a folder); any other URL scheme is an error."""
    scheme = SCHEME.match(dest)
    if scheme is None or scheme.group(1) == "rsync":
        return "rsync"
    if scheme.group(1) == "s3":
        return "s3"
    raise DeployError(dest, f"cannot deploy to {scheme.group(1)}:// (write s3://BUCKET/PREFIX "
                      "for any S3-compatible storage, USER@HOST:/PATH, rsync://HOST/MODULE/PATH "
                      "or a folder)")


def _say(outcome: Outcome, dest: str, dry_run: bool) -> None:
    """In a dry run every upload and deletion, in order; always a one-line summary."""
    if dry_run:
        for file in outcome.uploaded:
            click.echo(f"upload {file.path} ({file.phase.name.lower()}, {file.content_type}, "
                       f"{file.cache_control})")
        for path in outcome.deleted:
            click.echo(f"delete {path}")
    verb = ("would upload", "would delete") if dry_run else ("uploaded", "deleted")
    click.echo(
        f"{dest}: {verb[0]} {len(outcome.uploaded)} files ({outcome.uploaded_bytes:,} bytes), "
        f"{verb[1]} {len(outcome.deleted)}, {outcome.unchanged} unchanged",
        err=True,
    )


@click.command()
@click.argument("host", type=click.Choice(sorted(HOSTS)))
@site_dir_option
@click.pass_context
def hostcheck(ctx: click.Context, host: str, site_dir: Path | None) -> None:
    """Check that the built site fits HOST's published limits (size, files, file size).

    Run it before uploading (the GitHub Pages workflow does): over a limit, it names the limit
    and the way out, and exits 1.
    """
    folder = _site(ctx, site_dir)
    size = measure(folder)
    over = check(size, HOSTS[host])
    for problem in over:
        click.echo(f"{site_dir or 'site'}: {problem}", err=True)
    if over:
        sys.exit(1)
    click.echo(f"{site_dir or 'site'}: {human(size.bytes)} in {size.files:,} files fits "
               f"{HOSTS[host].name}", err=True)
