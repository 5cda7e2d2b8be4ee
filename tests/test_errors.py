"""Errors reach the person: every problem as ``path:line: message`` from build, serve and mkdocs,
and every operating-system failure as one line with the path and the cause, exit 1, the site
untouched (found before building where it can be).

The builds use the five-record registry of ``test_incremental``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import test_incremental as small
from test_incremental import (
    AS_OF,
    build,
    records,
    tree,
)

from generator import cli, load, output, publish

# The five-record registry of test_incremental, its cache folder, and its fixed code digest.
registry_root = small.registry_root
cache_dir = small.cache_dir
fixed_code = small.fixed_code

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent
PROBLEM_LINE = re.compile(r"^certificates/\S+\.yaml:\d+: \S")


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    """``starmark ARGS`` in this process (so failures can be injected): exit code, stderr+out."""
    argv = sys.argv
    sys.argv = ["starmark", *args]
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = argv
    captured = capsys.readouterr()
    return code, (captured.out + captured.err).splitlines()


def starmark_build(capsys: pytest.CaptureFixture[str], root: Path, *extra: str
                   ) -> tuple[int, list[str]]:
    return run_main(capsys, "--root", str(root), "build", "--as-of", AS_OF.isoformat(),
                    "--quiet", *extra)


def break_score(record: Path) -> None:
    text = record.read_text("utf-8")
    record.write_text(re.sub(r"(?m)^score: .*$", "score: 55", text), "utf-8")


# --------------------------------------------------------------------------- build problems


def test_build_prints_every_problem_found_while_building(
        registry_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A problem found inside mkdocs (the counterfeits list names an issued number) once gave
    only "Aborted with a BuildError!"."""
    site = registry_root / "site"
    build(registry_root, site)
    before = tree(site)
    number = next(iter(records(registry_root)))
    counterfeits = registry_root / "registry" / "counterfeits.yaml"
    text = counterfeits.read_text("utf-8")
    counterfeits.write_text(text.replace("ASC-2025-009999", number, 1), "utf-8")
    code, lines = starmark_build(capsys, registry_root)
    assert code == 1
    assert not any("Aborted" in line for line in lines), lines
    assert any(line.startswith("registry/counterfeits.yaml:") and number in line
               for line in lines), lines
    assert tree(site) == before


def test_mkdocs_build_prints_each_problem_as_path_line_message(registry_root: Path) -> None:
    record = next(iter(records(registry_root).values()))
    break_score(record)
    env = {**os.environ, "STARMARK_AS_OF": AS_OF.isoformat(), "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run([str(BIN / "mkdocs"), "build", "-q", "-d", "out"], cwd=registry_root,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    shown = [line for line in result.stderr.splitlines() if PROBLEM_LINE.match(line)]
    assert any("score 55" in line for line in shown), result.stderr


# --------------------------------------------------------------------------- serve


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - 127.0.0.1 only
        return response.status, response.read()


def wait_for(condition: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_serve_shows_problems_and_keeps_serving_the_last_good_site(
        registry_root: Path, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    number, record = next(iter(records(registry_root).items()))
    page = f"http://127.0.0.1:{port}/c/{number}/"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    with open(log, "wb") as sink:
        server = subprocess.Popen(
            [str(BIN / "starmark"), "--root", str(registry_root), "serve", "--as-of",
             AS_OF.isoformat(), "-a", f"127.0.0.1:{port}"], stdout=sink, stderr=sink, env=env)
    try:
        def serving() -> bool:
            with contextlib.suppress(OSError):
                return fetch(page)[0] == 200
            return False

        wait_for(serving, 240)
        data = f"http://127.0.0.1:{port}/api/v1/certificates/{number}.json"
        good = fetch(data)[1]  # (pages carry mkdocs' live-reload script, new each request)
        break_score(record)
        wait_for(lambda: "last good site is still served" in log.read_text("utf-8"), 240)
        started = time.monotonic()
        status, body = fetch(page)  # once held until the record was fixed
        assert status == 200 and number.encode() in body
        assert fetch(data) == (200, good)
        assert time.monotonic() - started < 10
        shown = log.read_text("utf-8").splitlines()
        assert any(PROBLEM_LINE.match(line) and "score 55" in line for line in shown), shown
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --------------------------------------------------------------------------- the system refuses


def test_disk_full_is_one_line_and_the_site_is_untouched(
        registry_root: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = registry_root / "site"
    build(registry_root, site)
    before = tree(site)
    move_one = next(iter(records(registry_root).values()))
    move_one.write_text(move_one.read_text("utf-8").replace("address: ", "address: 新", 1),
                        "utf-8")
    write = output.Output.write

    def full(self: output.Output, rel: str, content: bytes | str) -> bool:
        if rel.endswith("index.html"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self.path(rel)))
        return write(self, rel, content)

    monkeypatch.setattr(output.Output, "write", full)
    code, lines = starmark_build(capsys, registry_root)
    assert code == 1
    assert len(lines) == 1 and lines[0].endswith("index.html: No space left on device"), lines
    assert tree(site) == before
    assert publish.leftovers(site) == []


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """``folder`` read-only, also for root (a read-only bind mount), else the test is skipped."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("cannot make a folder read-only as root here (no mount)")
    try:
        remount = ["mount", "-o", "remount,bind,ro", str(folder)]
        if subprocess.run(remount, capture_output=True).returncode != 0:
            pytest.skip("cannot remount read-only here")
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def no_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the build starts: these failures must be found before building."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the build started")
    monkeypatch.setattr(publish, "load_registry", refuse)


def test_a_site_that_cannot_be_replaced_is_found_before_building(
        registry_root: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    site = registry_root / "site"
    build(registry_root, site)
    before = tree(site)
    no_build(monkeypatch)
    with read_only(site):
        code, lines = starmark_build(capsys, registry_root)
    assert code == 1
    assert lines == [f"{site}: the site folder cannot be replaced: it is not writable"]
    assert tree(site) == before


def test_a_read_only_site_parent_is_one_line(
        registry_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "public"
    parent.mkdir()
    no_build(monkeypatch)
    with read_only(parent):
        code, lines = starmark_build(capsys, registry_root, "--site-dir", str(parent / "site"))
    assert code == 1
    assert len(lines) == 1 and lines[0].startswith(f"{parent}: cannot write beside the site")
    assert lines[0].endswith(("Read-only file system", "Permission denied")), lines


@pytest.mark.parametrize("kind", ["a file", "read-only"])
def test_a_cache_folder_that_cannot_be_written_is_one_line(
        registry_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    cache = tmp_path / "blocked-cache"
    config = registry_root / "mkdocs.yml"
    text = config.read_text("utf-8")
    config.write_text(re.sub(r"cache_dir: .*", f"cache_dir: {cache}", text), "utf-8")
    no_build(monkeypatch)
    if kind == "a file":
        cache.write_text("not a folder", "utf-8")
        code, lines = starmark_build(capsys, registry_root)
        assert lines == [f"{cache}: the cache folder is a file; remove it or set the "
                         "starmark plugin's cache_dir"]
    else:
        cache.mkdir()
        with read_only(cache):
            code, lines = starmark_build(capsys, registry_root)
        assert len(lines) == 1 and lines[0].startswith(f"{cache}: cannot write the cache folder")
    assert code == 1
    assert not (registry_root / "site").exists()


def test_a_real_full_disk(registry_root: Path, tmp_path: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """A 1 MiB tmpfs for the site (as root, where mount works): ENOSPC from the kernel."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
            capture_output=True).returncode != 0:
        pytest.skip("needs root and mount for a small tmpfs")
    try:
        code, lines = starmark_build(capsys, registry_root, "--site-dir", str(disk / "site"))
        assert code == 1
        assert len(lines) == 1 and "No space left on device" in lines[0], lines
        assert lines[0].startswith(str(disk)), lines
        assert not (disk / "site").exists()
        assert publish.leftovers(disk / "site") == []
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_record_checks_need_no_site(registry_root: Path) -> None:
    """validate reads only: a read-only site folder does not concern it."""
    _, good, problems = load.validate(registry_root, ())
    assert problems == [] and len(good) == 5
    shutil.rmtree(registry_root / "site", ignore_errors=True)


def test_the_script_ends_at_once_after_a_build_and_says_what_it_built(
        registry_root: Path) -> None:
    """`starmark build` ends without tearing its registry down (see cli.script): what it
    prints still arrives, the exit status is 0, the site is in place and nothing is left
    beside it; a failed build still prints every problem and exits 1."""
    command = [str(BIN / "starmark"), "--root", str(registry_root), "build", "--as-of",
               AS_OF.isoformat()]
    env = {**os.environ, "STARMARK_SIGNING_KEY": ""}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^built 5 certificates into .*site", done.stderr, re.M)
    assert (registry_root / "site" / "index.html").is_file()
    assert [p.name for p in registry_root.iterdir() if p.name.startswith(".site")] == []
    break_score(next(iter(records(registry_root).values())))
    failed = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert failed.returncode == 1
    assert any(PROBLEM_LINE.match(line) for line in failed.stdout.splitlines())
