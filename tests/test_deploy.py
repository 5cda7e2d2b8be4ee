"""What a deploy sends, with which headers, in which order; the free hosts' limits; the workflow.

The uploads themselves are tested end to end in test_deploy_e2e.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from generator.cli import cli
from generator.deploy import limits, plan
from generator.deploy.plan import Phase

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"


@pytest.mark.parametrize(
    ("path", "content_type", "cache_control", "phase"),
    [
        ("c/ASC-2025-000123/index.html", "text/html; charset=utf-8", plan.SHORT, Phase.PAGES),
        ("404.html", "text/html; charset=utf-8", plan.SHORT, Phase.PAGES),
        ("c/ASC-2025-000123/mark.svg", "image/svg+xml; charset=utf-8", plan.SHORT, Phase.FILES),
        ("c/ASC-2025-000123/mark-print.png", "image/png", plan.SHORT, Phase.FILES),
        ("c/ASC-2025-000123/display.pdf", "application/pdf", plan.SHORT, Phase.FILES),
        ("c/ASC-2025-000123/marks.zip", "application/zip", plan.SHORT, Phase.FILES),
        ("c/ASC-2025-000123/feed.xml", "application/atom+xml; charset=utf-8", plan.SHORT,
         Phase.LAST),
        ("feed.xml", "application/atom+xml; charset=utf-8", plan.SHORT, Phase.LAST),
        ("sitemap.xml", "application/xml; charset=utf-8", plan.SHORT, Phase.LAST),
        ("sitemap.xml.gz", "application/gzip", plan.SHORT, Phase.LAST),
        ("api/v1/checkpoint.json", "application/json; charset=utf-8", plan.REVALIDATE,
         Phase.LAST),
        ("api/v1/checkpoint.txt", "text/plain; charset=utf-8", plan.REVALIDATE, Phase.LAST),
        ("api/v1/checkpoint.sig", "application/octet-stream", plan.REVALIDATE, Phase.LAST),
        ("api/v1/certificates.json", "application/json; charset=utf-8", plan.SHORT, Phase.DATA),
        ("api/v1/certificates.csv", "text/csv; charset=utf-8", plan.SHORT, Phase.DATA),
        ("search/idx/g/3.json", "application/json; charset=utf-8", plan.SHORT, Phase.DATA),
        ("assets/stylesheets/main.57a0d79d.min.css", "text/css; charset=utf-8", plan.IMMUTABLE,
         Phase.FILES),
        ("assets/javascripts/bundle.a5f9d56c.min.js", "text/javascript; charset=utf-8",
         plan.IMMUTABLE, Phase.FILES),
        ("assets/starmark/search.js", "text/javascript; charset=utf-8", plan.SHORT, Phase.FILES),
        ("assets/images/favicon.png", "image/png", plan.SHORT, Phase.FILES),
    ],
)
def test_headers_and_phase_of_each_kind_of_file(
    path: str, content_type: str, cache_control: str, phase: Phase
) -> None:
    assert plan.content_type(path) == content_type
    assert plan.cache_control(path) == cache_control
    assert plan.phase(path) == phase


def test_upload_order_puts_files_before_data_before_pages_before_announcements() -> None:
    paths = ["sitemap.xml", "index.html", "api/v1/checkpoint.json", "c/N/mark.png",
             "api/v1/certificates.json", "feed.xml", "c/N/index.html", "assets/x.0123abcd.css"]
    order = [f.path for f in plan.ordered(plan.describe(p, b"x") for p in paths)]
    assert order == ["assets/x.0123abcd.css", "c/N/mark.png", "api/v1/certificates.json",
                     "c/N/index.html", "index.html", "api/v1/checkpoint.json", "feed.xml",
                     "sitemap.xml"]


def test_a_folder_that_is_not_a_built_site_is_refused(tmp_path: Path) -> None:
    # Deploying an empty folder would make every object on the server stale and delete it.
    (tmp_path / "site").mkdir()
    result = CliRunner().invoke(
        cli, ["--root", str(tmp_path), "deploy", str(tmp_path / "www")])
    assert result.exit_code == 1
    assert result.output.strip() == f"{tmp_path / 'site'}: not a built site (it has no index.html)"
    assert not (tmp_path / "www").exists()


def test_an_unknown_kind_of_destination_is_one_line(tmp_path: Path) -> None:
    fake_site(tmp_path / "site", {})
    result = CliRunner().invoke(cli, ["--root", str(tmp_path), "deploy", "oss://registry/x"])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "oss://registry/x: cannot deploy to oss:// (write s3://BUCKET/PREFIX for any "
        "S3-compatible storage, USER@HOST:/PATH, rsync://HOST/MODULE/PATH or a folder)"
    )


def fake_site(folder: Path, files: dict[str, int]) -> Path:
    """A site of sparse files of the given sizes (no disk space taken)."""
    for path, size in {"index.html": 100, **files}.items():
        file = folder / path
        file.parent.mkdir(parents=True, exist_ok=True)
        with open(file, "wb") as handle:
            handle.truncate(size)
    return folder


def hostcheck(root: Path, host: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["--root", str(root), "hostcheck", host])
    return result.exit_code, result.output.strip().splitlines()


def test_a_site_over_one_gigabyte_fails_the_github_pages_check(tmp_path: Path) -> None:
    fake_site(tmp_path / "site", {"c/A/display.pdf": 600_000_000, "c/B/display.pdf": 400_000_000})
    code, lines = hostcheck(tmp_path, "github-pages")
    assert code == 1 and len(lines) == 1
    assert lines[0].startswith("site: the site is 1.00 GB (1,000,000,100 bytes), over GitHub "
                               "Pages' limit of 1 GB per "
                               "site; way out: publish to object storage instead "
                               "(starmark deploy s3://BUCKET/PREFIX)")
    assert "docs/publishing.md" in lines[0]
    # One byte less and it fits.
    os.truncate(tmp_path / "site" / "c/B/display.pdf", 400_000_000 - 101)
    code, lines = hostcheck(tmp_path, "github-pages")
    assert (code, lines) == (0, ["site: 1000.0 MB in 3 files fits GitHub Pages"])


def test_cloudflare_pages_limits_files_and_file_size(tmp_path: Path) -> None:
    fake_site(tmp_path / "site", {"c/A/display.pdf": 25 * 1024**2 + 1})
    code, lines = hostcheck(tmp_path, "cloudflare-pages")
    assert code == 1
    assert lines == [f"site: c/A/display.pdf is 26.2 MB, over Cloudflare Pages' limit of 25 MiB "
                     f"per file; way out: {limits.WAY_OUT}"]


def test_file_count_limit_names_the_count() -> None:
    size = limits.Measure(bytes=5 * 10**8, files=200_001, largest=(10, "index.html"))
    assert limits.check(size, limits.HOSTS["gitlab-pages"]) == [
        "the site has 200,001 files, over GitLab Pages' limit of 200,000 files per site; "
        f"way out: {limits.WAY_OUT}"
    ]
    assert limits.check(size, limits.HOSTS["github-pages"]) == []


def test_the_workflow_checks_github_pages_limits_before_uploading() -> None:
    steps = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))["jobs"]["build"]["steps"]
    runs = [step.get("run", "") + step.get("uses", "") for step in steps]
    build = next(i for i, r in enumerate(runs) if "starmark build" in r)
    check = next(i for i, r in enumerate(runs) if "starmark hostcheck github-pages" in r)
    upload = next(i for i, r in enumerate(runs) if "upload-pages-artifact" in r)
    assert build < check < upload


def test_the_workflow_can_publish_to_object_storage_with_keys_from_secrets() -> None:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    build = workflow["jobs"]["build"]
    step = next(s for s in build["steps"] if "starmark deploy" in s.get("run", ""))
    assert step["if"] == "vars.STARMARK_DEPLOY_DEST != ''"
    assert step["env"]["AWS_ACCESS_KEY_ID"].startswith("${{ secrets.")
    assert step["env"]["AWS_SECRET_ACCESS_KEY"].startswith("${{ secrets.")
    # Then GitHub Pages is left out, its limits included.
    pages = [s for s in build["steps"]
             if "hostcheck" in s.get("run", "") or "pages" in s.get("uses", "")]
    assert pages and all(s["if"] == "vars.STARMARK_DEPLOY_DEST == ''" for s in pages)
    assert workflow["jobs"]["deploy"]["if"] == "vars.STARMARK_DEPLOY_DEST == ''"
    assert build["concurrency"]["cancel-in-progress"] is False


def test_every_host_in_the_table_is_documented() -> None:
    guide = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    hosting = guide.split("{#hosting}", 1)[1]
    for key, host in limits.HOSTS.items():
        assert f"starmark hostcheck {key}" in hosting, key
        assert host.name in hosting
