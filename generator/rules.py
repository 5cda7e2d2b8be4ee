"""The scheme's rules over schema-valid records: each returns problems tied to a line.

Per-record rules see one record; ``registry_rules`` sees all of them (duplicate numbers).
Every threshold comes from ``Settings`` (``registry/``), never from a literal here.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from . import creditcode, lifecycle
from .errors import Problem
from .settings import Settings
from .source import Document, PathKey

Rule = Callable[[dict[str, Any], Document, Settings, str], Iterator[tuple[PathKey, str]]]
RULES: list[Rule] = []


def rule(fn: Rule) -> Rule:
    """Register a per-record rule."""
    RULES.append(fn)
    return fn


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _strings(value: Any, path: PathKey) -> Iterator[tuple[PathKey, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, (*path, i))


def _field(path: PathKey) -> str:
    return ".".join(str(p) for p in path)


@rule
def invisible_characters(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """Control, bidi-override and zero-width characters hide what a name really says."""
    for path, text in _strings(data, ()):
        for ch in text:
            category = unicodedata.category(ch)
            if category in ("Cc", "Cf", "Co", "Cs", "Zl", "Zp"):
                name = unicodedata.name(ch, "control character")
                yield path, f"field '{_field(path)}' contains an invisible character U+{ord(ch):04X} ({name})"
                break


@rule
def number_matches(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """The number names the file, and follows the body's format."""
    number = data["number"]
    if number != stem:
        yield ("number",), f"number {number} differs from the file name {stem}.yaml"
    if not s.number.regex.fullmatch(number):
        yield ("number",), f"number {number} does not follow the registry format (e.g. {s.number.example})"


@rule
def known_keys(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """Industry, region, standard and level must be ones the registry defines."""
    if data["industry"] not in s.industries:
        yield ("industry",), f"unknown industry '{data['industry']}' (see registry/industries.yaml)"
    region = data["organization"]["region"]
    if region not in s.regions:
        yield ("organization", "region"), f"unknown region code {region} (GB/T 2260; see registry/regions.yaml)"
    if data["standard"] not in s.standards:
        yield ("standard",), f"unknown standard '{data['standard']}'; expected one of: {', '.join(s.standards)}"
    if data["level"] not in {lv.key for lv in s.levels}:
        keys = ", ".join(lv.key for lv in s.levels)
        yield ("level",), f"unknown level '{data['level']}'; expected one of: {keys}"


@rule
def credit_code(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """The 18th character of a unified social credit code is a check over the first 17."""
    code = data["organization"]["credit_code"]
    if not creditcode.is_valid(code):
        expected = creditcode.check_character(code[:17])
        yield ("organization", "credit_code"), (
            f"unified social credit code {code} fails its check: the last character should be "
            f"{expected}; look for a typo"
        )


@rule
def level_agrees(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """The star level is the one the score earns under the registry thresholds."""
    score = Decimal(data["score"])
    earned = s.level_for(score)
    if earned is None:
        yield ("score",), f"score {score} is below {s.min_score}: not certifiable"
    elif data["level"] != earned.key:
        yield ("level",), (
            f"level {data['level']} disagrees with score {score}, which earns {earned.key} "
            f"({earned.zh}, {earned.min_score} or more)"
        )


@rule
def validity(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """A certificate is valid for the scheme's period: expires = issued + N years - 1 day."""
    issued, expires = _date(data["issued"]), _date(data["expires"])
    expected = lifecycle.expiry_for(issued, s.lifecycle)
    if expires != expected:
        yield ("expires",), (
            f"expires {expires} does not give the scheme's {s.lifecycle.validity_years}-year validity: "
            f"a certificate issued {issued} expires {expected}"
        )


@rule
def audits(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """Audits are in date order, scored where passed, yearly while valid; the score is the latest."""
    items = data["audits"]
    rules_ = s.lifecycle
    previous: dt.date | None = None
    for i, audit in enumerate(items):
        date = _date(audit["date"])
        if previous and date < previous:
            yield ("audits", i, "date"), f"audit dated {date} comes before the previous audit ({previous})"
        if audit["result"] == "pass":
            if audit.get("score") is None:
                yield ("audits", i), "a passed audit needs its score"
            elif Decimal(audit["score"]) < s.min_score:
                yield ("audits", i, "score"), f"an audit scoring {audit['score']} (below {s.min_score}) cannot pass"
        if i == 0 and audit["kind"] != "initial":
            yield ("audits", i, "kind"), "the first audit must be the initial audit"
        if previous and data["status"] == lifecycle.VALID:
            limit = lifecycle.surveillance_due(previous, rules_) + dt.timedelta(days=rules_.surveillance_grace_days)
            if date > limit:
                yield ("audits", i, "date"), (
                    f"{(date - previous).days} days between audits ({previous} to {date}): surveillance is "
                    f"due every {rules_.surveillance_months} months (grace {rules_.surveillance_grace_days} days)"
                )
        previous = date
    passed = [a for a in items if a["result"] == "pass" and a.get("score") is not None]
    if passed and Decimal(passed[-1]["score"]) != Decimal(data["score"]):
        yield ("score",), (
            f"score {data['score']} differs from the latest passed audit's score {passed[-1]['score']} "
            f"({passed[-1]['date']})"
        )
    if items and items[-1]["result"] == "fail" and data["status"] == lifecycle.VALID:
        yield ("status",), (
            f"the latest audit ({items[-1]['date']}) failed but the status is valid: record a suspension"
        )


@rule
def history(data: dict[str, Any], doc: Document, s: Settings, stem: str) -> Iterator[tuple[PathKey, str]]:
    """The recorded status is the one the event history leads to, by the lifecycle's legal moves."""
    events = [
        lifecycle.EventIn(_date(e["date"]), e["kind"], e.get("reason")) for e in data["events"]
    ]
    result = lifecycle.replay(events, s.lifecycle)
    for index, message in result.refusals:
        yield ("events", index), message
    if result.state is not None and result.state != data["status"]:
        kinds = {lifecycle.SUSPENDED: "suspended", lifecycle.WITHDRAWN: "withdrawn", lifecycle.CANCELLED: "cancelled"}
        if data["status"] in kinds and result.state == lifecycle.VALID:
            message = f"status is {data['status']} but no '{kinds[data['status']]}' event (with date and reason) records it"
        else:
            message = f"status is {data['status']} but the event history leads to {result.state}"
        yield ("status",), message
    issued_events = [e for e in events if e.kind == "issued"]
    if issued_events and issued_events[0].date > _date(data["issued"]):
        yield ("issued",), f"issued {data['issued']} is before the 'issued' event ({issued_events[0].date})"


def check_record(data: dict[str, Any], doc: Document, settings: Settings, stem: str) -> list[Problem]:
    """Apply every registered rule to one schema-valid record."""
    problems = []
    for fn in RULES:
        for path, message in fn(data, doc, settings, stem):
            problems.append(Problem(doc.path, doc.line(path), message))
    return problems


def fold_number(number: str) -> str:
    """The form in which two numbers that a person would confuse are equal."""
    return unicodedata.normalize("NFKC", number).casefold()


def registry_rules(records: list[tuple[dict[str, Any], Document]]) -> list[Problem]:
    """Rules across records: a number (after case-folding and NFKC) appears once."""
    seen: dict[str, Document] = {}
    problems = []
    for data, doc in records:
        key = fold_number(str(data.get("number", "")))
        if key in seen:
            first = seen[key]
            problems.append(
                Problem(doc.path, doc.line(("number",)),
                        f"number {data['number']} is already used by {first.path}:{first.line(('number',))}")
            )
        else:
            seen[key] = doc
    return problems
