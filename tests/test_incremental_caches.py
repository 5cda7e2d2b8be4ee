"""The caches a rebuild reads besides the manifests (the status index's entries, the digests of
each record's open-data file, each record's digest kept by the record cache): an edit to a
record, a setting or the as-of date gives exactly the bytes of a build with no cache at all,
and a cache that is corrupt is ignored."""

from __future__ import annotations

import datetime as dt
import json
import marshal
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_incremental import AS_OF, CODE, configure, edit, move, records, tree, valid
from test_incremental import cache_dir as cache_dir  # noqa: F401 - fixtures used here
from test_incremental import fixed_code as fixed_code  # noqa: F401
from test_incremental import registry_root as registry_root  # noqa: F401

from generator import check, load
from generator.publish import build_site
from generator.search import compact_number

pytestmark = pytest.mark.slow
PARTS = "assets/marks/"


def build(root: Path, as_of: dt.date = AS_OF) -> None:
    build_site(root, as_of=as_of, site_dir=root / "site", quiet=True)


def clean_tree(root: Path, tmp_path: Path, as_of: dt.date = AS_OF) -> dict[str, str]:
    """The site of a build of the same registry in another folder, with a new, empty cache."""
    other = tmp_path / "clean"
    shutil.rmtree(other, ignore_errors=True)
    shutil.copytree(root, other, ignore=shutil.ignore_patterns("site"))
    configure(other, tmp_path / "clean-cache")
    shutil.rmtree(tmp_path / "clean-cache", ignore_errors=True)
    build(other, as_of)
    return site_tree(other)


def site_tree(root: Path) -> dict[str, str]:
    """The built site, but the shared mark parts (``assets/marks/``): every part the artwork
    cache holds is linked, whether a certificate names it or not (see marks.link_parts), so a
    build without cache has only those its marks drew."""
    return {rel: d for rel, d in tree(root / "site").items() if not rel.startswith(PARTS)}


def rename(path: Path) -> None:
    """The organisation's name changes: its status-index entry, data and search change."""
    text = path.read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("  name: "))
    edit(path, line, line + "新")


@pytest.fixture(autouse=True)
def build_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every build of these tests dated the day after the as-of date (mkdocs' key has the day
    of the build in it: a test run across midnight must not see it change)."""
    day = dt.datetime.combine(AS_OF + dt.timedelta(days=1), dt.time(12), tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(day.timestamp())))


@pytest.fixture
def built(registry_root: Path, build_day: None) -> Path:
    """A site built twice: the next build has the live site, the spare tree and every cache."""
    build(registry_root)
    build(registry_root)
    return registry_root


def test_edits_to_records_give_the_bytes_of_a_build_without_cache(built: Path,
                                                                   tmp_path: Path) -> None:
    numbers = valid(built)
    rename(records(built)[numbers[0]])
    build(built)
    assert site_tree(built) == clean_tree(built, tmp_path)
    move(records(built)[numbers[1]])  # the spare tree holds the first edit: another one
    rename(records(built)[numbers[0]])
    build(built)
    assert site_tree(built) == clean_tree(built, tmp_path)


# A build in a fresh interpreter (a test process may hold other threads, and a build forks no
# workers then), with workers even for five records, that leaves the id of the process that
# made the open data.
WORKER_BUILD = """
import os, sys
from pathlib import Path
from generator import build, load
from generator.publish import build_site
from generator.search import compact_number
import datetime as dt

made_here = build._open_data


def open_data():
    Path(sys.argv[2]).write_text(str(os.getpid()))
    return made_here()


build.CHUNK, build.FEW_CHANGED, build._open_data = 1, 1.0, open_data
code, checking = bytes.fromhex(sys.argv[4]), bytes.fromhex(sys.argv[5])
build.code_digest = lambda: code  # as the tests' fixed_code
load.checking_code = lambda: checking
root = Path(sys.argv[1])
build_site(root, as_of=dt.date.fromisoformat(sys.argv[3]), site_dir=root / "site", quiet=True)
print(os.getpid())
"""


def test_a_worker_makes_the_open_data_of_a_build_that_changed_few_records(
        built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beside the rest of the build: the same bytes, and a problem it finds stops the build as
    in the build's own process (the site left as it was)."""
    marker = tmp_path / "made-by-a-worker"
    command = [sys.executable, "-c", WORKER_BUILD, str(built), str(marker), AS_OF.isoformat(),
               CODE[0].hex(), CODE[1].hex()]
    rename(records(built)[valid(built)[0]])
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert marker.read_text() != done.stdout.strip()  # another process than the build's
    assert site_tree(built) == clean_tree(built, tmp_path)

    live = site_tree(built)
    rename(records(built)[valid(built)[1]])
    bad_key = {**os.environ, "STARMARK_SIGNING_KEY": str(tmp_path / "no-such.key")}
    failed = subprocess.run(command, capture_output=True, text=True, timeout=300, env=bad_key)
    assert failed.returncode == 1
    assert "InputError" in failed.stderr and "no-such.key" in failed.stderr
    assert site_tree(built) == live


def test_a_setting_or_the_as_of_date_gives_the_bytes_of_a_build_without_cache(
        built: Path, tmp_path: Path) -> None:
    later = AS_OF + dt.timedelta(days=400)  # statuses change: expiries, overdue surveillance
    build(built, later)
    assert site_tree(built) == clean_tree(built, tmp_path, later)
    registry_file = built / "registry" / "registry.yaml"
    text = registry_file.read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("  name: "))
    edit(registry_file, line, line + "（新）")
    build(built, later)
    assert site_tree(built) == clean_tree(built, tmp_path, later)


def test_corrupt_or_foreign_caches_are_ignored(built: Path, cache_dir: Path,
                                              tmp_path: Path) -> None:
    status = cache_dir / "status" / "index.marshal"
    files = cache_dir / "trust" / "record-files.marshal"
    units = cache_dir / "inputs" / "certificates.marshal"
    checked = next((cache_dir / "records").glob("*/certs-*"))
    assert status.is_file() and files.is_file() and units.is_file()
    status.write_bytes(b"not a pickle")
    units.write_bytes(b"\x00" * 40)
    files.write_bytes(marshal.dumps((99, {b"x": (b"y", b"z")})))  # another format
    checked.write_bytes(checked.read_bytes()[:100])  # cut short
    rename(records(built)[valid(built)[0]])
    build(built)
    assert site_tree(built) == clean_tree(built, tmp_path)
    # Entries, shards and inputs of another shape under every key: made again, not published.
    version, stored = marshal.loads(status.read_bytes())
    stored["compacts"] = dict.fromkeys(stored["compacts"], ["not", "a", "number"])
    stored["shards"] = dict.fromkeys(stored["shards"], ["not", "bytes"])
    status.write_bytes(marshal.dumps((version, stored)))
    version, stored = marshal.loads(units.read_bytes())
    stored["units"] = dict.fromkeys(stored["units"], (b"one",))
    units.write_bytes(marshal.dumps((version, stored)))
    fields = cache_dir / "search" / "fields.marshal"
    version, stored = marshal.loads(fields.read_bytes())
    stored["fields"] = dict.fromkeys(stored["fields"], "not a digest")
    fields.write_bytes(marshal.dumps((version, stored)))
    rename(records(built)[valid(built)[1]])
    build(built)
    assert site_tree(built) == clean_tree(built, tmp_path)


def test_cached_status_shards_and_inputs_follow_the_records(built: Path, cache_dir: Path,
                                                            tmp_path: Path) -> None:
    """A record edit that moves a certificate's periods changes its status shard and its
    page; the shards and inputs other records share with the last build are taken from the
    cache, and the site is the bytes of a build without one."""
    number = valid(built)[0]
    shard = status_shard(built, number)
    status = built / "site" / check.INDEX_DIR
    before = {p.name: p.read_bytes() for p in status.glob("*.json")}
    suspended = records(built)[number]
    edit(suspended, "\nstatus: valid\n", "\nstatus: suspended\n")
    suspended.write_text(suspended.read_text("utf-8") + (
        f"  - date: {AS_OF}\n    kind: suspended\n    reason: 示例数据：暂停\n"), "utf-8")
    build(built)
    assert site_tree(built) == clean_tree(built, tmp_path)
    after = {p.name: p.read_bytes() for p in status.glob("*.json")}
    assert {name for name in after if after[name] != before.get(name)} == {shard, "meta.json"}
    assert '"suspended"' in json.dumps(json.loads(after[shard])[compact_number(number)])
    _, stored = marshal.loads((cache_dir / "status" / "index.marshal").read_bytes())
    assert len(stored["compacts"]) == len(records(built))
    assert len(stored["shards"]) == len(after) - 1  # every shard but meta.json


def status_shard(root: Path, number: str) -> str:
    """The file name of the status index shard that holds a certificate."""
    meta = json.loads((root / "site" / check.INDEX_DIR / "meta.json").read_text("utf-8"))
    return f"{check.shard_of(compact_number(number), meta['shards'])}.json"


def test_the_digest_a_load_gives_is_the_digest_of_the_certificate(built: Path,
                                                                  cache_dir: Path
                                                                  ) -> None:
    for cache in (None, cache_dir):  # checked afresh, and taken from the record cache
        digests: dict[str, bytes] = {}
        registry = load.load_registry(built, AS_OF, cache_dir=cache, digests=digests)
        assert digests == {c.number: load.record_digest(c) for c in registry.certificates}


def rebuild(root: Path) -> bool:
    """Build; whether mkdocs was skipped (its files and frames taken from the last build)."""
    return build_site(root, as_of=AS_OF, site_dir=root / "site", quiet=True).mkdocs_skipped


def test_mkdocs_runs_only_when_something_it_reads_changed(built: Path, tmp_path: Path) -> None:
    """A record edit that changes no count leaves mkdocs' pages as they were: it is skipped,
    and the site is the bytes of a build without cache. A changed page, mkdocs.yml, a count
    on the home page or a missing file of mkdocs' in the live site make it run again."""
    site = built / "site"
    numbers = valid(built)
    certificate = site / "c" / numbers[0] / "index.html"
    move(records(built)[numbers[0]])
    assert rebuild(built)
    assert site_tree(built) == clean_tree(built, tmp_path)

    page = built / "docs" / "index.md"
    original = page.read_text("utf-8")
    page.write_text("# 证书查询（已改）\n", encoding="utf-8")
    assert not rebuild(built)
    assert "已改" in (site / "index.html").read_text("utf-8")
    assert "已改" in certificate.read_text("utf-8")  # the frames are mkdocs' new ones
    assert rebuild(built)  # nothing changed since
    page.write_text(original, encoding="utf-8")
    assert not rebuild(built)
    assert site_tree(built) == clean_tree(built, tmp_path)

    config = built / "mkdocs.yml"
    settings = config.read_text("utf-8")
    config.write_text(settings.replace("site_name: ", "site_name: 新版"), "utf-8")
    assert not rebuild(built)
    assert "新版" in (site / "index.html").read_text("utf-8")
    config.write_text(settings, "utf-8")
    assert not rebuild(built)

    suspended = records(built)[numbers[1]]  # the home page counts suspensions
    edit(suspended, "\nstatus: valid\n", "\nstatus: suspended\n")
    suspended.write_text(suspended.read_text("utf-8") + (
        "  - date: 2026-11-20\n    kind: suspended\n    reason: 示例数据：暂停\n"), "utf-8")
    assert not rebuild(built)
    assert site_tree(built) == clean_tree(built, tmp_path)

    (site / "index.html").unlink()  # the live site lost a file of mkdocs'
    move(records(built)[numbers[0]])
    assert not rebuild(built)
    assert (site / "index.html").is_file()
    assert site_tree(built) == clean_tree(built, tmp_path)


def test_mkdocs_runs_again_when_a_variable_its_configuration_reads_changed(
        built: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """mkdocs.yml's ``!ENV`` tags and the files it inherits are inputs too."""
    config = built / "mkdocs.yml"
    base = built / "base.yml"
    base.write_text('site_description: "示例数据甲"\n', "utf-8")
    settings = yaml.safe_load(config.read_text("utf-8"))
    del settings["site_name"], settings["site_description"]
    config.write_text("INHERIT: base.yml\nsite_name: !ENV [SAMPLE_SITE_NAME, 示例登记库甲]\n"
                      + yaml.safe_dump(settings, allow_unicode=True), "utf-8")
    home = built / "site" / "index.html"
    assert not rebuild(built)
    assert rebuild(built)
    monkeypatch.setenv("SAMPLE_SITE_NAME", "示例登记库乙")
    assert not rebuild(built)
    assert "示例登记库乙" in home.read_text("utf-8")
    base.write_text('site_description: "示例数据丙"\n', "utf-8")
    assert not rebuild(built)
    assert "示例数据丙" in home.read_text("utf-8")
