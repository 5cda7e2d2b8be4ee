"""The search index as generator/search.py built it before it was rewritten for speed (one
Python step per distinct text, run and gram, lists of document ids merged per gram), kept as an
oracle: the fast build must give the same bytes (tests/test_search_equivalence.py).

Written from the index format's definition (generator/search.py's module docstring and
search.js), not from the code it judges: normalising, cutting runs and grams, compact numbers,
the searched fields, sharding and JSON writing are all defined again here. Only the format's
parameters (sizes, alphabets, the folder name) are imported.
"""

from __future__ import annotations

import gc
import hashlib
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

from generator.model import Certificate, Registry
from generator.search import (
    COMMON_BYTES,
    DOC_CHUNK,
    FORMAT,
    INDEX_DIR,
    MAX_SHARDS,
    MORE,
    NUMBER_BLOCK,
    SHARD_BYTES,
    STOP_MIN,
    TERMINAL,
)
from generator.settings import Settings

# The characters search.js drops (soft hyphen, zero-width and bidi controls, word joiners, BOM)
# and the ones it reads as a space (controls, no-break and the other Unicode spaces).
DROPPED = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
SPACES = re.compile(
    "[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
)
# Runs: ASCII letters and digits, or other letters and digits; anything else cuts a run.
RUN = re.compile(r"[0-9a-z]+|[^\W_0-9a-z]+")


def normalise(text: str) -> str:
    """NFKC, lower case, dropped characters gone, any white space one space, trimmed."""
    text = SPACES.sub(" ", DROPPED.sub("", unicodedata.normalize("NFKC", text).lower()))
    return re.sub(" {2,}", " ", text).strip(" ")


def grams(run: str) -> frozenset[str]:
    """An ASCII run: every three adjacent characters, and ^ with its first one and two; any
    other run: every character and every two adjacent characters."""
    if run[0].isascii():
        return frozenset({run[i:i + 3] for i in range(len(run) - 2)}
                         | {"^" + run[:n] for n in (1, 2) if len(run) >= n})
    return frozenset(set(run) | {a + b for a, b in zip(run, run[1:], strict=False)})


def compact_number(text: str) -> str:
    """A number reduced to the ASCII letters and digits of its normalised form."""
    return re.sub("[^0-9a-z]+", "", normalise(text))


def shard_of(gram: str, shards: int) -> int:
    """CRC-32 of the gram's UTF-8 bytes, modulo the number of shards."""
    return zlib.crc32(gram.encode("utf-8")) % shards


def _dump(data: Any) -> bytes:
    """Compact JSON, keys sorted, UTF-8 (not ASCII escapes)."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def searched_texts(cert: Certificate, settings: Settings, region: str) -> tuple[str, ...]:
    """Names, scope, region and industry, Chinese and English: what a query is matched with."""
    org = cert.organization
    industry = settings.industries.get(cert.industry)
    return (org.name, org.name_en or "", cert.scope_zh, cert.scope_en or "", region,
            industry.zh if industry else cert.industry,
            industry.en if industry else cert.industry)


def normalise_all(texts: list[str]) -> list[str]:
    return [normalise(text) for text in texts]


_GAPS: list[str] = []
_GAPS_LOCK = threading.Lock()


def _encode_gap(gap: int) -> str:
    digits = [TERMINAL[gap & 31]]
    gap >>= 5
    while gap:
        digits.append(MORE[gap & 31])
        gap >>= 5
    return "".join(reversed(digits))


def encode_postings(ids: list[int]) -> str:
    """Sorted, distinct document ids as a delta code (the first gap is counted from -1)."""
    if ids and ids[-1] + 1 >= len(_GAPS):
        with _GAPS_LOCK:
            _GAPS.extend(_encode_gap(g) for g in range(len(_GAPS), ids[-1] + 2))
    return "".join(map(_GAPS.__getitem__, map(operator.sub, ids, chain((-1,), ids))))


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
        runs = list(map(set, map(RUN.findall, normalise_all(list(docs_by_text)))))
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
            for gram in grams(run):
                stop_sizes[gram] += size
        else:
            kept_grams.append(grams(run))
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
