"""The open data, written fast: every file byte for byte what json.dumps of the whole documents
gives, and the cache of serialized records between builds.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from generator import data, output, trust
from generator.load import load_registry
from generator.model import Registry

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)


class Memory:
    """An output that keeps what is written, in order."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def write(self, rel: str, content: bytes) -> bool:
        assert rel not in self.files, f"{rel} written twice"
        self.files[rel] = content
        return True

    def write_chunks(self, rel: str, chunks: Sequence[bytes], content_digest: bytes) -> bool:
        content = b"".join(chunks)
        assert content_digest == output.digest(content), f"{rel}: not the digest of its bytes"
        return self.write(rel, content)

    def reuse(self, unit: str, inputs: bytes) -> None:
        return None  # nothing was there before: every unit is made

    def unit(self, unit: str, inputs: bytes, files: Any) -> None:
        pass


def indented(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=2)


def reference(registry: Registry, extra: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    """The open data as whole documents through json.dumps (how it was first written)."""
    files = {}
    entries = []
    for cert in registry.certificates:
        entry = data.certificate_json(cert, registry)
        entry.update(extra.get(cert.number, {}))
        entries.append(entry)
        files[f"{data.API}/certificates/{cert.number}.json"] = (indented(entry) + "\n").encode()
    files[f"{data.API}/certificates.json"] = data.canonical_json(
        data.registry_json(registry, entries)
    )
    files[f"{data.API}/certificates.csv"] = data.certificates_csv(registry)
    files[f"{data.API}/record.schema.json"] = (indented(registry.settings.schema) + "\n").encode()
    return files


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    root = tmp_path_factory.mktemp("open-data")
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    return load_registry(root, AS_OF)


def _part(registry: Registry, size: int) -> Registry:
    return Registry.create(registry.settings, list(registry.certificates[:size]), AS_OF)


VALUES: list[Any] = [
    {},
    [],
    (),
    "",
    0,
    -3,
    10**30,
    1.5,
    -0.0,
    1e-7,
    2.5e300,
    math.inf,
    -math.inf,
    math.nan,
    True,
    False,
    None,
    'quotes " and \\ back\\slash, / slash',
    "控制\x00\x1f\n\t\u2028 字符 and \U0001f600",
    {"b": 1, "a": [1, {"z": None, "y": []}, []], "c": {"d": {}, "e": ()}},
    [[[]], [{}], [{"x": "y"}], ("t", 1)],
    {"é": 1, "e": 2, "E": 3, "_": 4, " ": 5, "": 6},
    {1: "int key", 2: "another"},
    {"n": 1.0, "list": [None, True, 0.1]},
]


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_values_are_written_as_json_dumps_writes_them(value: Any) -> None:
    assert data.pretty(value) == (indented(value) + "\n").encode()
    pretty, compact = data.members("key", value)
    assert pretty == indented({"key": value})[2:-2].encode()
    assert compact == data.canonical_json({"key": value})[1:-1]


def test_a_value_json_cannot_write_fails_as_json_dumps_fails() -> None:
    with pytest.raises(TypeError):
        data.pretty({"date": AS_OF})
    with pytest.raises(TypeError):
        data.members("key", {"a": {1, 2}})


def test_text_and_number_subclasses_are_written_as_their_base_types() -> None:
    class Text(str):
        pass

    class Number(int):
        pass

    value = {Text("k"): [Text("v"), Number(3)], "f": 2.0}
    assert data.pretty(value) == (indented(value) + "\n").encode()
    assert data.members("x", value)[1] == data.canonical_json({"x": value})[1:-1]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 5, 8, None])
def test_open_data_is_byte_for_byte_the_whole_documents(
    registry: Registry, size: int | None
) -> None:
    part = registry if size is None else _part(registry, size)
    logged = trust.log_state(part).extra()
    want = reference(part, logged)
    fast = Memory()
    assert data.write_data(part, fast, extra=logged) == len(part.certificates)
    assert list(fast.files) == list(want)
    for rel, content in want.items():
        assert fast.files[rel] == content, rel


def test_the_logs_own_members_are_what_the_general_encoder_writes(registry: Registry) -> None:
    """The log formats each record's ``log`` member itself (a build's fast path): the same
    bytes as the encoder gives, so every record's file and certificates.json are unchanged."""
    state = trust.log_state(registry)
    logged = state.extra()
    for number in logged:
        assert state.members(number) == [
            (key, *data.members(key, value)) for key, value in logged[number].items()]
    fast, general = Memory(), Memory()
    data.write_data(registry, fast, extra=logged, members_of=state.members)
    data.write_data(registry, general, extra=logged)
    assert fast.files == general.files == reference(registry, logged)
    # As publish gives them: the leaves alone (only whose they are is read).
    leaves = Memory()
    data.write_data(registry, leaves, extra=state.log.latest, members_of=state.members)
    assert leaves.files == fast.files


def test_records_whose_files_are_kept_give_the_same_bulk_files(registry: Registry) -> None:
    """A record whose own file is kept as it was (a build's unchanged record) is not written
    again, and certificates.json and the CSV are the bytes of a build that wrote it."""
    state = trust.log_state(registry)
    full = Memory()
    data.write_data(registry, full, extra=state.log.latest, members_of=state.members)
    keep = {data.record_path(c.number) for c in registry.certificates[::2]}
    given = {rel: hashlib.sha256(full.files[rel]).digest() for rel in keep}
    out, digests = Memory(), {}
    data.write_data(registry, out, extra=state.log.latest, members_of=state.members,
                    digests=digests, kept=lambda rel, _number: given.get(rel))
    assert set(out.files) == set(full.files) - keep
    assert out.files == {rel: full.files[rel] for rel in out.files}
    assert {rel: digests[rel] for rel in keep} == given


@pytest.mark.parametrize("pieces", [1, 7, 1 << 40], ids=["a chunk a piece", "chunks", "whole"])
def test_the_digest_of_each_file_is_the_sha256_of_its_bytes(
        registry: Registry, monkeypatch: pytest.MonkeyPatch, pieces: int) -> None:
    """Also: certificates.json and the CSV, hashed chunk by chunk, are given to the output
    with the digest of their bytes (Memory checks it), and are the same bytes however many
    pieces each chunk joins."""
    monkeypatch.setattr(data, "PIECES_A_CHUNK", pieces)
    out, digests = Memory(), {}
    data.write_data(registry, out, digests=digests)
    assert digests == {rel: hashlib.sha256(content).digest() for rel, content in out.files.items()}
    assert out.files == reference(registry, {})


def test_open_data_without_proofs_or_with_other_keys(registry: Registry) -> None:
    for extra in ({}, None, {registry.certificates[0].number: {"zz": [1], "note": "x"}}):
        out = Memory()
        data.write_data(registry, out, extra=extra)
        assert out.files == reference(registry, extra or {})


def everything(prepared: data.Prepared) -> list[data.Fragments]:
    """Every record of ``prepared`` with all its members (those from the cache come without
    their indented ones)."""
    return [prepared.made(at) for at in range(len(prepared.fragments))]


def _cache_files(cache: Path) -> dict[str, tuple[int, int]]:
    return {
        p.relative_to(cache).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in cache.rglob("*.pickle")
    }


def test_records_serialized_once_are_taken_from_the_cache(
    registry: Registry, tmp_path: Path
) -> None:
    first = data.prepare(registry, cache_dir=tmp_path)
    assert first.cached == 0
    files = _cache_files(tmp_path / data.CACHE_FOLDER)
    assert files
    again = data.prepare(registry, cache_dir=tmp_path)
    assert again.cached == len(registry.certificates)
    assert everything(again) == first.fragments
    # a record whose file is kept needs no indented member: they are read only when asked
    assert all(not made.record for made in again.fragments)
    assert _cache_files(tmp_path / data.CACHE_FOLDER) == files  # nothing rewritten

    certs = list(registry.certificates)
    i = len(certs) // 2
    org = certs[i].organization
    certs[i] = certs[i]._replace(organization=org._replace(address=org.address + "（新址）"))
    changed = Registry.create(registry.settings, certs, AS_OF)
    after = data.prepare(changed, cache_dir=tmp_path)
    assert after.cached == len(certs) - 1
    assert after.fragments[i] == data.fragments(certs[i], changed)
    assert after.fragments[i] != first.fragments[i]
    rewritten = {
        name.split(".")[0]
        for name, state in _cache_files(tmp_path / data.CACHE_FOLDER).items()
        if files.get(name) != state
    }
    assert 1 <= len(rewritten) <= 2  # the shard that lost the old entry, the one that got the new
    assert everything(data.prepare(changed, cache_dir=tmp_path)) == everything(after)

    out = Memory()
    trust.publish(changed, out, cache_dir=tmp_path, environ={})
    want = reference(changed, trust.log_state(changed).extra())
    assert {rel: out.files[rel] for rel in want} == want


def test_a_record_file_to_write_takes_its_indented_members_from_the_cache_or_makes_them(
    registry: Registry, tmp_path: Path
) -> None:
    """A new site folder beside a kept cache writes every record's file: the indented members
    come from the cache's second store, and are made again where it lost them."""
    data.prepare(registry, cache_dir=tmp_path)
    want = reference(registry, {})
    for damage in (False, True):
        if damage:
            for path in (tmp_path / data.CACHE_FOLDER).rglob("*.pretty.pickle"):
                path.write_bytes(b"not a pickle")
        prepared = data.prepare(registry, cache_dir=tmp_path)
        assert prepared.cached == len(registry.certificates)
        out = Memory()
        data.write_data(registry, out, prepared=prepared)
        assert out.files == want
    # what lost its indented members was kept again when made: the store is whole again
    for path in (tmp_path / data.CACHE_FOLDER).rglob("*.pretty.pickle"):
        assert path.read_bytes() != b"not a pickle"


def test_keys_given_by_the_build_are_used_and_missing_ones_computed(
    registry: Registry, tmp_path: Path
) -> None:
    certs = registry.certificates
    keys = {c.number: bytes([i % 256, i // 256]) * 8 for i, c in enumerate(certs[1:], 1)}
    first = data.prepare(registry, cache_dir=tmp_path, keys=keys)
    again = data.prepare(registry, cache_dir=tmp_path, keys=keys)
    assert again.cached == len(certs) and everything(again) == first.fragments
    # a key is the caller's word that nothing changed: the same key gives the same bytes
    moved = {**keys, certs[1].number: keys[certs[2].number]}
    assert data.prepare(registry, cache_dir=tmp_path, keys=moved).made(1) == first.fragments[2]


def test_an_unreadable_cache_is_serialized_again(registry: Registry, tmp_path: Path) -> None:
    first = data.prepare(registry, cache_dir=tmp_path)
    for path in (tmp_path / data.CACHE_FOLDER).rglob("*.pickle"):
        path.write_bytes(b"not a pickle")
    again = data.prepare(registry, cache_dir=tmp_path)
    assert again.cached == 0 and everything(again) == first.fragments
    assert data.prepare(registry, cache_dir=tmp_path).cached == len(registry.certificates)


def test_other_code_starts_a_new_cache_and_removes_the_old(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.prepare(registry, cache_dir=tmp_path)
    (old,) = (tmp_path / data.CACHE_FOLDER).iterdir()
    monkeypatch.setattr(data, "package_digest", lambda: b"other code")
    assert data.prepare(registry, cache_dir=tmp_path).cached == 0
    (new,) = (tmp_path / data.CACHE_FOLDER).iterdir()
    assert new != old and new.name == b"other code".hex()
