"""The checks of one file each: the checkpoint (signature, freshness, origin), a record's JSON
(its leaf in the log, its derived fields, contradictions) and certificates.json."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature

from .. import data
from ..model import Certificate, Registry, standing
from ..settings import Lifecycle, Settings
from . import note
from .checkpoint import (
    FORMAT,
    TIME_FORMAT,
    Checkpoint,
    as_of_problem,
    origin_of,
)
from .keys import ALGORITHM, fingerprint
from .publish import pretty
from .report import Pins, Proven, Report, check_exact
from .tree import unb64

ENTRY_KEYS = frozenset({"schema_version", "record", "derived", "links", "log"})
LOG_KEYS = frozenset({"leaf_index"})

def check_checkpoint(
    doc: Any, raw: bytes, shown: str, pins: Pins, report: Report
) -> Checkpoint | None:
    """Check checkpoint.json: its form, its fields against the signed body, and the signature."""
    check_exact(raw, pretty(doc), shown, report)
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        report.fail(shown, "format", f"not a starmark checkpoint ('format' must be {FORMAT!r})")
        return None
    expected_keys = {
        "format",
        "origin",
        "tree_size",
        "root_hash",
        "as_of",
        "time",
        "stale_after_days",
        "files",
        "body",
        "signed",
        "signature",
    }
    if set(doc) != expected_keys:
        extra, missing = sorted(set(doc) - expected_keys), sorted(expected_keys - set(doc))
        report.fail(shown, "fields", f"unexpected {extra} / missing {missing}")
        return None
    body = doc["body"].encode("utf-8") if isinstance(doc["body"], str) else b""
    try:
        checkpoint = Checkpoint.parse_body(body)
    except (ValueError, UnicodeDecodeError) as exc:
        report.fail(shown, "body", str(exc))
        return None
    if (
        checkpoint.to_json(None, None) | {"signed": doc["signed"], "signature": doc["signature"]}
        != doc
    ):
        report.fail(
            shown,
            "fields",
            "the fields differ from the signed body (origin, tree_size, "
            "root_hash, as_of, time, stale_after_days or files was altered)",
        )
    _check_freshness(checkpoint, shown, pins, report)
    signature = doc["signature"]
    if doc["signed"] is not True or signature is None:
        if doc["signed"] is not False or signature is not None:
            report.fail(shown, "signature", "'signed' and 'signature' disagree")
        elif pins.allow_unsigned:
            report.notes.append(
                "the checkpoint is UNSIGNED: the hashes agree, but nothing proves "
                "that the certification body published these records"
            )
        else:
            report.fail(
                shown,
                "signature",
                "the checkpoint is UNSIGNED: nothing proves that the "
                "certification body published it (use --allow-unsigned to check hashes only)",
            )
        return checkpoint
    ok_shape = (
        isinstance(signature, dict)
        and set(signature) == {"algorithm", "key", "key_name", "key_hash", "value"}
        and signature["algorithm"] == ALGORITHM
    )
    value = unb64(signature.get("value"), 64) if isinstance(signature, dict) else None
    if not ok_shape or value is None:
        report.fail(shown, "signature", f"not an {ALGORITHM} signature object with a 64-byte value")
        return checkpoint
    pinned = fingerprint(pins.key)
    if signature["key"] != pinned:
        report.fail(
            shown, "signature", f"signed by key {signature['key']}, not the pinned key {pinned}"
        )
    key_hash = note.key_hash(checkpoint.origin, pins.key).hex()
    if signature["key_name"] != checkpoint.origin or signature["key_hash"] != key_hash:
        report.fail(
            shown,
            "signature",
            f"the note key is {signature['key_name']!r}+{signature['key_hash']!r}, "
            f"not {checkpoint.origin!r}+{key_hash!r}",
        )
    try:
        pins.key.verify(value, body)
    except InvalidSignature:
        report.fail(
            shown,
            "signature",
            f"the {ALGORITHM} signature does not match the checkpoint "
            f"body under the pinned key {pinned}: the checkpoint was altered or is not the body's",
        )
    else:
        report.signed_by, report.signature = pinned, value
    return checkpoint


# A signing time this far ahead of the verifier's clock is a clock error, not a forgery.
CLOCK_SKEW = dt.timedelta(minutes=5)


def _check_freshness(cp: Checkpoint, shown: str, pins: Pins, report: Report) -> None:
    """The as-of date must not be after the signing time, nor the signing time after now; the
    data's age is reported, and called stale past the checkpoint's stale-after-days."""
    problem = as_of_problem(cp.as_of, cp.time)
    if problem:
        report.fail(shown, "freshness", problem)
    now = pins.clock()
    if cp.time > now + CLOCK_SKEW:
        report.fail(
            shown,
            "freshness",
            f"signed at {cp.time_text}, in the future of this computer's clock "
            f"({now.strftime(TIME_FORMAT)})",
        )
        return
    age = (now.date() - cp.as_of).days
    report.age_days = age
    if age > cp.stale_after_days:
        report.stale = True
        report.notes.append(
            f"STALE: the data is of {cp.as_of}, {age} days ago (signed {cp.time_text}); the "
            f"registry says it is current for {cp.stale_after_days} days. Get the latest "
            "checkpoint: a status may have changed since"
        )


def check_origin(checkpoint: Checkpoint, shown: str, pins: Pins, report: Report) -> None:
    """The checkpoint must name the pinned registry, and never a reported look-alike site."""
    host = (urlsplit("//" + checkpoint.origin).hostname or checkpoint.origin).lower()
    if host in pins.lookalike_domains:
        report.fail(
            shown,
            "origin",
            f"{checkpoint.origin} is a REPORTED LOOK-ALIKE SITE, not the "
            "certification body's registry (see the counterfeits page)",
        )
    if pins.settings is not None and checkpoint.origin != origin_of(pins.settings.site_url):
        report.fail(
            shown,
            "origin",
            f"the checkpoint is for {checkpoint.origin}, but the pinned "
            f"registry is {origin_of(pins.settings.site_url)}",
        )


def _certificate(record: dict[str, Any]) -> Certificate:
    """A Certificate from a published record (numbers back to exact decimals)."""

    def typed(value: Any) -> Any:
        if isinstance(value, float | int) and not isinstance(value, bool):
            return Decimal(repr(value))
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [typed(v) for v in value]
        return value

    return Certificate.from_data(typed(record), source="")


def check_entry(
    entry: Any,
    shown: str,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
    index: int | None = None,
) -> str | None:
    """Check one record's JSON: its leaf in the log, and its derived parts against its record.

    Returns the verdict the signed record gives on the checkpoint's as-of date, or None.
    """
    if not isinstance(entry, dict) or not isinstance(entry.get("record"), dict):
        report.fail(shown, "record", "no 'record' object")
        return None
    record = entry["record"]
    number = record.get("number") if isinstance(record.get("number"), str) else None
    label = number or (f"#{index}" if index is not None else None)
    before = len(report.failures)
    if set(entry) != ENTRY_KEYS:
        report.fail(
            shown,
            "fields",
            f"unexpected {sorted(set(entry) - ENTRY_KEYS)} / missing "
            f"{sorted(ENTRY_KEYS - set(entry))}",
            label,
        )
    if entry.get("schema_version") != data.SCHEMA_VERSION:
        report.fail(shown, "schema_version", f"must be {data.SCHEMA_VERSION}", label)
    if number and number in pins.counterfeit_numbers:
        report.fail(
            shown,
            "counterfeit",
            f"{number} is a REPORTED COUNTERFEIT number, never issued by the certification body",
            label,
        )

    canonical = data.canonical_json(record)
    member = entry.get("log")
    index_ = member.get("leaf_index") if isinstance(member, dict) else None
    if (
        not isinstance(member, dict)
        or set(member) != LOG_KEYS
        or not isinstance(index_, int)
        or isinstance(index_, bool)
    ):
        report.fail(shown, "log", "missing or malformed 'log' ({\"leaf_index\": n})", label)
    elif report.log is not None:
        report.log.check_leaf(index_, record, shown, label, report, canonical)

    verdict = None
    try:
        cert = _certificate(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        report.fail(
            shown, "record", f"not a certificate record ({type(exc).__name__}: {exc})", label
        )
        return None
    if data.canonical_json(data.record_dict(cert)) != canonical:
        report.fail(shown, "record", "not in the registry's record form", label)
    verdict = _check_derived(entry, cert, shown, label, checkpoint, pins, report)
    return verdict if len(report.failures) == before else None


# Derived from git history at build time (the last commit that touched the record), so not
# recomputable from the record; its bytes are bound by files.sha256 like every other field.
FROM_GIT = frozenset({"last_changed"})


def _check_contradictions(
    cert: Certificate,
    derived: dict[str, Any],
    shown: str,
    label: str | None,
    checkpoint: Checkpoint,
    report: Report,
) -> None:
    """Nothing a record says may be dated after the checkpoint's as-of date."""
    as_of = checkpoint.as_of.isoformat()
    since = derived.get("since")
    if isinstance(since, str) and since > as_of:
        report.fail(
            shown,
            "contradiction",
            f"'since' is {since}, after the checkpoint's as-of date {as_of}",
            label,
        )
    dates = [e.date for e in cert.events] + [a.date for a in cert.audits]
    if dates and max(dates) > checkpoint.as_of:
        report.fail(
            shown,
            "contradiction",
            f"the record has an entry dated {max(dates)}, after the as-of date {as_of}",
            label,
        )


def _check_derived(
    entry: dict[str, Any],
    cert: Certificate,
    shown: str,
    label: str | None,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
) -> str | None:
    """``derived`` and ``links`` must follow from the signed record on the as-of date (their
    bytes are signed through files.sha256; this also catches a registry that signed nonsense)."""
    derived, links = entry.get("derived"), entry.get("links")
    if not isinstance(derived, dict) or not isinstance(links, dict):
        report.fail(shown, "derived", "missing 'derived' or 'links'", label)
        return None
    _check_contradictions(cert, derived, shown, label, checkpoint, report)
    if pins.settings is not None:
        registry = Registry.create(pins.settings, [cert], checkpoint.as_of)
        try:
            want_derived = data.derived_dict(cert, registry)
            want_links = data.links_dict(cert, registry)
        except (KeyError, StopIteration) as exc:
            report.fail(
                shown,
                "derived",
                f"the record names something the pinned registry does not know ({exc})",
                label,
            )
            return None
        for key in sorted(set(want_derived) | set(derived)):
            if key in FROM_GIT and key in derived:
                continue
            if derived.get(key, ...) != want_derived.get(key, ...):
                report.fail(
                    shown,
                    "derived",
                    f"'{key}' is {derived.get(key)!r} but the signed record "
                    f"gives {want_derived.get(key)!r} on {checkpoint.as_of}",
                    label,
                )
        if links != want_links:
            report.fail(
                shown, "links", "links do not point to this record in the pinned registry", label
            )
        return registry.standing(cert).verdict
    # Without the registry's settings only the verdict and dates can be derived (default rules).
    rules = cast(Settings, SimpleNamespace(lifecycle=Lifecycle()))
    verdict = standing(cert, rules, checkpoint.as_of).verdict
    if derived.get("as_of") != checkpoint.as_of.isoformat():
        report.fail(
            shown,
            "derived",
            f"'as_of' is {derived.get('as_of')!r}, the checkpoint's is {checkpoint.as_of}",
            label,
        )
    if derived.get("verdict") != verdict:
        report.fail(
            shown,
            "derived",
            f"'verdict' is {derived.get('verdict')!r} but the signed "
            f"record gives {verdict!r} on {checkpoint.as_of}",
            label,
        )
    if not all(
        isinstance(v, str) and origin_of(v).startswith(checkpoint.origin + "/")
        for v in links.values()
    ):
        report.fail(shown, "links", f"links lead outside {checkpoint.origin}", label)
    return verdict


def check_all(
    doc: Any,
    raw: bytes,
    shown: str,
    checkpoint: Checkpoint,
    pins: Pins,
    report: Report,
    *,
    exact: bool = False,
) -> dict[str, dict[str, Any]]:
    """Check certificates.json: every entry, and that it holds every record of the log.
    ``exact``: its bytes are known to be the signed ones (else its form is checked)."""
    if not exact:
        check_exact(raw, data.canonical_json(doc), shown, report)
    if not isinstance(doc, dict) or not isinstance(doc.get("certificates"), list):
        report.fail(shown, "fields", "no 'certificates' list")
        return {}
    keys = {"schema_version", "as_of", "registry", "count", "certificates"}
    if set(doc) != keys:
        report.fail(
            shown,
            "fields",
            f"unexpected {sorted(set(doc) - keys)} / missing {sorted(keys - set(doc))}",
        )
    entries = doc["certificates"]
    if doc.get("schema_version") != data.SCHEMA_VERSION:
        report.fail(shown, "schema_version", f"must be {data.SCHEMA_VERSION}")
    if doc.get("as_of") != checkpoint.as_of.isoformat():
        report.fail(
            shown, "as_of", f"{doc.get('as_of')!r} is not the checkpoint's {checkpoint.as_of}"
        )
    in_log = len(report.log.latest) if report.log is not None else len(entries)
    if doc.get("count") != len(entries) or len(entries) != in_log:
        report.fail(
            shown,
            "count",
            f"holds {len(entries)} records, says {doc.get('count')!r}, the signed log has "
            f"{in_log}: records were added or removed",
        )
    reg = doc.get("registry")
    want: dict[str, Any] = {}
    if pins.settings is not None:
        want = {
            "site_url": pins.settings.site_url,
            "body": pins.settings.body.name,
            "body_en": pins.settings.body.name_en,
        }
    if (
        not isinstance(reg, dict)
        or not isinstance(reg.get("site_url"), str)
        or origin_of(reg["site_url"]) != checkpoint.origin
        or any(reg.get(k) != v for k, v in want.items())
        or (pins.settings is not None and set(reg) != set(want))
    ):
        report.fail(
            shown,
            "registry",
            "the registry's identity differs from the checkpoint's or the pinned registry's",
        )
    by_number: dict[str, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        record = entry.get("record") if isinstance(entry, dict) else None
        number = record.get("number") if isinstance(record, dict) else None
        verdict = check_entry(entry, shown, checkpoint, pins, report, index=i)
        if isinstance(number, str):
            if number in by_number:
                report.fail(shown, "order", "appears twice", number)
            by_number[number] = entry
            if verdict is not None:
                report.proven[number] = Proven(number, verdict, shown)
    numbers = [
        e["record"]["number"]
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("record"), dict)
        and isinstance(e["record"].get("number"), str)
    ]
    if numbers != sorted(numbers):
        report.fail(shown, "order", "records are not in number order")
    if report.log is not None:
        for number in sorted(set(report.log.latest) - set(numbers)):
            report.fail(shown, "count", "is in the signed log but not in this file", number)
    return by_number
