"""Certificate pages: the verdict first, then the facts, the history and the links.

Renders the article fragment, the ``<head>`` additions, the title and the description of one
certificate page. The page frame (header, nav, footer) comes from mkdocs-material through
``shell``; nothing here imports mkdocs.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import counterfeits, lifecycle, periods
from .model import Audit, Certificate, Event, Registry
from .templating import render, score_text

PAGE_ROOT = "../../"  # from c/<NUMBER>/ back to the site root

AUDIT_KINDS = {
    "initial": ("初次认证审核", "Initial audit"),
    "surveillance": ("监督审核", "Surveillance audit"),
    "recertification": ("再认证审核（复审）", "Recertification audit"),
}
AUDIT_RESULTS = {"pass": ("通过", "passed"), "fail": ("未通过", "failed")}


@dataclass(frozen=True)
class HistoryItem:
    """One line of the timeline: an audit or an event."""

    date: dt.date
    zh: str
    en: str
    detail_zh: str | None
    detail_en: str | None
    kind: str


# An event recorded on the day of the audit it follows (the "surveillance" event of a passed
# surveillance audit, "renewed" after a recertification, "issued" after the initial audit) is
# the same happening as the audit: the timeline shows it once.
SAME_HAPPENING = {"surveillance": "surveillance", "renewed": "recertification", "issued": "initial"}


def history(cert: Certificate) -> list[HistoryItem]:
    """Audits and events together, newest first, one entry per happening (events before
    audits on the same day)."""
    items: list[tuple[dt.date, int, int, HistoryItem]] = []
    merged: set[int] = set()
    for i, audit in enumerate(cert.audits):
        item = _audit_item(audit)
        for j, event in enumerate(cert.events):
            if (j not in merged and event.date == audit.date and audit.result == "pass"
                    and SAME_HAPPENING.get(event.kind) == audit.kind):
                merged.add(j)
                item = _merged_item(item, event)
                break
        items.append((audit.date, 0, i, item))
    for j, event in enumerate(cert.events):
        if j not in merged:
            items.append((event.date, 1, j, _event_item(event)))
    items.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    return [item for *_, item in items]


def _merged_item(item: HistoryItem, event: Event) -> HistoryItem:
    """An audit's entry that also tells the event recorded with it (unless it says the same)."""
    move = lifecycle.MOVES[event.kind]
    zh, en = item.zh, item.en
    if event.kind != "surveillance":
        zh, en = f"{zh}；{move.zh}", f"{en}; {move.en.lower()}"
    detail_zh = " ".join(t for t in (item.detail_zh, event.reason) if t) or None
    detail_en = " ".join(t for t in (item.detail_en, event.reason_en) if t) or None
    return HistoryItem(item.date, zh, en, detail_zh, detail_en, item.kind)


def _audit_item(audit: Audit) -> HistoryItem:
    kind_zh, kind_en = AUDIT_KINDS[audit.kind]
    res_zh, res_en = AUDIT_RESULTS[audit.result]
    score = f"，{score_text(audit.score)} 分" if audit.score is not None else ""
    score_en = f", score {score_text(audit.score)}" if audit.score is not None else ""
    return HistoryItem(
        audit.date,
        f"{kind_zh}{res_zh}{score}",
        f"{kind_en} {res_en}{score_en}",
        audit.note,
        None,
        f"audit-{audit.result}",
    )


def _event_item(event: Event) -> HistoryItem:
    move = lifecycle.MOVES[event.kind]
    return HistoryItem(
        event.date, move.zh, move.en, event.reason, event.reason_en, f"event-{event.kind}"
    )


@dataclass(frozen=True)
class CertificatePage:
    """Everything the shell needs to frame one certificate page."""

    number: str
    title: str
    description: str
    head: str
    content: str
    edit_url: str | None


def page_context(
    cert: Certificate, registry: Registry, mark_files: Sequence[tuple[str, ...]]
) -> dict[str, Any]:
    """The template context of one certificate page."""
    settings = registry.settings
    standing = registry.standing(cert)
    verdict = settings.status(standing.verdict)
    level = settings.level(cert.level)
    repo = settings.repo_url
    return {
        "cert": cert,
        "s": settings,
        "standing": standing,
        "verdict": verdict,
        "level": level,
        "industry": settings.industries[cert.industry],
        "region": settings.region_name(cert.organization.region),
        "history": history(cert),
        "root": PAGE_ROOT,
        "url": settings.certificate_url(cert.number),
        "marks": list(mark_files) if verdict.mark_allowed else [],
        "record_url": f"{repo}/blob/{settings.repo_branch}/{cert.source}" if repo else None,
        "history_url": f"{repo}/commits/{settings.repo_branch}/{cert.source}" if repo else None,
        "first_issued": cert.first_issued,
        "last_changed": cert.last_changed,
        "reinstatable": standing.verdict == lifecycle.SUSPENDED,
        "periods": periods.rows(cert, settings),
        "suspension": _lapsed_suspension(cert, standing.verdict),
        "report_url": counterfeits.report_link(settings),
        # The page's clock may be later than the build's (freshness.js): what it may turn into.
        "may_expire": standing.verdict in (lifecycle.VALID, lifecycle.SUSPENDED),
        "may_be_overdue": bool(standing.next_surveillance and not standing.surveillance_overdue),
    }


def _lapsed_suspension(cert: Certificate, verdict: str) -> Event | None:
    """The suspension a certificate was under when it lapsed (its page says both)."""
    if verdict != "expired" or cert.status != lifecycle.SUSPENDED:
        return None
    return next((e for e in reversed(cert.events) if e.kind == lifecycle.SUSPENDED), None)


def title(cert: Certificate, registry: Registry) -> str:
    """``<title>``: number, organisation, verdict."""
    verdict = registry.verdict(cert)
    return f"{cert.number} {cert.organization.name} — {verdict.zh} {verdict.en}"


def description(cert: Certificate, registry: Registry) -> str:
    """The meta description and link-preview text."""
    verdict = registry.verdict(cert)
    level = registry.level(cert)
    org = cert.organization
    en_name = f" ({org.name_en})" if org.name_en else ""
    return (
        f"{org.name}商品售后服务认证证书 {cert.number}：{verdict.zh}，{level.zh}，"
        f"有效期至{cert.expires}。"
        f" After-sales service certificate {cert.number}{en_name}: {verdict.en}, {level.en}, "
        f"valid until {cert.expires}."
    )


def json_ld(cert: Certificate, registry: Registry, artwork_base: str = "") -> str:
    """schema.org ``Certification`` data for search engines and link checkers."""
    settings = registry.settings
    standing = registry.standing(cert)
    level = registry.level(cert)
    data = {
        "@context": "https://schema.org",
        "@type": "Certification",
        "name": f"商品售后服务认证 {level.zh} / After-sales service certification, {level.en}",
        "identifier": cert.number,
        "url": settings.certificate_url(cert.number),
        "certificationStatus": "https://schema.org/"
        + ("CertificationActive" if standing.in_force else "CertificationInactive"),
        "certificationIdentification": cert.number,
        "issuedBy": {
            "@type": "Organization",
            "name": settings.body.name,
            "alternateName": settings.body.name_en,
        },
        "about": {
            "@type": "Organization",
            "name": cert.organization.name,
            "taxID": cert.organization.credit_code,
        },
        "validFrom": cert.issued.isoformat(),
        "validIn": {"@type": "AdministrativeArea", "name": "中国 China"},
        "expires": cert.expires.isoformat(),
        "certificationRating": {
            "@type": "Rating",
            "ratingValue": level.stars,
            "bestRating": max(lv.stars for lv in settings.levels),
            "worstRating": 0,
            "ratingExplanation": level.zh,
        },
        "hasMeasurement": {
            "@type": "QuantitativeValue",
            "value": float(cert.score),
            "maxValue": float(settings.max_score),
        },
    }
    passed = [a.date for a in cert.audits if a.result == "pass"]
    if passed:
        data["auditDate"] = max(passed).isoformat()
    if registry.verdict(cert).mark_allowed:
        folder = f"{artwork_base}{cert.number}/" if artwork_base else None  # artwork origin
        data["logo"] = f"{folder or settings.certificate_url(cert.number)}mark.svg"
    # No markup character may appear raw inside a script element, whatever a record says.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_page(
    cert: Certificate, registry: Registry, mark_files: Sequence[tuple[str, ...]] = ()
) -> CertificatePage:
    """Render one certificate page's parts."""
    context = page_context(cert, registry, mark_files)
    context["description"] = description(cert, registry)
    # An artwork origin (registry/mark.yaml) is the fourth item of each download, ending in c/.
    base = mark_files[0][3] if mark_files and len(mark_files[0]) > 3 else ""
    context["json_ld"] = json_ld(cert, registry, base if "/" in base else "")
    head = render("certificate_head.html", **context)
    content = render("certificate.html", **context)
    return CertificatePage(
        number=cert.number,
        title=title(cert, registry),
        description=context["description"],
        head=head,
        content=content,
        edit_url=context["record_url"],
    )
