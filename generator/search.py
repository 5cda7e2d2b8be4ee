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

Building: :func:`build_index` reads every certificate once (:func:`read_inputs`), and
``read_inputs(registry).digest()`` changes only if the index would: a build can keep the
previous index when a record changed in fields the index does not read.

The query logic (``theme/assets/starmark/search.js``) must agree with :func:`normalise`,
the grams above, :func:`compact_number`, :func:`encode_postings` and :func:`shard_of`; the tests
run it under Node against indexes built here.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import operator
import re
import sys
import threading
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from .model import Certificate, Registry
from .output import digest_parts, gc_paused
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
_NOT_ALNUM_BYTES = bytes(sorted(set(range(256)) - set(b"0123456789abcdefghijklmnopqrstuvwxyz\n")))
_ASCII_ALNUM = frozenset("0123456789abcdefghijklmnopqrstuvwxyz")
# Joins texts to normalise them at once: a private-use character that normalising leaves alone.
_JOIN = "\ue000"
# What json.dumps(..., ensure_ascii=False) escapes in a string.
_JSON_ESCAPED = re.compile(r'[\x00-\x1f"\\]')
_CARET = ord("^")

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


# Building the index. Certificates are read once (read_inputs); everything after works on
# each field's distinct values and on integer arrays (numpy), not on per-document or per-gram
# Python objects: texts are normalised per field in one call and cut into runs on their code
# points; runs are numbered (hashes, checked); every distinct run's grams are integers (the
# characters numbered); the (run, document) and (gram, document) pairs are sorted integers;
# postings are encoded for all grams at once, and the shards, the document table and the number
# directory are written by joining pieces of buffers. tests/test_search_equivalence.py checks
# that the bytes are those of the plain build this replaced (tests/search_reference.py).


# A searched field: its distinct texts, and for every certificate (in registry order) which.
Field = tuple[list[str], np.ndarray]


def _distinct(values: list[Any]) -> tuple[list[Any], np.ndarray]:
    """The distinct values in order of first appearance, and which one each value is."""
    distinct = dict.fromkeys(values)
    if len(distinct) == len(values):
        return list(values), np.arange(len(values), dtype=np.int64)
    position = dict(zip(distinct, range(len(distinct)), strict=True))
    return list(distinct), np.fromiter(map(position.__getitem__, values), np.int64, len(values))


# What else decides the index: this code, and the Unicode tables normalising and \w rely on.
CODE = _CODE = hashlib.blake2b(
    Path(__file__).read_bytes() + f"{sys.version}|{unicodedata.unidata_version}".encode(),
    digest_size=16,
).digest()


@dataclass(frozen=True, eq=False)
class Inputs:
    """All that the index reads of a registry: every certificate's number and name (in
    registry order) and its other fields as (distinct values, which one) pairs. Read in one pass
    over the certificates, a fraction of building the index: a build can compare
    :meth:`digest` with the previous build's and keep that index when only fields the index
    does not show changed (an address, an audit)."""

    settings: Settings
    numbers: list[str]
    names: list[str]
    names_en: Field  # "" for none
    scopes: Field
    scopes_en: Field  # "" for none
    regions: Field  # names
    industries: Field  # keys
    levels: Field  # keys
    statuses: Field  # keys

    def digest(self) -> bytes:
        """Equal digests, equal indexes (built with the same keyword arguments)."""
        settings = self.settings
        used = [
            [[lv.key, lv.zh, lv.en] for lv in settings.levels],
            [[st.key, st.zh, st.en] for st in settings.statuses],
            [[key, i.zh, i.en] for key, i in settings.industries.items()],
            settings.number.example,
            self.numbers,
            self.names,
        ]
        parts = [_CODE]
        for texts, ids in (
            self.names_en,
            self.scopes,
            self.scopes_en,
            self.regions,
            self.industries,
            self.levels,
            self.statuses,
        ):
            used.append(texts)
            parts.append(ids.astype(np.int64).tobytes())
        parts.append(json.dumps(used, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        return digest_parts(*parts)


def field_digest(cert: Certificate) -> bytes:
    """A digest of what :func:`read_inputs` reads of one certificate besides its verdict."""
    org = cert.organization
    fields = (cert.number, org.name, org.name_en, cert.scope_zh, cert.scope_en, org.region,
              cert.industry, cert.level)
    return hashlib.blake2b(repr(fields).encode("utf-8", "surrogatepass"),
                           digest_size=16).digest()


def inputs_key(registry: Registry, field_digests: Sequence[bytes]) -> bytes:
    """Equal keys, equal :func:`read_inputs` of registries with the same settings (so equal
    indexes): this code, each certificate's :func:`field_digest` (``field_digests``, in
    registry order) and its verdict. Cheaper than :meth:`Inputs.digest` when the digests are
    kept from the last build: no field of any record is read."""
    standings = registry.standings
    verdicts = "\n".join([standings[cert.number].verdict for cert in registry.certificates])
    return digest_parts(CODE, b"".join(field_digests), verdicts.encode("utf-8"))


def read_inputs(registry: Registry) -> Inputs:
    """What :func:`build_index` reads of ``registry`` (see :class:`Inputs`)."""
    standing = registry.standing
    records = [
        (
            cert.number,
            org.name,
            org.name_en,
            cert.scope_zh,
            cert.scope_en,
            org.region,
            cert.industry,
            cert.level,
            standing(cert).verdict,
        )
        for cert in registry.certificates
        for org in (cert.organization,)
    ]
    settings = registry.settings
    columns: list[list[Any]] = [list(column) for column in zip(*records, strict=True)]
    if not columns:
        columns = [[] for _ in range(9)]
    numbers, names, names_en, scopes, scopes_en, codes, kinds, levels, statuses = columns
    names_en_texts, names_en_ids = _distinct(names_en)
    scopes_en_texts, scopes_en_ids = _distinct(scopes_en)
    code_texts, region_ids = _distinct(codes)
    return Inputs(
        settings,
        numbers,
        names,
        ([text or "" for text in names_en_texts], names_en_ids),
        _distinct(scopes),
        ([text or "" for text in scopes_en_texts], scopes_en_ids),
        ([settings.region_name(code) for code in code_texts], region_ids),
        _distinct(kinds),
        _distinct(levels),
        _distinct(statuses),
    )


def build_index(
    registry: Registry | Inputs,
    *,
    doc_chunk: int = DOC_CHUNK,
    shard_bytes: int = SHARD_BYTES,
    common_bytes: int = COMMON_BYTES,
    number_block: int = NUMBER_BLOCK,
    stop_docs: int | None = None,
) -> dict[str, bytes]:
    """Every file of the search index: path under the site root (``search/idx/...``) → bytes.

    ``registry`` may be what :func:`read_inputs` read of it. The keyword arguments are for
    tests and benchmarks; the defaults suit 1 to 100,000 certificates.
    """
    with gc_paused():  # many short-lived objects: the cyclic collector would only rescan them
        inputs = registry if isinstance(registry, Inputs) else read_inputs(registry)
        return _build(inputs, doc_chunk, shard_bytes, common_bytes, number_block, stop_docs)


def _build(
    inputs: Inputs,
    doc_chunk: int,
    shard_bytes: int,
    common_bytes: int,
    number_block: int,
    stop_docs: int | None,
) -> dict[str, bytes]:
    settings = inputs.settings
    order, fields, rows, industries = _documents(inputs)
    docs = len(rows)
    rank = np.empty(docs, np.int64)
    rank[order] = np.arange(docs)
    files: dict[str, bytes] = {}
    for start in range(0, docs, doc_chunk):
        chunk = "[" + ",".join(rows[start : start + doc_chunk]) + "]"
        files[f"d/{start // doc_chunk}.json"] = chunk.encode("utf-8")
    gram_files, shards = _gram_files(
        fields, rank, shard_bytes, common_bytes, stop_docs or max(STOP_MIN, docs // 8)
    )
    files.update(gram_files)
    files.update(_number_files(inputs.numbers, rank, number_block))
    version = hashlib.blake2b(digest_size=8)
    for path in sorted(files):
        version.update(path.encode() + b"\0")
        version.update(files[path])
        version.update(b"\0")
    files["meta.json"] = _dump(
        {
            "format": FORMAT,
            "version": version.hexdigest(),
            "docs": docs,
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


def _documents(
    inputs: Inputs,
) -> tuple[np.ndarray, list[Field], list[str], list[str]]:
    """The certificates' order as documents (by organisation name, then by number, so that one
    enterprise's certificates and names sharing a city prefix fall in the same document-table
    chunks); the searched fields (as :func:`searched_texts` gives them); the document table's
    rows as JSON text, in document order; and the industry keys that rows refer to."""
    settings = inputs.settings
    numbers, names = inputs.numbers, inputs.names
    kind_texts, kind_ids = inputs.industries
    industries = sorted(set(settings.industries) | set(kind_texts))
    if not numbers:
        return np.zeros(0, np.int64), [], [], industries
    name_json = _json_texts(names)
    order = _document_order(numbers, names, plain=name_json is names)
    levels = {lv.key: i for i, lv in enumerate(settings.levels)}
    statuses = {st.key: i for i, st in enumerate(settings.statuses)}
    industry_index = {key: i for i, key in enumerate(industries)}
    zh_texts, en_texts = [], []
    for key in kind_texts:
        industry = settings.industries.get(key)
        zh_texts.append(industry.zh if industry else key)
        en_texts.append(industry.en if industry else key)
    fields: list[Field] = [
        (names, np.arange(len(names))),
        inputs.names_en,
        inputs.scopes,
        inputs.scopes_en,
        inputs.regions,
        (zh_texts, kind_ids),
        (en_texts, kind_ids),
    ]

    def ordered(texts: list[str], ids: np.ndarray) -> Sequence[str]:
        picked = ids[order].tolist()
        return itemgetter(*picked)(texts) if len(picked) > 1 else [texts[i] for i in picked]

    level_texts, level_ids = inputs.levels
    status_texts, status_ids = inputs.statuses
    # As _dump writes a row: number, name, level, status, region, industry, scope, English
    # name, English scope.
    rows = [
        f'["{number}","{name}",{level},{status},"{region}",{industry},"{scope}","{name_en}",'
        f'"{scope_en}"]'
        for number, name, level, status, region, industry, scope, name_en, scope_en in zip(
            ordered(_json_texts(numbers), np.arange(len(numbers))),
            ordered(name_json, np.arange(len(names))),
            ordered([str(levels.get(key, -1)) for key in level_texts], level_ids),
            ordered([str(statuses[key]) for key in status_texts], status_ids),
            ordered(_json_texts(inputs.regions[0]), inputs.regions[1]),
            ordered([str(industry_index[key]) for key in kind_texts], kind_ids),
            ordered(_json_texts(inputs.scopes[0]), inputs.scopes[1]),
            ordered(_json_texts(inputs.names_en[0]), inputs.names_en[1]),
            ordered(_json_texts(inputs.scopes_en[0]), inputs.scopes_en[1]),
            strict=True,
        )
    ]
    return order, fields, rows, industries


def _json_texts(texts: list[str]) -> list[str]:
    """Every text as :func:`_dump` writes it, without its quotes: as it is if no text has a
    character that JSON escapes, else in one call, then cut apart (an unescaped quote only ever
    ends a text)."""
    if not texts or not _JSON_ESCAPED.search("".join(texts)):
        return texts
    return json.dumps(texts, ensure_ascii=False, separators=(",", ":"))[2:-2].split('","')


def _document_order(numbers: list[str], names: list[str], plain: bool) -> np.ndarray:
    """Certificates (their places in the lists) ordered by name, then by number. Names that
    ``plain`` (no control characters, so no NUL that numpy's fixed-width strings would drop) and
    short are compared by numpy: the same code point order as Python's, without Python's
    comparisons."""
    by_number = sorted(range(len(numbers)), key=numbers.__getitem__)
    if plain and max(map(len, names)) <= 64:
        return np.array(by_number)[np.argsort(np.array(names)[by_number], kind="stable")]
    return np.array(sorted(by_number, key=names.__getitem__), np.int64)


def _postings(
    fields: list[Field], rank: np.ndarray, stop: int
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every gram, how many documents hold it, and its postings code (:func:`encode_postings`
    of its sorted document ids) as ``codes[start:end]`` (ASCII bytes); or, for a stop gram,
    start and end -1 and at most how many documents hold it.

    ``fields`` are the searched fields, ``rank`` every certificate's document. Text is
    normalised and cut into runs per distinct text, and runs into grams per distinct run; the
    rest is integer arrays: (run, document) pairs, then (gram, document) pairs.

    Stop grams: a run in more than ``stop`` documents (counted once per field that holds it)
    makes each of its grams a stop gram, whose documents are only counted. A gram's lists add up
    to the sum, over the other runs that hold it, of their documents; that sum decides alone
    when far above the stop line (电梯 in a name, a scope and an industry label of one
    certificate), else the gram's distinct documents are counted exactly.
    """
    none = np.zeros(0, np.int64)
    docs = len(rank)
    if not fields or not docs:
        return [], none, none.astype(np.uint8), none, none
    run_cps, run_lengths, pair_run, pair_doc = _runs(fields, rank)
    if not len(run_lengths):
        return [], none, none.astype(np.uint8), none, none
    runs = len(run_lengths)
    size = np.bincount(pair_run, minlength=runs)
    stop_run = size > stop
    kept = ~stop_run[pair_run]
    dtype = _pair_dtype(runs * docs)
    run_docs = _distinct_sorted(pair_run[kept].astype(dtype) * docs + pair_doc[kept].astype(dtype))
    run_of_pair, doc_of_run = np.divmod(run_docs, dtype(docs))  # by run, then by document
    docs_per_run = np.bincount(run_of_pair, minlength=runs)
    first_doc = np.cumsum(docs_per_run) - docs_per_run
    # (gram, run) once per gram of each distinct run.
    gram, gram_run, gram_texts = _run_grams(run_cps, run_lengths)
    grams = len(gram_texts)
    kept_sum = np.bincount(gram, weights=docs_per_run[gram_run], minlength=grams)
    stop_sum = np.bincount(gram, weights=np.where(stop_run, size, 0)[gram_run], minlength=grams)
    kept_sum = kept_sum.astype(np.int64)
    stop_sum = stop_sum.astype(np.int64)
    counted = (stop_sum > 0) | (kept_sum > stop * len(fields))
    total = np.minimum(kept_sum + stop_sum, docs)
    # The documents of every other gram: (gram, document) pairs, ordered and without repeats.
    # A gram found in more than ``stop`` documents is then only counted.
    listed = ~counted[gram]
    list_run, list_gram = gram_run[listed], gram[listed]
    counts = docs_per_run[list_run]
    dtype = _pair_dtype(grams * docs)
    postings = _distinct_sorted(
        np.repeat(list_gram.astype(dtype) * docs, counts)
        + doc_of_run[_spans(first_doc[list_run], counts)].astype(dtype, copy=False)
    )
    starts = np.searchsorted(postings, (np.arange(grams, dtype=np.int64) * docs).astype(dtype))
    found = np.diff(starts, append=len(postings))
    total[~counted] = found[~counted]
    coded = np.flatnonzero(~counted & (found <= stop))
    sizes = found[coded]
    posting_doc = (postings % dtype(docs))[np.repeat(~counted & (found <= stop), found)]
    code_start = np.full(grams, -1, np.int64)
    code_end = np.full(grams, -1, np.int64)
    codes = np.zeros(0, np.uint8)
    if len(posting_doc):
        first = np.zeros(len(posting_doc), bool)
        last = np.cumsum(sizes) - 1
        first[last - sizes + 1] = True
        codes, ends = _encode_all(posting_doc, first)
        code_end[coded] = ends[last]
        code_start[coded] = np.concatenate(([0], ends[last][:-1]))
    return gram_texts, total, codes, code_start, code_end


# Polynomial hashing of runs (mod 2**64): runs are told apart by their hash, and the runs that
# share one are then compared character by character.
_HASH = np.uint64(0x9E3779B97F4A7C15)
_UNHASH = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
# Which characters make runs: ASCII letters and digits (1), other letters and digits (2).
_OTHER_WORD = re.compile(r"[^\W_0-9a-z]")


def _powers(base: np.uint64, count: int) -> np.ndarray:
    powers = np.full(count, base, np.uint64)
    powers[0] = 1
    return np.cumprod(powers)  # wraps around, as it should


def _runs(
    fields: list[Field], rank: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct runs (:data:`_RUN`) of all fields' normalised texts, as their code points
    one after the other and their lengths; and (run, document) for every run of every field of
    every document (a run twice in one text once). ``rank`` is the document of every
    certificate.

    Each field's texts are normalised together (as :func:`normalise_all` does), all fields'
    texts then cut into runs at once, on their code points."""
    parts, field_texts = [], []
    count = 0
    for texts, ids in fields:
        field_texts.append(ids + count)
        count += len(texts)
        joined = _JOIN.join(texts)
        if joined.count(_JOIN) == len(texts) - 1:
            parts.append(normalise(joined))
        else:  # a text holds the joiner: normalised one by one, the joiner a space (no run)
            parts.append(_JOIN.join(normalise(text).replace(_JOIN, " ") for text in texts))
    joined = _JOIN.join(parts)
    cps = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    # Runs: the longest stretches of characters of one kind.
    seen = np.zeros(int(cps.max()) + 1 if len(cps) else 1, bool)
    seen[cps] = True
    present = np.flatnonzero(seen)
    kinds = np.zeros(len(seen), np.int8)
    kinds[present] = [
        1 if c < 128 and chr(c) in _ASCII_ALNUM else 2 if _OTHER_WORD.match(chr(c)) else 0
        for c in present.tolist()
    ]
    kind = kinds[cps]
    change = np.empty(len(cps) + 1, bool)
    change[0] = change[-1] = True
    np.not_equal(kind[1:], kind[:-1], out=change[1:-1])
    in_run = np.concatenate((kind != 0, [False]))
    starts = np.flatnonzero(change[:-1] & in_run[:-1])
    ends = np.flatnonzero(change[1:] & in_run[:-1]) + 1
    lengths = ends - starts
    if not len(starts):
        none = np.zeros(0, np.int64)
        return cps[:0], none, none, none
    text = np.cumsum(cps == ord(_JOIN))[starts]
    # Equal runs: equal hashes, then checked.
    weighted = np.empty(len(cps) + 1, np.uint64)
    weighted[0] = 0
    np.cumsum(cps * _powers(_HASH, len(cps)), out=weighted[1:])
    hashes = (weighted[ends] - weighted[starts]) * _powers(_UNHASH, len(cps) + 1)[starts]
    by_hash = np.argsort(hashes, kind="stable")
    sorted_hashes = hashes[by_hash]
    first = np.concatenate(([True], sorted_hashes[1:] != sorted_hashes[:-1]))
    run = np.empty(len(starts), np.int64)
    run[by_hash] = np.cumsum(first) - 1
    keep = by_hash[first]  # one of each run
    same = np.array_equal(lengths, lengths[keep][run]) and np.array_equal(
        cps[_spans(starts, lengths)], cps[_spans(starts[keep][run], lengths)]
    )
    if not same:  # two different runs share a hash: tell them apart by their text
        found = list(map(joined.__getitem__, map(slice, starts.tolist(), ends.tolist())))
        distinct = dict.fromkeys(found)
        position = dict(zip(distinct, range(len(distinct)), strict=True))
        run = np.fromiter(map(position.__getitem__, found), np.int64, len(found))
        keep = np.flatnonzero(np.concatenate(([True], np.diff(np.maximum.accumulate(run)) > 0)))
    runs = len(keep)
    # (text, run), then (run, document) for every field of every document.
    text_runs = _distinct_sorted(text * runs + run)
    text, run = np.divmod(text_runs, runs)
    runs_per_text = np.bincount(text, minlength=count)
    text_of = np.concatenate(field_texts)
    counts = runs_per_text[text_of]
    pair_run = run[_spans((np.cumsum(runs_per_text) - runs_per_text)[text_of], counts)]
    pair_doc = np.repeat(np.tile(rank, len(fields)), counts)
    return cps[_spans(starts[keep], lengths[keep])], lengths[keep], pair_run, pair_doc


_ALNUM_TABLE = np.full(128, -1, np.int64)
_ALNUM_TABLE[np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", np.uint8)] = np.arange(36)


def _run_grams(cps: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The grams of every run (as the module docstring defines them), the runs' code points
    one after the other: (gram, run) pairs, ordered and without repeats, and every gram's text."""
    cps = cps.astype(np.int64)
    runs = len(lengths)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    run_of = np.repeat(np.arange(runs, dtype=np.int64), lengths)
    remaining = np.repeat(ends, lengths) - np.arange(len(cps))  # characters to the run's end
    ascii_run = cps[starts] < 128  # a run is all ASCII letters and digits or has none of them
    ascii_char = ascii_run[run_of]
    # Every gram as a number below ``space``: characters numbered densely (those of other runs
    # in code point order, then the 36 ASCII letters and digits), a gram's characters as digits.
    seen = np.zeros(int(cps.max()) + 1 if len(cps) else 1, bool)
    seen[cps[~ascii_char]] = True
    other_chars = np.flatnonzero(seen)
    n = len(other_chars)
    char = np.cumsum(seen) - 1
    char = np.where(ascii_char, _ALNUM_TABLE[np.minimum(cps, 127)], char[cps])
    nxt = np.concatenate((char[1:], [0]))
    nxt2 = np.concatenate((char[2:], [0, 0]))
    # Other letters: every character (below n) and every pair (then below n + n²). ASCII: every
    # three characters (then 36³ numbers), the first one marked with ^ (36) and the first two
    # (36²).
    pairs_at, triples_at, firsts_at = n, n + n * n, n + n * n + 36**3
    seconds_at = firsts_at + 36
    space = seconds_at + 36**2
    chars = ~ascii_char
    pairs = chars & (remaining >= 2)
    triples = ascii_char & (remaining >= 3)
    firsts = starts[ascii_run]
    long_enough = ascii_run & (lengths > 1)
    seconds = starts[long_enough]
    gram = np.concatenate(
        (
            char[chars],
            pairs_at + char[pairs] * n + nxt[pairs],
            triples_at + char[triples] * 36**2 + nxt[triples] * 36 + nxt2[triples],
            firsts_at + char[firsts],
            seconds_at + char[seconds] * 36 + char[seconds + 1],
        )
    )
    run = np.concatenate(
        (
            run_of[chars],
            run_of[pairs],
            run_of[triples],
            np.flatnonzero(ascii_run),
            np.flatnonzero(long_enough),
        )
    )
    if runs * space >= 1 << 63:
        raise ValueError("too many distinct runs and characters for the search index")
    both = _distinct_sorted(gram * runs + run)
    gram, run = np.divmod(both, runs)
    new_gram = np.empty(len(gram), bool)
    new_gram[:1] = True
    np.not_equal(gram[1:], gram[:-1], out=new_gram[1:])
    keys = gram[new_gram]
    # The grams' texts: their characters' code points, 0 for none.
    alnum = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", np.uint8).astype(np.int64)
    text = np.zeros((len(keys), 3), np.int64)
    kind = np.searchsorted([pairs_at, triples_at, firsts_at, seconds_at], keys, side="right")
    k = keys[kind == 0]
    text[kind == 0, 0] = other_chars[k]
    k = keys[kind == 1] - pairs_at
    text[kind == 1, 0], text[kind == 1, 1] = other_chars[k // n], other_chars[k % n]
    k = keys[kind == 2] - triples_at
    text[kind == 2] = np.stack((alnum[k // 36**2], alnum[k // 36 % 36], alnum[k % 36]), 1)
    text[kind >= 3, 0] = _CARET
    k = keys[kind == 3] - firsts_at
    text[kind == 3, 1] = alnum[k]
    k = keys[kind == 4] - seconds_at
    text[kind == 4, 1], text[kind == 4, 2] = alnum[k // 36], alnum[k % 36]
    present = text != 0
    joined = text[present].astype(np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    text_ends = np.cumsum(present.sum(1)).tolist()
    texts = list(map(joined.__getitem__, map(slice, [0, *text_ends[:-1]], text_ends)))
    return np.cumsum(new_gram) - 1, run, texts


_TERMINAL_BYTES = np.frombuffer(TERMINAL.encode("ascii"), np.uint8)
_MORE_BYTES = np.frombuffer(MORE.encode("ascii"), np.uint8)


def _encode_all(docs: np.ndarray, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`encode_postings` of many lists at once: ``docs`` holds them one after the other,
    ``first`` marks where each starts. The codes, one after the other (ASCII), and where each
    gap's code ends."""
    docs = docs.astype(np.int32)  # document ids, and so gaps, are far below 2**31
    gaps = np.empty_like(docs)
    np.subtract(docs[1:], docs[:-1], out=gaps[1:])
    gaps[first] = docs[first] + 1
    biggest = int(gaps.max())
    digits = np.ones(len(gaps), np.int32)
    limit = 32
    while limit <= biggest:
        digits += gaps >= limit
        limit *= 32
    ends = np.cumsum(digits, dtype=np.int64)
    out = np.empty(int(ends[-1]), np.uint8)
    out[ends - 1] = _TERMINAL_BYTES[gaps & 31]
    level, limit = 1, 32
    while limit <= biggest:
        has = np.flatnonzero(gaps >= limit)
        out[ends[has] - 1 - level] = _MORE_BYTES[(gaps[has] >> 5 * level) & 31]
        level, limit = level + 1, limit * 32
    return out, ends


def _spans(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions ``starts[i], starts[i] + 1, … < starts[i] + counts[i]`` for every i, in
    order: gathers CSR rows in one step (a running sum of steps of one, and of the jumps from
    one span to the next)."""
    starts = starts.astype(np.int64, copy=False)
    some = counts > 0
    if not some.all():
        starts, counts = starts[some], counts[some]
    if not len(counts):
        return np.zeros(0, np.int64)
    ends = np.cumsum(counts)
    narrow = int((starts + counts).max()) < 1 << 31  # positions as int32: half the memory
    steps = np.ones(int(ends[-1]), np.int32 if narrow else np.int64)
    steps[0] = starts[0]
    steps[ends[:-1]] = starts[1:] - starts[:-1] - counts[:-1] + 1
    return np.cumsum(steps, out=steps)


# Pairs packed in one integer below this limit are 32-bit: sorting them is twice as fast.
_NARROW = 1 << 32


def _pair_dtype(limit: int) -> type[np.integer[Any]]:
    """The narrowest integer type for values below ``limit`` (narrow sorts are faster)."""
    return np.uint32 if limit <= _NARROW else np.int64


def _distinct_sorted(values: np.ndarray) -> np.ndarray:
    """``values`` sorted without repeats (np.unique, without its overhead)."""
    values = np.sort(values)
    if len(values) > 1:
        values = values[np.concatenate(([True], values[1:] != values[:-1]))]
    return values


# The constant parts of a gram shard's entries, and where each is in _PIECES.
_PIECES = b'"' + b'":[' + b',"' + b'"]' + b"]" + b","
_QUOTE, _OPEN, _CODE_OPEN, _CODE_CLOSE, _CLOSE, _COMMA = 0, 1, 4, 6, 8, 9


def _gram_files(
    fields: list[Field], rank: np.ndarray, shard_bytes: int, common_bytes: int, stop: int
) -> tuple[dict[str, bytes], int]:
    """The gram shards and the common-gram files, and the number of shards.

    Written out as :func:`_dump` writes them: grams are letters, digits and "^", codes are
    letters, digits, "-" and "_", so nothing in them is escaped. Every shard entry is pieces of
    one buffer (constant parts, the grams, numbers, the codes), gathered in one step.
    """
    files: dict[str, bytes] = {}
    grams, total, codes, code_start, code_end = _postings(fields, rank, stop)
    encoded = list(map(str.encode, grams))
    gram_bytes = np.fromiter(map(len, encoded), np.int64, len(encoded))
    length = code_end - code_start  # 0 for a stop gram
    inline = (code_start >= 0) & (length <= common_bytes)
    common = np.flatnonzero(length > common_bytes).tolist()
    inline_bytes = int(length[inline].sum() + gram_bytes[inline].sum() + 8 * inline.sum())
    shards = 1
    while shards * shard_bytes < inline_bytes and shards < MAX_SHARDS:
        shards *= 2
    common.sort(key=grams.__getitem__)
    number = np.zeros(len(grams), np.int64)  # a common gram's file
    number[common] = np.arange(len(common))
    for n, g in enumerate(common):
        code = codes[code_start[g] : code_end[g]].tobytes()
        files[f"c/{n}.json"] = b'{"g":"' + encoded[g] + b'","p":"' + code + b'"}'
    # Entries by shard, then by gram.
    shard = np.fromiter(map(zlib.crc32, encoded), np.int64, len(encoded)) % shards
    order = np.array(sorted(range(len(grams)), key=grams.__getitem__), np.int64)
    order = order[np.argsort(shard[order], kind="stable")]
    bounds = np.searchsorted(shard[order], np.arange(shards + 1))
    # One buffer: the constant parts, the codes, the grams, the counts, the common files' numbers.
    total_digits, number_digits = _digits(total), _digits(number)
    parts = [np.frombuffer(_PIECES, np.uint8), codes, np.frombuffer(b"".join(encoded), np.uint8)]
    parts += [total_digits.reshape(-1), number_digits.reshape(-1)]
    at = np.cumsum([0] + [len(part) for part in parts])
    gram_at = at[2] + np.cumsum(gram_bytes) - gram_bytes
    total_size = np.count_nonzero(total_digits, axis=1)
    total_at = at[3] + np.arange(len(grams)) * total_digits.shape[1] + total_digits.shape[1]
    number_size = np.count_nonzero(number_digits, axis=1)
    number_at = at[4] + np.arange(len(grams)) * number_digits.shape[1] + number_digits.shape[1]
    kind = np.where(inline, 1, 0) + np.where(length > common_bytes, 2, 0)  # 0: a stop gram
    e = order  # the gram of every entry
    starts = np.zeros((len(e), 8), np.int64)
    sizes = np.zeros((len(e), 8), np.int64)
    starts[:, 0], sizes[:, 0] = _COMMA, 1
    sizes[bounds[:-1][bounds[:-1] < len(e)], 0] = 0  # the first entry of a shard
    starts[:, 1], sizes[:, 1] = _QUOTE, 1
    starts[:, 2], sizes[:, 2] = gram_at[e], gram_bytes[e]
    starts[:, 3], sizes[:, 3] = _OPEN, 3
    starts[:, 4], sizes[:, 4] = total_at[e] - total_size[e], total_size[e]
    of = kind[e]
    starts[:, 5] = np.where(of == 1, _CODE_OPEN, _COMMA)
    sizes[:, 5] = np.where(of == 1, 2, np.where(of == 2, 1, 0))
    starts[:, 6] = np.where(of == 1, at[1] + code_start[e], number_at[e] - number_size[e])
    sizes[:, 6] = np.where(of == 1, length[e], np.where(of == 2, number_size[e], 0))
    starts[:, 7] = np.where(of == 1, _CODE_CLOSE, _CLOSE)
    sizes[:, 7] = np.where(of == 1, 2, 1)
    body = np.concatenate(parts)[_spans(starts.reshape(-1), sizes.reshape(-1))].tobytes()
    ends = np.concatenate(([0], np.cumsum(sizes.sum(1))))[bounds].tolist()
    for k in range(shards):  # empty shards too: a missing file is an error
        files[f"g/{k}.json"] = b"{" + body[ends[k] : ends[k + 1]] + b"}"
    return files, shards


def _number_files(numbers: list[str], rank: np.ndarray, number_block: int) -> dict[str, bytes]:
    """The number directory in blocks, and the first key of every block.

    Written out as :func:`_dump` writes ``[[key, doc], …]``: keys are ASCII letters, digits and
    "~", nothing to escape. Every entry is laid out in a row of fixed width with NULs between
    its parts, and dropping the NULs joins them all.
    """
    files: dict[str, bytes] = {}
    keys, docs = _number_directory(numbers, rank)
    rows = np.zeros((len(keys), keys.shape[1] + 5), np.uint8)
    rows[:, :2] = np.frombuffer(b'["', np.uint8)
    rows[:, 2:-3] = keys
    rows[:, -3:] = np.frombuffer(b'",\0', np.uint8)
    digits = _digits(docs)
    tail = np.zeros((len(keys), 2), np.uint8)
    tail[:] = np.frombuffer(b"],", np.uint8)
    rows = np.concatenate((rows, digits, tail), 1)
    text = rows[rows != 0].tobytes()
    ends = np.cumsum(np.count_nonzero(rows, axis=1)).tolist()
    first_keys = []
    for i, start in enumerate(range(0, len(keys), number_block)):
        stop = min(start + number_block, len(keys))
        first_keys.append(keys[start].tobytes().rstrip(b"\0").decode("ascii"))
        files[f"n/{i}.json"] = (
            b"[" + text[(ends[start - 1] if start else 0) : ends[stop - 1] - 1] + b"]"
        )
    files["n/index.json"] = _dump(first_keys)
    return files


def _compact_numbers(numbers: list[str]) -> bytes:
    """:func:`compact_number` of every number, one a line; ASCII numbers in one step."""
    joined = "\n".join(numbers)
    if joined.isascii() and joined.count("\n") == len(numbers) - 1:
        return joined.encode("ascii").lower().translate(None, _NOT_ALNUM_BYTES)
    return "\n".join(map(compact_number, numbers)).encode("ascii")


def _digits(values: np.ndarray) -> np.ndarray:
    """Non-negative integers in decimal, one a row of ASCII digits, right-aligned after NULs."""
    width = len(str(int(values.max()))) if len(values) else 1
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (values[:, None] // powers % 10 + ord("0")).astype(np.uint8)
    digits[(values[:, None] < powers) & (powers > 1)] = 0
    return digits


def _number_directory(numbers: list[str], rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The number directory (see the module docstring): every key, NUL-padded, one a row, and
    its document; ordered by key, then by document. ``rank`` is every number's document.

    Keys are sorted kind by kind in registry order, which is mostly by number already (a
    stable sort finds such runs); equal keys are then put in document order."""
    if not numbers:
        return np.zeros((0, 2), np.uint8), np.zeros(0, np.int64)
    code = np.frombuffer(_compact_numbers(numbers), np.uint8)
    newline = code == ord("\n")
    ends = np.concatenate((np.flatnonzero(newline), [len(code)]))
    lengths = np.diff(ends, prepend=-1) - 1
    width = int(lengths.max()) + 2  # room for "~" and for one NUL
    keys = np.zeros((len(numbers), width), np.uint8)
    row = np.cumsum(newline)[~newline]
    keys[row, np.flatnonzero(~newline) - (ends - lengths)[row]] = code[~newline]
    # Without its letter prefix: from the first character that is not a letter (a NUL at the
    # latest). Reversed and marked with "~".
    letters = np.argmin(keys >= ord("a"), axis=1)
    column = np.arange(width)
    prefixless = keys[
        np.arange(len(keys))[:, None], np.minimum(column + letters[:, None], width - 1)
    ]
    back = lengths[:, None] - column[None, :]
    reverse = np.where(back > 0, keys[np.arange(len(keys))[:, None], np.maximum(back - 1, 0)], 0)
    reverse = np.concatenate((np.full((len(keys), 1), ord("~"), np.uint8), reverse[:, :-1]), 1)
    present = lengths > 0
    with_prefix = present & (letters > 0) & (letters < lengths)
    entries = np.concatenate((keys[present], prefixless[with_prefix], reverse[present]))
    docs = np.concatenate((rank[present], rank[with_prefix], rank[present]))
    text = entries.view(f"S{width}").ravel()
    order = np.argsort(text, kind="stable")
    text = text[order]
    same = text[1:] == text[:-1]
    if same.any():  # equal keys of different documents: by document
        group = np.concatenate(([0], np.cumsum(~same)))
        order = order[np.lexsort((docs[order], group))]
    return entries[order], docs[order]


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
