"""Certificate pages say when the record last changed: from git where the registry is a repository."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

from generator import pages
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
