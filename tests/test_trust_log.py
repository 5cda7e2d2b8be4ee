"""The append-only log: RFC 6962 consistency proofs against the reference vectors and the
RFC's definition; the log of a registry in git across builds, and a rewritten history caught."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import marshal
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_incremental import configure
from test_trust import CT_LEAVES

from generator import data, trust
from generator.cli import cli
from generator.load import load_registry
from generator.output import Output
from generator.trust.tree import MerkleTree, consistency_proof, leaf_hash, verify_consistency

# The certificate-transparency reference consistency proofs over the CT test leaves (the
# vectors of the C++ ReferenceSnapshotConsistency, repeated in certificate-transparency-go and
# transparency-dev/merkle tests), hex.
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def _tree(entries: list[bytes]) -> MerkleTree:
    return MerkleTree([leaf_hash(e) for e in entries])


@pytest.mark.parametrize(("old", "new", "want"), CT_CONSISTENCY)
def test_consistency_proofs_match_the_certificate_transparency_vectors(
    old: int, new: int, want: list[str]
) -> None:
    tree = _tree(CT_LEAVES[:new])
    proof = consistency_proof(tree, old)
    assert [h.hex() for h in proof] == want
    assert verify_consistency(old, new, _tree(CT_LEAVES[:old]).root, tree.root, proof)


def _naive_mth(entries: list[bytes]) -> bytes:
    return _tree(entries).root


def _naive_subproof(m: int, entries: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as RFC 6962 §2.1.2 writes it."""
    n = len(entries)
    if m == n:
        return [] if whole else [_naive_mth(entries)]
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        return _naive_subproof(m, entries[:k], whole) + [_naive_mth(entries[k:])]
    return _naive_subproof(m - k, entries[k:], False) + [_naive_mth(entries[:k])]


@pytest.mark.parametrize("new", range(1, 20))
def test_every_consistency_proof_is_the_rfcs_and_verifies(new: int) -> None:
    entries = [f"leaf {i}".encode() for i in range(new)]
    tree = _tree(entries)
    for old in range(1, new + 1):
        proof = consistency_proof(tree, old)
        assert proof == ([] if old == new else _naive_subproof(old, entries, True))
        old_root = _tree(entries[:old]).root
        assert verify_consistency(old, new, old_root, tree.root, proof)


def test_a_rewritten_or_dropped_history_has_no_consistency_proof() -> None:
    entries = [f"leaf {i}".encode() for i in range(11)]
    old = _tree(entries[:6])
    rewritten = _tree([*entries[:3], b"rewritten", *entries[4:]])
    proof = consistency_proof(rewritten, 6)
    assert not verify_consistency(6, 11, old.root, rewritten.root, proof)
    dropped = _tree(entries[:2] + entries[3:])  # one leaf removed, the rest kept in order
    assert not verify_consistency(6, 10, old.root, dropped.root, consistency_proof(dropped, 6))
    honest = _tree(entries)
    proof = consistency_proof(honest, 6)
    assert verify_consistency(6, 11, old.root, honest.root, proof)
    assert not verify_consistency(6, 11, old.root, honest.root, proof[:-1])
    assert not verify_consistency(7, 11, old.root, honest.root, proof)
    assert not verify_consistency(6, 5, old.root, honest.root, proof)


# --- the log of a registry in git, across builds ---------------------------------------------

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
NOON = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
CHANGED = "ASC-2025-000123"
OTHER = "ASC-2024-000037"


def _git(root: Path, *args: str, day: str = "2026-11-20") -> str:
    when = f"{day}T09:00:00+00:00"
    env = {
        **os.environ,
        "GIT_AUTHOR_DATE": when,
        "GIT_COMMITTER_DATE": when,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
    }
    done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)
    return done.stdout.decode()


def _build(root: Path, site: Path, keys: dict[str, Path], hour: int) -> None:
    registry = load_registry(root, AS_OF)
    epoch = str(int(NOON.timestamp()) + 3600 * hour)
    env = {trust.KEY_ENV: str(keys["private"]), "SOURCE_DATE_EPOCH": epoch}
    trust.publish(registry, Output(site), environ=env)


def _suspend(root: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "--root",
            str(root),
            "suspend",
            CHANGED,
            "--date",
            "2026-11-21",
            "--reason",
            "监督审核未通过",
        ],
    )
    assert result.exit_code == 0, result.output


def _move(root: Path, number: str, address: str) -> None:
    path = next((root / "certificates").rglob(f"{number}.yaml"))
    text = path.read_text("utf-8")
    old = next(line for line in text.splitlines() if line.startswith("  address:"))
    path.write_text(text.replace(old, f"  address: {address}"), "utf-8")


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    private, public, _ = trust.generate_keys(tmp_path_factory.mktemp("keys"))
    return {"private": private, "public": public}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, keys: dict[str, Path]) -> dict[str, Any]:
    """Three commits, a build after each: the registry, a suspension, a moved enterprise."""
    base = tmp_path_factory.mktemp("history")
    root = base / "repo"
    root.mkdir()
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(keys["public"], root / trust.PUBLIC_KEY_PATH)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "registry", day="2026-11-20")
    _build(root, base / "site1", keys, 0)
    _suspend(root)
    _git(root, "commit", "-qam", "suspend", day="2026-11-21")
    _build(root, base / "site2", keys, 1)
    _move(root, OTHER, "山东省青岛市崂山区示例路99号")
    _git(root, "commit", "-qam", "move", day="2026-11-22")
    _build(root, base / "site3", keys, 2)
    return {"base": base, "root": root, "sites": [base / f"site{i}" for i in (1, 2, 3)]}


def _pins(keys: dict[str, Path]) -> trust.Pins:
    return trust.Pins(trust.read_public_key(keys["public"]), now=NOON + dt.timedelta(hours=3))


def _checkpoint(site: Path) -> dict[str, Any]:
    return json.loads((site / trust.CHECKPOINT_JSON).read_bytes())


def test_each_change_appends_one_version_and_nothing_is_removed(history: dict[str, Any]) -> None:
    sizes = [_checkpoint(site)["tree_size"] for site in history["sites"]]
    records = len(
        json.loads((history["sites"][0] / data.API / "certificates.json").read_bytes())[
            "certificates"
        ]
    )
    assert sizes == [records, records + 1, records + 2]
    entries = trust.tiles.read_entries(history["sites"][2] / data.API, sizes[2])
    assert [json.loads(e)["number"] for e in entries[-2:]] == [CHANGED, OTHER]
    assert json.loads(entries[-2])["status"] == "suspended"


def test_every_checkpoint_of_the_sequence_is_proven_extended_by_every_later_one(
    history: dict[str, Any], keys: dict[str, Path]
) -> None:
    sites = history["sites"]
    for i, old in enumerate(sites):
        for new in sites[i:]:
            report = trust.verify_paths([new], _pins(keys), since=old / trust.CHECKPOINT_JSON)
            assert report.ok, [str(f) for f in report.failures]
            assert "consistency proof" in report.since[0]


def test_every_tree_head_stays_published_byte_for_byte(
    history: dict[str, Any], keys: dict[str, Path]
) -> None:
    sites = history["sites"]
    heads = [sorted(p.name for p in (s / trust.CHECKPOINTS).iterdir()) for s in sites]
    sizes = [str(_checkpoint(s)["tree_size"]) for s in sites]
    assert heads == [sizes[:1], sizes[:2], sizes[:3]]
    for name in sizes[:2]:  # derived again by each build: the same signed bytes
        assert (sites[1] / trust.CHECKPOINTS / name).read_bytes() == (
            sites[2] / trust.CHECKPOINTS / name
        ).read_bytes()
    head = (sites[2] / trust.CHECKPOINTS / sizes[1]).read_bytes().decode()
    assert head.startswith(f"registry.example.org\n{sizes[1]}\n")
    assert "\ntime 2026-11-21T09:00:00Z\ncommit " in head
    report = trust.verify_paths(
        [sites[2]], _pins(keys), since=sites[2] / trust.CHECKPOINTS / sizes[1]
    )
    assert report.ok, [str(f) for f in report.failures]


def test_an_old_record_shown_after_a_newer_checkpoint_is_reported_superseded(
    history: dict[str, Any], keys: dict[str, Path]
) -> None:
    old_record = history["sites"][0] / data.API / "certificates" / f"{CHANGED}.json"
    new_cp = history["sites"][2] / trust.CHECKPOINT_JSON
    report = trust.verify_paths([old_record], _pins(keys), checkpoint=new_cp)
    found = [str(f) for f in report.failures if f.check == "superseded"]
    assert len(found) == 1, [str(f) for f in report.failures]
    assert f"record {CHANGED}: superseded: this is version" in found[0]
    assert "status valid → suspended" in found[0] and "events + 2026-11-21 suspended" in found[0]
    # with its own, older checkpoint it still verifies: the log says so only once it moved on
    assert trust.verify_paths([old_record], _pins(keys)).ok


def _rebuilt(history: dict[str, Any], keys: dict[str, Path], name: str, change: Any) -> Path:
    """A clone of the repository whose history ``change`` rewrites, built."""
    clone = history["base"] / name
    subprocess.run(["git", "clone", "-q", str(history["root"]), str(clone)], check=True)
    change(clone)
    site = history["base"] / f"{name}-site"
    _build(clone, site, keys, 3)
    return site


def test_a_rewritten_history_is_caught(history: dict[str, Any], keys: dict[str, Path]) -> None:
    def rewrite(clone: Path) -> None:
        # the suspension is dropped from history and the later change made again on top
        _git(clone, "reset", "-q", "--hard", "HEAD~2")
        _move(clone, OTHER, "山东省青岛市崂山区示例路99号")
        _git(clone, "commit", "-qam", "move", day="2026-11-22")
        _suspend(clone)
        _git(clone, "commit", "-qam", "suspend later", day="2026-11-23")

    site = _rebuilt(history, keys, "rewritten", rewrite)
    old = history["sites"][1] / trust.CHECKPOINT_JSON
    alone = trust.verify_paths([site], _pins(keys))
    assert alone.ok  # on its own a rewritten log looks fine: only its history can tell
    report = trust.verify_paths([site], _pins(keys), since=old)
    found = [str(f) for f in report.failures]
    assert any(
        f.startswith(f"{old}: consistency: the log of ") and "was rewritten" in f for f in found
    ), found


def test_a_signed_build_refuses_to_publish_a_log_that_forks_the_live_sites(
    history: dict[str, Any], keys: dict[str, Path]
) -> None:
    from generator.errors import InputError
    from generator.output import Manifest, Previous

    clone = history["base"] / "forked"
    subprocess.run(["git", "clone", "-q", str(history["root"]), str(clone)], check=True)
    _git(clone, "reset", "-q", "--hard", "HEAD~1")
    _move(clone, OTHER, "山东省青岛市崂山区另一路1号")
    _git(clone, "commit", "-qam", "another move", day="2026-11-22")
    registry = load_registry(clone, AS_OF)
    env = {trust.KEY_ENV: str(keys["private"]), "SOURCE_DATE_EPOCH": str(int(NOON.timestamp()))}
    live = history["sites"][2]
    out = Output(history["base"] / "forked-site", Previous(live, Manifest()))
    with pytest.raises(InputError) as caught:
        trust.publish(registry, out, environ=env)
    assert f"{live / trust.CHECKPOINT_JSON}: the log of this build" in str(caught.value)
    assert "does not extend the published one" in str(caught.value)
    # an honest next build extends it and is published
    honest = Output(history["base"] / "honest-site", Previous(live, Manifest()))
    trust.publish(load_registry(history["root"], AS_OF), honest, environ=env)


def test_a_dropped_history_is_caught(history: dict[str, Any], keys: dict[str, Path]) -> None:
    def drop(clone: Path) -> None:
        _git(clone, "reset", "-q", "--hard", "HEAD~1")

    site = _rebuilt(history, keys, "dropped", drop)
    old = history["sites"][2] / trust.CHECKPOINT_JSON
    found = [str(f) for f in trust.verify_paths([site], _pins(keys), since=old).failures]
    assert any(": consistency: the old log had" in f and "dropped" in f for f in found), found


# --- tiles -------------------------------------------------------------------------------------


def test_tile_paths_are_the_c2sp_tlog_tiles_ones() -> None:
    """The spec's example: index 1234067 is written x001/x234/067; a partial tile ends .p/<W>."""
    from generator.trust import tiles

    assert tiles.index_path(1234067) == "x001/x234/067"
    assert tiles.index_path(0) == "000" and tiles.index_path(1000) == "x001/000"
    assert tiles.tile_path(0, 1234067, 256) == "tile/0/x001/x234/067"
    assert tiles.tile_path(1, 3, 7) == "tile/1/003.p/7"
    assert tiles.tile_path("entries", 12, 256) == "tile/entries/012"


def test_tiles_hold_the_levels_of_the_tree_and_the_entries(tmp_path: Path) -> None:
    from generator.trust import tiles

    entries = [f'{{"number":"N-{i:05d}"}}'.encode() for i in range(256 * 256 + 300)]
    tree = _tree(entries)
    published = tiles.tiles(tree, entries)
    assert published["tile/0/000"] == b"".join(tree.levels[0][:256])
    assert published["tile/0/256"] == b"".join(tree.levels[0][256 * 256 : 257 * 256])
    assert published["tile/0/257.p/44"] == b"".join(tree.levels[0][257 * 256 :])
    # level 1: the roots of each full 256-leaf subtree; level 2: of each 65,536-leaf one
    assert published["tile/1/000"] == b"".join(tree.levels[8][:256])
    assert published["tile/1/001.p/1"] == tree.levels[8][256]
    assert published["tile/2/000.p/1"] == tree.levels[16][0] == _tree(entries[: 256 * 256]).root
    bundle = published["tile/entries/257.p/44"]
    assert bundle[:2] == len(entries[257 * 256]).to_bytes(2, "big")
    for rel, content in published.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(content)
    assert tiles.read_entries(tmp_path, len(entries)) == entries
    assert tiles.check_tiles(tmp_path, tree) == []
    # one more leaf rewrites only the last tile of level 0 and the last bundle
    grown = tiles.tiles(_tree([*entries, b"{}"]), [*entries, b"{}"])
    changed = {rel for rel, content in grown.items() if published.get(rel) != content}
    assert changed == {"tile/0/257.p/45", "tile/entries/257.p/45"}
    # A bundle whose entries' leaves are those of one in place is not made again.
    placed: dict[str, bytes] = {}

    def place(rel: str, leaves: bytes) -> bool:
        placed[rel] = leaves
        return False

    assert tiles.bundles(tree, entries, place) == {
        rel: content for rel, content in published.items() if rel.startswith("tile/entries/")}
    made = tiles.bundles(_tree([*entries, b"{}"]), [*entries, b"{}"],
                         lambda rel, leaves: placed.get(rel) == leaves)
    assert made == {"tile/entries/257.p/45": grown["tile/entries/257.p/45"]}


def test_the_logs_cache_of_git_blobs_gives_the_log_without_it_and_survives_damage(
    history: dict[str, Any], tmp_path: Path
) -> None:
    """The log derived with the caches of what each blob reads as (made; read back; grown by a
    commit, into its small second file; with entries of another shape; unreadable) and of the
    commits read (extended, rewritten, reset, damaged) is the log derived without them."""
    from generator.trust.log import CACHE_FOLDER, derive

    root = tmp_path / "repo"
    shutil.copytree(history["root"], root)
    cache = tmp_path / "cache"

    def same() -> None:
        registry = load_registry(root, AS_OF)
        current = {cert.number: made.canonical for cert, made in zip(
            registry.certificates, data.prepare(registry).fragments, strict=True)}
        want = derive(registry, current)
        got = derive(registry, current, cache, resume=False)
        assert (got.entries, got.numbers, got.latest, got.growth) == (
            want.entries, want.numbers, want.latest, want.growth)
        assert got.tree().levels == want.tree().levels == MerkleTree(
            [leaf_hash(e) for e in want.entries if e is not None]).levels

    same()
    (base,) = (cache / CACHE_FOLDER).glob("*.pickle")
    written = base.stat().st_mtime_ns
    same()
    _move(root, OTHER, "山东省青岛市崂山区示例路100号")
    _git(root, "commit", "-qam", "move again", day="2026-11-23")
    same()
    more = base.with_name(f"{base.stem}.more.pickle")
    assert base.stat().st_mtime_ns == written and len(pickle.loads(more.read_bytes())) == 1
    same()
    known = pickle.loads(base.read_bytes())
    assert known and all(isinstance(v, tuple) for v in known.values() if v is not None)
    base.write_bytes(pickle.dumps(dict.fromkeys(known, ("x",))))
    same()
    assert not more.exists()  # everything written again, in one file
    base.write_bytes(b"not a pickle")
    same()
    # The commits read so far are kept with the commit they end at (log/commits.marshal):
    # extended by a new commit, read whole after a rewrite or when damaged.
    commits = cache / CACHE_FOLDER / "commits.marshal"
    _move(root, OTHER, "山东省青岛市崂山区示例路101号")
    _git(root, "commit", "-qam", "move once more", day="2026-11-24")
    same()
    _move(root, OTHER, "山东省青岛市崂山区示例路102号")
    _git(root, "commit", "-q", "--amend", "-am", "rewritten", day="2026-11-25")
    same()
    _git(root, "reset", "-q", "--hard", "HEAD~2")
    same()
    commits.write_bytes(marshal.dumps((1, {"head": "x", "commits": [("a", "b")]})))
    same()


def test_the_log_appended_to_its_kept_state_is_the_log_derived_whole(
    history: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The log of the commits is kept with the commit it ends at (log/state.marshal); a later
    build appends the commits after it. Whatever happened since (nothing, one commit, two, an
    amended commit, a reset, an uncommitted edit, a damaged or foreign state, leaf hashes
    kept under stale keys), the log is the one derived whole, and only a history that does not
    go on from the kept commit is derived whole again."""
    from generator.trust import log as log_mod

    root = tmp_path / "repo"
    shutil.copytree(history["root"], root)
    cache = tmp_path / "cache"
    whole = log_mod._derive_commits
    derived: list[int] = []

    def counted(*args: Any) -> tuple[str, log_mod.Log]:
        derived.append(1)
        return whole(*args)

    monkeypatch.setattr(log_mod, "_derive_commits", counted)

    def same(*, derived_whole: bool) -> None:
        registry = load_registry(root, AS_OF)
        current = {cert.number: made.canonical for cert, made in zip(
            registry.certificates, data.prepare(registry).fragments, strict=True)}
        keys = {number: hashlib.blake2b(entry).digest() for number, entry in current.items()}
        _, want = whole(root, registry.settings.schema, None)
        for number in sorted(current):
            want.append(number, current[number])
        derived.clear()
        got = log_mod.derive(registry, current, cache, keys)
        assert bool(derived) == derived_whole
        assert (got.numbers, got.latest, got.growth, got.leaves) == (
            want.numbers, want.latest, want.growth, want.leaves)
        assert all(e is None or e == w for e, w in zip(got.entries, want.entries, strict=True))
        assert got.tree().levels == MerkleTree(want.leaves).levels

    same(derived_whole=True)
    same(derived_whole=False)
    _move(root, OTHER, "山东省青岛市崂山区示例路100号")
    _git(root, "commit", "-qam", "move again", day="2026-11-23")
    same(derived_whole=False)
    for n in (101, 102):
        _move(root, OTHER, f"山东省青岛市崂山区示例路{n}号")
        _git(root, "commit", "-qam", f"move to {n}", day="2026-11-24")
    same(derived_whole=False)
    _move(root, OTHER, "山东省青岛市崂山区示例路103号")  # not committed: appended after
    same(derived_whole=False)
    _git(root, "commit", "-q", "--amend", "-am", "rewritten", day="2026-11-25")
    same(derived_whole=True)
    _git(root, "reset", "-q", "--hard", "HEAD~2")
    same(derived_whole=True)
    state = cache / log_mod.CACHE_FOLDER / "state.marshal"
    kept = marshal.loads(state.read_bytes())
    kept[1]["levels"][0][0] = b"short"
    state.write_bytes(marshal.dumps(kept))
    same(derived_whole=True)
    state.write_bytes(b"not marshal")
    same(derived_whole=True)
    leaves = cache / log_mod.CACHE_FOLDER / "leaves.marshal"
    memo = marshal.loads(leaves.read_bytes())
    # A changed record's key is new: its leaf is made, whatever other keys hold.
    leaves.write_bytes(marshal.dumps((memo[0], dict.fromkeys(memo[1], b"\0" * 32))))
    _move(root, OTHER, "山东省青岛市崂山区示例路104号")
    same(derived_whole=False)


def _files(site: Path) -> dict[str, str]:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*")) if p.is_file()}


def _synthetic_repo(tmp_path: Path, keys: dict[str, Path], seed: int,
                    cache: Path | None = None) -> Path:
    """300 synthetic records with the registry settings and the public key, committed to a new
    git repository; with ``cache``, also a buildable mkdocs.yml and docs/ using it."""
    from generator.settings import load as load_settings
    from generator.synth import synthesize

    root = tmp_path / "repo"
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    shutil.copy(keys["public"], root / trust.PUBLIC_KEY_PATH)
    for _ in synthesize(load_settings(root), root, 300, seed=seed, as_of=AS_OF):
        pass
    if cache is not None:
        configure(root, cache)
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "registry", day="2026-11-20")
    return root


def _commit_a_move(root: Path, at: int, suffix: str) -> None:
    """The record at position ``at`` gets ``suffix`` after its address, committed a day later."""
    path = sorted((root / "certificates").rglob("*.yaml"))[at]
    text = path.read_text("utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("  address:"))
    path.write_text(text.replace(line, line + suffix), "utf-8")
    _git(root, "commit", "-qam", "move", day="2026-11-21")


def test_a_bundle_the_kept_state_has_no_entries_for_is_made_from_the_log_derived_whole(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """300 records: the kept state holds the entries of the last, partial bundle only. Published
    into a new folder, the full first bundle is made all the same: the files are those of a
    build without cache."""
    root = _synthetic_repo(tmp_path, keys, seed=3)
    env = {trust.KEY_ENV: str(keys["private"]),
           "SOURCE_DATE_EPOCH": str(int(NOON.timestamp()))}
    cache = tmp_path / "cache"
    trust.publish(load_registry(root, AS_OF), Output(tmp_path / "first"), cache_dir=cache,
                  environ=env)
    _commit_a_move(root, 7, "甲")
    registry = load_registry(root, AS_OF)
    trust.publish(registry, Output(tmp_path / "cached"), cache_dir=cache, environ=env)
    trust.publish(registry, Output(tmp_path / "clean"), environ=env)
    made, want = _files(tmp_path / "cached"), _files(tmp_path / "clean")
    assert "api/v1/tile/entries/000" in made  # the full bundle, made from the derived log
    assert made == want


def test_a_change_after_unchanged_builds_appends_to_the_kept_log(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Builds with nothing changed reuse the open data whole, and with it the log's bundles:
    the next build that changes a record still knows them, appends to the kept log rather
    than deriving it whole, and gives the files of a build without cache."""
    from generator.publish import build_site

    publishing = sys.modules["generator.trust.publish"]
    root = _synthetic_repo(tmp_path, keys, seed=5, cache=tmp_path / "cache")
    monkeypatch.setenv(trust.KEY_ENV, str(keys["private"]))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOON.timestamp())))
    derived = tmp_path / "derived"  # how each log was derived, also by a forked worker
    log_state = publishing.log_state

    def spied(*args: Any, resume: bool = True, **kwargs: Any) -> Any:
        with open(derived, "a") as handle:
            handle.write("appended\n" if resume else "whole\n")
        return log_state(*args, resume=resume, **kwargs)

    monkeypatch.setattr(publishing, "log_state", spied)
    site = root / "site"
    for _ in range(3):  # the first build, then two that change nothing
        build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    derived.unlink()
    _commit_a_move(root, 11, "乙")
    build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    assert derived.read_text().split() == ["appended"]
    clean = tmp_path / "clean"  # the same repository, without the site, with a new cache
    shutil.copytree(root, clean, ignore=shutil.ignore_patterns("site"))
    configure(clean, tmp_path / "clean-cache")
    build_site(clean, as_of=AS_OF, site_dir=clean / "site", quiet=True)
    assert _files(site) == _files(clean / "site")


@pytest.mark.parametrize("size", [0, 1, 2, 3, 7, 8, 9, 255, 256, 257, 600])
def test_a_tree_grown_by_appended_leaves_is_the_tree_of_all_of_them(size: int) -> None:
    leaves = [leaf_hash(b"%d" % i) for i in range(size)]
    for kept in sorted({0, 1, size // 3, size - 1, size} - {-1}):
        before = MerkleTree(leaves[:kept])
        levels = [list(level) for level in before.levels]
        assert MerkleTree.grown(before.levels, leaves[kept:]).levels == MerkleTree(leaves).levels
        assert before.levels == levels  # the tree it grew from is left as it was
