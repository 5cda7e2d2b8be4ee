"""A certificate's periods: its status, star level and score on every day of its life.

One implementation of the question "was it valid on day D, at which level?": the states come
from :func:`lifecycle.replay` (the state machine that validates records), expiry from
:func:`lifecycle.expiry_for` and the levels from the registry's thresholds. The build publishes
the periods in each record's JSON (``derived.periods``), in the check page's status index and on
the certificate page; the browser only looks a day up in them, and ``starmark status`` answers
from the same function.

Periods cover every day without gaps: the first starts at the beginning of time ("not yet
issued"), the last runs on without end. A new period opens when the status, the level or the
score changes, and at every event that moves the state machine (issue, renewal, suspension,
reinstatement, withdrawal, cancellation), so that the entry that decides a day is the one a
person reading the history would point at.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from . import lifecycle
from .model import Certificate
from .settings import Settings

NOT_ISSUED = "not-issued"
EXPIRED = "expired"
# A period status that is no public status of a certificate (registry/registry.yaml lists
# those): the days before the certificate was first issued.
NOT_ISSUED_LABEL = ("尚未颁发", "Not yet issued")
# Audits whose score takes effect when the certificate they lead to is issued.
_ISSUING_AUDITS = {"initial": "issued", "recertification": "renewed"}
EVENT, AUDIT, EXPIRY = "event", "audit", "expiry"
_DAY = dt.timedelta(days=1)
# The level each score earns, by the registry's levels: the same few scores recur in every record.
_LEVELS: dict[tuple[Any, ...], dict[Decimal, str | None]] = {}


class Opening(NamedTuple):
    """What opened a period: an event or an audit (its index in the record), or the end of
    the validity (``date`` is then the last day of validity)."""

    entry: str  # event, audit or expiry
    at: int | None  # its index in the record's events or audits
    kind: str | None
    date: dt.date


class Period(NamedTuple):
    """Days ``start`` to ``end`` (inclusive; None: without limit) with one status and level."""

    start: dt.date | None
    end: dt.date | None
    status: str  # valid, suspended, withdrawn, cancelled, expired or not-issued
    level: str | None
    score: Decimal | None
    opened_by: Opening | None


def _effective(cert: Certificate) -> list[tuple[dt.date, int]]:
    """Each passed audit with a score: the day its score takes effect, and its index.

    A surveillance audit counts from its own day; an initial or recertification audit from
    the issue or renewal it leads to (the first such event on or after it)."""
    found = []
    for i, audit in enumerate(cert.audits):
        if audit.result != "pass" or audit.score is None:
            continue
        day = audit.date
        leads_to = _ISSUING_AUDITS.get(audit.kind)
        if leads_to is not None:
            day = next((e.date for e in cert.events if e.kind == leads_to and e.date >= day), day)
        found.append((day, i))
    found.sort()
    return found


def periods(cert: Certificate, settings: Settings) -> tuple[Period, ...]:
    """Every period of ``cert``, in order, from the beginning of time on."""
    rules = settings.lifecycle
    events = cert.events
    replayed = lifecycle.replay(
        [lifecycle.EventIn(e.date, e.kind, e.reason) for e in events], rules
    )
    refused = {i for i, _ in replayed.refusals}
    moves = [i for i in range(len(events)) if i not in refused]
    event_days = [events[i].date for i in moves]
    on_day: dict[dt.date, list[int]] = {}
    for i in moves:
        on_day.setdefault(events[i].date, []).append(i)
    starts = [events[i].date for i in moves if events[i].kind in ("issued", "renewed")]
    ends = [lifecycle.expiry_for(s, rules) for s in starts[:-1]]
    ends += [cert.expires] if starts else []
    scored = _effective(cert)
    score_days = [day for day, _ in scored]
    levels = _LEVELS.setdefault(settings.levels, {})

    def state_on(day: dt.date) -> tuple[str, str | None, Decimal | None]:
        at = bisect.bisect_right(event_days, day)
        state = replayed.states[moves[at - 1]] if at else None
        if state is None:
            return NOT_ISSUED, None, None
        cycle = bisect.bisect_right(starts, day)
        status = state
        if cycle and state in (lifecycle.VALID, lifecycle.SUSPENDED) and day > ends[cycle - 1]:
            status = EXPIRED
        seen = bisect.bisect_right(score_days, day)
        if not seen:
            return status, None, None
        score = cert.audits[scored[seen - 1][1]].score
        assert score is not None  # _effective keeps scored audits only
        if score not in levels:
            level = settings.level_for(score)
            levels[score] = level.key if level else None
        return status, levels[score], score

    boundaries = set(event_days) | set(score_days)
    boundaries |= {end + _DAY for end in ends}
    out: list[Period] = []
    before: tuple[str, str | None, Decimal | None] = (NOT_ISSUED, None, None)
    start: dt.date | None = None
    opened: Opening | None = None
    for day in sorted(boundaries):
        now = state_on(day)
        today = on_day.get(day, [])
        moving = [i for i in today if lifecycle.MOVES[events[i].kind].to is not None]
        if now == before and not moving:
            continue
        out.append(Period(start, day - _DAY, *before, opened))
        opened = _opening(cert, day, now[0], before[0], today, moving, ends, scored)
        start, before = day, now
    out.append(Period(start, None, *before, opened))
    return tuple(out)


def _opening(cert: Certificate, day: dt.date, status: str, was: str, today: list[int],
             moving: list[int], ends: list[dt.date],
             scored: list[tuple[dt.date, int]]) -> Opening:
    """The entry that decides the period starting on ``day`` (see the module docstring):
    ``today`` are the events of the day, ``moving`` those that move the state machine."""
    if status == EXPIRED and was != EXPIRED and day - _DAY in ends:
        return Opening(EXPIRY, None, None, day - _DAY)
    if moving:
        return Opening(EVENT, moving[-1], cert.events[moving[-1]].kind, day)
    changed = [i for i in today if cert.events[i].kind == "level-changed"]
    if changed:
        return Opening(EVENT, changed[-1], "level-changed", day)
    audits = [i for d, i in scored if d == day]
    if audits:
        audit = cert.audits[audits[-1]]
        return Opening(AUDIT, audits[-1], audit.kind, audit.date)
    if today:
        return Opening(EVENT, today[0], cert.events[today[0]].kind, day)
    return Opening(EXPIRY, None, None, day - _DAY)


def on(found: Sequence[Period], day: dt.date) -> Period:
    """The period of ``found`` (as :func:`periods` gives them) that covers ``day``."""
    starts = [p.start or dt.date.min for p in found]
    return found[bisect.bisect_right(starts, day) - 1]


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def as_json(found: Sequence[Period]) -> list[dict[str, Any]]:
    """The periods as published in ``derived.periods`` (see docs/open-data.md)."""
    return [
        {
            "from": p.start.isoformat() if p.start else None,
            "to": p.end.isoformat() if p.end else None,
            "status": p.status,
            "level": p.level,
            "score": _number(p.score),
            "opened_by": None if p.opened_by is None else {
                "entry": p.opened_by.entry,
                "index": p.opened_by.at,
                "kind": p.opened_by.kind,
                "date": p.opened_by.date.isoformat(),
            },
        }
        for p in found
    ]


def status_label(settings: Settings, key: str) -> tuple[str, str]:
    """The Chinese and English name of a period status."""
    if key == NOT_ISSUED:
        return NOT_ISSUED_LABEL
    status = settings.status(key)
    return status.zh, status.en


def level_label(settings: Settings, key: str | None) -> tuple[str, str]:
    """The Chinese and English name of a level ("" for none)."""
    if key is None:
        return "", ""
    level = settings.level(key)
    return level.zh, level.en


def opening_label(cert: Certificate, opening: Opening | None) -> tuple[str, str, str | None,
                                                                       str | None]:
    """What opened a period, as the history shows it: Chinese, English, and the reason."""
    if opening is None:
        return "", "", None, None
    if opening.entry == EXPIRY:
        return ("有效期届满，未记录再认证", "Validity ended; no renewal recorded", None, None)
    if opening.entry == AUDIT:
        from .pages import AUDIT_KINDS  # pages renders the history with the same names

        zh, en = AUDIT_KINDS[opening.kind or ""]
        return f"{zh}通过", f"{en} passed", None, None
    event = cert.events[opening.at or 0]
    move = lifecycle.MOVES[event.kind]
    return move.zh, move.en, event.reason, event.reason_en


@dataclass(frozen=True)
class Row:
    """A period as the certificate page lists it: dates, names and what opened it."""

    period: Period
    status_zh: str
    status_en: str
    level_zh: str
    level_en: str
    why_zh: str
    why_en: str
    reason: str | None
    reason_en: str | None


def rows(cert: Certificate, settings: Settings) -> list[Row]:
    """The periods of ``cert`` with their names, for the certificate page."""
    out = []
    for period in periods(cert, settings):
        zh, en = status_label(settings, period.status)
        level_zh, level_en = level_label(settings, period.level)
        why_zh, why_en, reason, reason_en = opening_label(cert, period.opened_by)
        out.append(Row(period, zh, en, level_zh, level_en, why_zh, why_en, reason, reason_en))
    return out
