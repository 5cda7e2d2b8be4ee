"""Record dates the scheme can use: from its earliest year to a few years after the as-of date.

A date like 9997-01-01 is a typo, and the scheme's date arithmetic (a validity of years, a
surveillance every so many months) cannot even be done on it near the end of the calendar. Such
dates are refused with a message before any rule computes with them. The limits are settings:
``lifecycle.earliest_year`` and ``lifecycle.max_years_ahead`` in ``registry/registry.yaml``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from .errors import Problem
from .schema import field_name
from .settings import Settings
from .source import Document, PathKey

SETTINGS_FILE = "registry/registry.yaml"


def date_fields(data: dict[str, Any]) -> Iterator[tuple[PathKey, str]]:
    """Every date of a typed record (issued, expires, each audit's and event's), as written."""
    for key in ("issued", "expires"):
        value = data.get(key)
        if isinstance(value, str):
            yield (key,), value
    for key in ("audits", "events"):
        entries = data.get(key)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            if isinstance(entry, dict) and isinstance(entry.get("date"), str):
                yield (key, index, "date"), entry["date"]


def latest(settings: Settings, as_of: dt.date) -> dt.date:
    """The last day a record date may be: ``max_years_ahead`` years after the as-of date."""
    year = as_of.year + settings.lifecycle.max_years_ahead
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, as_of.month, min(as_of.day, 28 if as_of.month == 2 else as_of.day))


def problems(data: dict[str, Any], doc: Document, settings: Settings,
             as_of: dt.date) -> list[Problem]:
    """A problem for every date of the record outside what the scheme can use."""
    rules = settings.lifecycle
    last = latest(settings, as_of)
    found = []
    for path, text in date_fields(data):
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            continue  # the schema has said how to write a date
        name = field_name(path)
        if day.year < rules.earliest_year:
            message = (f"{name} {text} is before {rules.earliest_year}, earlier than the scheme "
                       f"(lifecycle.earliest_year in {SETTINGS_FILE}): check the year")
        elif day > last:
            message = (f"{name} {text} is more than {rules.max_years_ahead} years after the "
                       f"as-of date {as_of.isoformat()}: the scheme cannot use it; check the "
                       f"year (lifecycle.max_years_ahead in {SETTINGS_FILE})")
        else:
            continue
        found.append(Problem(doc.path, doc.line(path), message))
    return found
