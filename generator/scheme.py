"""Markers in the hand-written pages, expanded from ``registry/`` so no page types a registry fact.

A page writes ``<!-- starmark:levels -->`` where the star-level table belongs, and
:func:`expand_markers` replaces it with Markdown/HTML rendered from
:class:`~generator.settings.Settings`. Change a threshold, the validity period or the body's phone
number in ``registry/`` and every page follows at the next build.

Block markers (tables, lists, headings) stand alone on their line and keep its indentation; inline
markers (a number, a URL, a link) may sit inside a sentence. A marker may take one argument:
``<!-- starmark:status suspended -->``. :func:`known_markers` lists them all with a line of help.
Every value is escaped for Markdown and HTML, because it comes from a config file that a
certification body edits by hand.
"""

from __future__ import annotations

import html
import json
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from .settings import Settings, Status

MARKER = re.compile(r"<!--\s*starmark:(?P<spec>.*?)\s*-->", re.DOTALL)
_SPEC = re.compile(r"(?P<name>[a-z][a-z0-9-]*)(?:\s+(?P<arg>[A-Za-z0-9_.-]+))?")

#: Keys of the ``stats`` dict besides the status keys (counts by verdict).
STATS_TOTAL = "total"
STATS_OVERDUE = "surveillance_overdue"

_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})

# HTML's and Markdown's special characters (and pymdownx's ~~ ^^ ==) as numeric entities, in one
# pass so that no entity is escaped twice.
_ENTITIES = str.maketrans(
    {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_[]{}|~^=#!"} | {"\n": " ", "\r": " "}
)

# Chinese names of record fields for the open-data field table. A ``title`` on the property in
# registry/record.schema.json wins over this list, so a body can rename a field without code.
_FIELD_ZH: dict[str, str] = {
    "number": "证书编号",
    "status": "记录状态",
    "organization": "持证组织",
    "organization.name": "组织名称",
    "organization.name_en": "英文名称",
    "organization.credit_code": "统一社会信用代码",
    "organization.region": "行政区划代码",
    "organization.address": "地址",
    "organization.address_en": "英文地址",
    "organization.website": "网站",
    "industry": "行业",
    "scope": "认证范围",
    "scope.zh": "认证范围（中文）",
    "scope.en": "认证范围（英文）",
    "standard": "认证依据",
    "score": "评分",
    "level": "星级",
    "issued": "颁证日期",
    "expires": "有效期至",
    "audits": "审核记录",
    "audits[].date": "审核日期",
    "audits[].kind": "审核类型",
    "audits[].score": "审核评分",
    "audits[].result": "审核结论",
    "audits[].note": "备注",
    "events": "事件记录",
    "events[].date": "事件日期",
    "events[].kind": "事件类型",
    "events[].reason": "原因",
    "events[].reason_en": "原因（英文）",
    "sample": "示例数据标记",
}


class MarkerError(ValueError):
    """A marker that cannot be expanded: unknown, malformed, misplaced or with a bad argument."""


@dataclass(frozen=True)
class _Context:
    settings: Settings
    stats: Mapping[str, int] | None


Render = Callable[[_Context, str | None], str]


@dataclass(frozen=True)
class _Marker:
    render: Render
    block: bool
    help: str
    arg: str = ""  # "": takes no argument; "optional" or "required" otherwise


MARKERS: dict[str, _Marker] = {}


def marker(name: str, *, block: bool, arg: str = "") -> Callable[[Render], Render]:
    """Register a renderer for ``<!-- starmark:NAME -->``; its docstring is the marker's help."""

    def register(render: Render) -> Render:
        MARKERS[name] = _Marker(render, block, (render.__doc__ or "").strip(), arg)
        return render

    return register


# --- escaping -----------------------------------------------------------------------------------


def text(value: object) -> str:
    """A config value as literal text in Markdown, a table cell or HTML element content."""
    return str(value).translate(_ENTITIES)


def attr(value: object) -> str:
    """A config value inside a double-quoted HTML attribute."""
    return html.escape(str(value).replace("\n", " "), quote=True)


def safe_url(url: str, setting: str) -> str:
    """``url`` if its scheme is one a page may link to; otherwise a :class:`MarkerError`."""
    if urlsplit(url).scheme.lower() not in _SAFE_SCHEMES:
        raise MarkerError(f"setting '{setting}' must be an http(s), mailto or tel URL, got {url!r}")
    return url


def _code(value: object) -> str:
    return f"<code>{text(value)}</code>"


def _link(url: str, label: str) -> str:
    return f'<a href="{attr(url)}">{text(label)}</a>'


def _phone(phone: str) -> str:
    digits = re.sub(r"[^0-9+]", "", phone)
    return _link(f"tel:{digits}", phone) if digits else text(phone)


def _email(email: str) -> str:
    return _link(f"mailto:{email}", email)


def _num(value: Decimal | int) -> str:
    """A score or count without exponent or trailing zeros: 95, 92.5."""
    out = format(value, "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _anchor(key: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", key.lower()).strip("-")


def _table(header: list[str], rows: list[list[str]], align: list[str] | None = None) -> str:
    align = align or ["---"] * len(header)
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# --- levels and statuses ------------------------------------------------------------------------


def score_ranges(settings: Settings) -> list[tuple[str, str]]:
    """(level key, score range), highest first: ("five-star", "≥ 95"), ("four-star", "90 – <95")."""
    ordered = sorted(settings.levels, key=lambda lv: lv.min_score, reverse=True)
    ranges: list[tuple[str, str]] = []
    upper: Decimal | None = None
    for level in ordered:
        low = _num(level.min_score)
        if upper is not None:
            span = f"{low} – <{_num(upper)}"
        elif level.min_score >= settings.max_score:
            span = f"= {low}"
        else:
            span = f"≥ {low}"
        ranges.append((level.key, span))
        upper = level.min_score
    return ranges


def _stars(n: int) -> str:
    if n <= 0:
        return "无星 / No stars"
    label = attr(f"{n} 颗星 / {_plural(n, 'star')}")
    return f'<span class="starmark-stars" role="img" aria-label="{label}">{"★" * n}</span>'


@marker("levels", block=True, arg="optional")
def _levels(ctx: _Context, arg: str | None) -> str:
    """Star levels: label, stars, score range; the argument 'keys' adds each level's key."""
    if arg not in (None, "keys"):
        raise MarkerError(f"'levels' takes no argument or 'keys', got {arg!r}")
    s = ctx.settings
    keys = arg == "keys"
    score = f"评分 / Score（满分 {_num(s.max_score)}）"
    header = ["星级 / Level", "English", "星数 / Stars", score]
    rows = []
    for key, span in score_ranges(s):
        level = s.level(key)
        rows.append(
            [f"**{text(level.zh)}**", text(level.en), _stars(level.stars), text(span)]
            + ([_code(level.key)] if keys else [])
        )
    below = ["不予认证", "Not certifiable", "—", text(f"< {_num(s.min_score)}")]
    rows.append(below + (["—"] if keys else []))
    return _table(header + (["代码 / Key"] if keys else []), rows)


def _mark_rule(status: Status) -> str:
    return "✓ 可以使用 / may be used" if status.mark_allowed else "✗ 不得使用 / may not be used"


def _source(status: Status) -> str:
    if status.derived is True:  # settings may hand over the default as the text "false"
        return "按日期推算 / derived from dates at publication"
    return "由认证机构记录 / recorded by the certification body"


@marker("statuses", block=True)
def _statuses(ctx: _Context, arg: str | None) -> str:
    """Statuses: label, code, whether the star mark may be used, recorded or derived."""
    rows = [
        [f"**{text(st.zh)}**", text(st.en), _code(st.key), _mark_rule(st), _source(st)]
        for st in ctx.settings.statuses
    ]
    header = ["状态 / Status", "English", "代码 / Code", "认证标志 / Star mark", "来源 / Source"]
    return _table(header, rows)


@marker("status", block=True, arg="required")
def _status(ctx: _Context, arg: str | None) -> str:
    """A heading for one status (anchor #status-KEY) with its code and the mark rule."""
    try:
        st = ctx.settings.status(arg or "")
    except StopIteration:
        known = ", ".join(s.key for s in ctx.settings.statuses)
        msg = f"'status' needs a status key from registry/ ({known}), got {arg!r}"
        raise MarkerError(msg) from None
    return (
        f"### {text(st.zh)} · {text(st.en)} {{#status-{_anchor(st.key)}}}\n\n"
        f"代码 / Code：{_code(st.key)} · 认证标志 / Star mark：{_mark_rule(st)} · {_source(st)}"
    )


# --- the certificate's life, the body, industries, numbers --------------------------------------


@marker("signing-key", block=True)
def _signing_key(ctx: _Context, arg: str | None) -> str:
    """The registry's public signing key (PEM) and its fingerprint, for offline verification."""
    from .trust import public_key_markdown

    try:
        return public_key_markdown(ctx.settings)
    except ValueError as exc:
        raise MarkerError(str(exc)) from None


@marker("lifecycle", block=True)
def _lifecycle(ctx: _Context, arg: str | None) -> str:
    """Validity, surveillance interval, grace days and longest suspension, as a list."""
    rules = ctx.settings.lifecycle
    items = [
        (
            f"证书有效期为 **{rules.validity_years} 年**；期满前须通过再认证审核（复审），"
            "通过后换发证书。",
            f"A certificate is valid for {_plural(rules.validity_years, 'year')}; "
            "a new certificate is issued only after a recertification audit.",
        ),
        (
            f"获证后，至少每 **{rules.surveillance_months} 个月**进行一次监督审核。",
            "At least one surveillance audit every "
            f"{_plural(rules.surveillance_months, 'month')}.",
        ),
        (
            f"应审日期过后 **{rules.surveillance_grace_days} 天**仍未登记通过的监督审核，"
            "证书页面提示监督审核逾期。",
            "If no passed surveillance audit is recorded within "
            f"{_plural(rules.surveillance_grace_days, 'day')} after it was due, the certificate "
            "page shows that surveillance is overdue.",
        ),
        (
            f"暂停最长 **{rules.max_suspension_months} 个月**；期限内未恢复的，证书予以撤销。",
            f"A suspension lasts at most {_plural(rules.max_suspension_months, 'month')}; "
            "a certificate not reinstated by then is withdrawn.",
        ),
    ]
    return "\n\n".join(f"- {zh}\n\n    {en}" for zh, en in items)


@marker("body", block=True)
def _body(ctx: _Context, arg: str | None) -> str:
    """The certification body: names, accreditation, phone, email, address, report link."""
    b = ctx.settings.body
    rows: list[tuple[str, str]] = [
        ("认证机构 / Certification body", text(b.name)),
        ("英文名称 / Name in English", text(b.name_en)),
        ("资质编号 / Accreditation", text(b.accreditation)),
        ("电话 / Telephone", _phone(b.phone) if b.phone else ""),
        ("电子邮箱 / Email", _email(b.email) if b.email else ""),
        ("地址 / Address", text(b.address)),
    ]
    if b.report_url:
        url = safe_url(b.report_url, "body.report_url")
        label = "举报疑似假冒证书 / Report a suspected counterfeit"
        rows.append(("举报 / Report", _link(url, label)))
    return _table(["项目 / Item", "内容 / Details"], [[k, v] for k, v in rows if v])


@marker("industries", block=True)
def _industries(ctx: _Context, arg: str | None) -> str:
    """The industries a record may name, with their keys."""
    rows = [[text(lb.zh), text(lb.en), _code(key)] for key, lb in ctx.settings.industries.items()]
    return _table(["行业", "Industry", "代码 / Key"], rows)


@marker("stats", block=True)
def _stats(ctx: _Context, arg: str | None) -> str:
    """Numbers of certificates by verdict; removed when no stats are given."""
    if ctx.stats is None:
        return ""
    statuses = ctx.settings.statuses
    unknown = sorted(set(ctx.stats) - {st.key for st in statuses} - {STATS_TOTAL, STATS_OVERDUE})
    if unknown:
        raise MarkerError(
            f"'stats' got unknown key(s) {', '.join(unknown)}; "
            f"expected status keys, '{STATS_TOTAL}' or '{STATS_OVERDUE}'"
        )
    counts = {st.key: int(ctx.stats.get(st.key, 0)) for st in statuses}
    total = int(ctx.stats.get(STATS_TOTAL, sum(counts.values())))
    rows = []
    for st in statuses:
        rows.append([f"{text(st.zh)} / {text(st.en)}", str(counts[st.key])])
        if st.key == "valid" and STATS_OVERDUE in ctx.stats:
            overdue = str(int(ctx.stats[STATS_OVERDUE]))
            rows.append(["其中监督审核逾期 / of which surveillance overdue", overdue])
    rows.append(["**合计 / Total**", f"**{total}**"])
    intro = (
        f"本登记库共收录证书 **{total}** 张，按当前状态统计如下。"
        f" The registry holds {_plural(total, 'certificate')}; by current status:"
    )
    header = ["状态 / Status", "证书数 / Certificates"]
    return intro + "\n\n" + _table(header, rows, ["---", "---:"])


# --- open data ----------------------------------------------------------------------------------


def schema_fields(schema: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """(dotted path, property schema with its $ref resolved, required) for every record field."""
    defs = schema.get("$defs", {})

    def resolve(prop: dict[str, Any]) -> dict[str, Any]:
        ref = str(prop.get("$ref", ""))
        if not ref.startswith("#/$defs/"):
            return prop
        own = {k: v for k, v in prop.items() if k != "$ref"}
        return {**defs.get(ref.removeprefix("#/$defs/"), {}), **own}

    out: list[tuple[str, dict[str, Any], bool]] = []

    def walk(node: Mapping[str, Any], prefix: str) -> None:
        required = set(node.get("required", []))
        for name, raw in node.get("properties", {}).items():
            prop = resolve(raw)
            path = f"{prefix}{name}"
            out.append((path, prop, name in required))
            if prop.get("type") == "object":
                walk(prop, f"{path}.")
            elif prop.get("type") == "array" and isinstance(prop.get("items"), dict):
                items = resolve(prop["items"])
                if items.get("type") == "object":
                    walk(items, f"{path}[].")

    walk(schema, "")
    return out


def field_zh(path: str, prop: Mapping[str, Any]) -> str:
    """The Chinese name of a record field: the schema's ``title``, else the built-in list."""
    return str(prop.get("title") or _FIELD_ZH.get(path, ""))


def _type(prop: Mapping[str, Any]) -> str:
    if prop.get("format") == "date":
        return "date (YYYY-MM-DD)"
    return str(prop.get("type", ""))


@marker("fields", block=True)
def _fields(ctx: _Context, arg: str | None) -> str:
    """Record fields, read from registry/record.schema.json."""
    rows = []
    for path, prop, required in schema_fields(ctx.settings.schema):
        about = text(prop.get("description", ""))
        if "enum" in prop:
            about = f"{about} 取值 / Values: {', '.join(_code(v) for v in prop['enum'])}".strip()
        name = text(field_zh(path, prop))
        rows.append([_code(path), name, text(_type(prop)), "✓" if required else "", about])
    header = ["字段 / Field", "名称", "类型 / Type", "必填 / Required", "说明 / Description"]
    return _table(header, rows)


@marker("spreadsheet-columns", block=True)
def _spreadsheet_columns(ctx: _Context, arg: str | None) -> str:
    """The columns `starmark export` writes and `starmark import` reads (generator/spreadsheet)."""
    from .spreadsheet.columns import EXPLAINED_HEADER, explained

    rows = [[text(sheet), text(head), text(en), _code(field), text(values), text(about),
             text(aliases)] for sheet, head, en, field, values, about, aliases in explained(
                 ctx.settings)]
    return _table(list(EXPLAINED_HEADER), rows)


@marker("api-examples", block=True)
def _api_examples(ctx: _Context, arg: str | None) -> str:
    """curl and Python examples against the registry's own site_url."""
    base, number = ctx.settings.site_url, ctx.settings.number.example
    if "`" in base or "~" in base:
        raise MarkerError("setting 'site_url' cannot go in a code block: it contains ` or ~")
    shell = [
        "# 下载全部证书记录 / all records",
        f"curl -O {shlex.quote(base + 'api/v1/certificates.json')}",
        "# 单张证书 / one certificate",
        f"curl {shlex.quote(f'{base}api/v1/certificates/{number}.json')}",
        "# 表格（UTF-8 带 BOM）/ spreadsheet (UTF-8 with BOM)",
        f"curl -O {shlex.quote(base + 'api/v1/certificates.csv')}",
    ]
    python = [
        "import csv",
        "import io",
        "import json",
        "import urllib.request",
        "",
        f"BASE = {json.dumps(base)}",
        "",
        'with urllib.request.urlopen(BASE + "api/v1/certificates.json") as resp:',
        "    data = json.load(resp)",
        "# 数据版本与数据日期 / schema version and as-of date",
        'print(data["schema_version"], data["as_of"])',
        "",
        f'with urllib.request.urlopen(BASE + "api/v1/certificates/{number}.json") as resp:',
        "    print(json.dumps(json.load(resp), ensure_ascii=False, indent=2))",
        "",
        "# utf-8-sig 去掉开头的 BOM / utf-8-sig drops the BOM",
        'with urllib.request.urlopen(BASE + "api/v1/certificates.csv") as resp:',
        '    rows = list(csv.DictReader(io.TextIOWrapper(resp, encoding="utf-8-sig")))',
        "print(len(rows))",
    ]
    return "```bash\n" + "\n".join(shell) + "\n```\n\n```python\n" + "\n".join(python) + "\n```"


# --- inline markers -----------------------------------------------------------------------------


@marker("site-url", block=False)
def _site_url(ctx: _Context, arg: str | None) -> str:
    """The registry's own address (site_url), as code."""
    return _code(ctx.settings.site_url)


@marker("cert-url-example", block=False)
def _cert_url_example(ctx: _Context, arg: str | None) -> str:
    """The address of the certificate with the example number, as code."""
    return _code(ctx.settings.certificate_url(ctx.settings.number.example))


@marker("contact", block=False)
def _contact(ctx: _Context, arg: str | None) -> str:
    """The body's phone and email, as links."""
    b = ctx.settings.body
    found = [_phone(b.phone) if b.phone else "", _email(b.email) if b.email else ""]
    if not any(found):
        raise MarkerError("'contact' needs body.contact.phone or body.contact.email in registry/")
    return " · ".join(p for p in found if p)


@marker("report-url", block=False)
def _report_url(ctx: _Context, arg: str | None) -> str:
    """Where to report a counterfeit, as a link target: [举报](<!-- starmark:report-url -->)."""
    b = ctx.settings.body
    url = b.report_url or (f"mailto:{b.email}" if b.email else "")
    if not url:
        raise MarkerError("'report-url' needs body.report_url or body.contact.email in registry/")
    return re.sub(r"[\s()<>\"'\\]", lambda m: f"%{ord(m.group()):02X}", safe_url(url, "report_url"))


def _value(name: str, about: str, getter: Callable[[Settings], object]) -> None:
    def render(ctx: _Context, arg: str | None) -> str:
        return text(getter(ctx.settings))

    render.__doc__ = about
    marker(name, block=False)(render)


_value("number-example", "An example certificate number.", lambda s: s.number.example)
_value("body-name", "The body's name in Chinese.", lambda s: s.body.name)
_value("body-name-en", "The body's name in English.", lambda s: s.body.name_en or s.body.name)
_value("validity-years", "Validity in years.", lambda s: s.lifecycle.validity_years)
_value(
    "surveillance-months",
    "Longest interval between surveillance audits, in months.",
    lambda s: s.lifecycle.surveillance_months,
)
_value(
    "grace-days",
    "Days after the due date before surveillance is shown as overdue.",
    lambda s: s.lifecycle.surveillance_grace_days,
)
_value(
    "max-suspension-months",
    "Longest suspension, in months.",
    lambda s: s.lifecycle.max_suspension_months,
)
_value(
    "stale-days",
    "Days past the data date after which a page says 'data as of'.",
    lambda s: s.stale_after_days,
)
_value("pass-mark", "Lowest score that earns a level.", lambda s: _num(s.min_score))
_value("max-score", "The full score.", lambda s: _num(s.max_score))


# --- expansion ----------------------------------------------------------------------------------


def known_markers() -> dict[str, str]:
    """Every marker name with its line of help, for documentation and error messages."""
    return {name: m.help for name, m in MARKERS.items()}


def expand_markers(markdown: str, settings: Settings, stats: dict[str, int] | None = None) -> str:
    """Replace each ``<!-- starmark:NAME [ARG] -->`` in ``markdown`` with text from settings.

    ``stats`` counts certificates by verdict (status keys, optionally ``total`` and
    ``surveillance_overdue``); without it the ``stats`` marker is removed. Raises
    :class:`MarkerError` naming the marker and its line for anything it cannot expand.
    """
    ctx = _Context(settings, stats)

    def replace(match: re.Match[str]) -> str:
        spec = match.group("spec")
        line = markdown.count("\n", 0, match.start()) + 1
        where = f"line {line}: marker '<!-- starmark:{spec} -->'"
        parsed = _SPEC.fullmatch(spec)
        if parsed is None:
            raise MarkerError(f"{where} is malformed; write <!-- starmark:NAME [ARG] -->")
        name, arg = parsed.group("name"), parsed.group("arg")
        found = MARKERS.get(name)
        if found is None:
            raise MarkerError(f"{where}: unknown marker '{name}'; known: {', '.join(MARKERS)}")
        if arg is not None and not found.arg:
            raise MarkerError(f"{where}: '{name}' takes no argument")
        if arg is None and found.arg == "required":
            raise MarkerError(f"{where}: '{name}' needs an argument")
        try:
            rendered = found.render(ctx, arg)
        except MarkerError as exc:
            raise MarkerError(f"{where}: {exc}") from None
        if not found.block:
            return rendered
        start = markdown.rfind("\n", 0, match.start()) + 1
        end = markdown.find("\n", match.end())
        indent = markdown[start : match.start()]
        rest = markdown[match.end() : len(markdown) if end < 0 else end]
        if indent.strip() or rest.strip():
            raise MarkerError(f"{where}: '{name}' is a block marker; put it on a line of its own")
        body = "\n".join(indent + ln if ln else ln for ln in rendered.split("\n"))
        # The marker's own indentation stays in front of it and becomes a blank line, so a table
        # never runs into the paragraph above; the rest of its line ends the block.
        return f"\n{body}\n" if rendered else ""

    return MARKER.sub(replace, markdown)
