"""The certificate's state machine and its dates, independent of any record file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from generator import lifecycle
from generator.lifecycle import CANCELLED, MOVES, SUSPENDED, VALID, WITHDRAWN, EventIn
from generator.settings import Lifecycle

REPO = Path(__file__).resolve().parent.parent
RULES = Lifecycle()


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def e(date: str, kind: str, reason: str | None = None) -> EventIn:
    return EventIn(d(date), kind, reason)


def test_every_event_kind_of_the_schema_is_a_move() -> None:
    record_schema = json.loads((REPO / "registry" / "record.schema.json").read_text("utf-8"))
    kinds = record_schema["properties"]["events"]["items"]["properties"]["kind"]["enum"]
    assert set(kinds) == set(MOVES)


def test_every_recorded_status_is_a_state() -> None:
    record_schema = json.loads((REPO / "registry" / "record.schema.json").read_text("utf-8"))
    assert set(record_schema["properties"]["status"]["enum"]) == {
        VALID,
        SUSPENDED,
        WITHDRAWN,
        CANCELLED,
    }


def test_moves_have_both_labels() -> None:
    assert all(move.zh and move.en for move in MOVES.values())


@pytest.mark.parametrize(
    ("state", "event", "why"),
    [
        (None, e("2025-04-01", "issued"), None),
        (VALID, e("2025-06-01", "suspended", "整改"), None),
        (SUSPENDED, e("2025-07-01", "reinstated"), None),
        (SUSPENDED, e("2025-07-01", "withdrawn", "逾期"), None),
        (VALID, e("2025-07-01", "cancelled"), None),
        (
            None,
            e("2025-04-01", "surveillance"),
            "the first event must be 'issued', not 'surveillance'",
        ),
        (
            VALID,
            e("2025-04-01", "issued"),
            "a certificate is issued only once; record a renewal as 'renewed'",
        ),
        (
            WITHDRAWN,
            e("2025-07-01", "reinstated"),
            "a withdrawn certificate is final: 'reinstated' cannot follow",
        ),
        (
            CANCELLED,
            e("2025-07-01", "renewed"),
            "a cancelled certificate is final: 'renewed' cannot follow",
        ),
        (
            VALID,
            e("2025-07-01", "reinstated"),
            "'reinstated' needs a suspended certificate, but it is valid here",
        ),
        (
            SUSPENDED,
            e("2025-07-01", "suspended", "x"),
            "'suspended' needs a valid certificate, but it is suspended here",
        ),
        (
            SUSPENDED,
            e("2025-07-01", "surveillance"),
            "'surveillance' needs a valid certificate, but it is suspended here",
        ),
        (VALID, e("2025-07-01", "suspended"), "a 'suspended' event needs a reason"),
        (VALID, e("2025-07-01", "withdrawn", "  "), "a 'withdrawn' event needs a reason"),
        (VALID, e("2025-07-01", "scope-reduced"), "a 'scope-reduced' event needs a reason"),
        (VALID, e("2025-07-01", "expired"), "unknown event kind 'expired'"),
    ],
)
def test_refusal(state: str | None, event: EventIn, why: str | None) -> None:
    assert lifecycle.refusal(state, event) == why


@pytest.mark.parametrize(
    ("state", "kind", "to"),
    [
        (None, "issued", VALID),
        (VALID, "surveillance", VALID),
        (VALID, "suspended", SUSPENDED),
        (SUSPENDED, "reinstated", VALID),
        (SUSPENDED, "withdrawn", WITHDRAWN),
        (VALID, "cancelled", CANCELLED),
        (VALID, "renewed", VALID),
    ],
)
def test_after(state: str | None, kind: str, to: str) -> None:
    assert lifecycle.after(state, kind) == to


def test_replay_of_a_clean_history() -> None:
    result = lifecycle.replay(
        [
            e("2025-04-01", "issued"),
            e("2026-03-01", "surveillance"),
            e("2026-06-01", "suspended", "x"),
            e("2026-07-01", "reinstated"),
            e("2027-01-01", "withdrawn", "y"),
        ],
        RULES,
    )
    assert (result.state, result.refusals) == (WITHDRAWN, [])


def test_replay_skips_and_reports_refused_events() -> None:
    result = lifecycle.replay(
        [
            e("2025-04-01", "issued"),
            e("2025-05-01", "withdrawn", "x"),
            e("2025-06-01", "reinstated"),
        ],
        RULES,
    )
    assert result.state == WITHDRAWN
    assert result.refusals == [(2, "a withdrawn certificate is final: 'reinstated' cannot follow")]


def test_replay_reports_events_out_of_order() -> None:
    result = lifecycle.replay([e("2025-04-01", "issued"), e("2025-03-01", "surveillance")], RULES)
    assert result.refusals == [
        (1, "event dated 2025-03-01 comes before the previous one (2025-04-01)")
    ]


def test_replay_of_nothing() -> None:
    assert lifecycle.replay([], RULES) == lifecycle.Replay(None, [])


@pytest.mark.parametrize(("reinstated", "late"), [("2025-12-01", False), ("2025-12-02", True)])
def test_suspension_limit_is_inclusive(reinstated: str, late: bool) -> None:
    result = lifecycle.replay(
        [e("2025-04-01", "issued"), e("2025-06-01", "suspended", "x"), e(reinstated, "reinstated")],
        RULES,
    )
    assert result.state == VALID
    assert bool(result.refusals) is late


def test_a_second_suspension_counts_from_its_own_start() -> None:
    result = lifecycle.replay(
        [
            e("2025-04-01", "issued"),
            e("2025-05-01", "suspended", "x"),
            e("2025-06-01", "reinstated"),
            e("2026-01-01", "suspended", "y"),
            e("2026-06-30", "reinstated"),
        ],
        RULES,
    )
    assert result.refusals == []


def test_suspension_limit_comes_from_settings() -> None:
    history = [
        e("2025-04-01", "issued"),
        e("2025-06-01", "suspended", "x"),
        e("2025-08-02", "reinstated"),
    ]
    assert lifecycle.replay(history, Lifecycle(max_suspension_months=2)).refusals
    assert not lifecycle.replay(history, RULES).refusals


@pytest.mark.parametrize(
    ("since", "deadline"),
    [("2025-06-01", "2025-12-01"), ("2025-08-31", "2026-02-28"), ("2023-08-31", "2024-02-29")],
)
def test_suspension_deadline(since: str, deadline: str) -> None:
    assert lifecycle.suspension_deadline(d(since), RULES) == d(deadline)


def test_state_on() -> None:
    history = [
        e("2025-04-01", "issued"),
        e("2025-06-01", "suspended", "x"),
        e("2025-07-01", "reinstated"),
    ]
    assert lifecycle.state_on(history, d("2025-03-31"), RULES) is None
    assert lifecycle.state_on(history, d("2025-04-01"), RULES) == VALID
    assert lifecycle.state_on(history, d("2025-06-15"), RULES) == SUSPENDED
    assert lifecycle.state_on(history, d("2025-07-01"), RULES) == VALID


@pytest.mark.parametrize(
    ("issued", "expires"),
    [
        ("2025-04-01", "2028-03-31"),
        ("2025-01-01", "2027-12-31"),
        ("2024-02-29", "2027-02-28"),  # anniversary in a common year is 1 March: no day is lost
        ("2024-03-01", "2027-02-28"),
        ("2025-03-01", "2028-02-29"),  # the day before 1 March of a leap year
    ],
)
def test_expiry_for(issued: str, expires: str) -> None:
    assert lifecycle.expiry_for(d(issued), RULES) == d(expires)


def test_validity_comes_from_settings() -> None:
    assert lifecycle.expiry_for(d("2025-04-01"), Lifecycle(validity_years=2)) == d("2027-03-31")


@pytest.mark.parametrize(
    ("audit", "due"),
    [("2025-03-10", "2026-03-10"), ("2025-01-31", "2026-01-31"), ("2024-02-29", "2025-02-28")],
)
def test_surveillance_due(audit: str, due: str) -> None:
    assert lifecycle.surveillance_due(d(audit), RULES) == d(due)


def test_surveillance_interval_comes_from_settings() -> None:
    assert lifecycle.surveillance_due(d("2025-03-10"), Lifecycle(surveillance_months=6)) == d(
        "2025-09-10"
    )
