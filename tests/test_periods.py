"""A certificate's periods (generator/periods.py): the status and level on any day, derived once.

The certificate page's answer (periods.js looking a day up in the list the page renders) must
equal ``starmark status --on`` for every sample certificate and every day from 30 days before
its first issue to 30 days after its expiry; the record JSON publishes the same periods.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner
from recordkit import REPO

from generator import data, lifecycle, pages, periods
from generator.cli import cli
from generator.load import load_registry
from generator.model import Certificate, Registry

AS_OF = dt.date(2026, 11, 27)
CLI = REPO / "tests" / "js" / "check_cli.mjs"
DAY = dt.timedelta(days=1)

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(REPO, AS_OF)


class Node:
    """One Node process running tests/js/check_cli.mjs for the module."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(["node", str(CLI)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, encoding="utf-8")

    def ask(self, request: dict[str, Any]) -> Any:
        assert self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(request, ensure_ascii=False) + "\n")
        self.process.stdin.flush()
        reply = json.loads(self.process.stdout.readline())
        assert "error" not in reply, reply["error"]
        return reply["ok"]

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    runner = Node()
    yield runner
    runner.close()


def _cert(registry: Registry, number: str) -> Certificate:
    cert = registry.get(number)
    assert cert is not None
    return cert


def _days(cert: Certificate, found: tuple[periods.Period, ...]) -> list[dt.date]:
    """Every day from 30 days before the first issue to 30 days after the last day of validity
    (or the day the certificate ended, when it ended before that)."""
    first = cert.first_issued - 30 * DAY
    last = max(cert.expires, *(p.start for p in found if p.start)) + 30 * DAY
    return [first + i * DAY for i in range((last - first).days + 1)]


# --- the periods themselves ----------------------------------------------------------------------


def test_periods_cover_every_day_without_gaps_or_overlaps(registry: Registry) -> None:
    for cert in registry.certificates:
        found = periods.periods(cert, registry.settings)
        assert found[0].start is None and found[-1].end is None, cert.number
        for before, after in zip(found, found[1:], strict=False):
            assert before.end is not None and after.start == before.end + DAY, cert.number
        assert found[0].status == periods.NOT_ISSUED
        assert found[1].start == cert.first_issued


def test_on_the_as_of_date_the_periods_agree_with_the_page_verdict(registry: Registry) -> None:
    """The build's verdict for today (model.standing) and the periods never disagree."""
    for cert in registry.certificates:
        found = periods.periods(cert, registry.settings)
        now = periods.on(found, AS_OF)
        assert now.status == registry.standing(cert).verdict, cert.number
        assert now.level == cert.level, cert.number
        assert now.score == cert.score, cert.number


def test_a_suspension_then_withdrawal_is_told_day_by_day(registry: Registry) -> None:
    cert = next(c for c in registry.certificates if c.status == lifecycle.WITHDRAWN
                and any(e.kind == "suspended" for e in c.events))
    found = periods.periods(cert, registry.settings)
    suspended = next(e for e in cert.events if e.kind == "suspended")
    withdrawn = next(e for e in cert.events if e.kind == "withdrawn")
    assert periods.on(found, suspended.date - DAY).status == "valid"
    on_suspension = periods.on(found, suspended.date)
    assert on_suspension.status == "suspended"
    assert on_suspension.opened_by == periods.Opening("event", cert.events.index(suspended),
                                                      "suspended", suspended.date)
    assert periods.on(found, withdrawn.date - DAY).status == "suspended"
    assert periods.on(found, withdrawn.date).status == "withdrawn"
    assert periods.on(found, withdrawn.date + 3650 * DAY).status == "withdrawn"


def test_expiry_starts_the_day_after_the_last_day_of_validity(registry: Registry) -> None:
    cert = next(c for c in registry.certificates if registry.standing(c).verdict == "expired")
    found = periods.periods(cert, registry.settings)
    assert periods.on(found, cert.expires).status in ("valid", "suspended")
    after = periods.on(found, cert.expires + DAY)
    assert after.status == "expired"
    assert after.opened_by == periods.Opening("expiry", None, None, cert.expires)


def test_a_renewal_keeps_the_certificate_valid_and_its_audit_counts_from_the_renewal(
        registry: Registry) -> None:
    cert = _cert(registry, "ASC-2022-000031")  # renewed 2025-06-01 after an audit on 2025-05-12
    found = periods.periods(cert, registry.settings)
    renewed = next(e for e in cert.events if e.kind == "renewed")
    audit = next(a for a in cert.audits if a.kind == "recertification")
    assert audit.date < renewed.date
    # The first cycle ran out the day before the renewal: no day in between is expired.
    for day in (audit.date, renewed.date - DAY, renewed.date):
        assert periods.on(found, day).status == "valid"
    assert periods.on(found, renewed.date - DAY).score != audit.score
    on_renewal = periods.on(found, renewed.date)
    assert on_renewal.score == audit.score
    assert on_renewal.opened_by is not None and on_renewal.opened_by.kind == "renewed"


def test_a_level_change_opens_a_period_at_the_level_changed_event(registry: Registry) -> None:
    cert = _cert(registry, "ASC-2024-000161")  # five-star, then four-star from 2025-06-09
    found = periods.periods(cert, registry.settings)
    change = next(e for e in cert.events if e.kind == "level-changed")
    assert periods.on(found, change.date - DAY).level == "five-star"
    period = periods.on(found, change.date)
    assert (period.level, period.status) == ("four-star", "valid")
    assert period.opened_by is not None and period.opened_by.kind == "level-changed"


def test_before_the_first_issue_a_certificate_is_not_yet_issued(registry: Registry) -> None:
    cert = registry.certificates[0]
    found = periods.periods(cert, registry.settings)
    before = periods.on(found, cert.first_issued - DAY)
    assert (before.status, before.level, before.score) == (periods.NOT_ISSUED, None, None)
    assert periods.status_label(registry.settings, before.status) == periods.NOT_ISSUED_LABEL


# --- published ----------------------------------------------------------------------------------


def test_record_json_publishes_the_periods(registry: Registry) -> None:
    cert = _cert(registry, "ASC-2024-000052")
    entry = data.certificate_json(cert, registry)
    published = entry["derived"]["periods"]
    assert published == periods.as_json(periods.periods(cert, registry.settings))
    assert [p["status"] for p in published] == ["not-issued", "valid", "suspended", "withdrawn"]
    assert published[2]["opened_by"] == {"entry": "event", "index": 1, "kind": "suspended",
                                         "date": "2025-03-10"}
    assert published[0]["from"] is None and published[-1]["to"] is None


def test_the_page_lists_the_periods_readable_without_javascript(registry: Registry) -> None:
    cert = _cert(registry, "ASC-2024-000052")
    page = pages.render_page(cert, registry)
    soup = BeautifulSoup(page.content, "html.parser")
    section = soup.select_one("[data-sm-periods]")
    assert section is not None and "在某日是否有效" in section.get_text()
    items = section.select("li[data-period]")
    texts = [" ".join(li.get_text().split()) for li in items]
    assert texts[2].startswith("2025-03-10 – 2025-09-09：暂停 Suspended · 达标级 Compliant")
    assert "依据 by 2025-03-10 暂停 Suspended：监督审核未通过" in texts[2]
    assert texts[3].startswith("2025-09-10 起 onwards：已撤销 Withdrawn")
    assert section.select_one("[data-sm-periods-ask]").has_attr("data-pending")  # until JS runs
    assert not section.find_all("script", src=False), "no inline script (CSP)"


# --- the page's answer equals starmark status --on, every day ------------------------------------


def _page_periods(cert: Certificate, registry: Registry) -> list[list[str | None]]:
    """The periods as the certificate page's script reads them from the rendered page."""
    soup = BeautifulSoup(pages.render_page(cert, registry).content, "html.parser")
    return [[li["data-from"] or None, li["data-status"], li["data-level"] or None]
            for li in soup.select("[data-sm-periods] li[data-period]")]


@needs_node
def test_the_page_answer_equals_starmark_status_on_every_day(
        registry: Registry, node: Node, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(dt.datetime(2026, 11, 27, tzinfo=dt.UTC)
                                                    .timestamp())))
    runner = CliRunner()
    compared = 0
    for cert in registry.certificates:
        days = _days(cert, periods.periods(cert, registry.settings))
        page = node.ask({"periods": _page_periods(cert, registry),
                         "days": [d.isoformat() for d in days]})
        args = ["--root", str(REPO), "status", "--json", cert.number.lower().replace("-", "")]
        for day in days:
            args += ["--on", day.isoformat()]
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        answer = json.loads(result.stdout)
        assert answer["number"] == cert.number
        terminal = [(a["status"], a["level"]) for a in answer["on"]]
        shown = [(status, level) for _index, status, level in page]
        mismatches = [(d, s, t) for d, s, t in zip(days, shown, terminal, strict=True) if s != t]
        assert not mismatches, f"{cert.number}: page and starmark status differ: {mismatches[:5]}"
        compared += len(days)
    assert compared > 50 * 3 * 365
