"""Search: the index built by generator/search.py, queried by the real search.js under Node.

The registries here are small and fictional (every enterprise is made up); each query is also
answered by a plain Python oracle (exact substring over the same normalised fields) and the two
must agree, so the index can neither miss a match nor show a false one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from needs import needs, skip_unless

from generator import search as search_mod
from generator import settings as settings_mod
from generator.model import Certificate, Registry
from generator.search import (
    build_index,
    compact_number,
    decode_postings,
    encode_postings,
    normalise,
    search_page_html,
    searched_texts,
)

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / "tests" / "js" / "search_cli.mjs"
SCRIPT = ROOT / "generator" / "theme" / "assets" / "starmark" / "search.js"
AS_OF = dt.date(2026, 11, 27)

pytestmark = needs(shutil.which("node") is not None, "node (Node.js, to run search.js)")


def record(
    number: str,
    name: str,
    name_en: str,
    region: str,
    industry: str,
    scope: tuple[str, str],
    status: str = "valid",
    score: str = "96.5",
    level: str = "five-star",
) -> dict[str, Any]:
    issued = dt.date(int(number.split("-")[1]), 3, 1)
    return {
        "number": number,
        "status": status,
        "organization": {
            "name": name,
            "name_en": name_en,
            "credit_code": "91370200MA3C5ABC1G",
            "region": region,
            "address": "示例路1号",
        },
        "industry": industry,
        "scope": {"zh": scope[0], "en": scope[1]},
        "standard": "GB/T 27922-2011",
        "score": score,
        "level": level,
        "issued": issued.isoformat(),
        "expires": (issued.replace(year=issued.year + 3) - dt.timedelta(days=1)).isoformat(),
        "audits": [
            {"date": issued.isoformat(), "kind": "initial", "result": "pass", "score": score}
        ],
        "events": [{"date": issued.isoformat(), "kind": "issued"}],
    }


AIRCON = (
    "家用空调的销售、安装、维修及售后服务",
    "Sales, installation, repair and after-sales service of air conditioners",
)
PHONES = (
    "手机、平板电脑的销售及售后服务",
    "Sales and after-sales service of mobile phones and tablets",
)
SOFAS = (
    "沙发、床垫的配送、安装及售后服务",
    "Delivery, installation and after-sales service of sofas and mattresses",
)

RECORDS = [
    record(
        "ASC-2025-000123",
        "青岛海润智家电器有限公司",
        "Qingdao Hairun Smart Home Appliance Co., Ltd.",
        "370212",
        "household-appliances",
        AIRCON,
    ),
    # 润海, not 海润
    record(
        "ASC-2024-000045",
        "深圳润海电子科技有限公司",
        "Shenzhen Runhai Electronics Technology Co., Ltd.",
        "440305",
        "consumer-electronics",
        PHONES,
        score="91.0",
        level="four-star",
    ),
    # 海 and 润, but not next to each other
    record(
        "ASC-2023-000777",
        "北京海天润泽家居有限公司",
        "Beijing Haitian Runze Home Furnishing Co., Ltd.",
        "110108",
        "furniture",
        SOFAS,
        score="85.0",
        level="three-star",
    ),
    # 海润 and 润智, but not 海润智
    record(
        "ASC-2024-000123",
        "广州润智海润贸易有限公司",
        "Guangzhou Runzhi Hairun Trading Co., Ltd.",
        "440305",
        "e-commerce-retail",
        ("家电零售及售后服务", "Appliance retail and after-sales service"),
    ),
    record(
        "ASC-2022-000031",
        "烟台鲁信电梯股份有限公司",
        "Yantai Luxin Elevator Co., Ltd.",
        "370200",
        "elevators",
        (
            "乘客电梯的安装、维修、保养服务",
            "Installation, repair and maintenance of passenger elevators",
        ),
        status="withdrawn",
        score="82.0",
        level="three-star",
    ),
    record(
        "ASC-2026-000007",
        "TCL示例净水科技有限责任公司",
        "TCL Example Water Technology Co., Ltd.",
        "440300",
        "water-treatment",
        ("净水器的销售及售后服务", "Sales and after-sales service of water purifiers"),
        score="75.0",
        level="compliant",
    ),
]
WITHDRAWN = {"ASC-2022-000031": "withdrawn"}


@pytest.fixture(scope="module")
def settings() -> settings_mod.Settings:
    return settings_mod.load(ROOT)


def make_registry(settings: settings_mod.Settings, records: list[dict[str, Any]]) -> Registry:
    certs = [Certificate.from_data(r, f"certificates/{r['number']}.yaml") for r in records]
    return Registry.create(settings, certs, AS_OF)


def write(files: dict[str, bytes], site: Path) -> Path:
    for rel, content in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    return site / "search" / "idx"


class Node:
    """One Node process running tests/js/search_cli.mjs --serve for the whole test session."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            ["node", str(CLI), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        assert "error" not in reply, reply["error"]
        return reply

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def node() -> Any:
    runner = Node()
    yield runner
    runner.close()


class Index:
    """A built index on disk and the registry it came from, with an oracle to compare with."""

    def __init__(self, registry: Registry, directory: Path, node: Node) -> None:
        self.registry = registry
        self.directory = directory
        self.node = node

    def search(self, *queries: str, limit: int | None = None) -> list[dict[str, Any]]:
        return [
            self.node.ask({"dir": str(self.directory), "query": q, "limit": limit}) for q in queries
        ]

    def one(self, query: str, limit: int | None = None) -> dict[str, Any]:
        return self.search(query, limit=limit)[0]

    def expected(self, query: str) -> set[str]:
        """Certificates whose normalised searched texts contain the normalised query."""
        q = normalise(query)
        settings = self.registry.settings
        return {
            c.number
            for c in self.registry.certificates
            if any(q in normalise(text) for text in searched_texts(c, settings))
        }


@pytest.fixture(scope="module")
def index(
    settings: settings_mod.Settings, tmp_path_factory: pytest.TempPathFactory, node: Node
) -> Index:
    registry = make_registry(settings, RECORDS)
    return Index(registry, write(build_index(registry), tmp_path_factory.mktemp("site")), node)


def numbers(answer: dict[str, Any]) -> list[str]:
    return [r["number"] for r in answer["results"]]


# --- names --------------------------------------------------------------------------------------


def test_substring_in_the_middle_of_a_name(index: Index) -> None:
    answer = index.one("海润")
    assert set(numbers(answer)) == {"ASC-2025-000123", "ASC-2024-000123"} == index.expected("海润")
    assert answer["complete"] and answer["total"] == 2


def test_no_false_positive_when_characters_are_not_adjacent(index: Index) -> None:
    assert "ASC-2023-000777" not in numbers(index.one("海润"))  # 北京海天润泽: 海 … 润
    assert "ASC-2024-000045" not in numbers(index.one("海润"))  # 深圳润海
    # 广州润智海润 holds 海润 and 润智 but not 海润智: the shown rows are verified
    answer = index.one("海润智")
    assert numbers(answer) == ["ASC-2025-000123"]
    assert answer["total"] == 1 and answer["complete"]


@pytest.mark.parametrize(
    "query", ["海润智家", "智家电器", "青岛海润智家电器有限公司", "家电", "电器有限"]
)
def test_longer_substrings_agree_with_the_oracle(index: Index, query: str) -> None:
    answer = index.one(query)
    assert set(numbers(answer)) == index.expected(query)
    assert answer["complete"] and answer["total"] == len(index.expected(query))


@pytest.mark.parametrize("query", ["润", "海", "电", "T"])
def test_single_character(index: Index, query: str) -> None:
    answer = index.one(query)
    assert set(numbers(answer)) <= index.expected(query)
    if query != "T":  # one ASCII letter matches the start of a word only (documented)
        assert set(numbers(answer)) == index.expected(query)
    assert answer["total"] == len(answer["results"])


def test_mixed_script_name(index: Index) -> None:
    assert numbers(index.one("TCL示例")) == ["ASC-2026-000007"]
    assert numbers(index.one("tcl")) == ["ASC-2026-000007"]


# --- numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "ASC-2025-000123",
        "asc-2025-000123",
        "ＡＳＣ－２０２５－０００１２３",
        "asc2025000123",
        "ASC 2025 000123",
        "ASC--2025-000123",
        " ASC - 2025 - 000123 ",
        "ASC—2025—000123",
        "2025000123",
    ],
)
def test_every_sloppy_form_of_a_number(index: Index, query: str) -> None:
    answer = index.one(query)
    assert answer["mode"] == "number"
    assert answer["results"][0]["number"] == "ASC-2025-000123"
    assert answer["results"][0]["exact"] is True
    assert answer["results"][0]["url"] == "c/ASC-2025-000123/"


@pytest.mark.parametrize("query", ["000123", "123", "5000123"])
def test_partial_number_is_the_end_of_a_number(index: Index, query: str) -> None:
    found = set(numbers(index.one(query)))
    assert "ASC-2025-000123" in found
    assert all(compact_number(n).endswith(query) for n in found)


def test_partial_number_finds_every_number_it_ends(index: Index) -> None:
    assert set(numbers(index.one("000123"))) == {"ASC-2025-000123", "ASC-2024-000123"}


def test_start_of_a_number_while_typing(index: Index) -> None:
    assert set(numbers(index.one("ASC-2025-0001"))) == {"ASC-2025-000123"}
    assert set(numbers(index.one("asc-202"))) == {r["number"] for r in RECORDS}


def test_unknown_number_finds_nothing_and_says_it_looks_like_a_number(index: Index) -> None:
    answer = index.one("ASC-2099-999999")
    assert answer["results"] == [] and answer["total"] == 0 and answer["complete"]
    assert answer["looksLikeNumber"] is True


# --- other fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query", ["QINGDAO HAIRUN", "hairun smart", "Hairun", "ELEVATOR CO", "runze home"]
)
def test_english_name_in_any_case(index: Index, query: str) -> None:
    answer = index.one(query)
    assert set(numbers(answer)) == index.expected(query) != set()


@pytest.mark.parametrize(
    "query", ["空调", "平板电脑", "保养", "installation", "Mobile Phones", "after-sales"]
)
def test_scope_words(index: Index, query: str) -> None:
    assert set(numbers(index.one(query))) == index.expected(query) != set()


@pytest.mark.parametrize("query", ["崂山区", "山东省青岛市", "青岛市崂山", "深圳市", "海淀"])
def test_region_names(index: Index, query: str) -> None:
    assert set(numbers(index.one(query))) == index.expected(query) != set()


@pytest.mark.parametrize(
    "query", ["家用电器", "电梯及特种设备", "Household appliances", "consumer electronics"]
)
def test_industry_labels(index: Index, query: str) -> None:
    answer = index.one(query)
    assert set(numbers(answer)) == index.expected(query) != set()


@pytest.mark.parametrize("query", ["啊哦呃", "zzqxj", "海润海润", "空调电梯", "x"])
def test_nonsense_finds_nothing(index: Index, query: str) -> None:
    answer = index.one(query)
    assert answer["results"] == [] and answer["total"] == 0 and answer["complete"]


@pytest.mark.parametrize("query", ["", "   ", "、，。", "--"])
def test_empty_query(index: Index, query: str) -> None:
    answer = index.one(query)
    assert answer["results"] == [] and answer["total"] == 0


# --- what a result row shows --------------------------------------------------------------------


def test_result_row(index: Index, settings: settings_mod.Settings) -> None:
    row = index.one("烟台鲁信")["results"][0]
    assert row["number"] == "ASC-2022-000031"
    assert row["name"] == "烟台鲁信电梯股份有限公司"
    assert row["level"]["zh"] == settings.level("three-star").zh
    assert row["verdict"] == {
        "key": "withdrawn",
        "zh": settings.status("withdrawn").zh,
        "en": settings.status("withdrawn").en,
    }
    assert row["region"] == settings.region_name("370200")
    assert row["field"] == "name"
    assert row["url"] == "c/ASC-2022-000031/"


def test_verdict_is_derived_for_the_as_of_date(
    settings: settings_mod.Settings, tmp_path: Path, node: Node
) -> None:
    old = record(
        "ASC-2021-000002",
        "济南示例电器有限公司",
        "Jinan Example Appliance Co., Ltd.",
        "370200",
        "household-appliances",
        AIRCON,
    )
    registry = make_registry(settings, [old])
    expired = Index(registry, write(build_index(registry), tmp_path), node)
    row = expired.one("济南示例")["results"][0]
    assert row["verdict"]["key"] == "expired"


def test_matched_field_is_reported(index: Index) -> None:
    assert index.one("空调")["results"][0]["field"] == "scope_zh"
    assert index.one("Smart Home")["results"][0]["field"] == "name_en"
    assert index.one("崂山")["results"][0]["field"] == "region"
    assert index.one("000123")["results"][0]["field"] == "number"


# --- common grams, caps and honest counts -------------------------------------------------------


def crowded_records() -> list[dict[str, Any]]:
    """80 made-up enterprises with much in common: 有限公司, 电器, four cities."""
    rng = random.Random(7)
    cities = ["青岛", "烟台", "深圳", "北京"]
    trade = "海润智家美华康达信宏泰鑫源盛科创联通丰瑞恒嘉德佳荣安"
    suffixes = ["有限公司", "股份有限公司", "有限责任公司"]
    records = []
    for i in range(80):
        name = f"{rng.choice(cities)}{''.join(rng.sample(trade, 2))}电器{rng.choice(suffixes)}{i}"
        records.append(
            record(
                f"ASC-2025-{i + 1:06d}",
                name,
                f"Example {i} Co., Ltd.",
                "370212",
                "household-appliances",
                AIRCON,
            )
        )
    return records


@pytest.fixture(scope="module", params=["common files", "stop grams"])
def crowded(
    request: pytest.FixtureRequest,
    settings: settings_mod.Settings,
    tmp_path_factory: pytest.TempPathFactory,
    node: Node,
) -> Index:
    """The crowded registry indexed with one row per document chunk (so that a query of common
    grams has more rows to check than the budget) and either every frequent gram in its own file
    or every gram in more than 10 documents a stop gram (only its count kept)."""
    registry = make_registry(settings, crowded_records())
    tuning = {"doc_chunk": 1, "shard_bytes": 200}
    if request.param == "common files":
        files = build_index(registry, common_bytes=8, **tuning)
    else:
        files = build_index(registry, stop_docs=10, **tuning)
    return Index(registry, write(files, tmp_path_factory.mktemp("crowded")), node)


def test_common_grams_only_are_capped_but_exact_and_honest(crowded: Index) -> None:
    expected = crowded.expected("有限公司")
    assert 20 < len(expected) < 80  # 有限责任公司 does not contain 有限公司
    answer = crowded.one("有限公司")
    shown = numbers(answer)
    assert len(shown) == 20 and set(shown) <= expected  # what is shown is exact
    assert answer["complete"] is False
    assert 20 <= answer["total"] <= len(expected)  # "at least …"
    assert answer["candidates"] >= len(expected)  # "at most …"
    full = crowded.one("有限公司", limit=100)  # more pages: every candidate is checked
    assert full["complete"] and set(numbers(full)) == expected and full["total"] == len(expected)


@pytest.mark.parametrize(
    "query", ["电器", "电", "有限", "青岛", "售后服务", "Co., Ltd.", "example 1", "co", "e"]
)
def test_common_grams_agree_with_the_oracle(crowded: Index, query: str) -> None:
    answer = crowded.one(query, limit=100)
    assert set(numbers(answer)) == crowded.expected(query)
    assert answer["complete"] and answer["total"] == len(crowded.expected(query))


@pytest.mark.parametrize("query", ["电器", "电", "有限", "co"])
def test_one_frequent_gram_is_paged_and_counted_honestly(crowded: Index, query: str) -> None:
    expected = crowded.expected(query)
    answer = crowded.one(query)
    assert len(answer["results"]) == 20 and set(numbers(answer)) <= expected
    if answer["complete"]:
        assert answer["total"] == len(expected)
    else:  # "at least total, at most candidates"
        assert 20 <= answer["total"] <= len(expected) <= answer["candidates"]


def test_rare_gram_with_common_ones(crowded: Index) -> None:
    for cert in crowded.registry.certificates[::7]:
        query = cert.organization.name[1:6]
        answer = crowded.one(query, limit=100)
        assert set(numbers(answer)) == crowded.expected(query)
        assert answer["complete"]


def test_stop_grams_keep_only_a_count(settings: settings_mod.Settings) -> None:
    registry = make_registry(settings, crowded_records())
    shards = build_index(registry, stop_docs=10)
    entries: dict[str, list[Any]] = {}
    for path, content in shards.items():
        if path.startswith("search/idx/g/"):
            entries.update(json.loads(content))
    with_it = len(Index(registry, Path(), None).expected("有限"))  # type: ignore[arg-type]
    assert len(entries["有限"]) == 1 and with_it <= entries["有限"][0] <= 80
    assert all(len(e) == 2 for e in entries.values() if e[0] <= 10)


# --- format and determinism ---------------------------------------------------------------------


def test_output_paths_and_determinism(settings: settings_mod.Settings) -> None:
    first = build_index(make_registry(settings, RECORDS))
    again = build_index(make_registry(settings, list(reversed(RECORDS))))
    assert first == again
    assert all(path.startswith("search/idx/") for path in first)
    assert {"search/idx/meta.json", "search/idx/n/index.json"} <= set(first)
    for content in first.values():
        json.loads(content)  # every file is JSON
        assert b"\n" not in content


def test_output_does_not_depend_on_hash_seeds() -> None:
    """Sets of strings iterate in a different order in every Python process."""
    script = (
        "import hashlib, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import test_search as t\n"
        "from generator.search import build_index\n"
        "settings = t.settings_mod.load(t.ROOT)\n"
        "files = build_index(t.make_registry(settings, t.crowded_records() + t.RECORDS), "
        "doc_chunk=3, common_bytes=8, stop_docs=20)\n"
        "print(hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest())\n"
    )
    digests = set()
    for seed in ("1", "2", "3"):
        out = subprocess.run(
            [sys.executable, "-c", script, str(ROOT / "tests"), str(ROOT)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        digests.add(out.stdout)
    assert len(digests) == 1


def test_empty_registry(settings: settings_mod.Settings, tmp_path: Path, node: Node) -> None:
    registry = make_registry(settings, [])
    answer = Index(registry, write(build_index(registry), tmp_path), node).search(
        "海润", "ASC-2025-000123"
    )
    assert all(a["total"] == 0 and a["results"] == [] for a in answer)


def test_postings_code_round_trip() -> None:
    search_mod._GAPS.clear()  # the table of gap codes grows on demand: start from nothing
    for doc in (0, 1, 2, 31, 32, 45, 1023, 1024, 40_000):
        assert decode_postings(encode_postings([doc])) == [doc]
        assert decode_postings(encode_postings([0, doc + 1])) == [0, doc + 1]
    rng = random.Random(1)
    for _ in range(200):
        ids = sorted(rng.sample(range(200_000), rng.randint(0, 60)))
        assert decode_postings(encode_postings(ids)) == ids


@pytest.mark.parametrize(
    "text",
    [
        "ＡＳＣ－２０２５－０００１２３",
        "Qingdao\u00a0HAIRUN",
        "青岛\u3000海润",
        "海\u200b润",
        "  a \t b  ",
        "Ⅻ号",
        "ÉCOLE",
        "ﬁne",
        "①②",
        "TCL®空调",
    ],
)
def test_python_and_javascript_normalise_alike(text: str, node: Node) -> None:
    js = node.ask({"normalise": text})
    assert js["normalise"] == normalise(text)
    assert js["compact"] == compact_number(text)


# --- the page -----------------------------------------------------------------------------------


class _Tags(HTMLParser):
    VOID = {"input", "br", "img", "meta", "link", "hr"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()


def test_search_page_html(settings: settings_mod.Settings) -> None:
    html = search_page_html(settings)
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.open == []
    tags = parser.found
    forms = [a for t, a in tags if t == "form"]
    assert forms == [
        {"role": "search", "action": "./", "method": "get", "class": "sm-search__form"}
    ]
    inputs = [a for t, a in tags if t == "input"]
    assert len(inputs) == 1 and inputs[0]["type"] == "search" and inputs[0]["name"] == "q"
    labels = [a for t, a in tags if t == "label"]
    assert labels and labels[0]["for"] == inputs[0]["id"]
    assert any(a.get("aria-live") == "polite" and "data-starmark-results" in a for t, a in tags)
    noscript = html[html.index("<noscript>") : html.index("</noscript>")]
    assert 'href="../list/"' in noscript and "JavaScript" in noscript
    assert noscript.index("搜索") < noscript.index("Search")  # Chinese first
    assert ("script", {"type": "module", "src": "../assets/starmark/search.js"}) in tags
    assert settings.number.example in html
    ids = [a["id"] for _, a in tags if a.get("id")]
    assert len(ids) == len(set(ids))


def test_script_is_where_the_theme_serves_it() -> None:
    source = SCRIPT.read_text("utf-8")
    assert "export async function query(" in source and "export function normalise(" in source
    assert "innerHTML" not in source  # results are inserted as text only


# --- the page in a real browser -----------------------------------------------------------------

PAGE = """<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>查询证书</title></head>
<body><article class="md-typeset">{fragment}</article></body></html>
"""


@pytest.fixture(scope="module")
def served(settings: settings_mod.Settings, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A tiny site: the search page, search.js where the theme puts it, and an index of the
    fictional records plus 30 more (for "show more") and one whose name is markup."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    extra = [
        record(
            f"ASC-2026-{100 + i:06d}",
            f"测试{i:02d}号示例电器有限公司",
            f"Test {i} Co., Ltd.",
            "370212",
            "household-appliances",
            AIRCON,
        )
        for i in range(30)
    ]
    markup = record(
        "ASC-2026-000999",
        "示例<img src=x onerror=alert(1)>电器有限公司",
        "Markup <b>Example</b> Co., Ltd.",
        "370212",
        "household-appliances",
        AIRCON,
    )
    registry = make_registry(settings, [*RECORDS, *extra, markup])
    site = tmp_path_factory.mktemp("served")
    write(build_index(registry), site)
    (site / "search").mkdir(exist_ok=True)
    (site / "search" / "index.html").write_text(
        PAGE.format(fragment=search_page_html(settings)), "utf-8"
    )
    (site / "assets" / "starmark").mkdir(parents=True)
    shutil.copy(SCRIPT, site / "assets" / "starmark" / "search.js")

    class Handler(SimpleHTTPRequestHandler):
        extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript"}

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=site))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def page(served: str) -> Any:

    chromium = (
        os.environ.get("STARMARK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_unless(False, "the playwright Python package")
    skip_unless(Path(chromium).exists(),
                "Chromium (apt-get install chromium, or set STARMARK_CHROMIUM)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        page = browser.new_page(viewport={"width": 360, "height": 640}, locale="zh-CN")
        page.problems = []
        page.on(
            "console",
            lambda msg: (
                msg.type == "error"
                and not msg.text.startswith(
                    "Failed to load resource"
                )  # reported below, with its URL
                and page.problems.append(msg.text)
            ),
        )
        page.on(
            "response",
            lambda res: (
                res.status >= 400
                and not res.url.endswith("/favicon.ico")
                and page.problems.append(f"HTTP {res.status} {res.url}")
            ),
        )
        page.on("pageerror", lambda err: page.problems.append(str(err)))
        page.on("dialog", lambda dialog: page.problems.append(f"dialog: {dialog.message}"))
        page.base = served
        yield page
        browser.close()


RESULTS = "[data-starmark-results]"


def results_text(page: Any) -> str:
    return page.locator(RESULTS).inner_text()


def type_query(page: Any, text: str) -> None:
    box = page.locator('input[name="q"]')
    box.fill("")
    box.type(text)
    page.wait_for_function(
        "q => new URLSearchParams(location.search).get('q') === q", arg=text, timeout=5000
    )
    page.wait_for_function(
        "() => !document.querySelector('[data-starmark-results]').hasAttribute('aria-busy')"
    )


@pytest.mark.browser
@pytest.mark.slow
def test_page_reads_q_and_shows_verified_rows(page: Any) -> None:
    page.goto(page.base + "search/?q=%E6%B5%B7%E6%B6%A6")  # ?q=海润
    page.wait_for_selector(".sm-search__count")
    assert page.locator('input[name="q"]').input_value() == "海润"
    assert "找到 2 个证书" in results_text(page) and "2 certificates found" in results_text(page)
    links = page.locator(f"{RESULTS} a.sm-search__link")
    hrefs = sorted(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert hrefs == [page.base + "c/ASC-2024-000123/", page.base + "c/ASC-2025-000123/"]
    assert page.locator(f"{RESULTS} mark").first.inner_text() == "海润"
    assert "五星级" in results_text(page) and "有效" in results_text(page)
    assert not page.problems, page.problems


@pytest.mark.browser
@pytest.mark.slow
def test_typing_updates_results_and_address(page: Any) -> None:
    page.goto(page.base + "search/")
    type_query(page, "ＡＳＣ－２０２５－０００１２３")
    first = page.locator(f"{RESULTS} a.sm-search__link").first
    assert first.get_attribute("href").endswith("/c/ASC-2025-000123/")
    type_query(page, "ASC-2099-999999")
    text = results_text(page)
    assert "没有找到" in text and "Nothing found" in text
    assert "这看起来像证书编号" in text  # the hint, with the number format
    type_query(page, "夔龘靐")
    assert "没有找到" in results_text(page) and "这看起来像证书编号" not in results_text(page)
    assert not page.problems, page.problems


@pytest.mark.browser
@pytest.mark.slow
def test_show_more_and_markup_is_text(page: Any) -> None:
    page.goto(page.base + "search/?q=%E6%B5%8B%E8%AF%95")  # ?q=测试
    page.wait_for_selector(".sm-search__count")
    assert page.locator(f"{RESULTS} li").count() == 20
    page.get_by_role("button", name="显示更多").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-starmark-results] li').length === 30"
    )
    assert "找到 30 个证书" in results_text(page)
    type_query(page, "示例<img")
    assert page.locator(f"{RESULTS} img").count() == 0
    assert "示例<img src=x onerror=alert(1)>电器有限公司" in results_text(page)
    assert not page.problems, page.problems
