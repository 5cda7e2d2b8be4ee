"""What a certificate page says, as text: one timeline entry per happening, English for every
public free text (or a plain statement that none was given), and a space between an English
sentence and a Chinese one."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator import pages
from generator.load import load_registry
from generator.model import Audit, Event, Registry

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
NO_ENGLISH = "(No English text was provided.)"


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(REPO, AS_OF)


def soup_of(registry: Registry, number: str) -> BeautifulSoup:
    cert = registry.get(number)
    assert cert is not None
    return BeautifulSoup(pages.render_page(cert, registry).content, "html.parser")


def test_an_audit_and_the_event_recorded_with_it_are_one_entry(registry: Registry) -> None:
    cert = next(c for c in registry.certificates
                if any(e.kind == "surveillance" for e in c.events))
    items = pages.history(cert)
    merged = sum(1 for e in cert.events for a in cert.audits
                 if e.kind == "surveillance" and a.kind == "surveillance" and a.date == e.date)
    assert merged >= 1
    assert len(items) == len(cert.audits) + len(cert.events) - merged
    days = [i.date for i in items if "监督审核" in i.zh]
    assert len(days) == len(set(days)), "a surveillance appears twice"
    # Newest first.
    assert [i.date for i in items] == sorted((i.date for i in items), reverse=True)


def test_an_event_on_another_day_stays_its_own_entry() -> None:
    base = dt.date(2025, 3, 10)
    audit = Audit(base, "surveillance", "pass", None)
    later = Event(base + dt.timedelta(days=3), "surveillance")
    same = Event(base, "surveillance", "整改后复核", "Checked after corrective action")
    sample = load_registry(REPO, AS_OF).certificates[0]
    one = sample._replace(audits=(audit,), events=(same,))
    two = sample._replace(audits=(audit,), events=(later,))
    [merged] = pages.history(one)
    assert merged.detail_zh == "整改后复核"
    assert merged.detail_en == "Checked after corrective action"
    assert len(pages.history(two)) == 2


def test_every_free_text_has_its_english_or_says_there_is_none(registry: Registry) -> None:
    shown = 0
    for cert in registry.certificates:
        soup = soup_of(registry, cert.number)
        for detail in soup.select(".sm-timeline__detail, .sm-reason"):
            english = detail.select('[lang="en"]')
            assert english and english[-1].get_text(strip=True), (cert.number, detail)
            shown += 1
        scope = soup.select_one(".sm-facts dd")
        assert scope is not None and scope.select_one('[lang="en"]') is not None
    assert shown > 5
    # A note without English (audit notes have no English field) says so, in English.
    noted = next(c for c in registry.certificates if any(a.note for a in c.audits))
    text = soup_of(registry, noted.number).select_one(".sm-timeline").get_text()
    assert NO_ENGLISH in text


# An English sentence's end right before Chinese, or a Chinese sentence's end right before
# English: "reinstated.如在产品" reads as one run-on word.
RUN_ON = re.compile(r"[A-Za-z0-9][.!?][\u3400-\u9fff]|[。！？；][A-Za-z]")


def test_english_and_chinese_sentences_are_spaced(registry: Registry) -> None:
    for cert in registry.certificates:
        text = soup_of(registry, cert.number).get_text()
        found = RUN_ON.findall(text)
        assert not found, (cert.number, found)
