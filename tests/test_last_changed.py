"""Certificate pages say when the record last changed: from git where the registry is a
repository."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from generator import history, pages
from generator.load import load_registry

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)


def _git(root: Path, *args: str, date: str = "2026-10-15T09:00:00+08:00") -> None:
    env = {**os.environ, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date,
           "GIT_AUTHOR_NAME": "staff", "GIT_AUTHOR_EMAIL": "staff@example.org",
           "GIT_COMMITTER_NAME": "staff", "GIT_COMMITTER_EMAIL": "staff@example.org"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def test_page_shows_the_records_last_commit_date(tmp_path: Path) -> None:
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, tmp_path / name)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "commit", "-qm", "records")
    record = tmp_path / "certificates" / "2025" / "ASC-2025-000123.yaml"
    record.write_text(record.read_text("utf-8") + "# reviewed\n", "utf-8")
    _git(tmp_path, "commit", "-qam", "review", date="2026-11-20T10:00:00+08:00")

    registry = load_registry(tmp_path, AS_OF)
    changed = registry.get("ASC-2025-000123")
    untouched = next(c for c in registry.certificates if c.number != "ASC-2025-000123")
    assert changed.last_changed == dt.date(2026, 11, 20)
    assert untouched.last_changed == dt.date(2026, 10, 15)
    assert '<time datetime="2026-11-20">' in pages.render_page(changed, registry).content


def test_without_git_the_last_entry_of_the_history_is_used(tmp_path: Path) -> None:
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, tmp_path / name)
    cert = load_registry(tmp_path, AS_OF).get("ASC-2025-000123")
    assert cert.committed is None
    assert cert.last_changed == max([e.date for e in cert.events] + [a.date for a in cert.audits])


def test_the_history_cache_gives_what_git_log_gives(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    cache = tmp_path / "cache"
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "records")
    files = sorted((root / "certificates").rglob("*.yaml"))
    assert len(files) >= 3

    def touch(path: Path, date: str) -> None:
        path.write_text(path.read_text("utf-8") + "# reviewed\n", "utf-8")
        _git(root, "commit", "-qam", f"review {path.name}", date=date)

    calls: list[tuple[str, ...]] = []
    git = history.git

    def counting(where: Path, *args: str, stdin: bytes | None = None) -> bytes:
        calls.append(args)
        return git(where, *args, stdin=stdin)

    def check() -> None:
        assert history.last_changed(root, cache_dir=cache) == history.last_changed(root)

    history.git = counting  # type: ignore[assignment]
    try:
        check()
        calls.clear()
        assert history.last_changed(root, cache_dir=cache) == history.last_changed(root)
        assert calls[0][0] == "rev-parse" and calls[1][0] == "log"  # the cached answer, then
        touch(files[0], "2026-11-01T09:00:00+08:00")  # a commit on top: only it is read
        calls.clear()
        check()
        assert any(args[0] == "log" and ".." in " ".join(args) for args in calls)
        _git(root, "switch", "-qc", "side", "HEAD~1")
        touch(files[1], "2026-10-20T09:00:00+08:00")  # older than the commit it is merged after
        _git(root, "switch", "-q", "main")
        touch(files[2], "2026-11-02T09:00:00+08:00")
        _git(root, "merge", "-q", "--no-edit", "side", date="2026-11-03T09:00:00+08:00")
        check()
        _git(root, "reset", "-q", "--hard", "HEAD~2")  # HEAD moved back: not a descendant
        check()
    finally:
        history.git = git  # type: ignore[assignment]
    dates = history.last_changed(root, cache_dir=cache)
    assert dates[files[0].relative_to(root).as_posix()] == dt.date(2026, 11, 1)
