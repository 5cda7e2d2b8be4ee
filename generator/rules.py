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
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, overload

from . import creditcode, lifecycle
from .errors import Problem
from .schema import field_name, usable
from .settings import Lifecycle, Settings
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


# While check_record runs, what several rules derive from the record's events, made once. An
# entry keeps the events list it was made from and serves only that very list.
_memo: dict[str, tuple[Any, Any]] | None = None


def _events(data: dict[str, Any]) -> list[lifecycle.EventIn]:
    items = data["events"]
    memo = _memo
    if memo is not None and (found := memo.get("events")) is not None and found[0] is items:
        return found[1]  # type: ignore[no-any-return]
    events = [lifecycle.EventIn(_date(e["date"]), e["kind"], e.get("reason")) for e in items]
    if memo is not None:
        memo["events"] = (items, events)
    return events


def _replay(data: dict[str, Any], rules_: Lifecycle) -> lifecycle.Replay:
    """``lifecycle.replay`` of the record's events (made once for the rules that ask)."""
    items = data["events"]
    memo = _memo
    if memo is not None and (found := memo.get("replay")) is not None and found[0] is items:
        return found[1]  # type: ignore[no-any-return]
    replayed = lifecycle.replay(_events(data), rules_)
    if memo is not None:
        memo["replay"] = (items, replayed)
    return replayed


# Unicode categories that never belong in a name shown to the public: controls, format
# characters (bidi overrides, zero-width spaces and joiners), private use, surrogates, and the
# line and paragraph separators.
INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def _unprintable(value: Any, path: PathKey, out: list[tuple[PathKey, str]]) -> None:
    """The texts in ``value`` (in the order of :func:`_strings`) that ``str.isprintable``
    refuses: the only ones that can hold a line break or an invisible character."""
    if isinstance(value, str):
        if not value.isprintable():
            out.append((path, value))
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str):
                if not v.isprintable():
                    out.append(((*path, k), v))
            else:
                _unprintable(v, (*path, k), out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _unprintable(v, (*path, i), out)


@rule
def invisible_characters(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """Control, bidi-override and zero-width characters hide what a name really says."""
    # Every character of the INVISIBLE categories, "\r" and "\n" included, is one that
    # str.isprintable refuses, so a printable text needs no look at each character.
    found: list[tuple[PathKey, str]] = []
    _unprintable(data, (), found)
    for path, text in found:
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
    for index, message in _replay(data, s.lifecycle).refusals:
        yield ("events", index), message


@rule("events", "status")
def status_agrees(
    data: dict[str, Any], doc: Document, s: Settings, stem: str
) -> Iterator[tuple[PathKey, str]]:
    """The recorded status is the one the event history leads to."""
    state = _replay(data, s.lifecycle).state
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
    usable_at: dict[PathKey, bool] = {}  # rules share their needs: each is looked at once
    global _memo
    _memo = {}
    try:
        for registered in RULES:
            runs = True
            for need in registered.needs:
                ok = usable_at.get(need)
                if ok is None:
                    ok = usable_at[need] = usable(data, broken, need)
                if not ok:
                    runs = False
                    break
            if not runs:
                continue
            for path, message in registered.check(data, doc, settings, stem):
                problems.append(Problem(doc.path, doc.line(path), message))
    finally:
        _memo = None
    return problems


def fold_number(number: str) -> str:
    """The form in which two numbers that a person would confuse are equal."""
    return unicodedata.normalize("NFKC", number).casefold()


def registry_rules(records: list[tuple[dict[str, Any], Document]]) -> list[Problem]:
    """Rules across records: a number (after case-folding and NFKC) appears once.

    Records are read in order; every repeat is reported against the first record with it.
    """
    return duplicate_numbers(
        (data.get("number") if isinstance(data, dict) else None, doc.path, doc.line(("number",)))
        for data, doc in records
    )


def duplicate_numbers(records: Iterable[tuple[Any, str, int]]) -> list[Problem]:
    """:func:`registry_rules` over (number as written, path, line of the number) of each
    record, in order."""
    seen: dict[str, tuple[str, str, int]] = {}
    problems = []
    for number, path, line in records:
        if not isinstance(number, str) or not number.strip():
            continue  # the schema reports a missing or empty number
        key = fold_number(number)
        if key not in seen:
            seen[key] = (number, path, line)
            continue
        first_number, first_path, first_line = seen[key]
        same = (
            ""
            if first_number == number
            else f" as {first_number} (case and full-width forms count as the same)"
        )
        problems.append(
            Problem(
                path,
                line,
                f"number {number} is already used{same} by {first_path}:{first_line}",
            )
        )
    return problems
