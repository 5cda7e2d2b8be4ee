"""``starmark status``: certificates' status and star level on a day and today, in a terminal.

The same answers as the bulk check page (``/check/``) from the same periods
(:mod:`generator.periods`), with the same tolerance for how numbers are typed
(:func:`check.split_list`, :func:`search.compact_number`).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from . import check, counterfeits, load, periods
from .errors import InputError, Problem
from .model import Certificate
from .search import compact_number
from .settings import Settings
from .settings import load as load_settings

# Encodings a list may come in: UTF-8 (with or without BOM), else what Excel and Notepad on a
# Chinese Windows save (GB 18030, a superset of GBK).
ENCODINGS = ("utf-8-sig", "gb18030")


@dataclass
class Item:
    """One number of the list (merged with its repeats) and what the registry says of it."""

    key: str
    typed: list[str]
    cert: Certificate | None = None
    found: tuple[periods.Period, ...] = ()
    counterfeit: counterfeits.Reported | None = None


def read_list(path: Path) -> str:
    """The text of a list file (``-``: standard input); :class:`InputError` when unreadable."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InputError([Problem(str(path), 0, f"cannot read: {exc.strerror or exc}")]) from None
    for encoding in ENCODINGS:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError([Problem(str(path), 0, "not text in UTF-8 or GB 18030")])


def look_up(root: Path, settings: Settings, typed: list[str]) -> tuple[list[Item], list[Problem]]:
    """Find each number (merged by compact form) among the records and reported counterfeits.

    Only the records asked for are read and checked; a record with problems gives them."""
    items: dict[str, Item] = {}
    for text in typed:
        key = compact_number(text)
        items.setdefault(key, Item(key, [])).typed.append(text)
    files, problems = load.find_records(root)
    by_key = {compact_number(load.record_stem(path)): path for path in files}
    reported = {compact_number(r.value): r for r in counterfeits.load(settings).numbers}
    for item in items.values():
        path = by_key.get(item.key)
        if path is None:
            item.counterfeit = reported.get(item.key)
            continue
        display = load.display_path(root, path)
        data, doc, found_problems = load.check_file(path, display, settings)
        if found_problems or data is None or doc is None:
            problems += found_problems
            continue
        item.cert = Certificate.from_data(data, doc.path)
        item.found = periods.periods(item.cert, settings)
    return list(items.values()), problems


def _day(cert: Certificate, found: tuple[periods.Period, ...], day: dt.date,
         settings: Settings) -> dict[str, Any]:
    period = periods.on(found, day)
    status_zh, status_en = periods.status_label(settings, period.status)
    level_zh, level_en = periods.level_label(settings, period.level)
    why_zh, why_en, reason, reason_en = periods.opening_label(cert, period.opened_by)
    return {"day": day.isoformat(), **periods.as_json([period])[0],
            "status_zh": status_zh, "status_en": status_en,
            "level_zh": level_zh, "level_en": level_en,
            "opened_by_zh": why_zh, "opened_by_en": why_en,
            "reason": reason, "reason_en": reason_en}


def answers(item: Item, on: list[dt.date], today: dt.date, settings: Settings) -> dict[str, Any]:
    """What ``starmark status --json`` prints for one number (``on``: the days asked)."""
    out: dict[str, Any] = {"input": item.typed, "found": item.cert is not None}
    if item.cert is None:
        out["number"] = item.counterfeit.value if item.counterfeit else None
        out["counterfeit"] = None if item.counterfeit is None else {
            "reported": item.counterfeit.reported.isoformat(), "note": item.counterfeit.note,
            "note_en": item.counterfeit.note_en}
        return out
    out["number"] = item.cert.number
    out["organisation"] = item.cert.organization.name
    out["url"] = settings.certificate_url(item.cert.number)
    if on:
        out["on"] = [_day(item.cert, item.found, day, settings) for day in on]
    out["today"] = _day(item.cert, item.found, today, settings)
    return out


def _line(label: str, a: dict[str, Any]) -> str:
    level = f" · {a['level_zh']} {a['level_en']}" if a["level"] else ""
    since = f"since {a['from']}" if a["from"] else f"until {a['to']}"
    why = f": {a['opened_by_zh']} {a['opened_by_en']}" if a["opened_by_zh"] else ""
    reason = f" ({a['reason']})" if a["reason"] else ""
    return f"  {label} {a['day']}  {a['status_zh']} {a['status_en']}{level}  [{since}{why}{reason}]"


def render(result: dict[str, Any]) -> str:
    """One number's answer as lines of text."""
    typed = ", ".join(result["input"])
    if not result["found"] and result["counterfeit"]:
        c = result["counterfeit"]
        note = f" {c['note']}" if c["note"] else ""
        return (f"{result['number']}  !! 假冒证书编号 REPORTED COUNTERFEIT: never issued by this "
                f"body (reported {c['reported']}){note}  [typed: {typed}]")
    if not result["found"]:
        return f"{typed}  未找到 not in the registry"
    lines = [f"{result['number']}  {result['organisation']}  {result['url']}"]
    for answer in result.get("on", []):
        lines.append(_line("on   ", answer))
    lines.append(_line("today", result["today"]))
    return "\n".join(lines)


@click.command()
@click.argument("numbers", nargs=-1, metavar="NUMBER...")
@click.option("--on", "on", metavar="DATE", multiple=True,
              help="The day to check (YYYY-MM-DD), e.g. the bid deadline; may be repeated. "
                   "Today's status is always shown too.")
@click.option("--file", "list_file", type=click.Path(dir_okay=False, path_type=Path),
              help="A list of numbers (one a line, an Excel column, commas or spaces; UTF-8 or "
                   "GB 18030); - reads standard input.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line, for programs.")
@click.pass_obj
def status(obj: Any, numbers: tuple[str, ...], on: tuple[str, ...], list_file: Path | None,
           as_json: bool) -> None:
    """Status and star level of certificates on a day and today (招投标核查).

    Numbers may be typed as staff copy them: any case or width, with or without hyphens,
    several in one argument separated by commas. Repeats are merged. Numbers on the
    reported-counterfeits list are flagged. Exits 1 if any number is not in the registry.
    "today" is the day of SOURCE_DATE_EPOCH when set.

    \b
    Examples:
      starmark status ASC-2025-000123 asc2025000140 --on 2026-05-20
      starmark status --on 2026-05-20 --file suppliers.txt
    """
    root = Path(getattr(obj, "root", "."))
    days: list[dt.date] = []
    for text in on:
        try:
            days.append(dt.date.fromisoformat(text))
        except ValueError:
            raise click.BadParameter(f"{text!r} is not a date; write YYYY-MM-DD",
                                     param_hint="--on") from None
    settings = load_settings(root)
    text = "\n".join(numbers)
    if list_file is not None:
        text += "\n" + read_list(list_file)
    typed = check.split_list(text, settings.number.example)
    if not typed:
        raise click.UsageError("give certificate numbers, or a list with --file")
    items, problems = look_up(root, settings, typed)
    if problems:
        raise InputError(problems)
    today = load.as_of_default()
    missing = 0
    for item in items:
        result = answers(item, days, today, settings)
        missing += not result["found"]
        click.echo(json.dumps(result, ensure_ascii=False) if as_json else render(result))
    if missing:
        click.echo(f"{missing} of {len(items)} number{'s' if len(items) != 1 else ''} not in the "
                   "registry", err=True)
        sys.exit(1)
