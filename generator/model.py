"""Frozen, typed certificates and the registry, with what is derived for a given as-of date.

A certificate and its parts (and a standing) are named tuples, not frozen dataclasses: a
build at 100,000 records unpickles 750,000 of them from the record cache, and a named tuple
is made in one call where a frozen dataclass sets each field through ``object.__setattr__``
(100,000 records with their standings: 1.4–1.6 s to unpickle as dataclasses, 0.5–0.9 s as
named tuples, on the same machine).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NamedTuple

from . import lifecycle
from .settings import Level, Settings, Status


def share_values(certificates: dict[str, Any]) -> dict[str, Any]:
    """The same certificates (equal, with the same repr; or tuples holding them, and other
    values), rebuilt so that each value they repeat (a day, a score, a text, a standing) is
    one object: pickled together, each such value is written once and unpickled once. A shard
    of the record cache pickled this way unpickles in three quarters of the time (100,000
    records: 1.44 → 1.09 s) and is a quarter smaller."""
    memo: dict[tuple[type, Any], Any] = {}

    def one(value: Any) -> Any:
        if value is None or value is True or value is False:
            return value
        kind = type(value)
        if kind is tuple:
            return tuple([one(item) for item in value])
        if kind in _SHARED_CLASSES:
            return kind._make([one(item) for item in value])
        # Decimal("90") == Decimal("90.0"), but they are written differently: keyed by text.
        key = (kind, str(value)) if kind is Decimal else (kind, value)
        return memo.setdefault(key, value)

    return {key: one(cert) for key, cert in certificates.items()}


class Organization(NamedTuple):
    """The certified enterprise."""

    name: str
    credit_code: str
    region: str
    address: str
    name_en: str | None = None
    address_en: str | None = None
    website: str | None = None


class Audit(NamedTuple):
    """An initial, surveillance or recertification audit."""

    date: dt.date
    kind: str
    result: str
    score: Decimal | None = None
    note: str | None = None


class Event(NamedTuple):
    """A registry event: issue, suspension, reinstatement, withdrawal, …"""

    date: dt.date
    kind: str
    reason: str | None = None
    reason_en: str | None = None


class Certificate(NamedTuple):
    """One certificate record as written, typed. ``source`` is its path relative to the root."""

    number: str
    status: str
    organization: Organization
    industry: str
    scope_zh: str
    scope_en: str | None
    standard: str
    score: Decimal
    level: str
    issued: dt.date
    expires: dt.date
    audits: tuple[Audit, ...]
    events: tuple[Event, ...]
    source: str
    sample: bool = False
    committed: dt.date | None = None  # when git last changed the record file, where git knows

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str,
                  dates: dict[str, dt.date] | None = None,
                  texts: dict[str, str] | None = None) -> Certificate:
        """Build from a record that passed the schema (dates as ISO text, numbers as Decimal).

        ``dates`` (text → date) and ``texts`` (text → the same text): what certificates built
        before gave, shared between the certificates of one registry, which then hold one
        object for each day and for each status, kind, level and the like (fewer objects,
        and smaller pickles).
        """
        if dates is None:
            dates = {}
        share = (texts if texts is not None else {}).setdefault

        def day(text: str) -> dt.date:
            found = dates.get(text)
            if found is None:
                found = dates[text] = dt.date.fromisoformat(text)
            return found

        org = data["organization"]
        return cls(
            number=data["number"],
            status=share(data["status"], data["status"]),
            organization=Organization(
                name=org["name"],
                credit_code=org["credit_code"],
                region=share(org["region"], org["region"]),
                address=org["address"],
                name_en=org.get("name_en"),
                address_en=org.get("address_en"),
                website=org.get("website"),
            ),
            industry=share(data["industry"], data["industry"]),
            scope_zh=data["scope"]["zh"],
            scope_en=data["scope"].get("en"),
            standard=share(data["standard"], data["standard"]),
            score=Decimal(data["score"]),
            level=share(data["level"], data["level"]),
            issued=day(data["issued"]),
            expires=day(data["expires"]),
            audits=tuple([
                Audit(
                    date=day(a["date"]),
                    kind=share(a["kind"], a["kind"]),
                    result=share(a["result"], a["result"]),
                    score=Decimal(a["score"]) if a.get("score") is not None else None,
                    note=a.get("note"),
                )
                for a in data["audits"]
            ]),
            events=tuple([
                Event(
                    date=day(e["date"]),
                    kind=share(e["kind"], e["kind"]),
                    reason=e.get("reason"),
                    reason_en=e.get("reason_en"),
                )
                for e in data["events"]
            ]),
            source=source,
            sample=bool(data.get("sample", False)),
        )

    def committed_on(self, day: dt.date) -> Certificate:
        """The same record, last committed on ``day`` (``committed`` is the last field: a new
        tuple of the others and the day, without :meth:`_replace`'s call per field)."""
        return tuple.__new__(Certificate, (*self[:-1], day))

    @property
    def first_issued(self) -> dt.date:
        return next((e.date for e in self.events if e.kind == "issued"), self.issued)

    @property
    def last_changed(self) -> dt.date:
        """When the record last changed: its last commit where git knows, else its last entry."""
        if self.committed is not None:
            return self.committed
        return max([e.date for e in self.events] + [a.date for a in self.audits])


_SHARED_CLASSES = frozenset({Certificate, Organization, Audit, Event})


class Standing(NamedTuple):
    """What a certificate means on the as-of date: the public verdict and the dates around it."""

    verdict: str  # a status key: valid, suspended, withdrawn, cancelled or expired
    as_of: dt.date
    next_surveillance: dt.date | None
    surveillance_overdue: bool
    surveillance_due_soon: bool
    since: dt.date | None  # when the current verdict began (suspension, withdrawal, expiry…)
    reason: str | None
    reason_en: str | None
    recertification_due: dt.date | None = None  # set when the next audit is the recertification

    @property
    def in_force(self) -> bool:
        return self.verdict == lifecycle.VALID


def standing(cert: Certificate, settings: Settings, as_of: dt.date) -> Standing:
    """Derive the public standing of ``cert`` on ``as_of`` (expiry and surveillance dates)."""
    rules = settings.lifecycle
    last_event = cert.events[-1] if cert.events else None
    verdict = cert.status
    since: dt.date | None = None
    reason = reason_en = None
    if cert.status in (lifecycle.SUSPENDED, lifecycle.WITHDRAWN, lifecycle.CANCELLED):
        final = next((e for e in reversed(cert.events) if e.kind == cert.status), last_event)
        if final is not None:
            since, reason, reason_en = final.date, final.reason, final.reason_en
    if cert.status in (lifecycle.VALID, lifecycle.SUSPENDED) and as_of > cert.expires:
        verdict, since = "expired", cert.expires + dt.timedelta(days=1)
        reason = reason_en = None
    next_due: dt.date | None = None
    recert_due: dt.date | None = None
    overdue = due_soon = False
    if verdict == lifecycle.VALID:
        passed = [a.date for a in cert.audits if a.result == "pass"]
        if passed:
            due = lifecycle.surveillance_due(max(passed), rules)
            if due <= cert.expires:
                next_due = due
                overdue = as_of > due + dt.timedelta(days=rules.surveillance_grace_days)
                due_soon = not overdue and (due - as_of).days <= rules.surveillance_due_soon_days
            else:
                # The cycle ends before another surveillance: recertification comes next.
                recert_due = cert.expires
    return Standing(verdict, as_of, next_due, overdue, due_soon, since, reason, reason_en,
                    recert_due)


@dataclass(frozen=True, slots=True)
class Registry:
    """All certificates, sorted by number, with the settings and the as-of date of this build."""

    settings: Settings
    certificates: tuple[Certificate, ...]
    as_of: dt.date
    standings: dict[str, Standing] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def create(cls, settings: Settings, certificates: list[Certificate], as_of: dt.date,
               known: Mapping[str, Standing] | None = None) -> Registry:
        """The registry of ``certificates`` on ``as_of``. ``known``: standings derived before
        for these certificates, these settings and this day, by number (the record cache's:
        deriving 100,000 takes 0.6 s)."""
        ordered = tuple(sorted(certificates, key=lambda c: c.number))
        known = known or {}
        standings = {}
        for c in ordered:
            found = known.get(c.number)
            standings[c.number] = found if found is not None else standing(c, settings, as_of)
        return cls(settings, ordered, as_of, standings)

    def standing(self, cert: Certificate) -> Standing:
        return self.standings[cert.number]

    def level(self, cert: Certificate) -> Level:
        return self.settings.level(cert.level)

    def verdict(self, cert: Certificate) -> Status:
        return self.settings.status(self.standings[cert.number].verdict)

    def get(self, number: str) -> Certificate | None:
        return next((c for c in self.certificates if c.number == number), None)
