"""Reported counterfeits (``registry/counterfeits.yaml``): numbers never issued, look-alike sites.

The list is shown on a public page (:func:`page_markdown`, generated as ``counterfeits/index.md``),
flagged on the not-found page and by ``starmark verify``. A number the body did issue is refused:
listing a real certificate as counterfeit would wrong its holder.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from urllib.parse import urlsplit

from .errors import InputError, Problem
from .model import Registry
from .settings import COUNTERFEITS_FILE, REGISTRY_DIR, Settings
from .source import Document, read_file

DISPLAY = f"{REGISTRY_DIR}/{COUNTERFEITS_FILE}"
PAGE = "counterfeits/index.md"
PAGE_URL = "counterfeits/"
_HOST = re.compile(
    r"(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})"
)
_NUMBER = re.compile(r"[^\s<>\"'`&]{1,64}")
_SAFE_SCHEMES = ("http", "https", "mailto", "tel")
_FIELDS = {"numbers": "number", "domains": "domain"}
_ITEM_KEYS = {"reported", "note", "note_en", "sample"}


@dataclass(frozen=True)
class Reported:
    """One reported counterfeit number or look-alike domain."""

    value: str
    reported: dt.date
    note: str = ""
    note_en: str = ""
    sample: bool = False


@dataclass(frozen=True)
class Counterfeits:
    """Everything in ``registry/counterfeits.yaml``, checked."""

    numbers: tuple[Reported, ...] = ()
    domains: tuple[Reported, ...] = ()

    @property
    def number_set(self) -> frozenset[str]:
        return frozenset(r.value for r in self.numbers)

    @property
    def domain_set(self) -> frozenset[str]:
        return frozenset(r.value for r in self.domains)

    @property
    def has_samples(self) -> bool:
        return any(r.sample for r in (*self.numbers, *self.domains))


def _item(
    doc: Document, section: str, i: int, item: object, problems: list[Problem]
) -> Reported | None:
    field = _FIELDS[section]
    where = (section, i)
    if not isinstance(item, dict):
        problems.append(
            Problem(DISPLAY, doc.line(where), f"each of '{section}' is a mapping with '{field}'")
        )
        return None
    for key in sorted(set(item) - _ITEM_KEYS - {field}):
        problems.append(Problem(DISPLAY, doc.key_line((*where, key)), f"unknown field '{key}'"))
    value = item.get(field)
    if not isinstance(value, str) or not value:
        problems.append(Problem(DISPLAY, doc.line(where), f"missing '{field}'"))
        return None
    try:
        reported = dt.date.fromisoformat(str(item.get("reported")))
    except ValueError:
        problems.append(
            Problem(DISPLAY, doc.line((*where, "reported")), "'reported' must be a date YYYY-MM-DD")
        )
        return None
    sample = item.get("sample", "false")
    if sample not in ("true", "false"):
        problems.append(
            Problem(DISPLAY, doc.line((*where, "sample")), "'sample' must be true or false")
        )
    notes = [item.get(k) or "" for k in ("note", "note_en")]
    if not all(isinstance(n, str) for n in notes):
        problems.append(Problem(DISPLAY, doc.line(where), "notes must be text"))
        return None
    return Reported(value, reported, notes[0], notes[1], sample == "true")


def load(settings: Settings, issued: Iterable[str] = ()) -> Counterfeits:
    """Read and check the list (empty if there is no file); :class:`InputError` lists problems.

    ``issued``: the numbers in the registry, none of which may be listed as counterfeit.
    """
    path = settings.root / REGISTRY_DIR / COUNTERFEITS_FILE
    if not path.exists():
        return Counterfeits()
    doc, problems = read_file(path, DISPLAY)
    if doc is None:
        raise InputError(problems)
    tree = doc.data or {}
    if not isinstance(tree, dict):
        raise InputError([Problem(DISPLAY, 1, "expected 'numbers:' and 'domains:' lists")])
    for key in sorted(set(tree) - set(_FIELDS)):
        problems.append(
            Problem(
                DISPLAY,
                doc.key_line((key,)),
                f"unknown section '{key}'; expected 'numbers' and 'domains'",
            )
        )
    own_host = (urlsplit(settings.site_url).hostname or "").lower()
    issued_set = issued if isinstance(issued, AbstractSet) else set(issued)
    found: dict[str, list[Reported]] = {}
    for section in _FIELDS:
        items = tree.get(section) or []
        if not isinstance(items, list):
            problems.append(Problem(DISPLAY, doc.line((section,)), f"'{section}' must be a list"))
            continue
        seen: set[str] = set()
        found[section] = []
        for i, raw in enumerate(items):
            entry = _item(doc, section, i, raw, problems)
            if entry is None:
                continue
            line = doc.line((section, i, _FIELDS[section]))
            if entry.value in seen:
                problems.append(Problem(DISPLAY, line, f"'{entry.value}' is listed twice"))
            seen.add(entry.value)
            if section == "numbers":
                if not _NUMBER.fullmatch(entry.value):
                    problems.append(
                        Problem(
                            DISPLAY,
                            line,
                            "a number is at most 64 characters, without spaces, quotes or <>&",
                        )
                    )
                elif entry.value in issued_set:
                    problems.append(
                        Problem(
                            DISPLAY,
                            line,
                            f"{entry.value} was issued by this body: "
                            "a real certificate is never listed as counterfeit",
                        )
                    )
            elif not _HOST.fullmatch(entry.value):
                problems.append(
                    Problem(
                        DISPLAY,
                        line,
                        f"'{entry.value}' is not a lower-case host name (no scheme, path or port)",
                    )
                )
            elif own_host and (entry.value == own_host or entry.value.endswith("." + own_host)):
                problems.append(
                    Problem(
                        DISPLAY,
                        line,
                        f"'{entry.value}' is this registry's own address ({own_host})",
                    )
                )
            found[section].append(entry)
    if problems:
        raise InputError(problems)
    return Counterfeits(tuple(found.get("numbers", ())), tuple(found.get("domains", ())))


def for_registry(registry: Registry) -> Counterfeits:
    """The checked list for a loaded registry (no issued number may appear in it)."""
    numbers: Iterable[str] = registry.standings.keys()  # every number, as a set already
    if len(registry.standings) < len(registry.certificates):
        numbers = [c.number for c in registry.certificates]
    return load(registry.settings, numbers)


def report_link(settings: Settings) -> str | None:
    """Where to report a counterfeit: body.report_url, else a mailto; only http(s), mailto, tel."""
    url = settings.body.report_url or (
        f"mailto:{settings.body.email}" if settings.body.email else ""
    )
    return url if urlsplit(url).scheme.lower() in _SAFE_SCHEMES else None


def contact_html(settings: Settings) -> str:
    """The body's phone, email and report link as HTML (every value escaped)."""
    b = settings.body
    parts = []
    if b.phone:
        digits = re.sub(r"[^0-9+]", "", b.phone)
        parts.append(
            f'电话 <span lang="en">Phone</span> <a href="tel:{html.escape(digits)}">'
            f"{html.escape(b.phone)}</a>"
        )
    if b.email:
        parts.append(
            f'邮箱 <span lang="en">Email</span> <a href="mailto:{html.escape(b.email)}">'
            f"{html.escape(b.email)}</a>"
        )
    link = report_link(settings)
    if link:
        parts.append(
            f'<a href="{html.escape(link)}">举报疑似假冒 <span lang="en">Report a '
            "suspected counterfeit</span></a>"
        )
    return " · ".join(parts)


def _note(entry: Reported) -> str:
    text = html.escape(entry.note)
    if entry.note_en:
        text += f'<br><span lang="en">{html.escape(entry.note_en)}</span>'
    if entry.sample:
        text += ' <span class="sm-sample-tag">示例 <span lang="en">sample</span></span>'
    return text


def _table(head: tuple[str, str, str], rows: list[tuple[str, str, str]]) -> str:
    cells = "".join(f"<th>{h}</th>" for h in head)
    body = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>" for a, b, c in rows)
    return (
        f'<table class="sm-counterfeits">\n<thead><tr>{cells}</tr></thead>\n'
        f"<tbody>{body}</tbody>\n</table>"
    )


def page_markdown(registry: Registry) -> str:
    """The public page of reported counterfeits, as Markdown (raw HTML blocks for the data)."""
    s = registry.settings
    found = for_registry(registry)
    body = html.escape(s.body.name)
    site = html.escape(s.site_url)
    pattern = s.number.regex
    out = [
        "---",
        "description: 已举报的假冒售后服务认证证书编号和仿冒网站。Reported counterfeit certificate "
        "numbers and look-alike sites.",
        "---",
        "",
        '# 假冒证书与仿冒网站 <span lang="en">Reported counterfeits</span>',
        "",
        f"<p>下列证书编号<strong>从未</strong>由{body}颁发，是在产品、包装或宣传材料上发现并经举报的假冒编号；"
        f"下列网站<strong>不是</strong>本登记库，而是仿冒其外观或地址的网站。本登记库只有一个地址："
        f'<code>{site}</code>。<span lang="en">The certificate numbers below were <strong>never'
        f"</strong> issued by {html.escape(s.body.name_en or s.body.name)}: they were found on "
        "products, packaging or advertising and reported. The sites below are <strong>not</strong> "
        f"this registry, whose only address is <code>{site}</code>.</span></p>",
        "",
        "<p>不在此列表中的编号也可能是假冒的：以本登记库能否查到该证书为准。"
        '<span lang="en">A number missing from this list may still be counterfeit: what counts is '
        "whether this registry has the certificate.</span></p>",
        "",
    ]
    if found.has_samples:
        out += [
            '!!! warning "示例数据 Sample data"',
            "",
            "    标注“示例”的条目是演示用的虚构数据。Entries marked 示例 (sample) are fictional, "
            "for demonstration.",
            "",
        ]
    out += ['## 假冒证书编号 <span lang="en">Counterfeit certificate numbers</span> {#numbers}', ""]
    if found.numbers:
        rows = []
        for entry in sorted(found.numbers, key=lambda e: (e.reported, e.value), reverse=True):
            shape = (
                '符合编号格式，但从未颁发 <span lang="en">well-formed, never issued</span>'
                if pattern.fullmatch(entry.value)
                else '不符合本机构的编号格式 <span lang="en">not this body\'s number format</span>'
            )
            rows.append(
                (
                    f"<code>{html.escape(entry.value)}</code><br>{shape}",
                    f'<time datetime="{entry.reported}">{entry.reported}</time>',
                    _note(entry),
                )
            )
        out.append(
            _table(
                (
                    '证书编号 <span lang="en">Number</span>',
                    '举报日期 <span lang="en">Reported</span>',
                    '说明 <span lang="en">Details</span>',
                ),
                rows,
            )
        )
    else:
        out.append('<p>暂无。<span lang="en">None reported.</span></p>')
    out += [
        "",
        '## 仿冒网站 <span lang="en">Look-alike sites</span> {#sites}',
        "",
        "<p>请勿访问这些网站，也不要相信其上的任何证书信息。为免误点，这里不提供链接。"
        '<span lang="en">Do not visit these sites or trust anything they show; they are not '
        "linked, so that nobody opens them by mistake.</span></p>",
        "",
    ]
    if found.domains:
        rows = [
            (
                f"<code>{html.escape(e.value)}</code>",
                f'<time datetime="{e.reported}">{e.reported}</time>',
                _note(e),
            )
            for e in sorted(found.domains, key=lambda e: (e.reported, e.value), reverse=True)
        ]
        out.append(
            _table(
                (
                    '网站 <span lang="en">Site</span>',
                    '举报日期 <span lang="en">Reported</span>',
                    '说明 <span lang="en">Details</span>',
                ),
                rows,
            )
        )
    else:
        out.append('<p>暂无。<span lang="en">None reported.</span></p>')
    out += [
        "",
        '## 举报 <span lang="en">Report a counterfeit</span> {#report}',
        "",
        "<p>发现疑似假冒的证书、标志或网站，请拍照留存并记下网址、地点和日期，然后联系"
        f"{body}：{contact_html(s)}</p>",
        '<p lang="en">If you find a suspected counterfeit certificate, mark or site, keep photos '
        "and note the address, place and date, then contact the certification body.</p>",
        "",
    ]
    return "\n".join(out)
