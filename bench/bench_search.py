"""Benchmark the search index at 10,000 and 100,000 synthetic certificates.

    .venv/bin/python bench/bench_search.py [--sizes 10000,100000] [--keep DIR]

For each size: build the index (timed), report its total size and file count, then run a set of
queries through the real search.js under Node and report what each downloaded (sum of the files
fetched, raw and gzip level 6, as a server compressing JSON would send them). Every name, number
and company below is synthesised here; none is a real enterprise.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import settings as settings_mod  # noqa: E402
from generator.model import Certificate, Registry  # noqa: E402
from generator.search import build_index, index_sizes  # noqa: E402
from generator.settings import Region, Settings  # noqa: E402

AS_OF = dt.date(2026, 11, 27)
CLI = ROOT / "tests" / "js" / "search_cli.mjs"

# (province, province pinyin, [(city, city pinyin)]): the city opens most company names.
PROVINCES = [
    (
        "山东省",
        "Shandong",
        [
            ("青岛", "Qingdao"),
            ("济南", "Jinan"),
            ("烟台", "Yantai"),
            ("潍坊", "Weifang"),
            ("临沂", "Linyi"),
        ],
    ),
    (
        "广东省",
        "Guangdong",
        [
            ("深圳", "Shenzhen"),
            ("广州", "Guangzhou"),
            ("佛山", "Foshan"),
            ("东莞", "Dongguan"),
            ("中山", "Zhongshan"),
            ("珠海", "Zhuhai"),
        ],
    ),
    (
        "浙江省",
        "Zhejiang",
        [
            ("杭州", "Hangzhou"),
            ("宁波", "Ningbo"),
            ("温州", "Wenzhou"),
            ("金华", "Jinhua"),
            ("台州", "Taizhou"),
            ("嘉兴", "Jiaxing"),
        ],
    ),
    (
        "江苏省",
        "Jiangsu",
        [
            ("南京", "Nanjing"),
            ("苏州", "Suzhou"),
            ("无锡", "Wuxi"),
            ("常州", "Changzhou"),
            ("南通", "Nantong"),
        ],
    ),
    ("上海市", "Shanghai", [("上海", "Shanghai")]),
    ("北京市", "Beijing", [("北京", "Beijing")]),
    ("天津市", "Tianjin", [("天津", "Tianjin")]),
    ("重庆市", "Chongqing", [("重庆", "Chongqing")]),
    ("福建省", "Fujian", [("厦门", "Xiamen"), ("福州", "Fuzhou"), ("泉州", "Quanzhou")]),
    ("湖北省", "Hubei", [("武汉", "Wuhan"), ("宜昌", "Yichang"), ("襄阳", "Xiangyang")]),
    ("湖南省", "Hunan", [("长沙", "Changsha"), ("株洲", "Zhuzhou")]),
    ("四川省", "Sichuan", [("成都", "Chengdu"), ("绵阳", "Mianyang")]),
    ("河南省", "Henan", [("郑州", "Zhengzhou"), ("洛阳", "Luoyang")]),
    ("河北省", "Hebei", [("石家庄", "Shijiazhuang"), ("保定", "Baoding"), ("唐山", "Tangshan")]),
    ("安徽省", "Anhui", [("合肥", "Hefei"), ("芜湖", "Wuhu")]),
    ("辽宁省", "Liaoning", [("沈阳", "Shenyang"), ("大连", "Dalian")]),
    ("陕西省", "Shaanxi", [("西安", "Xi'an")]),
    ("江西省", "Jiangxi", [("南昌", "Nanchang")]),
    ("广西壮族自治区", "Guangxi", [("南宁", "Nanning"), ("柳州", "Liuzhou")]),
    ("云南省", "Yunnan", [("昆明", "Kunming")]),
]
DISTRICTS = ["市辖区", "高新区", "经济开发区", "城东区", "城西区", "城南区", "城北区", "新区"]
# Characters of trade names (字号), with pinyin for the English name.
TRADE_PINYIN = """
海:hai 润:run 智:zhi 家:jia 美:mei 华:hua 康:kang 达:da 信:xin 宏:hong 泰:tai 鑫:xin
源:yuan 盛:sheng 科:ke 创:chuang 联:lian 通:tong 丰:feng 瑞:rui 恒:heng 嘉:jia 德:de 佳:jia
荣:rong 安:an 新:xin 正:zheng 明:ming 光:guang 天:tian 宇:yu 金:jin 银:yin 星:xing 辰:chen
航:hang 远:yuan 博:bo 雅:ya 欣:xin 悦:yue 诚:cheng 铭:ming 鸿:hong 腾:teng 飞:fei 祥:xiang
凯:kai 力:li 威:wei 龙:long 凤:feng 云:yun 峰:feng 山:shan 川:chuan 江:jiang 河:he 湖:hu
洋:yang 帆:fan 舟:zhou 立:li 志:zhi 远:yuan 百:bai 万:wan 千:qian 一:yi 中:zhong 东:dong
南:nan 西:xi 北:bei 国:guo 民:min 益:yi 宝:bao 贝:bei 福:fu 禄:lu 寿:shou 喜:xi
乐:le 顺:shun 和:he 平:ping 爱:ai 尚:shang 品:pin 优:you 卓:zhuo 越:yue 精:jing 工:gong
匠:jiang 心:xin 诺:nuo 亚:ya 欧:ou 伦:lun 斯:si 特:te 奥:ao 克:ke 森:sen 林:lin
木:mu 石:shi 晶:jing 彩:cai 虹:hong 霞:xia 朗:lang 晴:qing 雨:yu 雪:xue 冰:bing 风:feng
速:su 迅:xun 捷:jie
"""
TRADE = TRADE_PINYIN.split()
# industry key → ([(trade word zh, en)], [(product zh, en)])
INDUSTRIES = {
    "household-appliances": (
        [
            ("电器", "Electric Appliance"),
            ("家电", "Home Appliance"),
            ("厨卫电器", "Kitchen Appliance"),
        ],
        [
            ("家用空调", "air conditioners"),
            ("冰箱", "refrigerators"),
            ("洗衣机", "washing machines"),
            ("热水器", "water heaters"),
            ("燃气灶", "gas stoves"),
            ("油烟机", "range hoods"),
        ],
    ),
    "consumer-electronics": (
        [("电子", "Electronics"), ("数码科技", "Digital Technology")],
        [
            ("手机", "mobile phones"),
            ("平板电脑", "tablets"),
            ("智能手表", "smart watches"),
            ("耳机", "headphones"),
        ],
    ),
    "furniture": (
        [("家居", "Home Furnishing"), ("家具", "Furniture")],
        [
            ("沙发", "sofas"),
            ("床垫", "mattresses"),
            ("定制衣柜", "custom wardrobes"),
            ("办公家具", "office furniture"),
        ],
    ),
    "building-materials": (
        [("建材", "Building Materials"), ("卫浴", "Sanitary Ware")],
        [
            ("陶瓷卫浴", "ceramic sanitary ware"),
            ("门窗", "doors and windows"),
            ("地板", "flooring"),
        ],
    ),
    "automobiles": (
        [("汽车服务", "Automotive Service"), ("汽车销售服务", "Auto Sales and Service")],
        [
            ("乘用车", "passenger cars"),
            ("新能源汽车", "new-energy vehicles"),
            ("汽车零部件", "auto parts"),
        ],
    ),
    "water-treatment": (
        [("净水设备", "Water Purification Equipment"), ("环境电器", "Environmental Appliance")],
        [
            ("净水器", "water purifiers"),
            ("空气净化器", "air purifiers"),
            ("新风系统", "fresh-air systems"),
        ],
    ),
    "elevators": (
        [("电梯", "Elevator"), ("机电设备", "Electromechanical Equipment")],
        [("乘客电梯", "passenger elevators"), ("自动扶梯", "escalators")],
    ),
    "logistics": (
        [("物流", "Logistics"), ("供应链管理", "Supply Chain Management")],
        [("仓储配送", "warehousing and delivery"), ("大件物流", "bulky-goods logistics")],
    ),
    "e-commerce-retail": (
        [("商贸", "Trading"), ("电子商务", "E-commerce")],
        [("家电零售", "appliance retail"), ("网络零售", "online retail")],
    ),
    "medical-devices": (
        [("医疗器械", "Medical Devices"), ("医疗设备", "Medical Equipment")],
        [("家用医疗器械", "home medical devices"), ("康复设备", "rehabilitation equipment")],
    ),
}
SUFFIXES = [
    ("有限公司", "Co., Ltd.", 60),
    ("股份有限公司", "Co., Ltd.", 20),
    ("有限责任公司", "Co., Ltd.", 10),
    ("集团有限公司", "Group Co., Ltd.", 5),
    ("科技有限公司", "Technology Co., Ltd.", 5),
]
SERVICES = [
    ("的销售、安装、维修及售后服务", "Sales, installation, repair and after-sales service of {}"),
    ("的销售及售后服务", "Sales and after-sales service of {}"),
    ("的安装、维修、保养服务", "Installation, repair and maintenance of {}"),
    ("的配送、安装及售后服务", "Delivery, installation and after-sales service of {}"),
]


def synth_settings(base: Settings) -> tuple[Settings, list[tuple[str, str, str]]]:
    """The repository's settings with a synthetic region table; returns (settings, cities)."""
    regions: dict[str, Region] = {}
    cities: list[tuple[str, str, str]] = []  # (city, pinyin, district code)
    for p, (province, province_en, towns) in enumerate(PROVINCES):
        pcode = f"{11 + p:02d}0000"
        regions[pcode] = Region(pcode, province, province_en, pcode)
        for c, (city, city_en) in enumerate(towns):
            ccode = pcode[:2] + f"{c + 1:02d}00"
            if city + "市" != province:
                regions[ccode] = Region(ccode, city + "市", city_en, pcode)
            for d, district in enumerate(DISTRICTS):
                dcode = ccode[:4] + f"{d + 1:02d}"
                regions[dcode] = Region(dcode, district, "", pcode)
                cities.append((city, city_en, dcode))
    return dataclasses.replace(base, regions=regions), cities


def synth_certificates(
    n: int, cities: list[tuple[str, str, str]], seed: int = 27922
) -> list[Certificate]:
    """n fictional certificates with realistic company names, numbers and scopes."""
    rng = random.Random(seed)
    trade = [t.split(":") for t in TRADE]
    suffix_weights = [w for *_, w in SUFFIXES]
    names: set[str] = set()
    serials: dict[int, int] = {}
    certs = []
    while len(certs) < n:
        city, city_en, region = rng.choice(cities)
        (a, a_en), (b, b_en) = rng.sample(trade, 2)
        industry = rng.choice(sorted(INDUSTRIES))
        words, products = INDUSTRIES[industry]
        word, word_en = rng.choice(words)
        suffix, suffix_en, _ = rng.choices(SUFFIXES, suffix_weights)[0]
        name = f"{city}{a}{b}{word}{suffix}"
        if name in names:
            continue
        names.add(name)
        chosen = rng.sample(products, rng.randint(1, min(3, len(products))))
        service, service_en = rng.choice(SERVICES)
        year = rng.choice(range(2021, 2027))
        serials[year] = serials.get(year, 0) + 1
        issued = dt.date(year, rng.randint(1, 12), rng.randint(1, 28))
        score = rng.choice(["96.5", "93.0", "88.5", "81.0", "75.5"])
        level = {
            "96.5": "five-star",
            "93.0": "four-star",
            "88.5": "three-star",
            "81.0": "three-star",
        }.get(score, "compliant")
        status = rng.choices(["valid", "suspended", "withdrawn", "cancelled"], [90, 4, 3, 3])[0]
        record = {
            "number": f"ASC-{year}-{serials[year]:06d}",
            "status": status,
            "organization": {
                "name": name,
                "name_en": f"{city_en} {a_en.title()}{b_en} {word_en} {suffix_en}",
                "credit_code": "91370200MA3C5ABC1G",
                "region": region,
                "address": f"{city}示例路{rng.randint(1, 999)}号",
            },
            "industry": industry,
            "scope": {
                "zh": "、".join(p for p, _ in chosen) + service,
                "en": service_en.format(", ".join(e for _, e in chosen)),
            },
            "standard": "GB/T 27922-2011",
            "score": score,
            "level": level,
            "issued": issued.isoformat(),
            "expires": (issued.replace(year=issued.year + 3) - dt.timedelta(days=1)).isoformat(),
            "audits": [
                {"date": issued.isoformat(), "kind": "initial", "result": "pass", "score": score}
            ],
            "events": [{"date": issued.isoformat(), "kind": "issued"}]
            + (
                [{"date": AS_OF.isoformat(), "kind": status, "reason": "示例"}]
                if status != "valid"
                else []
            ),
        }
        certs.append(Certificate.from_data(record, f"certificates/{record['number']}.yaml"))
    return certs


def queries_for(certs: list[Certificate], seed: int = 1) -> list[tuple[str, str]]:
    """(label, query) pairs drawn from the synthetic registry, plus fixed ones."""
    rng = random.Random(seed)
    cert = rng.choice(certs)
    name = cert.organization.name
    city_len = 3 if name.startswith(("石家庄",)) else 2
    trade = name[city_len : city_len + 2]
    serial = cert.number.rsplit("-", 1)[1]
    return [
        ("2-char substring (trade name)", trade),
        ("4-char substring", name[city_len : city_len + 4]),
        ("3-char substring", name[city_len + 1 : city_len + 4]),
        ("full number", cert.number),
        (
            "full number, full-width",
            cert.number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
        ),
        ("number, no hyphens", cert.number.replace("-", "").lower()),
        ("partial number (serial)", serial),
        ("unknown number", "ASC-2099-999999"),
        ("common gram 有限公司", "有限公司"),
        ("common gram 售后服务", "售后服务"),
        ("single char", trade[0]),
        ("region (city)", name[:city_len]),
        ("industry label", "家用电器"),
        ("English trade word", (cert.organization.name_en or "").split()[1]),
        ("scope word", "热水器"),
        ("nonsense", "啊哦呃"),
    ]


def calibrate() -> float:
    """CPU seconds for ten million list appends, to compare build times across machines."""
    start = time.process_time()
    items: list[int] = []
    append = items.append
    for i in range(10_000_000):
        append(i)
    return time.process_time() - start


def run_queries(index_dir: Path, queries: list[str]) -> list[dict]:
    out = subprocess.run(
        ["node", str(CLI), str(index_dir), *queries], capture_output=True, check=True, text=True
    )
    return json.loads(out.stdout)


def bench(size: int, base: Settings, keep: Path | None) -> None:
    settings, cities = synth_settings(base)
    t0 = time.perf_counter()
    certs = synth_certificates(size, cities)
    registry = Registry.create(settings, certs, AS_OF)
    t1, c1 = time.perf_counter(), time.process_time()
    files = build_index(registry)
    t2, c2 = time.perf_counter(), time.process_time()
    raw, gz = index_sizes(files)
    kinds: dict[str, int] = {}
    for path in files:
        kind = path.split("/")[2] if path.count("/") > 2 else "meta"
        kinds[kind] = kinds.get(kind, 0) + 1
    meta = json.loads(files["search/idx/meta.json"])
    print(f"\n## {size:,} certificates")
    print(
        f"synthesis {t1 - t0:.1f} s; index build {t2 - t1:.2f} s ({c2 - c1:.2f} s CPU); "
        f"this machine does 10M list appends in {calibrate():.2f} s CPU"
    )
    by_kind = ", ".join(f"{k} {v:,}" for k, v in sorted(kinds.items()))
    print(
        f"index: {len(files):,} files ({by_kind}); "
        f"{raw / 1e6:.1f} MB raw, {gz / 1e6:.1f} MB gzip; {meta['shards']} gram shards"
    )
    with tempfile.TemporaryDirectory() as tmp:
        site = keep / str(size) if keep else Path(tmp)
        for path, content in files.items():
            target = site / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        labelled = queries_for(certs)
        t3 = time.perf_counter()
        answers = run_queries(site / "search" / "idx", [q for _, q in labelled])
        t4 = time.perf_counter()
    print(f"queries: {len(labelled)} in {t4 - t3:.2f} s under Node (one process)\n")
    print("| query | text | found | files | raw KB | gzip KB |")
    print("| --- | --- | --- | --- | --- | --- |")
    for (label, q), a in zip(labelled, answers, strict=True):
        found = f"{a['total']:,}" + ("" if a["complete"] else "+")
        files_n = len(a["fetched"])
        raw_kb = sum(f["raw"] for f in a["fetched"]) / 1024
        gz_kb = sum(f["gzip"] for f in a["fetched"]) / 1024
        print(f"| {label} | {q} | {found} | {files_n} | {raw_kb:.1f} | {gz_kb:.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated registry sizes")
    parser.add_argument(
        "--keep", type=Path, help="write the indexes under this folder and keep them"
    )
    args = parser.parse_args()
    base = settings_mod.load(ROOT)
    for size in (int(s) for s in args.sizes.split(",")):
        bench(size, base, args.keep)


if __name__ == "__main__":
    main()
