"""`starmark check --base REV`: validation plus history that may only grow, and git-derived dates.

Each test makes a temporary git repository holding registry/ and a few records, commits it,
changes something, and runs the check against the first commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from needs import needs

from generator import history
from generator import settings as settings_mod
from generator.cli import cli

REPO = Path(__file__).resolve().parent.parent
pytestmark = needs(shutil.which("git") is not None, "git")

A = "ASC-2025-000900"
B = "ASC-2024-000901"
A_PATH = f"certificates/2025/{A}.yaml"
B_PATH = f"certificates/2024/{B}.yaml"

RECORD_A = f"""\
# 示例数据 (sample data): a fictional enterprise for the check tests.
number: {A}
status: valid
organization:
  name: 济南示例家电服务有限公司
  credit_code: 91370100MA3D900900
  region: "370102"
  address: 山东省济南市历下区示例路9号
industry: household-appliances
scope:
  zh: 家用电器的安装、维修及售后服务
standard: GB/T 27922-2011
score: 97
level: five-star
issued: 2025-04-01
expires: 2028-03-31
audits:
  - {{date: 2025-03-10, kind: initial, score: 96.5, result: pass}}
  - {{date: 2026-03-02, kind: surveillance, score: 97, result: pass}}
events:
  - {{date: 2025-04-01, kind: issued}}
  - {{date: 2026-03-02, kind: surveillance}}
"""

RECORD_B = f"""\
number: {B}
status: valid
organization:
  name: 苏州示例电梯服务有限公司
  credit_code: 91320500MA1N12345N
  region: "320505"
  address: 江苏省苏州市虎丘区示例路1号
industry: elevators
scope:
  zh: 电梯的安装、维修及保养服务
standard: GB/T 27922-2011
score: 88
level: three-star
issued: 2024-05-01
expires: 2027-04-30
audits:
  - {{date: 2024-04-10, kind: initial, score: 88, result: pass}}
events:
  - {{date: 2024-05-01, kind: issued}}
"""


_LOADED: dict[str, settings_mod.Settings] = {}


@pytest.fixture(autouse=True)
def settings_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read each distinct registry/ once (parsing regions.yaml takes ~1 s), keyed by content."""
    real = settings_mod.load

    def load_once(root: Path) -> settings_mod.Settings:
        folder = Path(root) / settings_mod.REGISTRY_DIR
        digest = hashlib.sha256()
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
        key = digest.hexdigest()
        if key not in _LOADED:
            _LOADED[key] = real(Path(root))
        return dataclasses.replace(_LOADED[key], root=Path(root))

    monkeypatch.setattr(settings_mod, "load", load_once)


def git(root: Path, *args: str, date: str = "2026-01-05T10:00:00+08:00") -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Staff", "GIT_AUTHOR_EMAIL": "staff@example.org",
        "GIT_COMMITTER_NAME": "Staff", "GIT_COMMITTER_EMAIL": "staff@example.org",
        "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with registry/ and two records, committed on main."""
    root = tmp_path / "body-registry"
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    write(root, A_PATH, RECORD_A)
    write(root, B_PATH, RECORD_B)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "records")
    return root


def check(root: Path, base: str = "main") -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "check", "--base", base])


def problems(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("certificates/")]


def test_an_unchanged_registry_passes(repo: Path) -> None:
    result = check(repo)
    assert result.exit_code == 0, result.output
    assert "no history lost since main" in result.output


def test_appending_history_passes(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["--root", str(repo), "suspend", B, "--date", "2026-02-01",
                                      "--reason", "企业申请暂停"])
    assert result.exit_code == 0, result.output
    write(repo, "certificates/2026/ASC-2026-000001.yaml",
          RECORD_B.replace(B, "ASC-2026-000001").replace("91320500MA1N12345N",
                                                        "91110108MA01ABCD2H"))
    assert check(repo).exit_code == 0, check(repo).output


def test_a_deleted_record_is_refused(repo: Path) -> None:
    (repo / B_PATH).unlink()
    result = check(repo)
    assert result.exit_code == 1
    assert problems(result) == [
        f"{B_PATH}: certificate {B} was deleted (it is in main): a certificate is never deleted; "
        "restore the file and record a withdrawal (starmark withdraw) or a cancellation "
        "(starmark cancel)"
    ]


def test_a_committed_deletion_is_refused_too(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-q", "-b", "proposal")
    git(repo, "rm", "-q", B_PATH)
    git(repo, "commit", "-q", "-m", "remove")
    result = check(repo, base)
    assert result.exit_code == 1
    assert "was deleted" in result.output


def test_a_changed_number_is_refused(repo: Path) -> None:
    new = "ASC-2024-000999"
    (repo / B_PATH).unlink()
    write(repo, f"certificates/2024/{new}.yaml", RECORD_B.replace(B, new))
    result = check(repo)
    assert result.exit_code == 1
    assert problems(result) == [
        f"certificates/2024/{new}.yaml:1: certificate number changed from {B} to {new} "
        f"({B_PATH} was renamed): a number is printed on packaging and never changes; keep {B}"
    ]


def test_a_number_edited_in_place_is_refused(repo: Path) -> None:
    write(repo, B_PATH, RECORD_B.replace(f"number: {B}", "number: ASC-2024-000999"))
    result = check(repo)
    assert result.exit_code == 1
    found = problems(result)
    assert f"{B_PATH}:1: certificate number changed from {B} to ASC-2024-000999: a number is " \
        "printed on packaging and never changes" in found
    assert any("differs from the file name" in p for p in found)  # validate says so too


def test_a_rewritten_event_is_refused(repo: Path) -> None:
    write(repo, A_PATH, RECORD_A.replace("{date: 2026-03-02, kind: surveillance}",
                                         "{date: 2026-03-05, kind: surveillance}"))
    result = check(repo)
    assert result.exit_code == 1
    assert problems(result) == [
        f"{A_PATH}:22: event 2 (2026-03-02 surveillance), recorded in main, was rewritten: "
        "past events never change; append a new event instead"
    ]


def test_a_rewritten_audit_is_refused(repo: Path) -> None:
    write(repo, A_PATH, RECORD_A.replace("score: 97, result: pass", "score: 98, result: pass"))
    result = check(repo)
    assert result.exit_code == 1
    assert any(p.startswith(f"{A_PATH}:19: audit 2 (2026-03-02 surveillance)")
               and "was rewritten" in p for p in problems(result)), result.output


def test_a_removed_event_and_audit_are_refused(repo: Path) -> None:
    lines = [line for line in RECORD_A.splitlines(keepends=True) if "2026-03-02" not in line]
    write(repo, A_PATH, "".join(lines))
    result = check(repo)
    assert result.exit_code == 1
    found = problems(result)
    assert any("audit 2 (2026-03-02 surveillance), recorded in main, was removed" in p
               for p in found), found
    assert any("event 2 (2026-03-02 surveillance), recorded in main, was removed" in p
               for p in found), found


def test_an_event_inserted_before_others_is_refused(repo: Path) -> None:
    surveillance = "  - {date: 2026-03-02, kind: surveillance}\n"
    inserted = "  - {date: 2025-10-01, kind: scope-changed}\n" + surveillance
    write(repo, A_PATH, RECORD_A.replace(surveillance, inserted))
    result = check(repo)
    assert result.exit_code == 1
    assert "event 2 (2026-03-02 surveillance), recorded in main, was rewritten" in result.output


def test_reformatting_and_moving_keep_history(repo: Path) -> None:
    block = RECORD_A.replace("  - {date: 2025-04-01, kind: issued}\n",
                             "  - date: 2025-04-01\n    kind: issued\n")
    block = block.replace("score: 96.5, result: pass}", "score: 96.50, result: pass}")
    (repo / A_PATH).unlink()
    write(repo, f"certificates/moved/{A}.yaml", block)
    result = check(repo)
    assert result.exit_code == 0, result.output


def test_validation_problems_are_reported_too(repo: Path) -> None:
    write(repo, A_PATH, RECORD_A.replace("level: five-star", "level: four-star"))
    result = check(repo)
    assert result.exit_code == 1
    assert any(p.startswith(f"{A_PATH}:14: level four-star disagrees") for p in problems(result))


def test_an_unknown_revision_is_a_clear_error(repo: Path) -> None:
    result = check(repo, "origin/main")
    assert result.exit_code == 1
    assert "cannot compare with origin/main" in result.output
    assert "fetch-depth: 0" in result.output


def test_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    write(root, A_PATH, RECORD_A)
    result = check(root)
    assert result.exit_code == 1
    assert "cannot compare with main" in result.output


def test_a_registry_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    top = tmp_path / "monorepo"
    root = top / "registry-site"
    shutil.copytree(REPO / "registry", root / "registry")
    write(root, A_PATH, RECORD_A)
    write(root, B_PATH, RECORD_B)
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "records")
    assert check(root).exit_code == 0
    (root / B_PATH).unlink()
    result = check(root)
    assert result.exit_code == 1
    assert problems(result)[0].startswith(f"{B_PATH}: certificate {B} was deleted")


# --- history.last_changed -----------------------------------------------------------------


def test_last_changed_is_the_day_of_the_last_commit_touching_each_record(repo: Path) -> None:
    write(repo, A_PATH, RECORD_A + "# a later change\n")
    git(repo, "commit", "-q", "-am", "change A", date="2026-03-09T23:30:00+08:00")
    write(repo, "certificates/2026/ASC-2026-000001.yaml", RECORD_B.replace(B, "ASC-2026-000001"))
    assert history.last_changed(repo) == {
        A_PATH: dt.date(2026, 3, 9),
        B_PATH: dt.date(2026, 1, 5),
    }  # the uncommitted record is absent: its page falls back to its last event


def test_last_changed_paths_are_relative_to_the_root(tmp_path: Path) -> None:
    top = tmp_path / "monorepo"
    root = top / "site"
    write(root, A_PATH, RECORD_A)
    write(top, "README.md", "other things\n")
    git(top, "init", "-q", "-b", "main")
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "one")
    assert history.last_changed(root) == {A_PATH: dt.date(2026, 1, 5)}


def test_last_changed_outside_a_repository_is_empty(tmp_path: Path) -> None:
    write(tmp_path, A_PATH, RECORD_A)
    assert history.last_changed(tmp_path) == {}


def test_last_changed_without_git_is_empty(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(repo / "no-such-folder"))
    assert history.last_changed(repo) == {}


def test_last_changed_uses_one_git_call(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []
    real = subprocess.run

    def counting(args: list[str], **kwargs: object) -> subprocess.CompletedProcess:
        calls.append(tuple(args))
        return real(args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(subprocess, "run", counting)
    assert len(history.last_changed(repo)) == 2
    assert len(calls) == 1 and "log" in calls[0]


# --- pre-commit hooks ---------------------------------------------------------------------


def test_pre_commit_hooks_run_starmark_validate() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert isinstance(hooks, list) and hooks
    by_id = {hook["id"]: hook for hook in hooks}
    for hook in hooks:
        assert {"id", "name", "entry", "language"} <= hook.keys()
        assert hook["entry"].startswith("starmark validate")
        assert hook["language"] == "python"
    records = by_id["starmark-validate"]
    assert records["pass_filenames"] is True
    assert "certificates/" in records["files"]
    settings = by_id["starmark-validate-all"]
    assert settings["pass_filenames"] is False
    assert "registry/" in settings["files"]
