"""Cells read as staff type them, and record values written as staff read them.

A cell becomes the text a record file holds (``2025-04-01``, ``96.5``, ``valid``): dates as
Excel dates or serials, 2025/4/1, 2025.4.1, 2025年4月1日 or 1 April 2025; full-width digits;
stray spaces; lower-case credit codes; 五星级, 5星 or five-star; 有效, 暂停, 撤销, 注销.
A value that cannot be read raises :class:`ValueError` whose text says what to write instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from .. import lifecycle
from ..pages import AUDIT_KINDS, AUDIT_RESULTS
from ..settings import Settings
from .columns import AUDITS, EVENTS

_SPACES = re.compile(r"\s+")
_YMD = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_TEXT_DATES = ("%d %B %Y", "%B %d, %Y", "%B %d %Y", "%d %b %Y", "%b %d, %Y", "%b %d %Y",
               "%d-%b-%Y", "%d-%b-%y")
_TIME_PART = re.compile(r"[ T]0{1,2}:00(:00(\.0+)?)?$")
_CN_DIGITS = "零一二三四五六七八九"
_TRUE = ("是", "true", "yes", "y", "1", "✓", "√", "示例")
_FALSE = ("否", "false", "no", "n", "0")
_RECORDS = {AUDITS: ("审核", "audit", "audits"), EVENTS: ("事件", "event", "events")}
# Audit kinds as staff also write them (再认证审核 without its bracket, 复审 alone).
_AUDIT_WORDS = {"再认证审核": "recertification", "再认证": "recertification",
                "复审": "recertification", "初次审核": "initial", "初审": "initial",
                "监督": "surveillance"}
# Results staff write beside 通过/未通过.
_RESULT_WORDS = {"pass": ("合格", "passed", "通过审核"), "fail": ("不合格", "failed", "不通过")}

EXCEL_DATE_FORMAT = "yyyy-mm-dd"


def clean(value: Any) -> str:
    """A cell as text: NFKC-folded digits kept apart, outer spaces (also 　) gone."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().strip("\u3000\ufeff").strip()


@functools.lru_cache(maxsize=4096)
def _fold(text: str) -> str:
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).casefold()


def decimals_of(number_format: str) -> int:
    """How many decimals a cell's number format shows (``0.0`` → 1)."""
    head = number_format.split(";")[0]
    match = re.search(r"\.(0+)", head)
    return len(match.group(1)) if match else 0


def _lookup(table: dict[str, str], text: str, what: str, allowed: Iterable[str]) -> str:
    found = table.get(_fold(text))
    if found is None:
        raise ValueError(f"{what} {text!r} is not known; write one of: {', '.join(allowed)}")
    return found


class Cells:
    """Reads cells into record text, and writes record text as cells, for one registry."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._readers = {name.removeprefix("_read_"): getattr(self, name)
                         for name in dir(self) if name.startswith("_read_")}
        self.statuses: dict[str, str] = {}
        for status in settings.statuses:
            if status.derived or status.key == "expired":
                continue
            for word in (status.key, status.zh, status.en, status.zh.removeprefix("已")):
                self.statuses[_fold(word)] = status.key
        self.levels: dict[str, str] = {}
        for level in settings.levels:
            words: list[str] = [level.key, level.zh, level.en]
            if level.stars:
                cn = _CN_DIGITS[level.stars] if level.stars < 10 else str(level.stars)
                words += [f"{n}{unit}" for n in (str(level.stars), cn) for unit in ("星", "星级")]
                words += [f"{level.stars}-star", f"{level.stars} stars", f"{level.stars}star",
                          "★" * level.stars]
            for word in words:
                self.levels[_fold(word)] = level.key
        self.industries = {
            _fold(word): key
            for key, label in settings.industries.items()
            for word in (key, label.zh, label.en)
        }
        names: dict[str, list[str]] = {}
        for code, region in settings.regions.items():
            names.setdefault(_fold(region.zh), []).append(code)
        self.region_names = {name: codes[0] for name, codes in names.items() if len(codes) == 1}
        self.audit_kinds = {
            _fold(w): key for key, (zh, en) in AUDIT_KINDS.items() for w in (key, zh, en)
        }
        for word, key in _AUDIT_WORDS.items():
            self.audit_kinds.setdefault(_fold(word), key)
        self.event_kinds = {
            _fold(w): move.kind
            for move in lifecycle.MOVES.values()
            for w in (move.kind, move.zh, move.en)
            if w
        }
        for move in lifecycle.MOVES.values():
            if move.to in lifecycle.FINAL or move.kind in ("suspended", "reinstated"):
                self.event_kinds.setdefault(_fold(move.zh + "证书"), move.kind)
        self.results = {_fold(w): key
                        for key, words in AUDIT_RESULTS.items() for w in (key, *words)}
        for key, more in _RESULT_WORDS.items():
            for word in more:
                self.results.setdefault(_fold(word), key)

    # --- reading ----------------------------------------------------------------------------

    def read(self, kind: str, value: Any, number_format: str = "General",
             epoch: dt.datetime | None = None, record: str | None = None) -> str | None:
        """The record text of a cell of ``kind``; None when the cell is empty."""
        if value is None or (isinstance(value, str) and not clean(value)):
            return None
        result: str = self._readers[kind](value, number_format=number_format, epoch=epoch,
                                          record=record)
        return result

    def _read_text(self, value: Any, **_: Any) -> str:
        return clean(value)

    def _read_number(self, value: Any, **_: Any) -> str:
        text = "".join(unicodedata.normalize("NFKC", clean(value)).split())
        regex = self.settings.number.regex
        if not regex.fullmatch(text) and regex.fullmatch(text.upper()):
            return text.upper()
        return text

    def _read_code(self, value: Any, **_: Any) -> str:
        return "".join(unicodedata.normalize("NFKC", clean(value)).split()).upper()

    def _read_region(self, value: Any, **_: Any) -> str:
        text = "".join(unicodedata.normalize("NFKC", clean(value)).split())
        if text.isdigit():
            return text
        code = self.region_names.get(_fold(text))
        if code is None:
            raise ValueError(f"region {text!r} is not a GB/T 2260 code (6 digits) nor a region "
                             "name found once in registry/regions.yaml")
        return code

    def _read_date(self, value: Any, *, epoch: dt.datetime | None = None, **_: Any) -> str:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, int | float) and not isinstance(value, bool):
            from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

            day = from_excel(value, epoch or CALENDAR_WINDOWS_1900)
            if isinstance(day, dt.datetime):
                return day.date().isoformat()
            raise ValueError(f"{value!r} is not a date")
        text = _SPACES.sub(" ", unicodedata.normalize("NFKC", clean(value)))
        text = _TIME_PART.sub("", text)
        try:
            match = _YMD.fullmatch(text) or _COMPACT.fullmatch(text)
            if match:
                year, month, day = (int(g) for g in match.groups())
                return dt.date(year, month, day).isoformat()
            for fmt in _TEXT_DATES:
                try:
                    return dt.datetime.strptime(text, fmt).date().isoformat()
                except ValueError:
                    continue
        except ValueError:
            raise ValueError(f"{text!r} is not a real calendar date") from None
        raise ValueError(f"{text!r} is not a date; write 2025-04-01, 2025/4/1, 2025.4.1 or "
                         "2025年4月1日")

    def _read_score(self, value: Any, *, number_format: str = "General", **_: Any) -> str:
        if isinstance(value, bool):
            raise ValueError(f"{value!r} is not a score")
        if isinstance(value, int | float):
            if isinstance(value, int) or value.is_integer():
                # 94.0 is stored as 94; the cell's format (0.0) says how it was written.
                places = decimals_of(number_format)
                whole = Decimal(int(value))
                return str(whole.quantize(Decimal(1).scaleb(-places)) if places else whole)
            return str(Decimal(repr(value)))
        text = unicodedata.normalize("NFKC", clean(value)).removesuffix("分").strip()
        try:
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
                raise InvalidOperation
            return str(Decimal(text))
        except InvalidOperation:
            raise ValueError(f"{clean(value)!r} is not a score; write a number such as 92 or "
                             "92.5") from None

    def _read_status(self, value: Any, **_: Any) -> str:
        text = clean(value)
        if _fold(text) in {_fold(w) for w in ("expired", "过期", "已过期")}:
            raise ValueError("“已过期” is worked out from 有效期至, never recorded; write the "
                             "status the certificate had (usually 有效)")
        allowed = [s.zh for s in self.settings.statuses if not s.derived and s.key != "expired"]
        return _lookup(self.statuses, text, "status", allowed)

    def _read_level(self, value: Any, **_: Any) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = f"{int(value)}星"
        return _lookup(self.levels, clean(value), "star level",
                       [lv.zh for lv in self.settings.levels])

    def _read_industry(self, value: Any, **_: Any) -> str:
        return _lookup(self.industries, clean(value), "industry",
                       [f"{label.zh} ({key})" for key, label in self.settings.industries.items()])

    def _read_bool(self, value: Any, **_: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        folded = _fold(clean(value))
        if folded in {_fold(w) for w in _TRUE}:
            return "true"
        if folded in {_fold(w) for w in _FALSE}:
            return "false"
        raise ValueError(f"{clean(value)!r} is not yes or no; write 是 or 否")

    def _read_record(self, value: Any, **_: Any) -> str:
        folded = _fold(clean(value))
        for key, words in _RECORDS.items():
            if folded in {_fold(w) for w in words}:
                return key
        raise ValueError(f"{clean(value)!r}: write 审核 (an audit) or 事件 (an event)")

    def _read_kind(self, value: Any, *, record: str | None = None, **_: Any) -> str:
        text = clean(value)
        if record == AUDITS:
            return _lookup(self.audit_kinds, text, "audit kind",
                           [zh for zh, _ in AUDIT_KINDS.values()])
        return _lookup(self.event_kinds, text, "event kind",
                       [m.zh for m in lifecycle.MOVES.values()])

    def _read_result(self, value: Any, **_: Any) -> str:
        return _lookup(self.results, clean(value), "result",
                       [zh for zh, _ in AUDIT_RESULTS.values()])

    # --- writing ----------------------------------------------------------------------------

    def show(self, kind: str, text: str, record: str | None = None) -> tuple[Any, str | None]:
        """A record value as a cell value and, where it matters, its number format."""
        if kind == "date":
            return dt.date.fromisoformat(text), EXCEL_DATE_FORMAT
        if kind == "score":
            places = max(0, -Decimal(text).as_tuple().exponent)  # type: ignore[operator]
            number: int | float = float(text) if places else int(text)
            return number, ("0." + "0" * places) if places else "0"
        if kind == "status":
            return self.settings.status(text).zh, None
        if kind == "level":
            return self.settings.level(text).zh, None
        if kind == "industry":
            label = self.settings.industries.get(text)
            return (label.zh if label else text), None
        if kind == "bool":
            return ("是" if text == "true" else "否"), None
        if kind == "record":
            return _RECORDS[text][0], None
        if kind == "kind":
            if record == AUDITS:
                return AUDIT_KINDS[text][0], None
            return lifecycle.MOVES[text].zh, None
        if kind == "result":
            return AUDIT_RESULTS[text][0], None
        if kind in ("region", "number", "code"):
            return text, "@"
        return text, None

    def allowed(self, kind: str) -> str:
        """The values a column of ``kind`` takes, for the 说明 sheet and the docs."""
        s = self.settings
        if kind == "status":
            return "、".join(st.zh for st in s.statuses if not st.derived and st.key != "expired")
        if kind == "level":
            return "、".join(lv.zh for lv in s.levels)
        if kind == "industry":
            return "、".join(label.zh for label in s.industries.values())
        if kind == "bool":
            return "是、否"
        if kind == "number":
            return f"如 {s.number.example}"
        if kind == "record":
            return "审核、事件"
        if kind == "kind":
            return ("审核：" + "、".join(zh for zh, _ in AUDIT_KINDS.values()) + "；事件："
                    + "、".join(m.zh for m in lifecycle.MOVES.values()))
        if kind == "result":
            return "、".join(zh for zh, _ in AUDIT_RESULTS.values())
        if kind == "date":
            return "日期，如 2025-04-01、2025/4/1、2025年4月1日"
        if kind == "score":
            return f"{s.min_score}–{s.max_score} 的数字"
        return ""
