"""The one table between spreadsheet columns and record fields, for export, import and the docs.

Each :class:`Column` names a record field (a dotted path), its Chinese header as ``export``
writes it, the English name, the other headers staff use for it, and the kind of value it
holds (which decides how a cell is read and written, see :mod:`.values`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings

CERTIFICATES_SHEET = "证书"
HISTORY_SHEET = "审核与事件"
ABOUT_SHEET = "说明"
# A CSV holds one table: the audits and events go to a second file beside it.
HISTORY_CSV_SUFFIX = ".history.csv"

AUDITS, EVENTS = "audits", "events"


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: the record field it holds and how staff may head it."""

    header: str
    en: str
    field: str
    kind: str
    aliases: tuple[str, ...] = ()
    about: str = ""
    width: int = 14

    def names(self) -> tuple[str, ...]:
        """Every heading that means this column: Chinese, English, the field, the variants."""
        return (self.header, self.en, self.field, *self.aliases)


_NUMBER_ALIASES = ("证书号", "证书号码", "证书编码", "编号", "证书编号(唯一)", "certificate no.")

CERTIFICATE_COLUMNS: tuple[Column, ...] = (
    Column("证书编号", "Certificate number", "number", "number", _NUMBER_ALIASES,
           "证书编号，格式由 registry/registry.yaml 的 number.pattern 规定", 18),
    Column("证书状态", "Status", "status", "status", ("状态", "证书状况"),
           "记录的状态；“已过期”由有效期推出，不填写", 10),
    Column("组织名称", "Organization", "organization.name", "text",
           ("企业名称", "单位名称", "公司名称", "获证组织", "获证组织名称", "持证企业", "获证企业",
            "名称"),
           "获证组织的注册名称", 32),
    Column("组织英文名称", "Organization (English)", "organization.name_en", "text",
           ("英文名称", "企业英文名称", "组织名称（英文）"), "可选", 32),
    Column("统一社会信用代码", "Unified social credit code", "organization.credit_code", "code",
           ("信用代码", "社会信用代码", "统一信用代码"),
           "18 位，末位校验码会被核对；小写字母可以", 22),
    Column("所在地区", "Region (GB/T 2260)", "organization.region", "region",
           ("地区", "地区代码", "行政区划代码", "所在地区代码", "区划代码"),
           "GB/T 2260 六位行政区划代码，或 registry/regions.yaml 中唯一的地区名称", 10),
    Column("地址", "Address", "organization.address", "text",
           ("企业地址", "注册地址", "组织地址", "经营地址", "通讯地址"), "", 36),
    Column("英文地址", "Address (English)", "organization.address_en", "text",
           ("地址（英文）",), "可选", 36),
    Column("网站", "Website", "organization.website", "text", ("网址", "企业网站", "网站地址"),
           "可选，https:// 开头", 24),
    Column("行业", "Industry", "industry", "industry", ("所属行业", "行业类别", "行业分类"),
           "registry/industries.yaml 中的行业（键或中文名称）", 12),
    Column("认证范围", "Scope", "scope.zh", "text",
           ("认证范围（中文）", "范围", "认证业务范围", "覆盖范围"), "", 40),
    Column("认证范围（英文）", "Scope (English)", "scope.en", "text",
           ("英文认证范围", "认证范围英文"), "可选", 40),
    Column("认证依据", "Standard", "standard", "text", ("依据标准", "认证标准", "标准"),
           "registry/registry.yaml 中的标准", 16),
    Column("得分", "Score", "score", "score", ("评分", "分数", "综合得分", "审核得分", "最新得分"),
           "最近一次通过的审核的得分", 8),
    Column("星级", "Star level", "level", "level", ("等级", "认证星级", "级别", "认证等级"),
           "须与得分相符；五星级、5星、five-star 均可", 10),
    Column("颁证日期", "Issued", "issued", "date",
           ("发证日期", "颁发日期", "证书颁发日期", "签发日期", "发证时间", "颁证时间"),
           "本认证周期的开始日", 12),
    Column("有效期至", "Expires", "expires", "date",
           ("有效期", "到期日期", "有效期截止", "截止日期", "证书有效期至", "有效截止日期",
            "到期日"),
           "颁证日期加有效期年数减一天", 12),
    Column("示例数据", "Sample data", "sample", "bool", ("样例数据",),
           "“是”表示虚构的示例数据；真实证书留空", 8),
)

HISTORY_COLUMNS: tuple[Column, ...] = (
    Column("证书编号", "Certificate number", "number", "number", _NUMBER_ALIASES,
           "本行所属的证书", 18),
    Column("类别", "Record", "record", "record", ("记录类别", "类型"),
           "审核 或 事件", 8),
    Column("日期", "Date", "date", "date", ("审核日期", "事件日期", "发生日期"), "", 12),
    Column("种类", "Kind", "kind", "kind", ("审核类型", "事件类型", "审核种类", "事件种类"),
           "审核：初次认证审核、监督审核、再认证审核；事件：颁发证书、暂停、恢复……", 20),
    Column("得分", "Score", "score", "score", ("评分", "分数", "审核得分"), "仅审核", 8),
    Column("结果", "Result", "result", "result", ("审核结果", "结论", "审核结论"),
           "仅审核：通过 或 未通过", 8),
    Column("备注", "Note", "note", "text", ("说明",), "仅审核，可选", 30),
    Column("原因", "Reason", "reason", "text", ("事由", "原因说明"),
           "仅事件；暂停、撤销必填", 40),
    Column("原因（英文）", "Reason (English)", "reason_en", "text", ("英文原因",),
           "仅事件，可选", 40),
)

# The keys of an audit and of an event, in the order records write them.
AUDIT_KEYS = ("date", "kind", "score", "result", "note")
EVENT_KEYS = ("date", "kind", "reason", "reason_en")

_BRACKETED = re.compile(r"[（(\[【].*?[)）\]】]")


def fold_header(text: str) -> str:
    """A heading as compared: full-width forms, case, spaces and a required-mark '*' ignored."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "*＊")


def _index(columns: tuple[Column, ...]) -> dict[str, Column]:
    found: dict[str, Column] = {}
    for column in columns:
        for name in column.names():
            found.setdefault(fold_header(name), column)
    return found


_CERTIFICATE_INDEX = _index(CERTIFICATE_COLUMNS)
_HISTORY_INDEX = _index(HISTORY_COLUMNS)


def match(header: str, columns: tuple[Column, ...]) -> Column | None:
    """The column a heading means, or None; '有效期至（YYYY-MM-DD）' also finds 有效期至."""
    index = _CERTIFICATE_INDEX if columns is CERTIFICATE_COLUMNS else _HISTORY_INDEX
    folded = fold_header(header)
    if not folded:
        return None
    found = index.get(folded)
    if found is None:
        found = index.get(_BRACKETED.sub("", folded))
    return found


def by_field(field: str, columns: tuple[Column, ...]) -> Column | None:
    """The column of a record field (``organization.name``), or of a heading."""
    return next((c for c in columns if c.field == field), None) or match(field, columns)


EXPLAINED_HEADER = ("工作表 Sheet", "列名 Column", "English", "字段 Field", "取值 Values",
                    "说明 Notes", "也可写作 Also read as")


def explained(settings: Settings) -> list[tuple[str, ...]]:
    """Every column, explained: the 说明 sheet of an export and the list on the import page."""
    from .values import Cells

    cells = Cells(settings)
    return [
        (sheet, c.header, c.en, c.field, cells.allowed(c.kind), c.about, "、".join(c.aliases))
        for sheet, columns in ((CERTIFICATES_SHEET, CERTIFICATE_COLUMNS),
                               (HISTORY_SHEET, HISTORY_COLUMNS))
        for c in columns
    ]
