"""The bulk check (``/check/``): a list of numbers, each one's status on a day and today.

Tender officers paste a supplier list in whatever form it came (one a line, an Excel column,
commas, spaces, full-width characters, lower case, missing hyphens) and get, for each number,
the organisation and its status and star level on the bid deadline and today, as a table they
can export (CSV) and print as evidence. The page only looks days up in the periods the build
derived (:mod:`generator.periods`); it never applies the scheme's rules itself.

It reads a compact status index, sharded by number, under ``api/v1/status/`` (JSON, sorted
keys, no timestamps: same input, same bytes):

``meta.json``
    Format, build version (a digest of the shards, which the page adds to their URLs so that
    a new build never mixes with cached old shards), shard count, the labels of statuses and
    levels, the number format's example and the registry's name.
``<k>.json``
    Shard ``k = crc32(compact number) mod shards``: ``{compact: [entry, …]}``, where compact is
    the number reduced to ASCII letters and digits (:func:`search.compact_number`, the search's
    number handling) and an entry is ``{"n": number, "o": organisation, "p": periods}`` with
    periods ``[[from, status, level], …]`` (from: ``YYYY-MM-DD``, or null for the first; a
    period runs to the day before the next one's ``from``), or, for a number on the
    reported-counterfeits list, ``{"n": number, "x": {"reported": day, "note": …, "note_en": …}}``.

:func:`split_list` (and ``splitList`` in ``theme/assets/starmark/check.js``, which the tests
keep in agreement with it) cuts a pasted list into numbers; ``starmark status`` uses it too.
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
import unicodedata
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import counterfeits, periods
from .model import Certificate, Registry
from .search import compact_number
from .settings import Settings

FORMAT = 1
INDEX_DIR = "api/v1/status"
MAX_NUMBERS = 1000  # numbers one check answers
PER_SHARD = 12  # entries per shard at most (6 to 12): 100 numbers fetch ~100 files of ~0.4 KB gzip
PAGE = "check/index.md"
PAGE_MARKDOWN = """---
description: 批量核查证书编号在某日和今天的状态与星级，可导出和打印。Check a list of certificate \
numbers on a given day and today; export and print the result.
---

# 核查证书名单 <span lang="en">Check a list of certificates</span>

粘贴一组证书编号（例如投标企业提交的证书），可选填一个日期（例如投标截止日），
即可查看每张证书在该日和今天的状态与星级。结果可导出为 CSV 表格，也可打印存档；
打印件注明核查时间和所依据的签名检查点。
<span lang="en">Paste a list of certificate numbers and, optionally, a date (such as a bid
deadline) to see each certificate's status and star level on that day and today. Export the
table as CSV, or print it for the file: the printout names the time of the check and the
signed checkpoint it was answered from.</span>
<a href="../tenders/">招投标核查说明 <span lang="en">Guide for tender officers</span></a>
"""

# Between numbers: line breaks, tabs, commas, semicolons and the enumeration comma, in any width
# (the list is NFKC-normalised first, which folds full-width forms to these).
_BETWEEN = re.compile(r"[\r\n\t,;\u3001]+")
_SPACE = re.compile(r"\s+")
_ALNUM = re.compile(r"[0-9a-z]")
_DIGIT = re.compile(r"[0-9]")


def split_list(text: str, example: str) -> list[str]:
    """The numbers in a pasted list, as typed (trimmed), in order; duplicates kept.

    Pieces are cut at line breaks, tabs, commas, semicolons and 、; inside a piece, spaces cut
    numbers only where the part before is already as long as a number (the compact form of
    ``example``), so that ``ASC 2025 000123`` stays one number and ``ASC-2025-000123
    ASC-2025-000124`` is two. A piece with no digit at all (a column heading such as 证书编号)
    is left out.
    """
    full = len(compact_number(example))
    found: list[str] = []
    normal = _fold(text)
    for piece in _BETWEEN.split(normal):
        words = [w for w in _SPACE.split(piece.strip()) if w]
        current: list[str] = []
        for word in words:
            if current and len(compact_number("".join(current))) >= full:
                found.append(" ".join(current))
                current = []
            current.append(word)
        if current:
            found.append(" ".join(current))
    return [n for n in found if _DIGIT.search(compact_number(n))]


def _fold(text: str) -> str:
    """NFKC, so that full-width commas, spaces, letters and digits count as ASCII ones."""
    return unicodedata.normalize("NFKC", text)


def shard_count(entries: int) -> int:
    """Shards for ``entries`` index entries: a power of two, at most :data:`PER_SHARD` entries a
    shard on average (more than half as many)."""
    shards = 1
    while shards * PER_SHARD < entries:
        shards *= 2
    return shards


def shard_of(compact: str, shards: int) -> int:
    """The shard of a compact number (crc32, as search.js's ``crc32`` computes it)."""
    return zlib.crc32(compact.encode("utf-8")) % shards


def dump(data: Any) -> bytes:
    """An index file's bytes: compact JSON, keys sorted, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def labels(settings: Settings) -> dict[str, Any]:
    """The names the page shows for statuses and levels, from registry/ (and the periods)."""
    statuses = {st.key: [st.zh, st.en] for st in settings.statuses}
    statuses[periods.NOT_ISSUED] = list(periods.NOT_ISSUED_LABEL)
    return {
        "statuses": statuses,
        "levels": {lv.key: [lv.zh, lv.en, lv.stars] for lv in settings.levels},
    }


def certificate_entry(cert: Certificate, settings: Settings) -> tuple[str, dict[str, Any]]:
    """One certificate's entry of the status index, under its compact number: a function of
    the record and the settings alone (not of the as-of date), so a build may keep it."""
    found = periods.periods(cert, settings)
    return compact_number(cert.number), {
        "n": cert.number,
        "o": cert.organization.name,
        "p": [[p.start.isoformat() if p.start else None, p.status, p.level] for p in found],
    }


Shard = dict[str, list[dict[str, Any]]]  # a status index file: entries by compact number


def build_index(registry: Registry,
                compact_of: Callable[[Certificate], tuple[str, bytes]] | None = None,
                shard_bytes: Callable[[bytes, Callable[[], Shard]], bytes] | None = None
                ) -> dict[str, bytes]:
    """Every file of the status index, by path under the site.

    ``compact_of``: gives a certificate's compact number and a 16-byte digest that stands for
    its entry (:func:`certificate_entry`; a build's cache of them); ``shard_bytes``: gives the
    bytes of a shard from its members' digests, in order and joined, and a function that makes
    its entries (a build's cache: a shard whose members did not change is neither made nor
    serialized again, and its certificates' periods are not derived)."""
    settings = registry.settings
    members: list[tuple[str, bytes, Certificate | dict[str, Any]]] = [
        (*compact_of(cert), cert) if compact_of is not None
        else (compact_number(cert.number), b"", cert)
        for cert in registry.certificates]
    for reported in counterfeits.for_registry(registry).numbers:
        note = {"reported": reported.reported.isoformat(), "note": reported.note,
                "note_en": reported.note_en}
        entry = {"n": reported.value, "x": note}
        key = hashlib.blake2b(dump(entry), digest_size=16).digest()
        members.append((compact_number(reported.value), key, entry))
    shards = shard_count(len(members))  # entry_count(registry): the check page knows it too
    groups: list[list[tuple[str, bytes, Certificate | dict[str, Any]]]] = [
        [] for _ in range(shards)]
    for member in members:
        groups[shard_of(member[0], shards)].append(member)

    def part(group: list[tuple[str, bytes, Certificate | dict[str, Any]]]) -> Shard:
        shard: Shard = {}
        for compact, _key, source in group:
            entry = source if isinstance(source, dict) else certificate_entry(source, settings)[1]
            shard.setdefault(compact, []).append(entry)
        return shard

    files = {}
    for k, group in enumerate(groups):
        if shard_bytes is None:
            files[f"{INDEX_DIR}/{k}.json"] = dump(part(group))
        else:
            files[f"{INDEX_DIR}/{k}.json"] = shard_bytes(
                b"".join([member[1] for member in group]), functools.partial(part, group))
    version = hashlib.blake2b(b"".join(files[f"{INDEX_DIR}/{k}.json"] for k in range(shards)),
                              digest_size=8).hexdigest()
    body = settings.body
    files[f"{INDEX_DIR}/meta.json"] = dump({
        "format": FORMAT,
        "version": version,
        "shards": shards,
        "count": len(registry.certificates),
        "example": settings.number.example,
        "max": MAX_NUMBERS,
        "registry": {"name": body.name, "name_en": body.name_en, "site_url": settings.site_url},
        **labels(settings),
    })
    return files


ASSETS = Path(__file__).parent / "theme" / "assets" / "starmark"
# What the page's inline script copies (see early_script): check.js's startRequests and what it
# calls, and from search.js the number handling and the shard hash those call in turn.
EARLY_FROM_SEARCH = ("DROP", "SPACE", "NOT_ALNUM", "CRC_TABLE", "UTF8", "normalise",
                     "compactNumber", "crc32")
EARLY_FROM_CHECK = ("FORMAT", "BETWEEN", "SPACE", "DIGIT", "splitList", "merge", "asked",
                    "shardPath", "shardUrl", "json", "startRequests")
_DECLARATION = re.compile(r"(?:export )?(?:const|let|function|async function) (\w+)")


def declarations(source: str, names: tuple[str, ...]) -> str:
    """The top-level declarations ``names`` of a script, in that order, without ``export``.

    A declaration runs from its first line to the next line that starts at the left margin with
    anything but a closing bracket (the scripts' own layout, which their linting keeps).
    """
    chunks: list[list[str]] = []
    for line in source.splitlines():
        if not chunks or line[:1] not in ("", " ", "}", ")", "]"):
            chunks.append([])
        chunks[-1].append(line)
    found: dict[str, str] = {}
    for chunk in chunks:
        match = _DECLARATION.match(chunk[0])
        if match and match.group(1) in names:
            found[match.group(1)] = "\n".join(chunk).removeprefix("export ").rstrip()
    missing = [name for name in names if name not in found]
    if missing:
        raise ValueError(f"no top-level {', '.join(missing)} to copy into the check page")
    return "\n".join(found[name] for name in names)


def entry_count(registry: Registry) -> int:
    """Entries of the status index: every certificate and every reported counterfeit number."""
    return len(registry.certificates) + len(counterfeits.for_registry(registry).numbers)


def early_script(registry: Registry) -> str:
    """The check page's inline script: check.js's own startRequests (and what it calls) copied
    from check.js and search.js, run as the head is parsed, with what the build knows of the
    index's meta.json (format, shard count, number example, limit). It starts meta.json, the
    checkpoint and a shared link's index files at once, without waiting for meta.json, the
    stylesheets or check.js and its imports; check.js takes the requests over
    (``globalThis.starmarkCheck``). One implementation: the same source text."""
    search = declarations((ASSETS / "search.js").read_text("utf-8"), EARLY_FROM_SEARCH)
    code = declarations((ASSETS / "check.js").read_text("utf-8"), EARLY_FROM_CHECK)
    known = json.dumps({"format": FORMAT, "shards": shard_count(entry_count(registry)),
                        "example": registry.settings.number.example, "max": MAX_NUMBERS},
                       ensure_ascii=True, sort_keys=True).replace("</", "<\\/")
    return ("starmarkCheck = (() => {\n"
            f"const {{ compactNumber, crc32 }} = (() => {{\n{search}\n"
            "return { compactNumber, crc32 };\n})();\n"
            f"{code}\n"
            'return startRequests(new URL("../", window.location.href), window.location.search,\n'
            f"  {known});\n"
            "})();")


def page_head(registry: Registry) -> str:
    """What /check/ adds to its head, before the theme's stylesheets (the theme template puts
    ``page.meta.starmark_early`` there): check.js (an async module, high priority, its imports
    preloaded beside it), which runs as soon as it arrives; the inline script of
    :func:`early_script`, before any stylesheet (a classic script waits for the stylesheets
    above it); and check.js's stylesheet, here rather than in the body, where Chromium stops
    parsing until a stylesheet arrives."""
    return "\n".join([
        '<link rel="modulepreload" href="../assets/starmark/search.js">',
        '<link rel="modulepreload" href="../assets/starmark/periods.js">',
        '<script type="module" async fetchpriority="high"'
        ' src="../assets/starmark/check.js"></script>',
        f"<script>{early_script(registry)}</script>",
        '<link rel="stylesheet" href="../assets/starmark/periods.css">',
    ])


def check_page_html(settings: Settings) -> str:
    """The form, the results region and the no-script note of ``/check/``.

    Its script (``assets/starmark/check.js``, a module, loaded from the head: :func:`page_head`)
    reads ``?on=`` and ``?q=`` on load, so a result can be shared as a link; the form is a plain
    GET of the same address.
    """
    example = html.escape(settings.number.example)
    compact = html.escape(compact_number(settings.number.example))
    lower = html.escape(settings.number.example.lower())
    return "\n".join([
        '<div class="sm-check" data-starmark-check>',
        '<form class="sm-check__form" action="./" method="get">',
        '<p class="sm-check__field"><label for="sm-check-q">证书编号'
        ' <span lang="en">Certificate numbers</span></label>',
        '<textarea id="sm-check-q" name="q" rows="8" autocomplete="off" autocapitalize="off"'
        ' spellcheck="false" aria-describedby="sm-check-help"></textarea></p>',
        '<p id="sm-check-help" class="sm-check__help">每行一个，或用逗号、空格分隔；可直接粘贴'
        f"Excel 中的一列。连字符可省略，全角半角、大小写均可，如 {example}、{compact}、{lower}。"
        f"一次最多 {MAX_NUMBERS} 个，重复的编号合并为一行。"
        ' <span lang="en">One a line, or separated by commas or spaces; paste a column from'
        " Excel as it is. Hyphens may be left out; any width or case will do. Up to"
        f" {MAX_NUMBERS:,} numbers at once; repeated numbers are merged.</span></p>",
        '<p class="sm-check__field"><label for="sm-check-on">核查日期（可选，如投标截止日）'
        ' <span lang="en">Date to check (optional, e.g. the bid deadline)</span></label>',
        '<input type="date" id="sm-check-on" name="on"></p>',
        '<p class="sm-check__actions"><button type="submit" class="md-button md-button--primary">'
        '核查 <span lang="en">Check</span></button></p>',
        "</form>",
        '<div class="sm-check__out" data-check-out aria-live="polite"></div>',
        '<noscript><p class="sm-check__noscript">批量核查需要启用 JavaScript。也可以逐个打开'
        '证书页面，下载<a href="../api/v1/certificates.csv">全部证书的表格</a>，或用命令'
        ' <code>starmark status</code> 核查。 <span lang="en">The bulk check needs JavaScript.'
        ' You can also open each certificate page, download the <a'
        ' href="../api/v1/certificates.csv">table of all certificates</a>, or use'
        " <code>starmark status</code>.</span></p></noscript>",
        "</div>",
        "",
    ])
