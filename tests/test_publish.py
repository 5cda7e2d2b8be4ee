"""Publishing: reproducible builds, a site replaced only by a complete build, the CI workflow.

The build tests run `starmark build` on a temporary copy of the sample registry with a minimal
docs/ (the hand-written pages are tested elsewhere) and compare the hash of every output file.
They run the code in generator/ as it is on disk: the build's worker processes import it again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from generator.cli import cli

REPO = Path(__file__).resolve().parent.parent
WORKFLOW = REPO / ".github" / "workflows" / "publish.yml"
AS_OF = "2026-06-01"


# --- the workflow -------------------------------------------------------------------------


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _uses(job: dict) -> list[str]:
    return [step["uses"].split("@")[0] for step in job["steps"] if "uses" in step]


def test_workflow_triggers() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert set(triggers) >= {"pull_request", "push", "schedule"}
    assert triggers["push"]["branches"] == ["main"]
    cron = triggers["schedule"][0]["cron"]
    assert re.fullmatch(r"\d+ \d+ \* \* \*", cron), "a daily rebuild"


def test_pull_requests_run_check_against_main_with_full_history() -> None:
    job = _workflow()["jobs"]["check"]
    assert "pull_request" in job["if"]
    assert "starmark check --base origin/main" in _runs(job)
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0


def test_main_is_built_and_deployed_with_github_pages() -> None:
    jobs = _workflow()["jobs"]
    build, deploy = jobs["build"], jobs["deploy"]
    assert "starmark build --quiet" in _runs(build)
    assert "actions/upload-pages-artifact" in _uses(build)
    assert next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))[
        "with"]["path"] == "site"
    checkout = next(s for s in build["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # history.last_changed needs every commit
    assert deploy["needs"] == "build"
    assert "actions/deploy-pages" in _uses(deploy)
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["concurrency"]["cancel-in-progress"] is False
    assert build["if"] == "github.event_name != 'pull_request'"


# --- builds -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Warm:
    """A registry root whose star-mark cache is filled, and the site its first build made."""

    root: Path
    reference: Path


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Warm:
    """The sample registry with mkdocs.yml (nav left out) and a one-page docs/, built once with
    an empty mark cache: later builds reuse the cache (seconds instead of half a minute)."""
    base = tmp_path_factory.mktemp("publish")
    root = base / "root"
    root.mkdir()
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config.pop("nav", None)
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# 售后服务认证证书查询\n", encoding="utf-8")
    reference = base / "reference" / "site"
    built(root, reference, "--as-of", AS_OF)
    return Warm(root, reference)


@pytest.fixture
def site_root(warm: Warm, tmp_path: Path) -> Path:
    """A private copy of the warmed registry root (records, settings, config, mark cache)."""
    root = tmp_path / "root"
    shutil.copytree(warm.root, root, symlinks=True)
    return root


def build(root: Path, site: Path, *args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(
        cli, ["--root", str(root), "build", "--site-dir", str(site), "--quiet", *args],
        env={"SOURCE_DATE_EPOCH": None, "STARMARK_AS_OF": None, **(env or {})},
    )


def built(root: Path, site: Path, *args: str, env: dict[str, str | None] | None = None) -> None:
    result = build(root, site, *args, env=env)
    assert result.exit_code == 0, (result.output, result.exception)


def hashes(site: Path) -> dict[str, str]:
    return {
        path.relative_to(site).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(site.rglob("*"))
        if path.is_file()
    }


def leftovers(site: Path) -> list[Path]:
    """Temporary build folders or old sites left beside ``site``."""
    return [p for p in site.parent.iterdir() if p.name.startswith(f".{site.name}.")]


def a_record(root: Path) -> Path:
    return sorted((root / "certificates").rglob("*.yaml"))[0]


def epoch(day: dt.date) -> str:
    return str(int(dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()))


@pytest.mark.slow
def test_same_input_and_as_of_give_byte_identical_sites(
    warm: Warm, site_root: Path, tmp_path: Path
) -> None:
    site = tmp_path / "again" / "site"
    built(site_root, site, "--as-of", AS_OF)  # with the mark cache the reference build filled
    reference = hashes(warm.reference)
    number = a_record(site_root).name.removesuffix(".yaml")
    assert f"c/{number}/index.html" in reference
    assert hashes(site) == reference


@pytest.mark.slow
def test_source_date_epoch_is_the_as_of_day(warm: Warm, site_root: Path, tmp_path: Path) -> None:
    by_epoch, year_later = tmp_path / "epoch" / "site", tmp_path / "later" / "site"
    built(site_root, by_epoch, env={"SOURCE_DATE_EPOCH": epoch(dt.date.fromisoformat(AS_OF))})
    assert hashes(by_epoch) == hashes(warm.reference)
    built(site_root, year_later, env={"SOURCE_DATE_EPOCH": epoch(dt.date(2027, 6, 1))})
    assert hashes(year_later) != hashes(warm.reference)


@pytest.mark.slow
def test_an_invalid_record_leaves_the_previous_site(site_root: Path) -> None:
    site = site_root / "site"
    built(site_root, site, "--as-of", AS_OF)
    before = hashes(site)
    record = a_record(site_root)
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"(?m)^score: .*$", "score: 55", text), encoding="utf-8")
    result = build(site_root, site, "--as-of", AS_OF)
    assert result.exit_code != 0
    shown = result.output + str(result.exception)
    assert record.relative_to(site_root).as_posix() in shown
    assert hashes(site) == before
    assert leftovers(site) == []


@pytest.mark.slow
@pytest.mark.parametrize("module, renderer", [("pages", "render_page"), ("data", "write_data")])
def test_a_crash_mid_build_leaves_the_previous_site(
    site_root: Path, monkeypatch: pytest.MonkeyPatch, module: str, renderer: str
) -> None:
    site = site_root / "site"
    built(site_root, site, "--as-of", AS_OF)
    before = hashes(site)
    # A valid change to one record, so that its page and the open data must be rendered anew.
    record = a_record(site_root)
    text = record.read_text(encoding="utf-8")
    record.write_text(re.sub(r"(?m)^(  address: .*)$", r"\1（新址）", text, count=1),
                      encoding="utf-8")

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("renderer crashed half-way")

    monkeypatch.setattr(importlib.import_module(f"generator.{module}"), renderer, crash)
    result = build(site_root, site, "--as-of", AS_OF)
    assert result.exit_code != 0
    assert "renderer crashed half-way" in result.output + repr(result.exception)
    assert hashes(site) == before
    assert leftovers(site) == []
