"""Open data: every record as JSON (one file each and all together), CSV, the record schema.

A record's JSON keeps what the body wrote (``record``, the part that is signed) apart from what
this build derived for its as-of date (``derived``) and where things are (``links``).

Every record is serialized once per build (:func:`prepare`): its members in the per-record file's
indented form and in the compact form of ``certificates.json``, and its CSV row. With a cache
folder, those bytes are kept between builds, keyed by a digest of the record and of everything it
is derived with, so a build after one record changed serializes only that record; the files are
then assembled from the bytes, with whatever the build adds per record (where its current
version is in the signed log, :mod:`generator.trust`). The bytes are exactly those of ``json.dumps``
with sorted keys (indented by 2, or compact), which tests check.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import json.encoder
import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple

from . import periods
from .model import Certificate, Registry
from .output import Output, digester, gc_paused

SCHEMA_VERSION = 2  # 2: each record names its leaf in the signed log ("log"), no inline proof
API = "api/v1"
CACHE_FOLDER = "data"  # under the build's cache folder
CACHE_SHARDS = 64  # files of the cache: a changed record rewrites two of them, not all
CACHE_FORMAT = b"starmark-data-cache/1"


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def record_dict(cert: Certificate) -> dict[str, Any]:
    """The record as the body wrote it, typed: the canonical content that a signature covers."""
    org = cert.organization
    return _drop_none(
        {
            "number": cert.number,
            "status": cert.status,
            "organization": _drop_none(
                {
                    "name": org.name,
                    "name_en": org.name_en,
                    "credit_code": org.credit_code,
                    "region": org.region,
                    "address": org.address,
                    "address_en": org.address_en,
                    "website": org.website,
                }
            ),
            "industry": cert.industry,
            "scope": _drop_none({"zh": cert.scope_zh, "en": cert.scope_en}),
            "standard": cert.standard,
            "score": _number(cert.score),
            "level": cert.level,
            "issued": cert.issued.isoformat(),
            "expires": cert.expires.isoformat(),
            "audits": [
                _drop_none(
                    {
                        "date": a.date.isoformat(),
                        "kind": a.kind,
                        "score": _number(a.score),
                        "result": a.result,
                        "note": a.note,
                    }
                )
                for a in cert.audits
            ],
            "events": [
                _drop_none(
                    {
                        "date": e.date.isoformat(),
                        "kind": e.kind,
                        "reason": e.reason,
                        "reason_en": e.reason_en,
                    }
                )
                for e in cert.events
            ],
            "sample": cert.sample or None,
        }
    )


def canonical_json(data: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def derived_dict(cert: Certificate, registry: Registry) -> dict[str, Any]:
    """What this build concluded about the record on its as-of date."""
    settings = registry.settings
    standing = registry.standing(cert)
    level = settings.level(cert.level)
    verdict = settings.status(standing.verdict)
    industry = settings.industries[cert.industry]
    return {
        "as_of": standing.as_of.isoformat(),
        "verdict": standing.verdict,
        "verdict_zh": verdict.zh,
        "verdict_en": verdict.en,
        "mark_allowed": verdict.mark_allowed,
        "since": standing.since.isoformat() if standing.since else None,
        "level_zh": level.zh,
        "level_en": level.en,
        "stars": level.stars,
        "next_surveillance": standing.next_surveillance.isoformat()
        if standing.next_surveillance
        else None,
        "surveillance_overdue": standing.surveillance_overdue,
        "region_name": settings.region_name(cert.organization.region),
        "industry_zh": industry.zh,
        "industry_en": industry.en,
        "first_issued": cert.first_issued.isoformat(),
        "last_changed": cert.last_changed.isoformat(),
        "periods": periods.as_json(periods.periods(cert, settings)),
    }


def links_dict(cert: Certificate, registry: Registry) -> dict[str, str]:
    """Absolute URLs of everything published for the record."""
    base = registry.settings.site_url
    page = registry.settings.certificate_url(cert.number)
    return {
        "page": page,
        "json": f"{base}{record_path(cert.number)}",
        "feed": f"{page}feed.xml",
    }


def certificate_json(cert: Certificate, registry: Registry) -> dict[str, Any]:
    """The public JSON of one certificate."""
    return {
        "schema_version": SCHEMA_VERSION,
        "record": record_dict(cert),
        "derived": derived_dict(cert, registry),
        "links": links_dict(cert, registry),
    }


def registry_json(registry: Registry, entries: list[dict[str, Any]]) -> dict[str, Any]:
    """All certificates in one document, with the registry's identity and as-of date."""
    s = registry.settings
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": registry.as_of.isoformat(),
        "registry": {"body": s.body.name, "body_en": s.body.name_en, "site_url": s.site_url},
        "count": len(entries),
        "certificates": entries,
    }


CSV_COLUMNS = (
    "number",
    "verdict",
    "verdict_zh",
    "status",
    "organization_name",
    "organization_name_en",
    "credit_code",
    "region",
    "region_name",
    "industry",
    "industry_zh",
    "scope_zh",
    "scope_en",
    "standard",
    "score",
    "level",
    "level_zh",
    "issued",
    "expires",
    "next_surveillance",
    "surveillance_overdue",
    "url",
    "as_of",
)


CSV_BOM = "\ufeff".encode()


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A cell starting with = + - @ is a formula to Excel; a record must never run as one.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def certificates_csv(registry: Registry) -> bytes:
    """Every certificate as a CSV row; UTF-8 with BOM so Excel reads Chinese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for cert in registry.certificates:
        writer.writerow(_csv_cells(cert, derived_dict(cert, registry), registry))
    return CSV_BOM + buffer.getvalue().encode("utf-8")


def _csv_cells(cert: Certificate, d: dict[str, Any], registry: Registry) -> list[str]:
    """One certificate's CSV cells, given its :func:`derived_dict`."""
    org = cert.organization
    row = {
        "number": cert.number,
        "verdict": d["verdict"],
        "verdict_zh": d["verdict_zh"],
        "status": cert.status,
        "organization_name": org.name,
        "organization_name_en": org.name_en,
        "credit_code": org.credit_code,
        "region": org.region,
        "region_name": d["region_name"],
        "industry": cert.industry,
        "industry_zh": d["industry_zh"],
        "scope_zh": cert.scope_zh,
        "scope_en": cert.scope_en,
        "standard": cert.standard,
        "score": _number(cert.score),
        "level": cert.level,
        "level_zh": d["level_zh"],
        "issued": cert.issued.isoformat(),
        "expires": cert.expires.isoformat(),
        "next_surveillance": d["next_surveillance"],
        "surveillance_overdue": "yes" if d["surveillance_overdue"] else "no",
        "url": registry.settings.certificate_url(cert.number),
        "as_of": d["as_of"],
    }
    return [_cell(row[c]) for c in CSV_COLUMNS]


# --- serializing: the bytes of json.dumps, made faster ------------------------------------------

_encode_str = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for text
_KEYS: dict[str, tuple[str, str]] = {}  # keys as they start a member: indented, compact


class _Unsupported(TypeError):
    """A value :func:`_dump` does not write; json.dumps writes it instead."""


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _scalar(value: Any) -> str | None:
    kind = type(value)
    if kind is str:
        return _encode_str(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float:
        return _float(value)
    return None


def _names(key: Any) -> tuple[str, str]:
    """A key as it starts a member, indented and compact."""
    if type(key) is not str:
        raise _Unsupported(key)
    name = _encode_str(key)
    names = (name + ": ", name + ":")
    if len(_KEYS) < 4096:  # the keys of the registry's own documents, not of any JSON given
        _KEYS[key] = names
    return names


def _dump(value: Any, indent: str = "") -> tuple[str, str]:
    """``value`` as ``json.dumps(value, ensure_ascii=False, sort_keys=True)`` writes it indented
    by 2 (from ``indent`` on) and compact (``separators=(",", ":")``), in one pass.

    For dicts with text keys, lists, tuples, text, numbers, booleans and None (exactly these
    types: anything else is :class:`_Unsupported`, for json.dumps to write).
    """
    kind = type(value)
    if kind is dict:
        if not value:
            return "{}", "{}"
        inner = indent + "  "
        indented: list[str] = []
        compact: list[str] = []
        for key, item in sorted(value.items()):
            names = _KEYS.get(key) or _names(key)
            of = type(item)
            if of is str:
                text = _encode_str(item)
            elif item is None:
                text = "null"
            elif of is int:
                text = int.__repr__(item)
            elif of is bool:
                text = "true" if item else "false"
            elif of is float:
                text = _float(item)
            else:
                text, packed = _dump(item, inner)
                indented.append(names[0] + text)
                compact.append(names[1] + packed)
                continue
            indented.append(names[0] + text)
            compact.append(names[1] + text)
        return (
            "{\n" + inner + (",\n" + inner).join(indented) + "\n" + indent + "}",
            "{" + ",".join(compact) + "}",
        )
    if kind is list or kind is tuple:
        if not value:
            return "[]", "[]"
        inner = indent + "  "
        indented, compact = [], []
        for item in value:
            scalar = _scalar(item)
            if scalar is None:
                text, packed = _dump(item, inner)
                indented.append(text)
                compact.append(packed)
            else:
                indented.append(scalar)
                compact.append(scalar)
        return (
            "[\n" + inner + (",\n" + inner).join(indented) + "\n" + indent + "]",
            "[" + ",".join(compact) + "]",
        )
    scalar = _scalar(value)
    if scalar is None:
        raise _Unsupported(value)
    return scalar, scalar


def pretty(data: Any) -> bytes:
    """The published form of every per-record JSON file: sorted keys, indented by 2."""
    try:
        text = _dump(data)[0]
    except _Unsupported:
        text = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2)
    return (text + "\n").encode("utf-8")


def members(key: str, value: Any) -> tuple[bytes, bytes]:
    """``"key": value`` as a top-level member of an indented document (its own lines, indented
    by 2) and ``"key":value`` as a member of a compact (canonical) one."""
    try:
        indented, compact = _dump(value, "  ")
    except _Unsupported:
        whole = json.dumps({key: value}, ensure_ascii=False, sort_keys=True, indent=2)
        return whole[2:-2].encode("utf-8"), canonical_json({key: value})[1:-1]
    name = _encode_str(key)
    return ("  " + name + ": " + indented).encode("utf-8"), (name + ":" + compact).encode("utf-8")


# --- every record serialized once ---------------------------------------------------------------


class Fragments(NamedTuple):
    """One record's open data as bytes: all but what the build adds to it (its proof). The
    first three, its indented members, are kept apart by :class:`FragmentCache` (empty when
    not read: :meth:`Prepared.made`)."""

    derived: bytes  # pretty member '  "derived": {…}'
    links: bytes  # pretty member '  "links": {…}'
    record: bytes  # pretty member '  "record": {…}'
    derived_compact: bytes  # compact member '"derived":{…}'
    links_compact: bytes  # compact member '"links":{…}'
    canonical: bytes  # canonical JSON of ``record``: the signed bytes, hashed into the tree
    csv_row: bytes  # its row of certificates.csv, line end included


_Compact = tuple[bytes, ...]  # a Fragments' compact members, canonical record and CSV row
_Pretty = tuple[bytes, ...]  # its indented members: derived, links, record

SCHEMA_MEMBERS = members("schema_version", SCHEMA_VERSION)


RECORD_KEY = b'"record":'


class _Rows:
    """A csv writer that hands back the text of each row it writes."""

    def __init__(self) -> None:
        self.text = ""
        self.writer = csv.writer(self, lineterminator="\r\n")

    def write(self, text: str) -> int:
        self.text = text
        return len(text)

    def row(self, cells: Iterable[str]) -> bytes:
        self.writer.writerow(cells)
        return self.text.encode("utf-8")


def fragments(cert: Certificate, registry: Registry, rows: _Rows | None = None) -> Fragments:
    """Serialize one record (``rows``: a CSV row writer to reuse)."""
    record = record_dict(cert)
    derived = derived_dict(cert, registry)
    derived_indented, derived_compact = members("derived", derived)
    links_indented, links_compact = members("links", links_dict(cert, registry))
    record_indented, record_compact = members("record", record)
    canonical = record_compact[len(RECORD_KEY) :]  # '"record":' and the canonical record
    return Fragments(
        derived_indented,
        links_indented,
        record_indented,
        derived_compact,
        links_compact,
        canonical,
        (rows or _Rows()).row(_csv_cells(cert, derived, registry)),
    )


@dataclass
class Prepared:
    """Every record of ``registry`` serialized, in the order of ``registry.certificates``.
    Those from the cache come without their indented members (empty): :meth:`made` has them."""

    registry: Registry
    fragments: list[Fragments]
    cached: int = 0  # how many came from the cache
    cache: FragmentCache | None = None
    keys: list[bytes] | None = None  # each record's key in the cache

    def made(self, at: int) -> Fragments:
        """The record at ``at`` with every member: its indented ones from the cache, or made
        again when the cache lost them."""
        made = self.fragments[at]
        if made.record:
            return made
        found = (self.cache.pretty(self.keys[at])
                 if self.cache is not None and self.keys is not None else None)
        if found is not None:
            return made._replace(derived=found[0], links=found[1], record=found[2])
        made = fragments(self.registry.certificates[at], self.registry)
        if self.cache is not None and self.keys is not None:
            self.cache.mend(self.keys[at], made)
        return made


def package_digest() -> bytes:
    """The code that serializes and derives (this module, the model, the settings, the
    lifecycle) and the Python that runs it."""
    h = hashlib.blake2b(CACHE_FORMAT, digest_size=12)
    h.update(sys.version.encode())
    for name in ("data.py", "model.py", "settings.py", "lifecycle.py", "periods.py"):
        h.update(name.encode() + b"\0" + (Path(__file__).parent / name).read_bytes() + b"\0")
    return h.digest()


class FragmentCache:
    """Serialized records kept between builds, by a digest of everything each is made from.

    The entries live in :data:`CACHE_SHARDS` files by the first byte of their key, under a
    folder named for the code (:func:`package_digest`): other code starts afresh and the folders
    of other code are removed. Each shard is two files: the compact members and the CSV row,
    which every build needs (certificates.json, the CSV, the log), and the indented members
    (``.pretty``), read only when a record's own file is to be written: at 100,000 records
    they are 60 % of the 0.5 GB, and a build that keeps every unchanged record's file needs
    none of them. Only the entries of the last build are kept, so the files do not grow, and a
    shard is rewritten only when its entries changed. A cache that cannot be read or written is
    no error: the records are serialized again.
    """

    def __init__(self, folder: Path) -> None:
        self.root = folder
        self.folder = folder / package_digest().hex()
        self.known: list[set[bytes] | None] = [None] * CACHE_SHARDS  # each file's keys
        self.used: list[dict[bytes, _Compact]] = [{} for _ in range(CACHE_SHARDS)]
        self.new: list[dict[bytes, _Pretty]] = [{} for _ in range(CACHE_SHARDS)]
        self._pretty: list[dict[bytes, _Pretty] | None] = [None] * CACHE_SHARDS
        self.dirty: set[int] = set()  # shards to write again although their keys are the same

    def _path(self, shard: int, pretty: bool = False) -> Path:
        return self.folder / f"{shard:02x}{'.pretty' if pretty else ''}.pickle"

    def _load(self, shard: int, pretty: bool) -> dict[bytes, Any]:
        try:
            with open(self._path(shard, pretty), "rb") as handle, gc_paused():
                loaded = pickle.load(handle)
        except (OSError, EOFError, ValueError, TypeError, AttributeError,
                pickle.UnpicklingError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def _read(self, shard: int) -> dict[bytes, _Compact]:
        loaded = self._load(shard, False)
        self.known[shard] = set(loaded)
        return loaded

    def take(self, wanted: Iterable[bytes]) -> dict[bytes, Fragments]:
        """The entries the cache holds for ``wanted`` keys (and they are kept by :meth:`save`),
        without their indented members (:meth:`pretty` has them).

        Each file is read once and only those entries kept: the others, records as an earlier
        build made them, are let go at once (after a change to the code every entry is stale,
        and holding them while every record is made again would double the largest working
        set of a build)."""
        by_shard: list[set[bytes]] = [set() for _ in range(CACHE_SHARDS)]
        for key in wanted:
            by_shard[key[0] % CACHE_SHARDS].add(key)
        found: dict[bytes, Fragments] = {}
        for shard, keys in enumerate(by_shard):
            if not keys:
                continue
            loaded = self._read(shard)
            for key in keys.intersection(loaded):
                compact = self.used[shard][key] = loaded[key]
                found[key] = Fragments(b"", b"", b"", *compact)
        return found

    def pretty(self, key: bytes) -> _Pretty | None:
        """The indented members kept for ``key`` (its shard's file read at the first ask)."""
        shard = key[0] % CACHE_SHARDS
        made = self.new[shard].get(key)
        if made is not None:
            return made
        loaded = self._pretty[shard]
        if loaded is None:
            loaded = self._pretty[shard] = self._load(shard, True)
        found = loaded.get(key)
        return found if isinstance(found, tuple) and len(found) == 3 else None

    def put(self, key: bytes, value: Fragments) -> None:
        shard = key[0] % CACHE_SHARDS
        self.used[shard][key] = tuple(value[3:])
        self.new[shard][key] = tuple(value[:3])

    def mend(self, key: bytes, value: Fragments) -> None:
        """Keep ``value`` for a key whose indented members were lost (its shard is written
        again by the next :meth:`save`)."""
        self.put(key, value)
        self.dirty.add(key[0] % CACHE_SHARDS)

    def save(self) -> None:
        """Write the shards whose entries changed (atomically), and drop other code's. An entry
        whose indented members cannot be found is not kept (it is made again next time)."""
        wrote = False
        for shard in range(CACHE_SHARDS):
            used, known = self.used[shard], self.known[shard]
            if known is None:
                known = set(self._read(shard))
            if shard not in self.dirty and used.keys() == known:
                continue
            self.dirty.discard(shard)
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                if not used:
                    for is_pretty in (False, True):
                        self._path(shard, is_pretty).unlink(missing_ok=True)
                    continue
                found = {key: self.pretty(key) for key in used}
                kept = {key: made for key, made in found.items() if made is not None}
                compact = {key: used[key] for key in kept}
                for content, is_pretty in ((kept, True), (compact, False)):  # the index last
                    path = self._path(shard, is_pretty)
                    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                    with open(tmp, "wb") as handle:
                        pickle.dump(content, handle, protocol=5)
                    os.replace(tmp, path)
                self._pretty[shard] = kept
                wrote = True
            except OSError:
                return
        if wrote:
            for other in self.root.iterdir():
                if other != self.folder and other.is_dir():
                    shutil.rmtree(other, ignore_errors=True)


def _own_keys(registry: Registry) -> Any:
    """A key function for records when the caller gives none: the record, its standing, and
    the settings (the as-of date is in the standing)."""
    base = hashlib.blake2b(repr(registry.settings).encode("utf-8"), digest_size=16).digest()

    def key(cert: Certificate) -> bytes:
        h = hashlib.blake2b(base, digest_size=16)
        h.update(repr((cert, registry.standing(cert))).encode("utf-8"))
        return h.digest()

    return key


def prepare(
    registry: Registry, *, cache_dir: Path | None = None, keys: Mapping[str, bytes] | None = None
) -> Prepared:
    """Serialize every record of ``registry`` (see :class:`Fragments`).

    ``cache_dir``: the build's cache folder; records serialized by an earlier build are taken
    from ``<cache_dir>/data`` (see :class:`FragmentCache`). ``keys``: a digest per certificate
    number of everything its open data is made from (the record, its standing on the as-of date,
    the registry's settings and the generator's code), as the build has for every certificate
    (``build.certificate_inputs``); without it the keys are computed here.
    """
    rows = _Rows()
    certs = registry.certificates
    if cache_dir is None:
        return Prepared(registry, [fragments(cert, registry, rows) for cert in certs])
    cache = FragmentCache(cache_dir / CACHE_FOLDER)
    own = None
    wanted = []
    for cert in certs:
        key = keys.get(cert.number) if keys is not None else None
        if key is None:
            own = own or _own_keys(registry)
            key = own(cert)
        wanted.append(key)
    hits = cache.take(wanted)
    found: list[Fragments] = []
    cached = 0
    for cert, key in zip(certs, wanted, strict=True):
        made = hits.get(key)
        if made is None:
            made = fragments(cert, registry, rows)
            cache.put(key, made)
        else:
            cached += 1
        found.append(made)
    cache.save()
    return Prepared(registry, found, cached, cache, wanted)


# --- writing ------------------------------------------------------------------------------------


def _members(
    extra: Mapping[str, dict[str, Any]], number: str
) -> Sequence[tuple[str, bytes, bytes]]:
    return [(key, *members(key, value)) for key, value in extra[number].items()]


FIELDS = ("derived", "links", "record", "schema_version")  # of every entry, in key order
PIECES_A_CHUNK = 10_000  # pieces of certificates.json or the CSV joined at a time (~2 MB)


def record_path(number: str) -> str:
    """The site path of a record's own JSON file."""
    return f"{API}/certificates/{number}.json"


def _order(keys: tuple[str, ...]) -> list[int]:
    """Where the members of an entry are, in key order, given their keys as listed (the
    :data:`FIELDS`, then what ``extra`` adds): of equal keys the last wins, as in dict.update."""
    last = {key: i for i, key in enumerate(keys)}
    return [last[key] for key in sorted(last)]


def write_data(
    registry: Registry,
    out: Output,
    extra: Mapping[str, Any] | None = None,
    *,
    prepared: Prepared | None = None,
    digests: dict[str, bytes] | None = None,
    kept: Callable[[str, str], bytes | None] | None = None,
    members_of: Callable[[str], Sequence[tuple[str, bytes, bytes]]] | None = None,
) -> int:
    """Write the open-data files; ``extra`` adds keys (e.g. the log position) per certificate.

    ``digests``: filled with the SHA-256 of every file written, by site path (what the signed
    checkpoint binds by digest, :mod:`generator.trust`).

    ``prepared``: the records serialized (:func:`prepare`) for this registry, else serialized
    here. A record's indented members are wanted only when its file is written
    (:meth:`Prepared.made`: the cache reads them then) and let go once it is (half the build's
    largest working set at 100,000 records); the compact ones and the CSV rows stay.
    ``kept``: called with each record's file and number before it is made; when it returns
    that file's SHA-256 (the output kept the file as it was), the file is not written.
    ``members_of``: gives what :func:`members` makes of a record's ``extra``, made faster by
    who knows its shape (then only the keys of ``extra`` are read: the records that have any).
    """
    if prepared is None or prepared.registry is not registry:
        prepared = prepare(registry)
    # certificates.json's array as the pieces of each entry: "{", each member and a comma,
    # the last member's comma replaced by "}," (no copy of an entry: at 100,000 records the
    # joined entries would double the largest working set of the build).
    body: list[bytes] = []
    extra = extra or None  # an empty one adds nothing
    orders: dict[tuple[str, ...], list[int]] = {}
    schema_indented, schema_compact = SCHEMA_MEMBERS

    def write(rel: str, content: bytes) -> None:
        if digests is not None:
            digests[rel] = hashlib.sha256(content).digest()
        out.write(rel, content)

    def write_pieces(rel: str, pieces: list[bytes]) -> None:
        """certificates.json, the CSV: joined a few MB at a time, each chunk hashed for the
        output's digest and the SHA-256 while it is in the processor's cache, and written."""
        chunks = [b"".join(pieces[at : at + PIECES_A_CHUNK])
                  for at in range(0, len(pieces), PIECES_A_CHUNK)]
        own, sha256 = digester(), hashlib.sha256()
        for chunk in chunks:
            own.update(chunk)
            sha256.update(chunk)
        out.write_chunks(rel, chunks, own.digest())
        if digests is not None:
            digests[rel] = sha256.digest()

    made_all = prepared.fragments
    folder = f"{API}/certificates/"  # record_path, without a call for each record
    one_more: dict[str, list[int]] = {}  # the order of FIELDS and one more key, by that key
    for at, (cert, made) in enumerate(zip(registry.certificates, made_all, strict=True)):
        rel = f"{folder}{cert.number}.json"
        known = kept(rel, cert.number) if kept is not None else None
        if known is not None and members_of is not None and extra is not None and (
                cert.number in extra):
            # A record whose file is kept, with one member more (the log's): its entry's
            # pieces straight into the array (at 100,000 records the general path below is
            # a second of the build).
            made_members = members_of(cert.number)
            if len(made_members) == 1:
                key, _more, packed = made_members[0]
                order = one_more.get(key) or one_more.setdefault(key, _order((*FIELDS, key)))
                if len(order) == len(FIELDS) + 1:  # not one of FIELDS again
                    pieces = (made.derived_compact, made.links_compact,
                              RECORD_KEY + made.canonical, schema_compact, packed)
                    body += (b"{", pieces[order[0]], b",", pieces[order[1]], b",",
                             pieces[order[2]], b",", pieces[order[3]], b",", pieces[order[4]],
                             b"},")
                    if digests is not None:
                        digests[rel] = known
                    if made.record:  # made here: its indented members are let go
                        made_all[at] = made._replace(derived=b"", links=b"", record=b"")
                    continue
        indented: list[bytes] = []
        if known is None:  # its file is written: its indented members too
            made = prepared.made(at)
            indented = [made.derived, made.links, made.record, schema_indented]
        compact = [made.derived_compact, made.links_compact, RECORD_KEY + made.canonical]
        compact.append(schema_compact)
        if extra is not None and cert.number in extra:
            keys: tuple[str, ...] = FIELDS
            made_members = (members_of(cert.number) if members_of is not None
                            else _members(extra, cert.number))
            for key, more, packed in made_members:
                keys += (key,)
                indented.append(more)
                compact.append(packed)
            order = orders.get(keys) or orders.setdefault(keys, _order(keys))
            if known is None:
                indented = [indented[i] for i in order]
            compact = [compact[i] for i in order]
        if known is None:
            write(rel, b"{\n" + b",\n".join(indented) + b"\n}\n")
        elif digests is not None:
            digests[rel] = known
        if made_all[at].record:  # made here: its indented members are let go once written
            made_all[at] = made._replace(derived=b"", links=b"", record=b"")
        body.append(b"{")
        for member in compact:
            body += (member, b",")
        body[-1] = b"},"
    if body:
        body[-1] = b"}"
    write_pieces(f"{API}/certificates.json", _all_records(registry, body))
    write_pieces(f"{API}/certificates.csv", [CSV_BOM + _Rows().row(CSV_COLUMNS),
                                             *[m.csv_row for m in prepared.fragments]])
    write(f"{API}/record.schema.json", pretty(registry.settings.schema))
    if prepared.cache is not None:
        prepared.cache.save()  # what was made again for a record whose members were lost
    return len(registry.certificates)


def _all_records(registry: Registry, body: list[bytes]) -> list[bytes]:
    """certificates.json: :func:`registry_json` in canonical form, with ``body``, the pieces of
    the serialized entries and the commas between them, as its array; as pieces to join (the
    document is the largest file written: see ``write_pieces`` in :func:`write_data`)."""
    doc = registry_json(registry, [])
    doc["count"] = len(registry.certificates)
    parts = [b"{"]
    for key in sorted(doc):
        if key == "certificates":
            parts.append(b'"certificates":[')
            parts += body
            parts.append(b"]")
        else:
            parts.append(members(key, doc[key])[1])
        parts.append(b",")
    parts[-1] = b"}"
    return parts
