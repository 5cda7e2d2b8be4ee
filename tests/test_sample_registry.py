"""The sample registry in certificates/ covers what the site must be able to show.

The records are fictional (示例数据); these tests keep them so: enough of them, every level and
every public status on the reference date, many industries and provinces, histories of every
shape, unique and well-formed identifiers, and no name of a real consumer brand.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from generator import creditcode, lifecycle
from generator.load import load_registry
from generator.model import Certificate, Registry

ROOT = Path(__file__).resolve().parent.parent
# The day the samples were written for: every status, "due soon" and "expired" are seen from here.
AS_OF = dt.date(2026, 11, 27)

# Big Chinese consumer brands and retailers a sample must never be mistaken for.
# fmt: off
REAL_BRANDS_ZH = (
    "海尔", "美的", "格力", "海信", "华为", "小米", "格兰仕", "方太", "老板电器", "苏宁",
    "京东", "国美", "联想", "长虹", "康佳", "创维", "奥克斯", "九阳", "苏泊尔", "美菱", "荣耀",
    "比亚迪", "吉利", "蔚来", "顾家", "欧派", "索菲亚", "伊利", "蒙牛", "娃哈哈", "农夫山泉",
    "安踏", "李宁", "波司登", "三一重工", "徐工", "海天", "顺丰", "华帝", "万和", "科沃斯",
    "追觅", "中兴", "迈瑞", "鱼跃", "得力", "奔图",
)
REAL_BRANDS_EN = (
    "Haier", "Midea", "Gree", "Hisense", "Huawei", "Xiaomi", "TCL", "Galanz", "Fotile", "Robam",
    "Suning", "JD", "Gome", "Lenovo", "Changhong", "Konka", "Skyworth", "AUX", "Joyoung",
    "Supor", "Meiling", "Honor", "BYD", "Geely", "NIO", "Oppein", "Yili", "Mengniu", "Wahaha",
    "Anta", "Li-Ning", "Bosideng", "Sany", "XCMG", "Haitian", "Vatti", "Ecovacs", "Dreame",
    "ZTE", "Mindray", "Yuwell", "Pantum",
)
# fmt: on


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(ROOT, as_of=AS_OF)


@pytest.fixture(scope="module")
def certs(registry: Registry) -> tuple[Certificate, ...]:
    return registry.certificates


def verdicts(registry: Registry) -> Counter[str]:
    return Counter(registry.standing(c).verdict for c in registry.certificates)


def passed_surveillance(cert: Certificate) -> Iterator[dt.date]:
    yield from (a.date for a in cert.audits if a.kind == "surveillance" and a.result == "pass")


def test_enough_records(certs: tuple[Certificate, ...]) -> None:
    assert len(certs) >= 40


def test_every_level_appears(registry: Registry, certs: tuple[Certificate, ...]) -> None:
    assert {lv.key for lv in registry.settings.levels} <= {c.level for c in certs}


def test_every_status_appears_as_a_verdict(registry: Registry) -> None:
    """valid, suspended, withdrawn, cancelled and the derived expired are all on show."""
    keys = {st.key for st in registry.settings.statuses}
    assert "expired" in keys
    assert keys <= set(verdicts(registry))


def test_at_least_two_expired(registry: Registry) -> None:
    expired = [c for c in registry.certificates if registry.standing(c).verdict == "expired"]
    assert len(expired) >= 2
    assert any(c.status == lifecycle.VALID for c in expired)
    assert all(c.expires < AS_OF for c in expired)


def test_many_industries_and_provinces(certs: tuple[Certificate, ...]) -> None:
    assert len({c.industry for c in certs}) >= 8
    assert len({c.organization.region[:2] for c in certs}) >= 10


def test_one_surveillance_due_soon(registry: Registry) -> None:
    due = [c for c in registry.certificates if registry.standing(c).surveillance_due_soon]
    assert due, "no certificate has its surveillance audit due within the due-soon window"


def test_several_in_force_and_up_to_date(registry: Registry) -> None:
    current = [
        c
        for c in registry.certificates
        if registry.standing(c).in_force
        and not registry.standing(c).surveillance_overdue
        and not registry.standing(c).surveillance_due_soon
    ]
    assert len(current) >= 10


def test_every_record_is_marked_sample(certs: tuple[Certificate, ...]) -> None:
    assert [c.number for c in certs if not c.sample] == []


def test_credit_codes_are_unique_and_check(certs: tuple[Certificate, ...]) -> None:
    codes = Counter(c.organization.credit_code for c in certs)
    assert [code for code, n in codes.items() if n > 1] == []
    assert all(creditcode.is_valid(code) for code in codes)


def test_regions_are_known_divisions(registry: Registry, certs: tuple[Certificate, ...]) -> None:
    regions = registry.settings.regions
    assert [c.number for c in certs if c.organization.region not in regions] == []
    # Counties, not just provinces: the address starts with the full path of the division.
    for c in certs:
        full_name = registry.settings.region_name(c.organization.region)
        assert c.organization.address.startswith(full_name), c.number


def test_addresses_are_plainly_fictional(certs: tuple[Certificate, ...]) -> None:
    assert [c.number for c in certs if "示例" not in c.organization.address] == []


def test_numbers_carry_the_year_of_first_issue(certs: tuple[Certificate, ...]) -> None:
    for c in certs:
        assert c.number[4:8] == str(c.first_issued.year), c.number
        assert Path(c.source).parent.name == c.number[4:8], c.source


def test_histories_of_every_shape(certs: tuple[Certificate, ...]) -> None:
    """0, 1 and 2 surveillance audits, renewals, level changes, reinstatement, scope reduction."""
    lengths = {len(list(passed_surveillance(c))) for c in certs if c.status == lifecycle.VALID}
    assert {0, 1, 2} <= lengths
    kinds = Counter(e.kind for c in certs for e in c.events)
    shapes = ("renewed", "level-changed", "reinstated", "scope-reduced", "withdrawn", "cancelled")
    assert [kind for kind in shapes if not kinds[kind]] == []
    renewed = [c for c in certs if any(e.kind == "renewed" for e in c.events)]
    assert all(any(a.kind == "recertification" for a in c.audits) for c in renewed)
    assert all(c.issued > c.first_issued for c in renewed)


def test_suspensions_and_withdrawals_give_reasons(certs: tuple[Certificate, ...]) -> None:
    for c in certs:
        for e in c.events:
            if e.kind in ("suspended", "withdrawn", "cancelled", "scope-reduced", "level-changed"):
                assert e.reason and e.reason_en, f"{c.number}: {e.kind} on {e.date}"


def test_one_cancelled_at_the_holders_request(certs: tuple[Certificate, ...]) -> None:
    reasons = [e.reason or "" for c in certs for e in c.events if e.kind == "cancelled"]
    assert any("申请" in r for r in reasons)


def test_every_passed_surveillance_audit_is_in_the_feed(certs: tuple[Certificate, ...]) -> None:
    for c in certs:
        event_days = {e.date for e in c.events if e.kind == "surveillance"}
        assert set(passed_surveillance(c)) <= event_days, c.number


def test_names_support_substring_search(certs: tuple[Certificate, ...]) -> None:
    names = [c.organization.name for c in certs]
    assert any("海润" in n and n != "海润" and not n.startswith("海润") for n in names)
    assert sum("智家" in n for n in names) >= 2


def test_about_two_thirds_have_english_names(certs: tuple[Certificate, ...]) -> None:
    share = sum(bool(c.organization.name_en) for c in certs) / len(certs)
    assert 0.5 <= share <= 0.85


def test_no_real_brand_is_named(certs: tuple[Certificate, ...]) -> None:
    """Chinese brands as substrings of the name; English ones as whole words (Gree, not Green)."""
    english = re.compile(r"\b(" + "|".join(map(re.escape, REAL_BRANDS_EN)) + r")\b", re.IGNORECASE)
    found = []
    for c in certs:
        org = c.organization
        found += [(c.number, brand) for brand in REAL_BRANDS_ZH if brand in org.name]
        found += [(c.number, m.group(0)) for m in english.finditer(org.name_en or "")]
    assert found == []


def test_region_table_is_the_full_division_list(registry: Registry) -> None:
    regions = registry.settings.regions
    assert len(regions) > 3000
    provinces = [code for code in regions if code.endswith("0000")]
    assert len(provinces) == 34
    for code in ("110000", "110108", "370000", "370200", "370212", "440000", "440300", "440305"):
        assert code in regions, code
    assert regions["370212"].en == "Laoshan District"
    assert regions["370200"].en == "Qingdao"
    assert regions["370000"].en == "Shandong"
