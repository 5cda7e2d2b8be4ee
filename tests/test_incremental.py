"""Incremental builds: what did not change is linked, not rendered, and the result is a clean build.

Every test builds a small copy of the sample registry, changes it, rebuilds over the previous
site, and compares the tree with a clean build of the changed input into a new folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from generator import build as build_module
from generator import load, marks, publish
from generator import output as output_module
from generator.build import BuildReport
from generator.errors import InputError
from generator.publish import build_site

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)

pytestmark = pytest.mark.slow
CODE = build_module.code_digest(), load.checking_code()


@pytest.fixture(autouse=True)
def fixed_code(monkeypatch: pytest.MonkeyPatch) -> None:
    """The generator's code as it was when the tests started: an edit made meanwhile in a
    shared working tree must not make every output (or record) look changed."""
    monkeypatch.setattr(build_module, "code_digest", lambda: CODE[0])
    monkeypatch.setattr(load, "checking_code", lambda: CODE[1])


@pytest.fixture(autouse=True)
def spare_checked_aside(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spare tree's files checked by a process of their own while the registry loads, as
    for a large registry (the other tests check each file where it is used)."""
    monkeypatch.setattr(publish, "SPARE_CHECK_FILES", 0)


def in_force(text: str) -> bool:
    expires = re.search(r"(?m)^expires: (\S+)", text)
    return "\nstatus: valid\n" in text and expires is not None and expires.group(1) > str(AS_OF)


def _pick(root: Path) -> list[Path]:
    """Three certificates in force (to edit, suspend, remove), a suspended and a withdrawn one."""
    by_kind: dict[str, list[Path]] = {}
    for path in sorted((REPO / "certificates").rglob("*.yaml")):
        text = path.read_text("utf-8")
        status = re.search(r"(?m)^status: (\w+)", text)
        kind = "in force" if in_force(text) else status.group(1) if status else ""
        by_kind.setdefault(kind, []).append(path)
    chosen = by_kind["in force"][:3] + by_kind["suspended"][:1] + by_kind["withdrawn"][:1]
    for path in chosen:
        target = root / "certificates" / path.relative_to(REPO / "certificates")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    return chosen


ARTWORK = REPO / "tests" / "output" / "artwork-cache"  # artwork bundles, drawn once per machine


def _share_bundles(source: Path, target: Path) -> None:
    """Hard-link every complete artwork bundle of ``source`` that ``target`` lacks."""
    for index in source.glob(f"marks/*/*/{marks.BUNDLE_INDEX}"):
        bundle = index.parent
        copy = target / bundle.relative_to(source)
        if copy.exists():
            continue
        copy.mkdir(parents=True)
        for file in bundle.iterdir():
            os.link(file, copy / file.name)


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    """The test's own cache folder (records, manifests, spare trees), holding links to the
    artwork bundles drawn by earlier tests; bundles drawn now are kept for later ones."""
    cache = tmp_path / "cache"
    cache.mkdir()
    ARTWORK.mkdir(parents=True, exist_ok=True)
    _share_bundles(ARTWORK, cache)
    yield cache
    _share_bundles(cache, ARTWORK)


def configure(root: Path, cache: Path) -> None:
    """mkdocs.yml without the nav, the cache folder set, and a one-page docs/."""
    config = yaml.safe_load((REPO / "mkdocs.yml").read_text(encoding="utf-8"))
    config.pop("nav", None)
    config["plugins"] = [{"starmark": {"cache_dir": str(cache), "quiet": True}}]
    (root / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    shutil.rmtree(root / "docs", ignore_errors=True)
    (root / "docs").mkdir()
    (root / "docs" / "index.md").write_text("# 售后服务认证证书查询\n", encoding="utf-8")


@pytest.fixture
def registry_root(tmp_path: Path, cache_dir: Path) -> Path:
    """Five sample records, the registry settings and a one-page docs/."""
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    _pick(root)
    configure(root, cache_dir)
    return root


def build(root: Path, site: Path) -> BuildReport:
    return build_site(root, as_of=AS_OF, site_dir=site, quiet=True)


def tree(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def inodes(site: Path) -> dict[str, int]:
    return {p.relative_to(site).as_posix(): p.stat().st_ino for p in site.rglob("*") if p.is_file()}


def records(root: Path) -> dict[str, Path]:
    files = sorted((root / "certificates").rglob("*.yaml"))
    return {p.name.removesuffix(".yaml"): p for p in files}


def valid(root: Path) -> list[str]:
    return [n for n, p in records(root).items() if in_force(p.read_text("utf-8"))]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), "utf-8")


def move(path: Path) -> None:
    """The organisation moves: its address changes (its page, feed, data and search do)."""
    text = path.read_text("utf-8")
    moved = re.sub(r"(?m)^(  address: .*)$", r"\1A座", text, count=1)
    assert moved != text, path
    path.write_text(moved, "utf-8")


def assert_same_as_clean(root: Path, site: Path, tmp_path: Path) -> None:
    clean = tmp_path / "clean" / "site"
    build(root, clean)
    assert tree(site) == tree(clean)


@pytest.fixture(params=[1, 2], ids=["live site", "live site and spare tree"])
def site(request: pytest.FixtureRequest, registry_root: Path) -> Path:
    """A site built once (the next build links from it) or twice (the next build also keeps
    what it can of the spare tree, the site of the first build)."""
    folder = registry_root / "site"
    for _ in range(request.param):
        build(registry_root, folder)
    return folder


def test_nothing_changed_renders_nothing(registry_root: Path) -> None:
    site = registry_root / "site"
    first = build(registry_root, site)
    assert first.reused == 0 and first.linked == first.kept == 0
    before, ino = tree(site), inodes(site)
    again = build(registry_root, site)  # links everything from the live site
    assert again.reused == again.records == first.records
    assert again.changed == 0 and again.marks_rendered == again.marks_cached == 0
    assert again.linked > 0 and again.kept == 0
    assert tree(site) == before
    owned = ("c/", "api/", "list/", "search/idx/")
    assert {rel: n for rel, n in inodes(site).items() if rel.startswith(owned)} == {
        rel: n for rel, n in ino.items() if rel.startswith(owned)}
    third = build(registry_root, site)  # keeps everything in the spare tree, links nothing
    assert third.reused == third.records
    assert third.changed == 0 and third.linked == 0 and third.kept >= again.linked
    assert tree(site) == before


def test_one_changed_record_equals_a_clean_build(registry_root: Path, site: Path,
                                                 tmp_path: Path) -> None:
    ino = inodes(site)
    number = valid(registry_root)[0]
    path = records(registry_root)[number]
    move(path)
    report = build(registry_root, site)
    assert report.reused == report.records - 1
    assert report.marks_rendered + report.marks_cached <= 1
    after = inodes(site)
    untouched = [n for n in records(registry_root) if n != number]
    for other in untouched:  # another certificate's files are the same files, not copies
        for rel in (f"c/{other}/index.html", f"c/{other}/feed.xml"):
            assert after[rel] == ino[rel], rel
    assert after[f"c/{number}/index.html"] != ino[f"c/{number}/index.html"]
    assert_same_as_clean(registry_root, site, tmp_path)
    move(path)  # and once more: the spare tree now holds the first change
    build(registry_root, site)
    assert_same_as_clean(registry_root, site, tmp_path / "again")


def test_one_change_rebuilds_only_the_search_and_listing_pages_it_touches(
        registry_root: Path, tmp_path: Path) -> None:
    """A new address is not searched: the index is kept. A new name is: the index is built
    again, and still equals a clean build. Listing pages without the certificate are kept."""
    site = registry_root / "site"
    build(registry_root, site)
    ino = inodes(site)
    number = valid(registry_root)[0]
    path = records(registry_root)[number]
    move(path)
    build(registry_root, site)
    after = inodes(site)
    index = [rel for rel in ino if rel.startswith("search/idx/")]
    assert index and all(after[rel] == ino[rel] for rel in index)
    level = re.search(r"(?m)^level: (\S+)", path.read_text("utf-8"))
    assert level is not None
    others = [rel for rel in ino if rel.startswith("list/level-")
              and not rel.startswith(f"list/level-{level.group(1)}/")]
    assert others and all(after[rel] == ino[rel] for rel in others)
    text = path.read_text("utf-8")
    renamed_text = re.sub(r"(?m)^(  name: .*?)(\"?)$", r"\1新\2", text, count=1)
    assert renamed_text != text
    path.write_text(renamed_text, "utf-8")
    build(registry_root, site)
    renamed = inodes(site)
    assert any(renamed[rel] != after[rel] for rel in index)
    assert_same_as_clean(registry_root, site, tmp_path)


def test_a_suspended_certificate_loses_its_mark_files(registry_root: Path, site: Path,
                                                      tmp_path: Path) -> None:
    number = valid(registry_root)[1]
    assert (site / "c" / number / "mark.svg").is_file()
    path = records(registry_root)[number]
    edit(path, "\nstatus: valid\n", "\nstatus: suspended\n")
    text = path.read_text("utf-8").rstrip("\n")
    event = f"  - {{date: {AS_OF}, kind: suspended, reason: 监督审核发现严重不符合项}}"
    path.write_text(f"{text}\n{event}\n", "utf-8")
    build(registry_root, site)
    for name, _zh, _en in marks.MARK_FILES:
        assert not (site / "c" / number / name).exists(), name
    assert (site / "c" / number / "index.html").is_file()
    assert_same_as_clean(registry_root, site, tmp_path)


def test_a_removed_certificate_loses_every_output(registry_root: Path, site: Path,
                                                  tmp_path: Path) -> None:
    number, path = next(iter(records(registry_root).items()))
    path.unlink()
    report = build(registry_root, site)
    assert report.records == report.reused
    assert not (site / "c" / number).exists()
    assert not (site / "api" / "v1" / "certificates" / f"{number}.json").exists()
    assert_same_as_clean(registry_root, site, tmp_path)


def test_settings_or_as_of_change_renders_everything_again(registry_root: Path,
                                                           site: Path) -> None:
    later = build_site(registry_root, as_of=AS_OF + dt.timedelta(days=1), site_dir=site,
                       quiet=True)
    assert later.reused == 0


@pytest.mark.parametrize("aside", [True, False], ids=["checked aside", "checked in place"])
def test_a_spare_file_changed_behind_the_build_is_not_kept(
        registry_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aside: bool) -> None:
    site = registry_root / "site"
    for _ in range(2):
        build(registry_root, site)  # the spare tree now holds the first build's site
    spare = next((tmp_path / "cache" / "trees").glob("*/spare"))
    number = valid(registry_root)[0]
    for rel, content in ((f"c/{number}/index.html", b"<p>forged</p>"),
                         (f"c/{number}/feed.xml", None)):
        (spare / rel).unlink()  # not the live site's inode: only the spare tree changes
        if content is not None:
            (spare / rel).write_bytes(content)
    monkeypatch.setattr(publish, "SPARE_CHECK_FILES", 0 if aside else 10**9)
    checks = []
    monkeypatch.setattr(publish, "SpareCheck", lambda *args: checks.append(args) or (
        output_module.SpareCheck(*args)))
    report = build(registry_root, site)  # nothing changed: every unit is reused...
    assert report.reused == report.records and len(checks) == (1 if aside else 0)
    assert (site / f"c/{number}/index.html").read_bytes() != b"<p>forged</p>"
    assert_same_as_clean(registry_root, site, tmp_path)  # ...but not the changed files


def test_the_live_site_is_never_written_in_place(registry_root: Path, site: Path,
                                                 tmp_path: Path) -> None:
    # Hard links to every live file: a build that wrote into a live inode would change them.
    keep = tmp_path / "keep"
    for rel in tree(site):
        (keep / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(site / rel, keep / rel)
    before = tree(keep)
    move(records(registry_root)[valid(registry_root)[0]])
    build(registry_root, site)
    assert tree(keep) == before


def test_an_invalid_record_leaves_the_site_and_its_manifests(registry_root: Path,
                                                             site: Path) -> None:
    before, ino = tree(site), inodes(site)
    path = records(registry_root)[valid(registry_root)[0]]
    good = path.read_text("utf-8")
    path.write_text(re.sub(r"(?m)^score: .*$", "score: 55", good), "utf-8")
    with pytest.raises(InputError):
        build(registry_root, site)
    assert tree(site) == before and inodes(site) == ino
    path.write_text(good, "utf-8")
    report = build(registry_root, site)  # the manifests still describe the trees
    assert report.reused == report.records and report.changed == 0


def test_a_crash_mid_build_leaves_the_site_and_the_next_build_recovers(
    registry_root: Path, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from generator import pages

    before, ino = tree(site), inodes(site)
    move(records(registry_root)[valid(registry_root)[0]])

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("renderer crashed half-way")

    with monkeypatch.context() as patched:
        patched.setattr(pages, "render_page", crash)
        with pytest.raises(RuntimeError):
            build(registry_root, site)
    assert tree(site) == before and inodes(site) == ino
    build(registry_root, site)  # the spare tree was left half-changed: it is not trusted
    assert_same_as_clean(registry_root, site, tmp_path)


@pytest.mark.parametrize("aside", [True, False], ids=["files found aside", "found here"])
def test_records_are_checked_again_only_when_their_bytes_change(
    registry_root: Path, monkeypatch: pytest.MonkeyPatch, aside: bool
) -> None:
    # As for a large registry: the files found and stat'ed by a process of their own.
    monkeypatch.setattr(load, "FILES_ASIDE_MIN", 0 if aside else 10**9)
    monkeypatch.setattr(load, "_fork_safe", lambda: True)  # another test's thread may linger
    started: list[Path] = []
    files_aside = load._FilesAside
    monkeypatch.setattr(load, "_FilesAside", lambda root: started.append(root) or (
        files_aside(root)))
    checked: list[str] = []
    check_file = load.check_file

    def counting(path: Path, display: str, settings: object) -> object:
        checked.append(display)
        return check_file(path, display, settings)  # type: ignore[arg-type]

    monkeypatch.setattr(load, "check_file", counting)
    site = registry_root / "site"
    build(registry_root, site)  # the shared cache may know these records already
    checked.clear()
    build(registry_root, site)
    assert checked == []
    path = records(registry_root)[valid(registry_root)[0]]
    move(path)
    build(registry_root, site)
    assert checked == [path.relative_to(registry_root).as_posix()]
    assert len(started) == (3 if aside else 0)


def test_the_files_found_aside_are_those_the_walk_finds(registry_root: Path) -> None:
    """What the forked process sends back: the same records (and problems) as the walk here,
    with the stat of each file."""
    (registry_root / "certificates" / "NOTES.YAML").write_text("x", "utf-8")  # a problem
    walked = load._FilesAside(registry_root).result()
    assert walked is not None
    found, problems, taken = walked
    assert (found, problems) == load._walk_records(registry_root)
    assert problems and len(found) == len(records(registry_root))
    assert taken == {record.path: load._signature(record.path) for record in found}


def test_a_build_that_fails_after_loading_keeps_the_records_it_checked(
    registry_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build writes the record cache while its worker makes the open data; a build that
    fails before then still writes it, so the next one checks nothing again."""
    from generator import pages

    checked: list[str] = []
    check_file = load.check_file

    def counting(path: Path, display: str, settings: object) -> object:
        checked.append(display)
        return check_file(path, display, settings)  # type: ignore[arg-type]

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("renderer crashed half-way")

    monkeypatch.setattr(load, "check_file", counting)
    site = registry_root / "site"
    build(registry_root, site)
    path = records(registry_root)[valid(registry_root)[0]]
    move(path)
    checked.clear()
    with monkeypatch.context() as patched:
        patched.setattr(pages, "render_page", crash)
        with pytest.raises(RuntimeError):
            build(registry_root, site)
    assert checked == [path.relative_to(registry_root).as_posix()]
    checked.clear()
    build(registry_root, site)
    assert checked == []


def test_a_registry_large_enough_for_the_worker_processes(tmp_path: Path,
                                                          cache_dir: Path) -> None:
    """Above a few hundred records pages, feeds, listings and links go to forked workers."""
    from click.testing import CliRunner

    from generator.cli import cli

    root = tmp_path / "root"
    result = CliRunner().invoke(cli, ["--root", str(REPO), "synth", "--count", "450", "--out",
                                      str(root), "--seed", "3", "--as-of", str(AS_OF), "-q"])
    assert result.exit_code == 0, result.output
    configure(root, cache_dir)
    site = root / "site"
    build(root, site)
    build(root, site)
    path = records(root)[valid(root)[7]]
    text = path.read_text("utf-8")
    changed = re.sub(r"(?m)^(  address: .*号)$", r"\1A座", text, count=1)
    assert changed != text
    path.write_text(changed, "utf-8")
    report = build(root, site)
    assert report.reused == report.records - 1 == 449
    assert report.kept > 0
    assert_same_as_clean(root, site, tmp_path)
