"""The scheme's rules over typed records: each returns problems tied to a line.

Per-record rules see one record; ``registry_rules`` sees all of them (duplicate numbers).
Every threshold comes from ``Settings`` (``registry/``), never from a literal here.

Each rule declares the fields it reads. It runs whenever those fields are present and the
schema found nothing wrong in them, even if other fields of the record are broken, so one run
reports every problem; a rule whose inputs are missing or mistyped is skipped, because the
schema has already said what is wrong with them.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

from . import creditcode, lifecycle
from .errors import Problem
from .schema import field_name, usable
from .settings import Settings
from .source import Document, PathKey

RuleFn = Callable[[dict[str, Any], Document, Settings, str], Iterator[tuple[PathKey, str]]]
Rule = RuleFn  # the name other modules may use for a rule's function


@dataclass(frozen=True)
class Registered:
    """A rule and the fields (paths) it reads; it runs only when all of them are usable."""

    check: RuleFn
    needs: tuple[PathKey, ...]


RULES: list[Registered] = []


@overload
def rule(fn: RuleFn, /) -> RuleFn: ...
@overload
def rule(*needs: str) -> Callable[[RuleFn], RuleFn]: ...
def rule(*needs: Any) -> Any:
    """Register a per-record rule that reads the dotted fields in ``needs``.

    ``@rule("organization.region")`` runs only when that field is present and schema-valid;
    a bare ``@rule`` needs nothing and must cope with any shape of data.
    """
    if len(needs) == 1 and callable(needs[0]):
        RULES.append(Registered(needs[0], ()))
        return needs[0]
    paths = tuple(tuple(n.split(".")) for n in needs)

    def register(fn: RuleFn) -> RuleFn:
        RULES.append(Registered(fn, paths))
        return fn

    return register


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


def _events(data: dict[str, Any]) -> list[lifecycle.EventIn]:
    return [lifecycle.EventIn(_date(e["date"]), e["kind"], e.get("reason")) for e in data["events"]]


# Unicode categories that never belong in a name shown to the public: controls, format
# characters (bidi overrides, zero-width spaces and joiners), private use, surrogates, and the
# line and paragraph separators.
INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


@rule
def invisible_characters(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """Control, bidi-override and zero-width characters hide what a name really says."""
    for path, text in _strings(data, ()):
        for ch in text:
            if ch in "\r\n":
                yield (
                    path,
                    f"field '{field_name(path)}' contains a line break; write it on one line",
                )
                break
            if unicodedata.category(ch) in INVISIBLE:
                name = unicodedata.name(ch, "control character")
                yield (
                    path,
                    f"field '{field_name(path)}' contains an invisible character "
                    f"U+{ord(ch):04X} ({name})",
                )
                break


@rule("number")
def number_matches_file(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The number names the file, so that its page and its file can be found from each other."""
    if data["number"] != stem:
        yield ("number",), f"number {data['number']} differs from the file name {stem}.yaml"


@rule("number")
def number_format(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The number follows the body's format (``number.pattern`` in registry/registry.yaml)."""
    if not s.number.regex.fullmatch(data["number"]):
        yield (
            ("number",),
            f"number {data['number']} does not follow the registry format "
            f"(e.g. {s.number.example})",
        )


@rule("industry")
def known_industry(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The industry is a key of registry/industries.yaml."""
    if data["industry"] not in s.industries:
        yield ("industry",), f"unknown industry '{data['industry']}' (see registry/industries.yaml)"


@rule("organization.region")
def known_region(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The region is a GB/T 2260 code listed in registry/regions.yaml."""
    region = data["organization"]["region"]
    if region not in s.regions:
        yield (
            ("organization", "region"),
            (f"unknown region code {region} (GB/T 2260; see registry/regions.yaml)"),
        )


@rule("standard")
def known_standard(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The standard is one the registry certifies against."""
    if data["standard"] not in s.standards:
        yield (
            ("standard",),
            (f"unknown standard '{data['standard']}'; expected one of: {', '.join(s.standards)}"),
        )


@rule("level")
def known_level(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The level is a key of the registry's levels."""
    if data["level"] not in {lv.key for lv in s.levels}:
        keys = ", ".join(lv.key for lv in s.levels)
        yield ("level",), f"unknown level '{data['level']}'; expected one of: {keys}"


@rule("organization.credit_code")
def credit_code(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The 18th character of a unified social credit code is a check over the first 17."""
    code = data["organization"]["credit_code"]
    if not creditcode.is_valid(code):
        expected = creditcode.check_character(code[:17])
        yield (
            ("organization", "credit_code"),
            (
                f"unified social credit code {code} fails its check: the last character should be "
                f"{expected}; look for a typo"
            ),
        )


@rule("score")
def score_range(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """A certificate's score reaches the lowest level and does not pass the maximum."""
    score = Decimal(data["score"])
    if score < s.min_score:
        yield ("score",), f"score {score} is below {s.min_score}: not certifiable"
    elif score > s.max_score:
        yield ("score",), f"score {score} is above the maximum score {s.max_score}"


@rule("score", "level")
def level_agrees(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The star level is the one the score earns under the registry thresholds (inclusive)."""
    score = Decimal(data["score"])
    earned = s.level_for(score)
    known = {lv.key for lv in s.levels}
    if earned is None or score > s.max_score or data["level"] not in known:
        return  # score_range or known_level says what is wrong
    if data["level"] != earned.key:
        yield (
            ("level",),
            (
                f"level {data['level']} disagrees with score {score}, which earns {earned.key} "
                f"({earned.zh}, {earned.min_score} or more)"
            ),
        )


@rule("issued", "expires")
def validity(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """A certificate is valid for the scheme's period (``lifecycle.validity_years``)."""
    issued, expires = _date(data["issued"]), _date(data["expires"])
    expected = lifecycle.expiry_for(issued, s.lifecycle)
    if expires != expected:
        yield (
            ("expires",),
            (
                f"expires {expires} does not give the scheme's {s.lifecycle.validity_years}-year "
                f"validity: a certificate issued {issued} expires {expected}"
            ),
        )


@rule("audits")
def audit_sequence(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """Audits start with the initial one, are in date order, and a passed one scores a pass."""
    previous: dt.date | None = None
    for i, audit in enumerate(data["audits"]):
        date = _date(audit["date"])
        if previous and date < previous:
            yield (
                ("audits", i, "date"),
                (f"audit dated {date} comes before the previous audit ({previous})"),
            )
        if i == 0 and audit["kind"] != "initial":
            yield ("audits", i, "kind"), "the first audit must be the initial audit"
        score = audit.get("score")
        if score is not None and Decimal(score) > s.max_score:
            yield ("audits", i, "score"), f"audit score {score} is above the maximum {s.max_score}"
        elif audit["result"] == "pass":
            if score is None:
                yield ("audits", i), "a passed audit needs its score"
            elif Decimal(score) < s.min_score:
                yield (
                    ("audits", i, "score"),
                    (f"an audit scoring {score} (below {s.min_score}) cannot pass"),
                )
        previous = max(previous, date) if previous else date


@rule("audits", "events")
def surveillance_gaps(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """While the certificate is valid, audits are no further apart than the scheme allows.

    A gap counts when the certificate was still valid on the day the overdue audit's grace ran
    out: a certificate suspended in time for a missed surveillance audit is in order.
    """
    rules_ = s.lifecycle
    grace = dt.timedelta(days=rules_.surveillance_grace_days)
    events = _events(data)
    items = data["audits"]
    for i in range(1, len(items)):
        previous, date = _date(items[i - 1]["date"]), _date(items[i]["date"])
        limit = lifecycle.surveillance_due(previous, rules_) + grace
        if date > limit and lifecycle.state_on(events, limit, rules_) == lifecycle.VALID:
            yield (
                ("audits", i, "date"),
                (
                    f"{(date - previous).days} days between audits ({previous} to {date}) "
                    "while the certificate was valid: surveillance is due every "
                    f"{rules_.surveillance_months} months "
                    f"(grace {rules_.surveillance_grace_days} days)"
                ),
            )


@rule("audits", "score")
def score_is_latest(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The certificate's score is the score of the latest passed audit."""
    passed = [a for a in data["audits"] if a["result"] == "pass" and a.get("score") is not None]
    if passed and Decimal(passed[-1]["score"]) != Decimal(data["score"]):
        yield (
            ("score",),
            (
                f"score {data['score']} differs from the latest passed audit's score "
                f"{passed[-1]['score']} ({passed[-1]['date']})"
            ),
        )


@rule("audits", "status")
def failed_audit_acted_on(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """A failed latest audit cannot leave the certificate valid."""
    items = data["audits"]
    if items and items[-1]["result"] == "fail" and data["status"] == lifecycle.VALID:
        yield (
            ("status",),
            (
                f"the latest audit ({items[-1]['date']}) failed but the status is valid: "
                "record a suspension"
            ),
        )


@rule("events")
def event_history(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """Every event is a legal move of the lifecycle, in date order, with a reason where needed."""
    for index, message in lifecycle.replay(_events(data), s.lifecycle).refusals:
        yield ("events", index), message


@rule("events", "status")
def status_agrees(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The recorded status is the one the event history leads to."""
    state = lifecycle.replay(_events(data), s.lifecycle).state
    status = data["status"]
    if state is None or state == status:
        return
    if status in lifecycle.MOVES and state == lifecycle.VALID:
        message = f"status is {status} but no '{status}' event (with date and reason) records it"
    else:
        message = f"status is {status} but the event history leads to {state}"
    yield ("status",), message


@rule("events", "issued")
def issued_matches_event(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The current cycle cannot start before the certificate was first issued."""
    first = next((e for e in _events(data) if e.kind == "issued"), None)
    if first is not None and first.date > _date(data["issued"]):
        yield ("issued",), f"issued {data['issued']} is before the 'issued' event ({first.date})"


def check_record(
    data: dict[str, Any],
    doc: Document,
    settings: Settings,
    stem: str,
    broken: Collection[PathKey] = (),
) -> list[Problem]:
    """Apply every registered rule whose fields are usable (``broken``: schema error paths)."""
    problems = []
    for registered in RULES:
        if not all(usable(data, broken, need) for need in registered.needs):
            continue
        for path, message in registered.check(data, doc, settings, stem):
            problems.append(Problem(doc.path, doc.line(path), message))
    return problems


def fold_number(number: str) -> str:
    """The form in which two numbers that a person would confuse are equal."""
    return unicodedata.normalize("NFKC", number).casefold()


def registry_rules(records: list[tuple[dict[str, Any], Document]]) -> list[Problem]:
    """Rules across records: a number (after case-folding and NFKC) appears once.

    Records are read in order; every repeat is reported against the first record with it.
    """
    seen: dict[str, tuple[str, Document]] = {}
    problems = []
    for data, doc in records:
        number = data.get("number") if isinstance(data, dict) else None
        if not isinstance(number, str) or not number.strip():
            continue  # the schema reports a missing or empty number
        key = fold_number(number)
        if key not in seen:
            seen[key] = (number, doc)
            continue
        first_number, first = seen[key]
        same = (
            ""
            if first_number == number
            else f" as {first_number} (case and full-width forms count as the same)"
        )
        problems.append(
            Problem(
                doc.path,
                doc.line(("number",)),
                f"number {number} is already used{same} by {first.path}:{first.line(('number',))}",
            )
        )
    return problems
