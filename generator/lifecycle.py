"""The certificate's legal moves: one state machine for ``validate`` and the lifecycle commands.

States are the recorded statuses (valid, suspended, withdrawn, cancelled). "Expired" is not a
state a record can be put in: it is derived from the expiry date at build time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from .settings import Lifecycle

VALID, SUSPENDED, WITHDRAWN, CANCELLED = "valid", "suspended", "withdrawn", "cancelled"
FINAL = frozenset({WITHDRAWN, CANCELLED})


@dataclass(frozen=True)
class Move:
    """An event kind: the states it may happen in, the state it leads to, if it needs a reason."""

    kind: str
    allowed_from: frozenset[str | None]
    to: str | None  # None: the state does not change
    needs_reason: bool = False
    zh: str = ""
    en: str = ""


MOVES: dict[str, Move] = {
    m.kind: m
    for m in (
        Move("issued", frozenset({None}), VALID, zh="颁发证书", en="Certificate issued"),
        Move(
            "surveillance",
            frozenset({VALID}),
            None,
            zh="监督审核通过",
            en="Surveillance audit passed",
        ),
        Move("level-changed", frozenset({VALID}), None, zh="星级变更", en="Star level changed"),
        Move(
            "scope-reduced", frozenset({VALID}), None, True, zh="缩小认证范围", en="Scope reduced"
        ),
        Move("scope-changed", frozenset({VALID}), None, zh="认证范围变更", en="Scope changed"),
        Move(
            "renewed",
            frozenset({VALID}),
            VALID,
            zh="再认证（复审）通过，换发证书",
            en="Renewed after recertification",
        ),
        Move("suspended", frozenset({VALID}), SUSPENDED, True, zh="暂停", en="Suspended"),
        Move("reinstated", frozenset({SUSPENDED}), VALID, zh="恢复", en="Reinstated"),
        Move(
            "withdrawn", frozenset({VALID, SUSPENDED}), WITHDRAWN, True, zh="撤销", en="Withdrawn"
        ),
        Move("cancelled", frozenset({VALID, SUSPENDED}), CANCELLED, zh="注销", en="Cancelled"),
    )
}


@dataclass(frozen=True)
class EventIn:
    """What the state machine needs of an event."""

    date: dt.date
    kind: str
    reason: str | None = None


def refusal(state: str | None, event: EventIn) -> str | None:
    """Why ``event`` cannot happen to a certificate in ``state``, or None if it can."""
    move = MOVES.get(event.kind)
    if move is None:
        return f"unknown event kind '{event.kind}'"
    if state not in move.allowed_from:
        if state is None:
            return f"the first event must be 'issued', not '{event.kind}'"
        if event.kind == "issued":
            return "a certificate is issued only once; record a renewal as 'renewed'"
        if state in FINAL:
            return f"a {state} certificate is final: '{event.kind}' cannot follow"
        allowed = " or ".join(sorted(s for s in move.allowed_from if s))
        return f"'{event.kind}' needs a {allowed} certificate, but it is {state} here"
    if move.needs_reason and not (event.reason or "").strip():
        return f"a '{event.kind}' event needs a reason"
    return None


def after(state: str | None, kind: str) -> str | None:
    """The state after a legal event of ``kind``."""
    move = MOVES[kind]
    return state if move.to is None else move.to


_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole months, kept on its day of the month or clamped to the month's
    last day (2025-01-31 + 1 month is 2025-02-28): what ``day + relativedelta(months=months)``
    gives, without its cost (rules and standings run this for every record)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = month0 + 1
    last = _MONTH_DAYS[month0]
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        last = 29
    return dt.date(year, month, day.day if day.day <= last else last)


def suspension_deadline(since: dt.date, rules: Lifecycle) -> dt.date:
    """The last day a suspension may last before it must be withdrawn."""
    return add_months(since, rules.max_suspension_months)


@dataclass
class Replay:
    """The result of replaying a history: the final state and the index and text of each refusal."""

    state: str | None
    refusals: list[tuple[int, str]]
    suspended_since: dt.date | None = None
    # The state after each event, in order (a refused event leaves the state as it was).
    states: list[str | None] = field(default_factory=list)


def replay(events: Iterable[EventIn], rules: Lifecycle) -> Replay:
    """Apply events in order; a refused event is reported and skipped."""
    result = Replay(None, [])
    last: dt.date | None = None
    for i, event in enumerate(events):
        if last is not None and event.date < last:
            result.refusals.append(
                (i, f"event dated {event.date} comes before the previous one ({last})")
            )
        why = refusal(result.state, event)
        if why:
            result.refusals.append((i, why))
            result.states.append(result.state)
            continue
        if event.kind == "reinstated" and result.suspended_since is not None:
            deadline = suspension_deadline(result.suspended_since, rules)
            if event.date > deadline:
                result.refusals.append(
                    (
                        i,
                        f"suspension from {result.suspended_since} lasted past {deadline} "
                        f"(at most {rules.max_suspension_months} months); "
                        "it should have been withdrawn",
                    )
                )
        if event.kind == "suspended":
            result.suspended_since = event.date
        elif event.kind == "reinstated":
            result.suspended_since = None
        result.state = after(result.state, event.kind)
        result.states.append(result.state)
        last = event.date
    return result


def state_on(events: Iterable[EventIn], day: dt.date, rules: Lifecycle) -> str | None:
    """The state that the events dated up to and including ``day`` lead to."""
    return replay([e for e in events if e.date <= day], rules).state


def expiry_for(issued: dt.date, rules: Lifecycle) -> dt.date:
    """The last day of validity of a certificate issued on ``issued``: the day before the date
    ``validity_years`` later (2025-04-01 gives 2028-03-31).

    One issued on 29 February has its anniversary on 1 March of a common year, so it keeps
    its last day: 2024-02-29 gives 2027-02-28, not 2027-02-27.
    """
    anniversary = add_months(issued, 12 * rules.validity_years)
    if anniversary.day != issued.day:  # add_months clamped 29 February to the 28th
        anniversary += dt.timedelta(days=1)
    return anniversary - dt.timedelta(days=1)


def surveillance_due(last_audit: dt.date, rules: Lifecycle) -> dt.date:
    """When the next surveillance audit is due after an audit on ``last_audit``."""
    return add_months(last_audit, rules.surveillance_months)
