"""Deploy to S3-compatible object storage (Aliyun OSS, Tencent COS, Huawei OBS, MinIO, AWS).

The engine is boto3. What is on the server is read from the bucket itself, never from a file
kept by an earlier deploy, so a bucket changed by hand (or a deploy that was interrupted) is
compared as it really is: an object whose size and ETag (the MD5 of a single-part upload) match
the built file is kept; when the ETag is not an MD5 (multipart or encrypted uploads), the
SHA-256 this module stores in the object's metadata decides. Credentials, endpoint and region
come from boto3's own sources (the ``AWS_*`` environment variables, ``~/.aws/config`` and
``credentials``), never from the repository; nothing here prints them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from .errors import DeployError, one_line
from .plan import LocalFile, Outcome, Phase, Progress, hidden

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SHA256_KEY = "sha256"  # object metadata (x-amz-meta-sha256): the content hash of the upload
WORKERS = 8  # uploads in flight: object stores answer in tens of milliseconds, each on its own
DELETE_BATCH = 1000  # the most keys one DeleteObjects request takes
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    """A bucket and the key prefix the site lives under ("" for the bucket's root)."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, dest: str) -> Target:
        """Read ``s3://bucket`` or ``s3://bucket/prefix``."""
        rest = dest.removeprefix("s3://")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise DeployError(dest, "no bucket: write s3://BUCKET or s3://BUCKET/PREFIX")
        return cls(bucket, prefix.strip("/"))

    def key(self, path: str) -> str:
        """The object key of a site-relative path."""
        return f"{self.prefix}/{path}" if self.prefix else path

    def path(self, key: str) -> str:
        """The site-relative path of an object key under the prefix."""
        return key[len(self.prefix) + 1 :] if self.prefix else key

    @property
    def list_prefix(self) -> str:
        """What every key of the site starts with."""
        return f"{self.prefix}/" if self.prefix else ""


@dataclass(frozen=True)
class Remote:
    """An object as a bucket listing shows it."""

    size: int
    etag: str


def client(endpoint_url: str | None = None, region: str | None = None,
           path_style: bool = False) -> S3Client:
    """A boto3 S3 client; anything not given comes from the environment or boto3's config files."""
    import boto3
    from botocore.config import Config

    config = Config(
        # botocore ≥ 1.36 adds CRC checksums in a chunked body by default, which OSS, COS and
        # older MinIO reject; Content-MD5 (sent with every upload) already checks the bytes.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        s3={"addressing_style": "path"} if path_style else None,
        retries={"max_attempts": 5, "mode": "standard"},
        max_pool_connections=WORKERS * 2,
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


def listing(s3: S3Client, target: Target) -> dict[str, Remote]:
    """Every object under the target's prefix, by site-relative path."""
    found: dict[str, Remote] = {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=target.bucket, Prefix=target.list_prefix
    )
    for page in pages:
        for item in page.get("Contents", []):
            found[target.path(item["Key"])] = Remote(item["Size"], item["ETag"].strip('"'))
    return found


def unchanged(s3: S3Client, target: Target, file: LocalFile, remote: Remote | None) -> bool:
    """Whether the object at ``file``'s key already holds these bytes with these headers."""
    if remote is None or remote.size != file.size:
        return False
    if remote.etag == file.md5:
        return True
    head = s3.head_object(Bucket=target.bucket, Key=target.key(file.path))
    return (
        head.get("Metadata", {}).get(SHA256_KEY) == file.sha256
        and head.get("ContentType") == file.content_type
        and head.get("CacheControl") == file.cache_control
    )


def upload(s3: S3Client, target: Target, site: Path, file: LocalFile) -> None:
    """Put one file with its headers; the server checks the bytes against Content-MD5."""
    s3.put_object(
        Bucket=target.bucket,
        Key=target.key(file.path),
        Body=(site / file.path).read_bytes(),
        ContentType=file.content_type,
        CacheControl=file.cache_control,
        ContentMD5=file.md5_base64,
        Metadata={SHA256_KEY: file.sha256},
    )


def delete(s3: S3Client, target: Target, paths: list[str]) -> None:
    """Delete objects, a thousand a request; any key the server refuses is an error."""
    for start in range(0, len(paths), DELETE_BATCH):
        batch = paths[start : start + DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=target.bucket,
            Delete={"Objects": [{"Key": target.key(p)} for p in batch], "Quiet": True},
        )
        for error in answer.get("Errors", []):
            raise DeployError(
                error.get("Key", "?"), f"not deleted: {error.get('Code')} {error.get('Message')}"
            )


def by_phase(files: Iterable[LocalFile]) -> Iterator[list[LocalFile]]:
    """``files`` (in upload order) grouped by phase."""
    group: list[LocalFile] = []
    for file in files:
        if group and group[-1].phase != file.phase:
            yield group
            group = []
        group.append(file)
    if group:
        yield group


def deploy(site: Path, files: list[LocalFile], dest: str, *, dry_run: bool, s3: S3Client,
           progress: Progress, resend: bool = False) -> Outcome:
    """Upload what differs from the bucket (everything with ``resend``), phase by phase, then
    delete what the site lacks."""
    target = Target.parse(dest)
    remote = _call(dest, lambda: listing(s3, target))

    def same_as_remote(file: LocalFile) -> bool:
        return not resend and _call(
            file.path, lambda: unchanged(s3, target, file, remote.get(file.path)))

    with ThreadPoolExecutor(WORKERS) as pool:
        same = dict(zip([f.path for f in files], pool.map(same_as_remote, files), strict=True))
        todo = [f for f in files if not same[f.path]]
        stale = sorted(p for p in set(remote) - {f.path for f in files} if not hidden(p))
        outcome = Outcome(uploaded=todo, deleted=stale, unchanged=len(files) - len(todo))
        if dry_run:
            return outcome
        progress.reset(total=outcome.uploaded_bytes)
        for group in by_phase(todo):
            # A phase is complete before the next one starts; map raises the first failure,
            # after which no later phase is sent and nothing is deleted.
            for file in pool.map(lambda f: _send(s3, target, site, f), group):
                progress.update(file.size)
    _call(dest, lambda: delete(s3, target, stale))
    return outcome


def _send(s3: S3Client, target: Target, site: Path, file: LocalFile) -> LocalFile:
    _call(file.path, lambda: upload(s3, target, site, file))
    return file


def _call(where: str, work: Callable[[], T]) -> T:
    """Run ``work``; any failure becomes a :class:`DeployError` naming ``where`` and the cause."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return work()
    except DeployError:
        raise
    except NoCredentialsError:
        raise DeployError(
            where, "no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
            "(or AWS_PROFILE) in the environment"
        ) from None
    except ClientError as exc:
        error = exc.response.get("Error", {})
        cause = f"{error.get('Code', '?')}: {error.get('Message') or exc.operation_name}"
        raise DeployError(where, one_line(cause)) from None
    except (BotoCoreError, OSError) as exc:
        raise DeployError(where, one_line(str(exc))) from None


__all__ = ["Phase", "Target", "client", "deploy"]
