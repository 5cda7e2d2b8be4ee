"""`starmark deploy` end to end: the sample site to a real S3 server on loopback, and over rsync.

The S3 server is moto's (the same API as Aliyun OSS, Tencent COS, Huawei OBS and MinIO), started
by the tests on 127.0.0.1 and a free port. The sample registry is built (site A), one record is
changed and the registry rebuilt (site B); a deploy of B over A must send exactly the files whose
bytes differ, and an interrupted deploy must leave a registry a visitor can use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from posixpath import normpath
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from generator.cli import cli
from generator.deploy import plan
from generator.deploy import s3 as s3_module
from generator.publish import build_site

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
SECRET = "Zq9-sekrit-" + uuid.uuid4().hex  # the S3 secret key: must never be printed
CHANGED = "ASC-2025-000123"  # the record whose address changes between site A and site B

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Sites:
    """Two builds of the sample registry: before and after one record's address changed."""

    a: Path
    b: Path

    def files(self, site: Path) -> dict[str, bytes]:
        """Site-relative path → bytes of every file of a build."""
        return {path: file.read_bytes() for path, file in plan.walk(site)}

    def changed(self) -> set[str]:
        """What B has that A has not, byte for byte."""
        old, new = self.files(self.a), self.files(self.b)
        return {path for path, data in new.items() if old.get(path) != data}


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> Sites:
    """The sample registry built, copied aside as A, one address edited, rebuilt as B."""
    root = tmp_path_factory.mktemp("registry")
    for name in ("registry", "certificates", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    build_site(root, as_of=AS_OF, quiet=True)
    a = root.parent / "site-a"
    shutil.copytree(root / "site", a, symlinks=False)
    record = next((root / "certificates").rglob(f"{CHANGED}.yaml"))
    text = record.read_text("utf-8")
    edited = re.sub(r"(?m)^(  address: ).*$", r"\1山东省青岛市崂山区示例路88号", text, count=1)
    assert edited != text
    record.write_text(edited, "utf-8")
    build_site(root, as_of=AS_OF, quiet=True)
    return Sites(a=a, b=(root / "site").resolve())


@pytest.fixture
def env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, str]:
    """Credentials and endpoint in the environment only, as a CI job would set them."""
    values = {
        "AWS_ACCESS_KEY_ID": "starmark-test",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
        # No developer's own ~/.aws settings may take part.
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
    }
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


@pytest.fixture
def bucket(env: dict[str, str]) -> str:
    """A new, empty bucket for one test."""
    name = f"registry-{uuid.uuid4().hex[:12]}"
    client().create_bucket(Bucket=name)
    return name


def client() -> Any:
    return boto3.client(
        "s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1"
    )


@dataclass(frozen=True)
class Stored:
    """An object as a visitor gets it."""

    body: bytes
    content_type: str
    cache_control: str


def stored(bucket: str, prefix: str = "site/") -> dict[str, Stored]:
    """Site-relative path → every object under the prefix (fetched eight at a time)."""
    s3 = client()
    keys = [item["Key"]
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]

    def get(key: str) -> Stored:
        got = s3.get_object(Bucket=bucket, Key=key)
        return Stored(got["Body"].read(), got.get("ContentType", ""), got.get("CacheControl", ""))

    with ThreadPoolExecutor(8) as pool:
        return {key[len(prefix):]: value for key, value in zip(keys, pool.map(get, keys),
                                                                 strict=True)}


def etags(bucket: str, prefix: str = "site/") -> dict[str, str]:
    """Site-relative path → ETag (the MD5 of a single-part upload's bytes) of every object."""
    return {item["Key"][len(prefix):]: item["ETag"].strip('"')
            for page in client().get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])}


def md5s(files: dict[str, bytes]) -> dict[str, str]:
    return {path: hashlib.md5(data).hexdigest() for path, data in files.items()}


def deploy(*args: str) -> Any:
    """``starmark deploy ARGS`` in this process (so a test can break an upload)."""
    return CliRunner().invoke(cli, ["deploy", *args], catch_exceptions=False)


def summary(output: str) -> tuple[int, int]:
    """(files uploaded, files deleted) from the summary line."""
    found = re.search(r"(?:uploaded|would upload) (\d+) files .* (?:deleted|would delete) (\d+)",
                      output)
    assert found, output
    return int(found.group(1)), int(found.group(2))


def test_redeploy_after_one_change_sends_only_the_changed_files(sites: Sites, bucket: str) -> None:
    first = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q")
    assert first.exit_code == 0, first.output
    a_files = sites.files(sites.a)
    assert summary(first.output) == (len(a_files), 0)

    second = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.b), "-q")
    assert second.exit_code == 0, second.output
    changed = sites.changed()
    uploaded, deleted = summary(second.output)
    print(f"\nincremental deploy: {uploaded} of {len(sites.files(sites.b))} files uploaded "
          f"({sorted(changed)})")
    assert uploaded == len(changed) and deleted == 0
    # The record's own page and data, and the aggregates that hold it (the open data, and the
    # checkpoint whose new root changes every record's inclusion proof); no other page.
    assert {f"c/{CHANGED}/index.html", f"api/v1/certificates/{CHANGED}.json",
            "api/v1/certificates.json", "api/v1/checkpoint.json"} <= changed
    assert uploaded < len(a_files) / 10
    assert not any(path.startswith("c/") and CHANGED not in path for path in changed)

    again = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.b), "-q")
    assert summary(again.output) == (0, 0)
    everything = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.b), "-q", "--all")
    assert summary(everything.output) == (len(sites.files(sites.b)), 0)


def test_each_phase_is_on_the_server_before_the_next_starts_and_deletions_come_last(
    sites: Sites, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = client()
    s3.put_object(Bucket=bucket, Key="site/c/ASC-1999-000001/mark.png", Body=b"stale")
    events: list[tuple[str, str, int]] = []
    upload, delete = s3_module.upload, s3_module.delete

    def logged_upload(s3: Any, target: Any, site: Path, file: plan.LocalFile) -> None:
        events.append(("start", file.path, file.phase))
        upload(s3, target, site, file)
        events.append(("done", file.path, file.phase))

    def logged_delete(s3: Any, target: Any, paths: list[str]) -> None:
        events.append(("delete", ",".join(paths), 99))
        delete(s3, target, paths)

    monkeypatch.setattr(s3_module, "upload", logged_upload)
    monkeypatch.setattr(s3_module, "delete", logged_delete)
    assert deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q").exit_code == 0
    assert {phase for _, _, phase in events} == {*plan.Phase, 99}
    done = Counter(phase for kind, _, phase in events if kind == "done")
    for index, (kind, path, phase) in enumerate(events):
        if kind == "start":  # every file of the earlier phases is on the server by now
            before = Counter(p for k, _, p in events[:index] if k == "done")
            assert all(before[p] == done[p] for p in done if p < phase), path
    assert events[-1] == ("delete", "c/ASC-1999-000001/mark.png", 99)


def test_every_object_equals_the_built_file_with_its_headers(sites: Sites, bucket: str) -> None:
    assert deploy(f"s3://{bucket}/site", "--site-dir", str(sites.b), "-q").exit_code == 0
    built = sites.files(sites.b)
    assert stored(bucket) == {
        path: Stored(data, plan.content_type(path), plan.cache_control(path))
        for path, data in built.items()
    }
    head = client().head_object
    page = head(Bucket=bucket, Key=f"site/c/{CHANGED}/index.html")
    assert (page["ContentType"], page["CacheControl"]) == (
        "text/html; charset=utf-8", "public, max-age=300")
    hashed = next(p for p in built if p.startswith("assets/stylesheets/main."))
    assert head(Bucket=bucket, Key=f"site/{hashed}")["CacheControl"] == (
        "public, max-age=31536000, immutable")
    checkpoint = head(Bucket=bucket, Key="site/api/v1/checkpoint.json")
    assert (checkpoint["ContentType"], checkpoint["CacheControl"]) == (
        "application/json; charset=utf-8", "no-cache")
    feed = head(Bucket=bucket, Key="site/feed.xml")
    assert feed["ContentType"] == "application/atom+xml; charset=utf-8"


def test_a_bucket_changed_by_hand_is_repaired(sites: Sites, bucket: str) -> None:
    assert deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q").exit_code == 0
    s3 = client()
    page = f"site/c/{CHANGED}/index.html"
    body = s3.get_object(Bucket=bucket, Key=page)["Body"].read()
    tampered = body.replace(b"</html>", b"<!---->")  # same size, other bytes
    assert len(tampered) == len(body) and tampered != body
    s3.put_object(Bucket=bucket, Key=page, Body=tampered, ContentType="text/html")
    s3.delete_object(Bucket=bucket, Key="site/feed.xml")
    s3.put_object(Bucket=bucket, Key="site/c/ASC-1999-000001/index.html", Body=b"stray")
    s3.put_object(Bucket=bucket, Key="site/.well-known/security.txt", Body=b"kept")

    dry = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "--dry-run")
    assert dry.exit_code == 0
    assert f"upload c/{CHANGED}/index.html" in dry.output
    assert "upload feed.xml" in dry.output and "delete c/ASC-1999-000001/index.html" in dry.output
    assert summary(dry.output) == (2, 1)
    assert etags(bucket)[f"c/{CHANGED}/index.html"] == hashlib.md5(tampered).hexdigest()

    fixed = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q")
    assert summary(fixed.output) == (2, 1)
    now = etags(bucket)
    # the server's own files stay
    assert now.pop(".well-known/security.txt") == hashlib.md5(b"kept").hexdigest()
    assert now == md5s(sites.files(sites.a))


def _links(page: str, html: bytes) -> set[str]:
    """Site-relative files a page loads or links to on its own site."""
    found = set()
    for tag in BeautifulSoup(html, "html.parser").find_all(["a", "link", "script", "img"]):
        url = tag.get("href") or tag.get("src")
        if not isinstance(url, str):
            continue
        parts = urlsplit(url)
        if parts.scheme or parts.netloc or not parts.path:
            continue
        base = page.rsplit("/", 1)[0] if "/" in page else ""
        path = normpath(parts.path.lstrip("/") if parts.path.startswith("/")
                        else f"{base}/{parts.path}" if base else parts.path)
        if path == "." or parts.path.endswith("/"):
            path = f"{path}/index.html" if path != "." else "index.html"
        found.add(path)
    return found


def test_an_interrupted_deploy_leaves_a_consistent_registry(
    sites: Sites, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert deploy(f"s3://{bucket}/site", "--site-dir", str(sites.b), "-q").exit_code == 0
    # Now back to A (whose record differs) with the connection lost at the changed page: after
    # the open data, before the checkpoint and feeds.
    old, new = sites.files(sites.b), sites.files(sites.a)
    pages = sorted(p for p in sites.changed() if p.endswith(".html"))
    breaking = f"c/{CHANGED}/index.html"
    assert breaking in pages
    upload = s3_module.upload

    def flaky(s3: Any, target: Any, site: Path, file: plan.LocalFile) -> None:
        if file.path == breaking:
            from botocore.exceptions import EndpointConnectionError

            raise EndpointConnectionError(endpoint_url=os.environ["AWS_ENDPOINT_URL"])
        upload(s3, target, site, file)

    monkeypatch.setattr(s3_module, "upload", flaky)
    broken = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q")
    assert broken.exit_code == 1
    assert broken.output.strip().splitlines() == [
        f'{breaking}: Could not connect to the endpoint URL: "{os.environ["AWS_ENDPOINT_URL"]}"'
    ]

    live, was, will = etags(bucket), md5s(old), md5s(new)
    assert set(live) == set(old) | set(new)  # nothing deleted yet
    assert all(tag in (was.get(path), will.get(path)) for path, tag in live.items())
    # The announcements still describe the registry that was live before.
    for path in ("api/v1/checkpoint.json", "api/v1/checkpoint.txt", "feed.xml", "sitemap.xml"):
        assert live[path] == was[path], path
    # Every page a visitor can fetch finds everything it loads and links to.
    s3 = client()
    for path in live:
        if path.endswith(".html"):
            html = s3.get_object(Bucket=bucket, Key=f"site/{path}")["Body"].read()
            missing = {link for link in _links(path, html)
                       if link in old or link in new} - set(live)
            assert not missing, (path, missing)
    # The open data went up before the pages; the page itself is still the old one.
    record = f"api/v1/certificates/{CHANGED}.json"
    assert (live[record], live[breaking]) == (will[record], was[breaking])

    monkeypatch.setattr(s3_module, "upload", upload)
    resumed = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q")
    assert resumed.exit_code == 0
    assert etags(bucket) == will


def test_credentials_never_appear_in_the_output(sites: Sites, bucket: str,
                                                env: dict[str, str]) -> None:
    command = [sys.executable, "-m", "generator", "deploy", "--site-dir", str(sites.a)]
    runs = [
        subprocess.run([*command, f"s3://{bucket}/p"], env=os.environ, capture_output=True,
                       text=True, check=False),
        subprocess.run([*command, f"s3://{bucket}/p", "--dry-run"], env=os.environ,
                       capture_output=True, text=True, check=False),
        subprocess.run([*command, "s3://no-such-bucket/p"], env=os.environ,
                       capture_output=True, text=True, check=False),
    ]
    assert [run.returncode for run in runs] == [0, 0, 1]
    assert runs[2].stderr.strip().splitlines() == [
        "s3://no-such-bucket/p: NoSuchBucket: The specified bucket does not exist"
    ]
    for run in runs:
        assert SECRET not in run.stdout + run.stderr


def test_no_credentials_is_one_line(sites: Sites, bucket: str,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    result = deploy(f"s3://{bucket}/site", "--site-dir", str(sites.a), "-q")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"s3://{bucket}/site: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
        "(or AWS_PROFILE) in the environment"
    )


# --- rsync ----------------------------------------------------------------------------------

needs_rsync = pytest.mark.skipif(
    shutil.which("rsync") is None and not os.environ.get("CI"),
    reason="rsync is not installed (Debian: rsync; .ci/run installs it)",
)


def tree(folder: Path) -> dict[str, bytes]:
    return {path: file.read_bytes() for path, file in plan.walk(folder)}


@needs_rsync
def test_rsync_to_a_folder_sends_only_the_change(sites: Sites, tmp_path: Path) -> None:
    live = tmp_path / "www"
    # The site given as a link to the build, as a build that swaps links leaves it.
    link = tmp_path / "site"
    link.symlink_to(sites.a, target_is_directory=True)
    first = deploy(str(live), "--site-dir", str(link), "-q")
    assert first.exit_code == 0, first.output
    assert tree(live) == tree(sites.a)
    assert summary(first.output) == (len(tree(sites.a)), 0)

    (live / ".well-known").mkdir()
    (live / ".well-known" / "security.txt").write_text("kept")
    (live / "c" / "ASC-1999-000001").mkdir()
    (live / "c" / "ASC-1999-000001" / "index.html").write_text("stray")
    link.unlink()
    link.symlink_to(sites.b, target_is_directory=True)

    dry = deploy(str(live), "--site-dir", str(link), "--dry-run")
    assert summary(dry.output) == (len(sites.changed()), 1)
    assert f"upload c/{CHANGED}/index.html" in dry.output
    assert tree(live)["c/ASC-1999-000001/index.html"] == b"stray"

    second = deploy(str(live), "--site-dir", str(link), "-q")
    assert second.exit_code == 0, second.output
    assert summary(second.output) == (len(sites.changed()), 1)
    assert tree(live) == tree(sites.b)
    assert (live / ".well-known" / "security.txt").read_text() == "kept"
    assert (live / "index.html").stat().st_mode & 0o777 == 0o644
    everything = deploy(str(live), "--site-dir", str(link), "-q", "--all")
    assert summary(everything.output) == (len(tree(sites.b)), 0)


@needs_rsync
def test_rsync_failure_is_one_line(sites: Sites, tmp_path: Path) -> None:
    dest = tmp_path / "missing" / "deeper" / "www"
    result = deploy(str(dest), "--site-dir", str(sites.a), "-q")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{dest}: rsync: "), lines
    assert "No such file or directory" in lines[0]
