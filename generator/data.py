"""Open data: every record as JSON (one file each and all together), CSV, the record schema.

A record's JSON keeps what the body wrote (``record``, the part that is signed) apart from what
this build derived for its as-of date (``derived``) and where things are (``links``).
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from typing import Any

from .model import Certificate, Registry
from .output import Output

SCHEMA_VERSION = 1
API = "api/v1"


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
    }


def links_dict(cert: Certificate, registry: Registry) -> dict[str, str]:
    """Absolute URLs of everything published for the record."""
    base = registry.settings.site_url
    page = registry.settings.certificate_url(cert.number)
    return {
        "page": page,
        "json": f"{base}{API}/certificates/{cert.number}.json",
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
        d = derived_dict(cert, registry)
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
        writer.writerow([_cell(row[c]) for c in CSV_COLUMNS])
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def write_data(
    registry: Registry, out: Output, extra: dict[str, dict[str, Any]] | None = None
) -> int:
    """Write the open-data files; ``extra`` adds keys (e.g. inclusion proofs) per certificate."""
    entries = []
    for cert in registry.certificates:
        entry = certificate_json(cert, registry)
        if extra and cert.number in extra:
            entry.update(extra[cert.number])
        entries.append(entry)
        out.write(f"{API}/certificates/{cert.number}.json", _pretty(entry))
    out.write(f"{API}/certificates.json", canonical_json(registry_json(registry, entries)))
    out.write(f"{API}/certificates.csv", certificates_csv(registry))
    out.write(f"{API}/record.schema.json", _pretty(registry.settings.schema))
    return len(entries)


def _pretty(data: Any) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
