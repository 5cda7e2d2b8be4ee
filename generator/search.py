"""Registry search without a server: a sharded n-gram index the browser fetches piece by piece.

mkdocs' built-in lunr index is one file (22 MB at 10,000 certificates) and segments Chinese into
words, so 海尔 is not found inside 青岛海尔智家. This index is split so that a query downloads
only the few files it needs, and it matches exact substrings of the normalised text.

Files, all under ``search/idx/`` (JSON, sorted keys, no timestamps: same input, same bytes):

``meta.json``
    Format, build version (a digest of every other file, which the browser adds to the other
    files' URLs so that a new build never mixes with cached old files), document count, chunk
    and shard counts, level/status/industry labels, the number format's example.
``g/<k>.json``
    Gram shard ``k = crc32(gram) mod shards``: ``{gram: [df, postings]}``, postings being the
    sorted document ids in the delta code below. A common gram has ``[df, n]`` instead,
    pointing at ``c/<n>.json``, so that no shard is blown up; a stop gram, in more than an
    eighth of the documents (有限, 公司, 服务, "ltd"), has only ``[at most this many
    documents]``: it would rule out too few to be worth its bytes and its build time, so a
    query of stop grams only checks rows in order.
``c/<n>.json``
    One common gram's postings: ``{"g": gram, "p": postings}``.
``d/<k>.json``
    The document table in chunks of ``chunk`` rows (documents ordered by organisation name):
    what a result row shows and all the text that is searched, so that the browser checks
    every result it shows by exact substring: never a false positive.
``n/index.json``, ``n/<i>.json``
    The number directory: ``[key, doc]`` sorted by key in blocks, and the first key of every
    block. A certificate's keys are its compact number (``asc2025000123``), the same without its
    letter prefix (``2025000123``) and the reverse marked with ``~`` (so that a tail such as
    ``000123`` is a prefix of a key too).

Grams, over normalised text (NFKC, lower case, runs of white space as one space): text is cut
into runs of ASCII letters and digits and runs of other letters and digits (Chinese); punctuation
and spaces cut runs. A Chinese run gives every character and every pair of adjacent characters;
an ASCII run gives every three adjacent characters and its first one and two characters marked
with ``^`` (so ``lg`` or ``co`` can be searched as the start of a word).

The query logic (``theme/assets/starmark/search.js``) must agree with :func:`normalise`,
:func:`run_grams`, :func:`compact_number`, :func:`encode_postings` and :func:`shard_of`; the tests
run it under Node against indexes built here.
"""

from __future__ import annotations

import gc
import gzip
import hashlib
import html
import json
import operator
import re
import threading
import unicodedata
import zlib
from collections import defaultdict, deque
from collections.abc import Iterable
from itertools import chain, repeat
from operator import attrgetter
from typing import Any

from .model import Certificate, Registry
from .settings import Settings

FORMAT = 1
INDEX_DIR = "search/idx"
# Rows per document-table chunk: a page of 20 results fetches at most 20 chunks, ~1.4 KB each.
DOC_CHUNK = 16
# Number-directory entries per block; the first key of each block is in n/index.json.
NUMBER_BLOCK = 1024
# Postings (encoded characters) per gram shard; the shard count is the next power of two.
SHARD_BYTES = 4_000
# A gram whose postings are longer than this gets its own file under c/.
COMMON_BYTES = 1_000
# A gram in more documents than this (at least STOP_MIN, else an eighth of them) is a stop gram:
# only its count is kept. It would narrow a query down little, and costs most to build and send.
STOP_MIN = 2_048
MAX_SHARDS = 1 << 14

# Kept in step with search.js: the same classes, written out, so Python and JavaScript agree.
_DROP = re.compile(r"[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# White space other than " " (search.js: control characters, " ", DEL to no-break space, the
# Unicode spaces and separators; a run of them is one space).
_ODD_SPACE = re.compile(
    r"[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
_RUN = re.compile(r"[0-9a-z]+|[^\W_0-9a-z]+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
# Joins texts to normalise them at once: a private-use character that normalising leaves alone.
_JOIN = "\ue000"

# Delta code for postings: each gap is written in base 32, high digits first; the last digit of
# a gap comes from TERMINAL, the others from MORE. A gap of 1 (neighbouring ids) is one character.
TERMINAL = "0123456789abcdefghijklmnopqrstuv"
MORE = "wxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_"


def normalise(text: str) -> str:
    """NFKC, lower case, invisible characters dropped, white space collapsed to one space."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _ODD_SPACE.sub(" ", _DROP.sub("", text))
    while "  " in text:  # search.js replaces runs of the class at once: the same result
        text = text.replace("  ", " ")
    return text.strip(" ")


def normalise_all(texts: list[str]) -> list[str]:
    """:func:`normalise` of every text, in a few calls over all of them joined together."""
    if any(_JOIN in text for text in texts):
        return [normalise(text) for text in texts]
    return [part.strip(" ") for part in normalise(_JOIN.join(texts)).split(_JOIN)]


def compact_number(text: str) -> str:
    """A certificate number as typed, reduced to ASCII letters and digits: ``asc2025000123``."""
    if text.isascii():  # NFKC leaves ASCII as it is; what else normalise does, the sub undoes
        return _NOT_ALNUM.sub("", text.lower())
    return _NOT_ALNUM.sub("", normalise(text))


def run_grams(run: str) -> frozenset[str]:
    """The grams of one run of normalised text (see the module docstring)."""
    if run[0] in _ASCII_ALNUM:
        grams = {run[i : i + 3] for i in range(len(run) - 2)}
        grams.add("^" + run[:1])
        if len(run) > 1:
            grams.add("^" + run[:2])
        return frozenset(grams)
    grams = set(run)
    grams.update(map(operator.add, run, run[1:]))
    return frozenset(grams)


def text_grams(text: str, cache: dict[str, frozenset[str]] | None = None) -> set[str]:
    """Every gram of already normalised ``text``."""
    grams: set[str] = set()
    for run in _RUN.findall(text):
        found = cache.get(run) if cache is not None else None
        if found is None:
            found = run_grams(run)
            if cache is not None:
                cache[run] = found
        grams |= found
    return grams


def _encode_gap(gap: int) -> str:
    digits = [TERMINAL[gap & 31]]
    gap >>= 5
    while gap:
        digits.append(MORE[gap & 31])
        gap >>= 5
    return "".join(reversed(digits))


_GAPS: list[str] = []  # the code of every gap up to the largest registry seen so far
_GAPS_LOCK = threading.Lock()


def encode_postings(ids: list[int]) -> str:
    """Sorted, distinct document ids as a delta code (the first gap is counted from -1)."""
    if ids and ids[-1] + 1 >= len(_GAPS):
        with _GAPS_LOCK:
            _GAPS.extend(_encode_gap(g) for g in range(len(_GAPS), ids[-1] + 2))
    return "".join(map(_GAPS.__getitem__, map(operator.sub, ids, chain((-1,), ids))))


def decode_postings(code: str) -> list[int]:
    """The inverse of :func:`encode_postings` (the browser has its own copy)."""
    ids: list[int] = []
    last, value = -1, 0
    for ch in code:
        if ch in MORE:
            value = value * 32 + MORE.index(ch)
        else:
            last += value * 32 + TERMINAL.index(ch)
            value = 0
            ids.append(last)
    return ids


def shard_of(gram: str, shards: int) -> int:
    """Which gram shard holds ``gram``: CRC-32 of its UTF-8 bytes modulo the shard count."""
    return zlib.crc32(gram.encode("utf-8")) % shards


def searched_texts(
    cert: Certificate, settings: Settings, region_name: str | None = None
) -> tuple[str, ...]:
    """What a query is matched against: names, scope, region and industry, in both languages."""
    org = cert.organization
    industry = settings.industries.get(cert.industry)
    return (
        org.name,
        org.name_en or "",
        cert.scope_zh,
        cert.scope_en or "",
        settings.region_name(org.region) if region_name is None else region_name,
        industry.zh if industry else cert.industry,
        industry.en if industry else cert.industry,
    )


def _dump(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def _document_order(registry: Registry) -> list[Certificate]:
    """Documents ordered by organisation name, so that one enterprise's certificates and names
    sharing a city prefix fall in the same document-table chunks."""
    by_number = sorted(registry.certificates, key=attrgetter("number"))
    return sorted(by_number, key=attrgetter("organization.name"))  # stable: then by number


def _merge(lists: list[list[int]]) -> list[int]:
    return lists[0] if len(lists) == 1 else sorted(set(chain.from_iterable(lists)))


def _append_each(targets: Iterable[list[Any]], items: Iterable[Any]) -> None:
    """Append each item to its target list, pairing them in order."""
    deque(map(list.append, targets, items), maxlen=0)


def _postings(columns: list[list[str]], docs: int, stop: int) -> dict[str, list[int] | int]:
    """Gram → its sorted document ids; or, for a stop gram, at most how many documents hold it.

    ``columns`` holds one list per searched field, the field's text for every document.
    Inverted per distinct text, then per distinct run, then per gram, so that Python steps are
    taken per distinct text and run rather than per gram of every document (scopes, regions,
    industry labels and the words of English names repeat across many certificates). A stop
    gram's documents are never merged: adding up its lists bounds their number well enough.
    """
    # Appends run as map() over bound methods, loops in C: at 100,000 certificates there are
    # millions of them.
    lists_by_run: dict[str, list[list[int]]] = defaultdict(list)
    for column in columns:
        docs_by_text: dict[str, list[int]] = defaultdict(list)
        _append_each(map(docs_by_text.__getitem__, column), range(docs))
        runs = list(map(set, map(_RUN.findall, normalise_all(list(docs_by_text)))))
        _append_each(
            map(lists_by_run.__getitem__, chain.from_iterable(runs)),
            chain.from_iterable(map(repeat, docs_by_text.values(), map(len, runs))),
        )
    # A run in more than ``stop`` documents makes each of its grams a stop gram: its documents
    # are only counted (over-counted where a document holds several runs with the gram).
    stop_sizes: dict[str, int] = defaultdict(int)
    kept_grams: list[frozenset[str]] = []
    kept_docs: list[list[int]] = []
    for run, lists in lists_by_run.items():
        size = sum(map(len, lists))
        if size > stop:
            for gram in run_grams(run):
                stop_sizes[gram] += size
        else:
            kept_grams.append(run_grams(run))
            kept_docs.append(_merge(lists))
    lists_by_gram: dict[str, list[list[int]]] = defaultdict(list)
    _append_each(
        map(lists_by_gram.__getitem__, chain.from_iterable(kept_grams)),
        chain.from_iterable(map(repeat, kept_docs, map(len, kept_grams))),
    )
    # The sum of the lists' sizes can be a few times the number of documents (电梯 in a name,
    # a scope and an industry label): it decides alone only when far above the stop line.
    surely_stop = stop * len(columns)
    postings: dict[str, list[int] | int] = {
        gram: min(size, docs) for gram, size in stop_sizes.items()
    }
    for gram, lists in lists_by_gram.items():
        size = sum(map(len, lists))
        if gram in stop_sizes or size > surely_stop:
            postings[gram] = min(size + stop_sizes.get(gram, 0), docs)
        elif size <= stop:
            postings[gram] = _merge(lists)
        else:
            union = set().union(*lists)
            postings[gram] = len(union) if len(union) > stop else sorted(union)
    return postings


def _number_directory(certs: list[Certificate]) -> list[tuple[str, int]]:
    entries: list[tuple[str, int]] = []
    for doc, cert in enumerate(certs):
        key = compact_number(cert.number)
        if not key:
            continue
        entries.append((key, doc))
        digits_first = key.lstrip("abcdefghijklmnopqrstuvwxyz")
        if digits_first and digits_first != key:
            entries.append((digits_first, doc))
        entries.append(("~" + key[::-1], doc))
    entries.sort()
    return entries


def _table(
    registry: Registry, certs: list[Certificate], industries: list[str]
) -> tuple[list[list[Any]], list[list[str]]]:
    """The document table's rows, and the searched texts of every document by field."""
    settings = registry.settings
    levels = {lv.key: i for i, lv in enumerate(settings.levels)}
    statuses = {st.key: i for i, st in enumerate(settings.statuses)}
    industry_index = {key: i for i, key in enumerate(industries)}
    regions: dict[str, str] = {}
    rows: list[list[Any]] = []
    texts: list[tuple[str, ...]] = []
    for cert in certs:
        code = cert.organization.region
        if code not in regions:
            regions[code] = settings.region_name(code)
        searched = searched_texts(cert, settings, regions[code])
        texts.append(searched)
        name, name_en, scope_zh, scope_en, region = searched[:5]
        rows.append(
            [
                cert.number,
                name,
                levels.get(cert.level, -1),
                statuses[registry.standing(cert).verdict],
                region,
                industry_index[cert.industry],
                scope_zh,
                name_en,
                scope_en,
            ]
        )
    return rows, [list(column) for column in zip(*texts, strict=True)] if texts else []


def _gram_files(
    columns: list[list[str]], docs: int, shard_bytes: int, common_bytes: int, stop: int
) -> tuple[dict[str, bytes], int]:
    """The gram shards and the common-gram files, and the number of shards."""
    files: dict[str, bytes] = {}
    shard_entries: dict[str, list[Any]] = {}
    common: list[tuple[str, int, str]] = []
    inline_bytes = 0
    for gram, found in _postings(columns, docs, stop).items():
        if isinstance(found, int):  # in so many documents that it would rule out few
            shard_entries[gram] = [found]
            continue
        code = encode_postings(found)
        if len(code) <= common_bytes:
            shard_entries[gram] = [len(found), code]
            inline_bytes += len(code) + len(gram.encode("utf-8")) + 8
        else:
            common.append((gram, len(found), code))
    common.sort(key=lambda entry: entry[0])
    for n, (gram, df, code) in enumerate(common):
        files[f"c/{n}.json"] = _dump({"g": gram, "p": code})
        shard_entries[gram] = [df, n]
    shards = 1
    while shards * shard_bytes < inline_bytes and shards < MAX_SHARDS:
        shards *= 2
    by_shard: list[dict[str, list[Any]]] = [{} for _ in range(shards)]
    for gram, entry in shard_entries.items():
        by_shard[shard_of(gram, shards)][gram] = entry
    for k, entries in enumerate(by_shard):  # empty shards too: a missing file is an error
        files[f"g/{k}.json"] = _dump(entries)
    return files, shards


def _number_files(certs: list[Certificate], number_block: int) -> dict[str, bytes]:
    """The number directory in blocks, and the first key of every block."""
    files: dict[str, bytes] = {}
    directory = _number_directory(certs)
    first_keys = []
    for i, start in enumerate(range(0, len(directory), number_block)):
        block = directory[start : start + number_block]
        first_keys.append(block[0][0])
        files[f"n/{i}.json"] = _dump([list(entry) for entry in block])
    files["n/index.json"] = _dump(first_keys)
    return files


def build_index(
    registry: Registry,
    *,
    doc_chunk: int = DOC_CHUNK,
    shard_bytes: int = SHARD_BYTES,
    common_bytes: int = COMMON_BYTES,
    number_block: int = NUMBER_BLOCK,
    stop_docs: int | None = None,
) -> dict[str, bytes]:
    """Every file of the search index: path under the site root (``search/idx/...``) → bytes.

    The keyword arguments are for tests and benchmarks; the defaults suit 1 to 100,000
    certificates.
    """
    collecting = gc.isenabled()
    gc.disable()  # millions of short lists: the cyclic collector would rescan them again and again
    try:
        return _build(registry, doc_chunk, shard_bytes, common_bytes, number_block, stop_docs)
    finally:
        if collecting:
            gc.enable()


def _build(
    registry: Registry,
    doc_chunk: int,
    shard_bytes: int,
    common_bytes: int,
    number_block: int,
    stop_docs: int | None,
) -> dict[str, bytes]:
    settings = registry.settings
    certs = _document_order(registry)
    industries = sorted(set(settings.industries) | {c.industry for c in certs})
    rows, columns = _table(registry, certs, industries)
    files: dict[str, bytes] = {}
    for start in range(0, len(rows), doc_chunk):
        files[f"d/{start // doc_chunk}.json"] = _dump(rows[start : start + doc_chunk])
    gram_files, shards = _gram_files(
        columns, len(certs), shard_bytes, common_bytes, stop_docs or max(STOP_MIN, len(certs) // 8)
    )
    files.update(gram_files)
    files.update(_number_files(certs, number_block))
    version = hashlib.blake2b(digest_size=8)
    for path in sorted(files):
        version.update(path.encode() + b"\0" + files[path] + b"\0")
    files["meta.json"] = _dump(
        {
            "format": FORMAT,
            "version": version.hexdigest(),
            "docs": len(certs),
            "chunk": doc_chunk,
            "shards": shards,
            "levels": [[lv.key, lv.zh, lv.en] for lv in settings.levels],
            "statuses": [[st.key, st.zh, st.en] for st in settings.statuses],
            "industries": [
                [key, settings.industries[key].zh, settings.industries[key].en]
                if key in settings.industries
                else [key, key, key]
                for key in industries
            ],
            "example": settings.number.example,
        }
    )
    return {f"{INDEX_DIR}/{path}": content for path, content in sorted(files.items())}


def entry_count(files: dict[str, bytes]) -> int:
    """How many certificates an index built by :func:`build_index` holds."""
    return int(json.loads(files[f"{INDEX_DIR}/meta.json"])["docs"])


def index_sizes(files: dict[str, bytes]) -> tuple[int, int]:
    """Total raw and gzip-compressed size of index files, as a server compressing them sends."""
    raw = sum(len(b) for b in files.values())
    return raw, sum(len(gzip.compress(b, compresslevel=6, mtime=0)) for b in files.values())


def search_page_html(settings: Settings) -> str:
    """The search form, results region and no-script fallback for the article of ``/search/``.

    It loads ``assets/starmark/search.js`` (relative to the site root, ``../`` from the page) as
    a module; the form also works as a plain GET of ``./?q=`` that the script answers on load.
    """
    example = html.escape(settings.number.example)
    compact = html.escape(compact_number(settings.number.example))
    report = html.escape(settings.body.report_url)
    report_zh = f' <a href="{report}">举报疑似假冒证书</a>' if report else ""
    report_en = f' <a href="{report}">Report a suspected counterfeit.</a>' if report else ""
    return "\n".join(
        [
            '<div class="sm-search" data-starmark-search>',
            '<form role="search" action="./" method="get" class="sm-search__form">',
            '<label for="starmark-search-q">证书编号、企业名称、认证范围或地区'
            ' <span lang="en">Certificate number, company name, scope or region</span></label>',
            '<input type="search" id="starmark-search-q" name="q" autocomplete="off"'
            ' autocapitalize="off" spellcheck="false" enterkeyhint="search"'
            ' aria-describedby="starmark-search-help">',
            '<button type="submit" class="md-button">搜索 <span lang="en">Search</span></button>',
            "</form>",
            '<p id="starmark-search-help" class="sm-search__help">'
            f"证书编号可带或不带连字符、空格，全角半角、大小写均可，也可只输入编号末尾几位，"
            f"如 {example}、{compact}；企业名称可输入其中任意连续的几个字。"
            ' <span lang="en">Type a number with or without hyphens or spaces, in any case or'
            " width, or just its last digits; a name can be searched by any part of it.</span></p>",
            '<div class="sm-search__results" data-starmark-results aria-live="polite"></div>',
            # Shown by search.js when a query looks like a number and no certificate has it.
            '<template data-starmark-number-hint><p class="sm-search__hint">'
            "<strong>这看起来像证书编号，但没有找到对应的证书。</strong>"
            f"请核对编号（格式如 {example}）。查不到的编号可能是伪造的。{report_zh}"
            ' <span lang="en"><strong>This looks like a certificate number, but no certificate'
            f" has it.</strong> Check the number (format: {example}). A number that cannot be"
            f" found may be counterfeit.{report_en}</span></p></template>",
            '<noscript><p class="sm-search__noscript">搜索需要启用 JavaScript。也可以在'
            '<a href="../list/">证书名录</a>中浏览全部证书。 <span lang="en">Search needs'
            ' JavaScript. You can also browse all certificates in the <a href="../list/">list'
            "</a>.</span></p></noscript>",
            "</div>",
            '<script type="module" src="../assets/starmark/search.js"></script>',
            "",
        ]
    )
