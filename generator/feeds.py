"""Atom feeds of registry events: one for the whole registry, one per certificate.

Dates come from the records, never from the clock, so a rebuild of the same records gives the
same bytes.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass

from . import lifecycle
from .model import Certificate, Event, Registry
from .output import Output
from .templating import render

REGISTRY_FEED_SIZE = 200


@dataclass(frozen=True)
class Entry:
    """One feed entry."""

    id: str
    url: str
    date: dt.date
    title: str
    summary: str


def entry(cert: Certificate, index: int, event: Event, registry: Registry) -> Entry:
    """The entry for the ``index``-th event of ``cert``; its id never changes."""
    url = registry.settings.certificate_url(cert.number)
    move = lifecycle.MOVES[event.kind]
    reason = f"：{event.reason}" if event.reason else ""
    reason_en = f": {event.reason_en}" if event.reason_en else ""
    return Entry(
        id=f"{url}#event-{index}",
        url=url,
        date=event.date,
        title=f"{cert.number} {cert.organization.name} — {move.zh} {move.en}",
        summary=f"{event.date} {move.zh}{reason} / {move.en}{reason_en}",
    )


def _feed(
    entries: list[Entry],
    *,
    title: str,
    subtitle: str,
    feed_url: str,
    page_url: str,
    author: str,
    fallback: dt.date,
) -> str:
    updated = max((e.date for e in entries), default=fallback)
    return render(
        "feed.xml",
        entries=entries,
        title=title,
        subtitle=subtitle,
        feed_url=feed_url,
        page_url=page_url,
        author=author,
        updated=updated.isoformat(),
    )


def certificate_feed(cert: Certificate, registry: Registry) -> str:
    """All events of one certificate, newest first."""
    s = registry.settings
    url = s.certificate_url(cert.number)
    entries = [entry(cert, i, e, registry) for i, e in enumerate(cert.events)]
    entries.sort(key=lambda e: (e.date, e.id), reverse=True)
    return _feed(
        entries,
        title=f"{cert.number} {cert.organization.name}",
        subtitle="证书变更记录 Certificate events",
        feed_url=f"{url}feed.xml",
        page_url=url,
        author=s.body.name,
        fallback=cert.issued,
    )


def registry_feed(registry: Registry) -> str:
    """The latest events across the registry, newest first."""
    s = registry.settings
    # The newest events by (date, id), as sorting every entry would order them (ids are
    # unique), made into entries only when they are among them. A record's events are in date
    # order (the rules refuse it otherwise), so its last is its newest: the newest events are
    # on or after the REGISTRY_FEED_SIZE-th newest last event, and only the certificates with
    # a last event on or after it are looked into (making an id for every event of 100,000
    # certificates took 0.3 s).
    certs = registry.certificates
    lasts = [c.events[-1].date if c.events else None for c in certs]
    days = heapq.nlargest(REGISTRY_FEED_SIZE, [day for day in lasts if day is not None])
    latest = heapq.nlargest(REGISTRY_FEED_SIZE, (
        (e.date, f"{s.certificate_url(certs[n].number)}#event-{i}", n, i)
        for n, last in enumerate(lasts) if last is not None and last >= days[-1]
        for i, e in enumerate(certs[n].events))) if days else []
    entries = [entry(certs[n], i, certs[n].events[i], registry) for _, _, n, i in latest]
    return _feed(
        entries,
        title=f"{s.body.name} 证书动态",
        subtitle="Registry events",
        feed_url=f"{s.site_url}feed.xml",
        page_url=s.site_url,
        author=s.body.name,
        fallback=registry.as_of,
    )


def write_feeds(registry: Registry, out: Output) -> int:
    """Write the registry feed and one feed per certificate; returns the number of feeds."""
    out.write("feed.xml", registry_feed(registry))
    for cert in registry.certificates:
        out.write(f"c/{cert.number}/feed.xml", certificate_feed(cert, registry))
    return len(registry.certificates) + 1
