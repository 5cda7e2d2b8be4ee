"""The search index is built fast (integer arrays) and must give the very bytes of the plain
build it replaced (tests/search_reference.py): made-up registries full of what could go wrong
(repeated and shared runs, stop grams, grams whose lists overlap, odd characters, odd numbers),
under the default settings and under small ones that make every kind of entry common."""

from __future__ import annotations

import json
import random
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import search_reference

from generator import search
from generator import settings as settings_mod
from generator.model import Certificate, Registry
from generator.search import build_index, searched_texts

ROOT = Path(__file__).resolve().parent.parent
AS_OF_YEAR = 2026

CHINESE = "海润智家美华康达信宏泰鑫源盛科创联通丰瑞恒嘉德佳荣安电器青岛𠀀𠀁"
WORDS = [
    "Co.",
    "Ltd",
    "LTD",
    "Haier",
    "TCL",
    "a",
    "ab",
    "x1",
    "2025",
    "ＡＢＣ",
    "ﬁne",
    "İstanbul",
    "Straße",
    "école",
    "ΑΣ",
    "naïve",
    "o'brien",
    "Ⅻ",
    "①",
    "R&D",
    "e\u0301",
    "_under_",
]
PUNCT = ["", " ", "（", "）", "-", "·", "\u3000", "\u00a0", ", ", '"', "\\", "\u200b", "\n", "🙂"]
SCOPES = [
    (
        "家用空调的销售、安装、维修及售后服务",
        "Sales, installation, repair and after-sales service of air conditioners",
    ),
    ("电梯的安装、维修", "Installation and repair of elevators"),
    ("电器", ""),
    ("", ""),
]


def chinese(rng: random.Random, most: int) -> str:
    return "".join(rng.choice(CHINESE) for _ in range(rng.randint(1, most)))


def name(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        parts.append(rng.choice(PUNCT))
        parts.append(chinese(rng, 6) if rng.random() < 0.7 else rng.choice(WORDS))
    if rng.random() < 0.3:
        parts.append("有限公司")
    return "".join(parts)


def number(rng: random.Random, i: int) -> str:
    shapes = [
        f"ASC-{2020 + i % 7}-{i:06d}",
        f"asc {2020 + i % 7} {i:06d}",
        f"ＡＳＣ－２０２５－{i:06d}",
        f"{2020 + i % 7}{i:06d}",
        f"XY{i}",
        f"Q-{i}-R",
    ]
    return shapes[0] if rng.random() < 0.6 else rng.choice(shapes)


def record(rng: random.Random, i: int, names: list[str]) -> dict[str, Any]:
    issued = f"{2022 + rng.randint(0, 3)}-03-01"
    scope = rng.choice(SCOPES) if rng.random() < 0.8 else (name(rng), name(rng))
    org_name = rng.choice(names) if names and rng.random() < 0.2 else name(rng)
    names.append(org_name)
    return {
        "number": number(rng, i),
        "status": rng.choice(["valid", "valid", "suspended", "withdrawn"]),
        "organization": {
            "name": org_name,
            "name_en": rng.choice([None, "", name(rng), "Example Co., Ltd."]),
            "credit_code": "91370200MA3C5ABC1G",
            "region": rng.choice(["370212", "440305", "110108", "999999", "370200"]),
            "address": "示例路1号",
        },
        "industry": rng.choice(["household-appliances", "elevators", "made-up-industry", "电器"]),
        "scope": {"zh": scope[0], "en": scope[1] or None},
        "standard": "GB/T 27922-2011",
        "score": "90.0",
        "level": rng.choice(["five-star", "four-star", "no-such-level"]),
        "issued": issued,
        "expires": f"{int(issued[:4]) + 3}-02-28",
        "audits": [{"date": issued, "kind": "initial", "result": "pass", "score": "90.0"}],
        "events": [{"date": issued, "kind": "issued"}],
    }


@pytest.fixture(scope="module")
def settings() -> settings_mod.Settings:
    return settings_mod.load(ROOT)


def registry(settings: settings_mod.Settings, size: int, seed: int) -> Registry:
    rng = random.Random(seed)
    names: list[str] = []
    records, seen = [], set()
    for i in range(size):
        data = record(rng, i, names)
        if data["number"] not in seen:
            seen.add(data["number"])
            records.append(data)
    certs = [Certificate.from_data(r, f"certificates/{r['number']}.yaml") for r in records]
    import datetime as dt

    return Registry.create(settings, certs, dt.date(AS_OF_YEAR, 11, 27))


OPTIONS = [
    {},
    {"stop_docs": 3},
    {"stop_docs": 12, "common_bytes": 6, "shard_bytes": 40},
    {"stop_docs": 40, "common_bytes": 1, "doc_chunk": 3, "number_block": 5},
    {"shard_bytes": 1, "common_bytes": 10_000},
]


@pytest.mark.parametrize("size", [0, 1, 2, 7, 60, 400])
@pytest.mark.parametrize(
    "options", OPTIONS, ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items())
)
def test_same_bytes_as_the_reference(
    settings: settings_mod.Settings, size: int, options: dict[str, int]
) -> None:
    reg = registry(settings, size, seed=size)
    assert build_index(reg, **options) == search_reference.build_index(reg, **options)


@pytest.mark.parametrize("seed", range(6))
def test_same_bytes_with_wide_integers_and_runs_sharing_hashes(
    settings: settings_mod.Settings, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = registry(settings, 150, seed=100 + seed)
    options = {"stop_docs": 4 + seed * 3, "common_bytes": 3 + seed}
    expected = search_reference.build_index(reg, **options)
    assert build_index(reg, **options) == expected
    monkeypatch.setattr(search, "_NARROW", 0)  # every pair as int64
    assert build_index(reg, **options) == expected
    monkeypatch.setattr(search, "_HASH", np.uint64(0))  # every run the same hash
    assert build_index(reg, **options) == expected


def test_one_big_registry_with_the_default_settings(settings: settings_mod.Settings) -> None:
    """Enough documents that gaps take three digits and stop grams come from the defaults."""
    reg = registry(settings, 5_000, seed=5)
    assert build_index(reg) == search_reference.build_index(reg)
    assert build_index(reg, stop_docs=300) == search_reference.build_index(reg, stop_docs=300)


def test_fields_are_the_searched_texts(settings: settings_mod.Settings) -> None:
    reg = registry(settings, 200, seed=3)
    inputs = search.read_inputs(reg)
    order, fields, rows, _ = search._documents(inputs)
    assert inputs.numbers == [c.number for c in reg.certificates]
    assert sorted(order.tolist()) == list(range(len(reg.certificates)))
    for i, cert in enumerate(reg.certificates):
        assert tuple(texts[ids[i]] for texts, ids in fields) == searched_texts(cert, settings)
    for doc, i in enumerate(order.tolist()):
        assert json.loads(rows[doc])[:2] == [inputs.numbers[i], cert_name(reg, i)]


def cert_name(reg: Registry, i: int) -> str:
    return reg.certificates[i].organization.name


def edited(reg: Registry, i: int, **changes: Any) -> Registry:
    """``reg`` with certificate ``i`` changed (organisation fields as ``organization__x``)."""
    cert = reg.certificates[i]
    org = {k.removeprefix("organization__"): v for k, v in changes.items() if "__" in k}
    own = {k: v for k, v in changes.items() if "__" not in k}
    if org:
        own["organization"] = cert.organization._replace(**org)
    certs = list(reg.certificates)
    certs[i] = cert._replace(**own)
    return Registry.create(reg.settings, certs, reg.as_of)


def test_inputs_digest_tells_apart_what_the_index_shows(settings: settings_mod.Settings) -> None:
    reg = registry(settings, 120, seed=8)
    digest = search.read_inputs(reg).digest()
    index = build_index(reg)
    assert build_index(search.read_inputs(reg)) == index
    # What the index does not read: the same digest, the same index.
    for changes in (
        {"organization__address": "别处路9号"},
        {"organization__credit_code": "91110000000000000X"},
        {"source": "elsewhere.yaml"},
    ):
        other = edited(reg, 5, **changes)
        assert search.read_inputs(other).digest() == digest
        assert build_index(other) == index
    # What it reads: another digest.
    cert = reg.certificates[5]
    for changes in (
        {"organization__name": cert.organization.name + "甲"},
        {"organization__name_en": "Other Name Ltd."},
        {"organization__region": "110108" if cert.organization.region != "110108" else "440305"},
        {"scope_zh": cert.scope_zh + "。"},
        {"scope_en": "Something else"},
        {"industry": "elevators" if cert.industry != "elevators" else "furniture"},
        {"level": "four-star" if cert.level != "four-star" else "five-star"},
        {"status": "withdrawn" if cert.status != "withdrawn" else "valid"},
        {"number": cert.number + "9"},
    ):
        assert search.read_inputs(edited(reg, 5, **changes)).digest() != digest, changes
    assert search.read_inputs(registry(settings, 0, seed=0)).digest() != digest


def test_grams_of_runs_as_the_format_defines_them() -> None:
    runs = ["青岛海润", "青", "a", "ab", "abc", "abcabc", "海海海", "x1y2", "𠀀𠀁𠀀", "ß", "ας"]
    cps = np.frombuffer("".join(runs).encode("utf-32-le"), np.uint32)
    gram, run, texts = search._run_grams(cps, np.array([len(r) for r in runs]))
    found: dict[int, set[str]] = {}
    for g, r in zip(gram.tolist(), run.tolist(), strict=True):
        found.setdefault(r, set()).add(texts[g])
    assert found == {i: set(search_reference.grams(r)) for i, r in enumerate(runs)}
    assert len(set(zip(gram.tolist(), run.tolist(), strict=True))) == len(gram)  # no repeats
    assert len(set(texts)) == len(texts)


def test_codes_of_many_lists_at_once() -> None:
    rng = random.Random(2)
    lists = [sorted(rng.sample(range(70_000), rng.randint(1, 40))) for _ in range(300)]
    lists += [[0], [31], [32], [1023], [1024], [32767], [32768], [69_999]]
    docs = np.array([d for ids in lists for d in ids])
    first = np.array([i == 0 for ids in lists for i in range(len(ids))])
    out, ends = search._encode_all(docs, first)
    text = out.tobytes().decode("ascii")
    codes = []
    start = 0
    at = 0
    for ids in lists:
        at += len(ids)
        end = int(ends[at - 1])
        codes.append(text[start:end])
        start = end
    assert codes == [search_reference.encode_postings(ids) for ids in lists]


def test_shard_numbers_are_crc32() -> None:
    for gram in ["^a", "海润", "abc", "𠀀", "ß"]:
        assert search.shard_of(gram, 64) == zlib.crc32(gram.encode()) % 64


def test_document_order_by_numpy_as_by_python() -> None:
    rng = random.Random(4)
    alphabet = ["青", "岛", "海", "a", "B", "é", "𠀀", "\u0301", " ", "\U0010fffd", "\ue000", "z"]
    names = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(3000)]
    names += ["青岛", "青岛海", "青岛", "", "a", "a" * 64, "a" * 65]
    numbers = [f"N-{rng.randint(0, 10**6):07d}-{i}" for i in range(len(names))]
    rng.shuffle(numbers)
    by_python = search._document_order(numbers, names, plain=False).tolist()
    assert search._document_order(numbers, names, plain=True).tolist() == by_python
    expected = sorted(range(len(names)), key=lambda i: (names[i], numbers[i]))
    assert by_python == expected
    short = names[:-1]  # without the name too long for numpy
    assert (
        search._document_order(numbers[:-1], short, plain=True).tolist()
        == search._document_order(numbers[:-1], short, plain=False).tolist()
    )


def test_spans() -> None:
    rng = random.Random(5)
    for _ in range(50):
        starts = [rng.randint(0, 100) for _ in range(rng.randint(0, 8))]
        counts = [rng.choice([0, 0, 1, 2, 5]) for _ in starts]
        expected = [s + i for s, c in zip(starts, counts, strict=True) for i in range(c)]
        found = search._spans(np.array(starts, np.uint32), np.array(counts, np.int64))
        assert found.tolist() == expected


def test_texts_without_runs() -> None:
    fields = [(["—", "", "！？"], np.array([0, 1, 2, 0])), (["·"], np.zeros(4, np.int64))]
    rank = np.array([2, 0, 3, 1])
    cps, lengths, pair_run, pair_doc = search._runs(fields, rank)
    assert len(lengths) == len(pair_run) == len(pair_doc) == len(cps) == 0
    grams, total, codes, start, end = search._postings(fields, rank, 5)
    assert grams == [] and len(total) == len(codes) == 0


def test_equal_number_keys_in_document_order(settings: settings_mod.Settings) -> None:
    """ "XY7" without its prefix, "Q-7" without its prefix and "7" are the same key."""
    rng = random.Random(9)
    names: list[str] = []
    records = []
    for i, num in enumerate(["XY7", "7", "Q-7", "q7", "ZZ-0007", "0007", "ABC", "abc-1", "1"]):
        data = record(rng, i, names)
        data["number"] = num
        data["organization"]["name"] = rng.choice(["乙公司", "甲公司", "丙公司"])
        records.append(data)
    certs = [Certificate.from_data(r, f"certificates/{r['number']}.yaml") for r in records]
    import datetime as dt

    reg = Registry.create(settings, certs, dt.date(AS_OF_YEAR, 11, 27))
    for options in ({}, {"number_block": 2}):
        assert build_index(reg, **options) == search_reference.build_index(reg, **options)
