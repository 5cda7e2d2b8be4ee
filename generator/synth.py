"""Synthetic registries for benchmarks and tests: valid, varied, fictional, reproducible by seed.

Every record follows the scheme's rules as the registry's settings state them (thresholds,
validity, surveillance interval, legal moves), so ``starmark validate`` passes on the output.
Names are made of common trade-name syllables and are labelled sample data: they are not
meant to be, and must not be presented as, real enterprises. Each record is written by
:func:`generator.spreadsheet.yamltext.record_text`, in the layout ``starmark new`` and
``starmark import`` write, so an exported and re-imported synthetic registry is the same bytes.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import counterfeits, creditcode, lifecycle
from .rules import fold_number
from .settings import Settings
from .spreadsheet import yamltext

SYLLABLES = tuple(
    "华润泰鑫安康盛达信宏嘉禾源恒瑞德丰锦川和美佳新联通捷优卓汇誉晟辰铭睿"
    "诚益顺远明耀星海蓝天云启航凯豪乐怡家悦智博众合宇景光立昌隆兴福惠沃科"
)
KINDS = {
    "household-appliances": ("电器", "家电", "厨卫电器"),
    "consumer-electronics": ("电子", "数码科技", "智能科技"),
    "automobiles": ("汽车销售服务", "汽车部件", "新能源汽车"),
    "furniture": ("家居", "家具", "全屋定制"),
    "building-materials": ("建材", "卫浴", "门窗"),
    "e-commerce-retail": ("电子商务", "商贸", "零售连锁"),
    "machinery": ("机械", "装备", "动力设备"),
    "medical-devices": ("医疗器械", "康复设备", "医疗科技"),
    "telecommunications": ("通信技术", "网络科技", "通信设备"),
    "logistics": ("物流", "供应链", "配送服务"),
    "textiles-apparel": ("服饰", "纺织", "家纺"),
    "food-beverage": ("食品", "饮品", "乳业"),
    "office-equipment": ("办公设备", "办公科技", "打印设备"),
    "elevators": ("电梯", "机电工程", "扶梯"),
    "water-treatment": ("净水科技", "环境电器", "水处理设备"),
}
SCOPES = {
    "household-appliances": "家用电器的销售、配送、安装、维修及售后服务",
    "consumer-electronics": "智能终端产品的销售、维修及售后服务",
    "automobiles": "乘用车的销售、维修保养及售后服务",
    "furniture": "家具产品的销售、配送、安装及售后服务",
    "building-materials": "建材及卫浴产品的销售、安装及售后服务",
    "e-commerce-retail": "网络零售商品的配送、退换货及售后服务",
    "machinery": "工业设备的销售、安装调试、维修及技术支持服务",
    "medical-devices": "医疗器械的销售、安装、维修及技术支持服务",
    "telecommunications": "通信设备的销售、安装、维护及售后服务",
    "logistics": "商品配送、安装及逆向物流服务",
    "textiles-apparel": "服装及家纺产品的销售、退换及售后服务",
    "food-beverage": "食品饮料的销售、配送及顾客服务",
    "office-equipment": "办公设备的销售、安装、维修及售后服务",
    "elevators": "电梯的安装、维修保养及售后服务",
    "water-treatment": "净水设备的销售、安装、滤芯更换及售后服务",
}
SUFFIXES = ("有限公司", "股份有限公司", "集团有限公司")
# Trade names of well-known enterprises that the syllables above could spell: never generated,
# so no synthetic record can be mistaken for a real company's certificate.
# fmt: off
AVOID = (
    "海尔", "美的", "格力", "海信", "华为", "小米", "苏宁", "京东", "国美", "联想", "长虹",
    "康佳", "创维", "九阳", "美菱", "荣耀", "吉利", "蔚来", "顾家", "伊利", "蒙牛", "安踏",
    "李宁", "海天", "顺丰", "华帝", "万和", "中兴", "迈瑞", "鱼跃", "得力", "奔图", "方太",
    "欧派", "格兰仕", "老板", "智家", "华润", "恒瑞", "明远", "星海", "天启", "安康", "和美",
    "新华", "光明", "海航", "联通",
)
# fmt: on
STATUS_WEIGHTS = (
    ("valid", 80), ("suspended", 6), ("withdrawn", 5), ("cancelled", 4), ("expired", 5),
)


@dataclass(frozen=True)
class Audit:
    date: dt.date
    kind: str
    score: Decimal
    result: str = "pass"


def _score(rng: random.Random, settings: Settings) -> Decimal:
    top = float(settings.max_score)
    low = float(settings.min_score)
    return Decimal(str(round(rng.triangular(low, top, low + (top - low) * 0.7), 1)))


def _credit_code(rng: random.Random, region: str) -> str:
    body = "91" + region + "MA" + "".join(rng.choice(creditcode.ALPHABET) for _ in range(7))
    return body + creditcode.check_character(body)


class Synthesizer:
    """Makes records one at a time; the same seed and as-of date give the same records."""

    def __init__(self, settings: Settings, as_of: dt.date, seed: int = 1) -> None:
        self.settings = settings
        self.as_of = as_of
        self.rng = random.Random(seed)
        self.counties = sorted(code for code in settings.regions if not code.endswith("00"))
        known = sorted(k for k in settings.industries if k in KINDS)
        self.industries = known or sorted(settings.industries)
        self.serials: dict[int, int] = {}
        self.names: set[str] = set()
        reported = counterfeits.load(settings).number_set
        self.counterfeit = frozenset(fold_number(n) for n in reported)

    def _number(self, year: int) -> str:
        while True:
            serial = self.serials.get(year, 0) + 1
            self.serials[year] = serial
            number = self.settings.number.template.format(year=year, serial=serial)
            if fold_number(number) not in self.counterfeit:  # never a reported counterfeit
                return number

    def _name(self, region: str, industry: str) -> str:
        city = self.settings.region_path(region)
        place = (city[1].zh if len(city) > 1 else city[0].zh).removesuffix("市").removesuffix("省")
        for _ in range(50):
            trade = "".join(self.rng.sample(SYLLABLES, 2 if self.rng.random() < 0.8 else 3))
            kind = self.rng.choice(KINDS.get(industry, ("服务",)))
            name = f"{place}{trade}{kind}{self.rng.choice(SUFFIXES)}"
            own = name[len(place) :]  # the place is a real city; the rest is made up
            if name not in self.names and not any(word in own for word in AVOID):
                self.names.add(name)
                return name
        return name

    def _audits(self, initial: dt.date, until: dt.date) -> list[Audit]:
        rules = self.settings.lifecycle
        audits = [Audit(initial, "initial", _score(self.rng, self.settings))]
        while True:
            early = dt.timedelta(days=self.rng.randint(0, 25))
            due = lifecycle.surveillance_due(audits[-1].date, rules) - early
            if due > until:
                return audits
            audits.append(Audit(due, "surveillance", _score(self.rng, self.settings)))

    def record(self) -> tuple[str, str]:
        """One record: its number and its YAML text."""
        rng, s = self.rng, self.settings
        rules = s.lifecycle
        status = rng.choices([k for k, _ in STATUS_WEIGHTS], [w for _, w in STATUS_WEIGHTS])[0]
        span = rules.validity_years * 365
        if status == "expired":
            issued = self.as_of - dt.timedelta(days=span + rng.randint(5, 400))
        else:
            issued = self.as_of - dt.timedelta(days=rng.randint(20, span - 20))
        expires = lifecycle.expiry_for(issued, rules)
        initial = issued - dt.timedelta(days=rng.randint(10, 40))
        last_day = min(self.as_of, expires) - dt.timedelta(days=1)
        events: list[tuple[dt.date, str, str | None]] = [(issued, "issued", None)]
        final_status = "valid"
        stop = last_day
        if status in ("suspended", "withdrawn", "cancelled"):
            stop = issued + dt.timedelta(days=rng.randint(30, max(31, (last_day - issued).days)))
        audits = self._audits(initial, min(stop, last_day))
        for audit in audits[1:]:
            events.append((audit.date, "surveillance", None))
        if status == "suspended":
            when = max(audits[-1].date, issued, self.as_of - dt.timedelta(days=rng.randint(5, 150)))
            events.append((when, "suspended", "监督审核发现投诉处理不符合要求，整改未完成"))
            final_status = "suspended"
        elif status == "withdrawn":
            when = max(audits[-1].date, issued) + dt.timedelta(days=rng.randint(1, 60))
            events.append((when, "suspended", "未按期接受监督审核"))
            later = when + dt.timedelta(days=rng.randint(30, 170))
            events.append((later, "withdrawn", "暂停期满未完成整改"))
            final_status = "withdrawn"
        elif status == "cancelled":
            when = max(audits[-1].date, issued) + dt.timedelta(days=rng.randint(1, 60))
            events.append((when, "cancelled", "持证企业申请注销"))
            final_status = "cancelled"
        # A history never runs past the as-of day; later moves are pulled back onto it.
        events = sorted(((min(d, self.as_of), k, r) for d, k, r in events), key=lambda e: e[0])
        score = audits[-1].score
        level = s.level_for(score)
        assert level is not None
        region = rng.choice(self.counties)
        industry = rng.choice(self.industries)
        name = self._name(region, industry)
        number = self._number(issued.year)
        tree: dict[str, Any] = {
            "number": number,
            "status": final_status,
            "sample": "true",
            "organization": {
                "name": name,
                "credit_code": _credit_code(rng, region),
                "region": region,
                "address": f"{s.region_name(region)}示例路{rng.randint(1, 999)}号",
            },
            "industry": industry,
            "scope": {"zh": SCOPES.get(industry, "商品售后服务")},
            "standard": s.standards[0],
            "score": str(score),
            "level": level.key,
            "issued": issued.isoformat(),
            "expires": expires.isoformat(),
            "audits": [{"date": a.date.isoformat(), "kind": a.kind, "score": str(a.score),
                        "result": a.result} for a in audits],
            "events": [{"date": d.isoformat(), "kind": k, **({"reason": r} if r else {})}
                       for d, k, r in events],
        }
        return number, yamltext.record_text(tree)


def synthesize(settings: Settings, out: Path, count: int, *, seed: int = 1, as_of: dt.date,
               progress: Callable[[int], None] | None = None) -> Iterator[Path]:
    """Write ``count`` records under ``out/certificates/<year>/``; yields each path written."""
    maker = Synthesizer(settings, as_of, seed)
    for _ in range(count):
        number, text = maker.record()
        year = number.split("-")[1] if "-" in number else "misc"
        path = out / "certificates" / year / f"{number}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        if progress:
            progress(1)
        yield path


def prepare_root(source: Path, out: Path) -> None:
    """Copy the registry settings, pages and mkdocs.yml of ``source`` so ``out`` builds alone."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("registry", "docs"):
        if (source / name).is_dir():
            shutil.copytree(source / name, out / name, dirs_exist_ok=True)
    if (source / "mkdocs.yml").is_file():
        shutil.copy(source / "mkdocs.yml", out / "mkdocs.yml")
    shutil.rmtree(out / "certificates", ignore_errors=True)
