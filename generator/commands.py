"""The staff's commands: issue a certificate, record what happens to it, check a proposed change.

Each lifecycle command is one step of the certificate's life (surveillance audit, suspension,
reinstatement, withdrawal, cancellation, renewal). The legal moves come from the one state
machine in :mod:`generator.lifecycle`, the same one ``starmark validate`` replays; the edited
record is checked with ``load.check_file`` before it is written, and never written if invalid.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from ruamel.yaml.comments import CommentedMap

from . import counterfeits, creditcode, glyphs, history, lifecycle, load, records, rules, source
from . import settings as settings_mod
from .errors import InputError, Problem
from .settings import Level, Settings

# --- parameters ---------------------------------------------------------------------------


class DateType(click.ParamType):
    """A day written YYYY-MM-DD."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dt.date):
            return value
        text = str(value).strip()
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                raise ValueError
            return dt.date.fromisoformat(text)
        except ValueError:
            self.fail(f"{value!r} is not a date; write YYYY-MM-DD", param, ctx)


class ScoreType(click.ParamType):
    """An audit score, a decimal number such as 92 or 92.5."""

    name = "SCORE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Decimal):
            return value
        text = str(value).strip()
        try:
            if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
                raise InvalidOperation
            return Decimal(text)
        except InvalidOperation:
            self.fail(f"{value!r} is not a score; write a number such as 92 or 92.5", param, ctx)


DATE = DateType()
SCORE = ScoreType()


# --- shared machinery ---------------------------------------------------------------------


class Refused(click.ClickException):
    """A change the scheme does not allow: a clear message and exit status 1."""

    def __init__(self, number: str, action: str, why: str) -> None:
        super().__init__(f"{number}: cannot {action}: {why}")


def _root(obj: Any) -> Path:
    return Path(obj.root)


def _report(problems: list[Problem]) -> None:
    from .cli import report  # cli imports this module at its end; import at call time

    report(problems)


def _settings(root: Path) -> Settings:
    try:
        return settings_mod.load(root)
    except InputError as exc:
        _report(exc.problems)
        sys.exit(1)


def _today() -> dt.date:
    return load.as_of_default()


def find_record(root: Path, settings: Settings, number: str) -> Path | None:
    """The record file of certificate ``number`` (case and full-width forms ignored)."""
    wanted = rules.fold_number(number.strip())
    match = settings.number.regex.fullmatch(number.strip())
    year = match.groupdict().get("year") if match else None
    if year:
        guess = root / load.CERTIFICATES_DIR / year / f"{number.strip()}{load.RECORD_SUFFIX}"
        if guess.is_file():
            return guess
    files, _ = load.find_records(root)
    return next((p for p in files if rules.fold_number(load.record_stem(p)) == wanted), None)


def _events_in(data: dict[str, Any]) -> list[lifecycle.EventIn]:
    return [
        lifecycle.EventIn(dt.date.fromisoformat(e["date"]), e["kind"], e.get("reason"))
        for e in data["events"]
    ]


@dataclass
class Opened:
    """A valid record opened for one change: its round-trip tree, its typed data, its state."""

    number: str
    path: Path
    display: str
    settings: Settings
    tree: CommentedMap
    newline: str
    data: dict[str, Any]
    history: lifecycle.Replay

    @property
    def state(self) -> str | None:
        return self.history.state

    @property
    def expires(self) -> dt.date:
        return dt.date.fromisoformat(self.data["expires"])

    @property
    def level(self) -> Level:
        return self.settings.level(self.data["level"])

    @property
    def last_event(self) -> dict[str, Any]:
        return dict(self.data["events"][-1])

    @property
    def last_audit(self) -> dict[str, Any]:
        return dict(self.data["audits"][-1])


def open_record(root: Path, number: str, action: str) -> Opened:
    """Find and read certificate ``number``; refuse when it is missing or already invalid."""
    settings = _settings(root)
    path = find_record(root, settings, number)
    if path is None:
        raise Refused(
            number, action, f"there is no record {number}{load.RECORD_SUFFIX} under "
            f"{load.CERTIFICATES_DIR}/ (numbers look like {settings.number.example})"
        )
    display = load.display_path(root, path)
    data, _, problems = load.check_file(path, display, settings)
    if problems or data is None:
        _report(problems)
        raise click.ClickException(
            f"{display} has problems already; fix them first (starmark validate {display}), "
            "then record the change"
        )
    tree, newline = records.read(path)
    replay = lifecycle.replay(_events_in(data), settings.lifecycle)
    return Opened(load.record_stem(path), path, display, settings, tree, newline, data, replay)


def level_change(
    settings: Settings, before: Level, score: Decimal, date: dt.date, audit_zh: str, audit_en: str
) -> tuple[Level, list[dict[str, Any]]]:
    """The level ``score`` earns, and the level-changed event when it differs from ``before``."""
    earned = settings.level_for(score)
    assert earned is not None  # callers refuse scores below the pass mark first
    if earned.key == before.key:
        return earned, []
    shown = records.number(score)
    return earned, [
        {
            "date": date,
            "kind": "level-changed",
            "reason": f"{audit_zh}得分{shown}分，由{before.zh}调整为{earned.zh}",
            "reason_en": f"{audit_en} score {shown}: level changed from {before.en} to {earned.en}",
        }
    ]


def _check_score(opened: Opened, action: str, score: Decimal) -> None:
    if score > opened.settings.max_score:
        raise Refused(
            opened.number, action, f"score {score} is above the maximum {opened.settings.max_score}"
        )


def record_change(
    opened: Opened,
    action: str,
    *,
    date: dt.date,
    audits: Iterable[dict[str, Any]] = (),
    events: Iterable[dict[str, Any]] = (),
    fields: Iterable[tuple[str, Any]] = (),
    done: str,
) -> None:
    """Check a change against the state machine and the calendar, apply it, validate, write."""
    audits, events = list(audits), list(events)
    today = _today()
    if date > today:
        raise Refused(
            opened.number, action, f"{date} is in the future (today is {today}); "
            "record a change on or after the day it happens"
        )
    last = opened.last_event
    for event in events:
        if event["date"] < dt.date.fromisoformat(last["date"]):
            raise Refused(
                opened.number, action, f"{event['date']} is earlier than the last event "
                f"({last['kind']} on {last['date']}); events are recorded in date order"
            )
    last_audit = opened.last_audit
    for audit in audits:
        if audit["date"] < dt.date.fromisoformat(last_audit["date"]):
            raise Refused(
                opened.number, action, f"audit date {audit['date']} is earlier than the last "
                f"audit ({last_audit['kind']} on {last_audit['date']})"
            )
    state = opened.state
    for event in events:
        why = lifecycle.refusal(
            state, lifecycle.EventIn(event["date"], event["kind"], event.get("reason"))
        )
        if why:
            raise Refused(opened.number, action, why)
        state = lifecycle.after(state, event["kind"])

    tree = opened.tree
    for audit in audits:
        records.append_item(tree["audits"], audit)
    for event in events:
        records.append_item(tree["events"], event)
    for key, value in fields:
        tree[key] = value
    if state is not None and tree.get("status") != state:
        tree["status"] = state
    text = records.dumps(tree, opened.newline)
    problems = records.write_checked(opened.path, text, opened.display, opened.settings)
    if problems:
        _report(problems)
        raise click.ClickException(
            f"{opened.display} was not changed: with this change the record would be invalid "
            "(see above)"
        )
    click.echo(f"{opened.display}: {done}")


def _not_after_expiry(opened: Opened, action: str, date: dt.date, instead: str) -> None:
    """Refuse a change dated after the certificate expired (expired is derived, not a state)."""
    if date > opened.expires and opened.state in (lifecycle.VALID, lifecycle.SUSPENDED):
        raise Refused(
            opened.number, action, f"the certificate expired on {opened.expires}; {instead}"
        )


def _status_label(settings: Settings, key: str) -> str:
    try:
        return settings.status(key).zh
    except StopIteration:
        return key


def _hint(opened: Opened, kind: str) -> str:
    """What to do instead when the state machine refuses ``kind``."""
    state = opened.state
    if state in lifecycle.FINAL:
        return f"; {opened.number} is {state} for good: a new certificate needs `starmark new`"
    if state == lifecycle.SUSPENDED and kind in ("surveillance", "renewed", "suspended"):
        return "; reinstate it first (starmark reinstate, with --score of the follow-up audit)"
    return ""


def _must_allow(opened: Opened, action: str, kind: str, date: dt.date, reason: str | None) -> None:
    why = lifecycle.refusal(opened.state, lifecycle.EventIn(date, kind, reason))
    if why:
        raise Refused(opened.number, action, why + _hint(opened, kind))


# --- lifecycle commands -------------------------------------------------------------------


def _number_argument(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.argument("number", metavar="NUMBER")(fn)


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True, help="Day of the surveillance audit.")
@click.option("--score", type=SCORE, required=True, help="The audit team's score (out of 100).")
@click.option("--fail", is_flag=True,
              help="The audit failed whatever the score (e.g. a serious nonconformity).")
@click.option("--reason", help="Why it failed, in Chinese (default: 监督审核未通过 and the score).")
@click.option("--reason-en", help="Why it failed, in English.")
@click.option("--note", help="A short note on the audit, shown on the certificate page.")
@click.pass_obj
def surveil(obj: Any, number: str, date: dt.date, score: Decimal, fail: bool,
            reason: str | None, reason_en: str | None, note: str | None) -> None:
    """Record a surveillance audit (监督审核) of certificate NUMBER.

    A pass: the score becomes the certificate's score, and if it earns another star level the
    level changes (a level-changed event says from which to which). A score below the pass mark
    (or --fail) is a failed audit: it is recorded and the certificate is suspended (暂停).

    \b
    Examples:
      starmark surveil ASC-2025-000123 --date 2027-03-16 --score 92.5
      starmark surveil ASC-2025-000123 --date 2027-03-16 --score 64
    """
    action = "record a surveillance audit"
    opened = open_record(_root(obj), number, action)
    s = opened.settings
    _check_score(opened, action, score)
    _not_after_expiry(opened, action, date,
                      "renew it after a recertification audit (starmark renew) or cancel it")
    _must_allow(opened, action, "surveillance", date, None)
    passed = not fail and score >= s.min_score
    audit = {"date": date, "kind": "surveillance", "score": records.number(score),
             "result": "pass" if passed else "fail", "note": note}
    if passed:
        level, changed = level_change(
            s, opened.level, score, date, "监督审核", "Surveillance audit"
        )
        record_change(
            opened, action, date=date, audits=[audit],
            events=[{"date": date, "kind": "surveillance"}, *changed],
            fields=[("score", records.number(score)), ("level", level.key)],
            done=f"surveillance audit {date} passed with {score}; level {level.key} ({level.zh})"
                 + (f", was {opened.level.key}" if changed else ""),
        )
        return
    low = score < s.min_score
    why = f"（得分{records.number(score)}，低于{s.min_score}分）" if low else ""
    why_en = f" (score {score}, below {s.min_score})" if low else ""
    if reason is None:
        reason = f"监督审核未通过{why}"
        reason_en = reason_en or f"Surveillance audit failed{why_en}"
    record_change(
        opened, action, date=date, audits=[audit],
        events=[{"date": date, "kind": "suspended", "reason": reason, "reason_en": reason_en}],
        done=f"surveillance audit {date} failed ({score}); certificate suspended "
             f"({_status_label(s, lifecycle.SUSPENDED)})",
    )


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True, help="Day the suspension starts.")
@click.option("--reason", required=True, help="Why, in Chinese (shown on the page).")
@click.option("--reason-en", help="Why, in English.")
@click.pass_obj
def suspend(obj: Any, number: str, date: dt.date, reason: str, reason_en: str | None) -> None:
    """Suspend certificate NUMBER (暂停): the certificate and the star mark may not be used.

    A suspension lasts at most the months set in registry/registry.yaml
    (lifecycle.max_suspension_months); then the certificate is reinstated or withdrawn.

    \b
    Example:
      starmark suspend ASC-2025-000123 --date 2026-05-20 --reason 监督审核未通过 \\
          --reason-en "Surveillance audit failed"
    """
    action = "suspend"
    opened = open_record(_root(obj), number, action)
    _not_after_expiry(opened, action, date, "an expired certificate is no longer in force")
    _must_allow(opened, action, "suspended", date, reason)
    deadline = lifecycle.suspension_deadline(date, opened.settings.lifecycle)
    record_change(
        opened, action, date=date,
        events=[{"date": date, "kind": "suspended", "reason": reason, "reason_en": reason_en}],
        done=f"suspended from {date} ({_status_label(opened.settings, lifecycle.SUSPENDED)}); "
             f"reinstate or withdraw it by {deadline}",
    )


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True, help="Day the certificate is reinstated.")
@click.option("--score", type=SCORE,
              help="Score of the follow-up audit that closed the cause (needed when the latest "
                   "audit failed).")
@click.option("--reason", help="Why, in Chinese (e.g. 整改完成，跟踪审核通过).")
@click.option("--reason-en", help="Why, in English.")
@click.option("--note", help="A short note on the follow-up audit.")
@click.pass_obj
def reinstate(obj: Any, number: str, date: dt.date, score: Decimal | None, reason: str | None,
              reason_en: str | None, note: str | None) -> None:
    """Reinstate suspended certificate NUMBER (恢复) once the cause is fixed.

    Only a suspended certificate can be reinstated, and only within the longest suspension the
    scheme allows; after that it must be withdrawn. When the suspension followed a failed audit,
    give --score: the follow-up audit is recorded and its score sets the star level.

    \b
    Example:
      starmark reinstate ASC-2025-000123 --date 2026-07-01 --score 88 \\
          --reason 整改完成，跟踪审核通过
    """
    action = "reinstate"
    opened = open_record(_root(obj), number, action)
    s = opened.settings
    _not_after_expiry(opened, action, date, "an expired certificate cannot be reinstated")
    _must_allow(opened, action, "reinstated", date, reason)
    since = opened.history.suspended_since
    if since is not None:
        deadline = lifecycle.suspension_deadline(since, s.lifecycle)
        if date > deadline:
            raise Refused(
                opened.number, action,
                f"it has been suspended since {since}; a suspension may last at most "
                f"{s.lifecycle.max_suspension_months} months (until {deadline}), so it must be "
                "withdrawn now (starmark withdraw)",
            )
    audits: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = [
        {"date": date, "kind": "reinstated", "reason": reason, "reason_en": reason_en}
    ]
    fields: list[tuple[str, Any]] = []
    level = opened.level
    if score is None:
        if opened.last_audit["result"] == "fail":
            raise Refused(
                opened.number, action,
                f"the latest audit ({opened.last_audit['date']}) failed: give --score, the score "
                "of the follow-up audit that closed the nonconformity",
            )
    else:
        _check_score(opened, action, score)
        if score < s.min_score:
            raise Refused(
                opened.number, action,
                f"a follow-up audit scoring {score} is below the pass mark {s.min_score}",
            )
        audits.append({"date": date, "kind": "surveillance", "score": records.number(score),
                       "result": "pass", "note": note})
        level, changed = level_change(s, opened.level, score, date, "跟踪审核", "Follow-up audit")
        events += changed
        fields = [("score", records.number(score)), ("level", level.key)]
    record_change(
        opened, action, date=date, audits=audits, events=events, fields=fields,
        done=f"reinstated on {date} ({_status_label(s, lifecycle.VALID)}); level {level.key}",
    )


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True, help="Day of the withdrawal decision.")
@click.option("--reason", required=True, help="Why, in Chinese (shown on the page).")
@click.option("--reason-en", help="Why, in English.")
@click.pass_obj
def withdraw(obj: Any, number: str, date: dt.date, reason: str, reason_en: str | None) -> None:
    """Withdraw certificate NUMBER (撤销). Final: it can never be valid again.

    For a suspension not resolved in time, loss of legal status, a serious quality or service
    incident, refusal of inspection.

    \b
    Example:
      starmark withdraw ASC-2025-000123 --date 2026-11-20 --reason 暂停期满未完成整改 \\
          --reason-en "Not corrected within the suspension"
    """
    action = "withdraw"
    opened = open_record(_root(obj), number, action)
    _must_allow(opened, action, "withdrawn", date, reason)
    record_change(
        opened, action, date=date,
        events=[{"date": date, "kind": "withdrawn", "reason": reason, "reason_en": reason_en}],
        done=f"withdrawn on {date} ({_status_label(opened.settings, lifecycle.WITHDRAWN)})",
    )


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True, help="Day of the cancellation.")
@click.option("--reason", help="Why, in Chinese (e.g. 持证企业申请注销).")
@click.option("--reason-en", help="Why, in English.")
@click.pass_obj
def cancel(obj: Any, number: str, date: dt.date, reason: str | None,
           reason_en: str | None) -> None:
    """Cancel certificate NUMBER (注销), at the holder's request or after it lapsed. Final.

    \b
    Example:
      starmark cancel ASC-2025-000123 --date 2026-09-01 --reason 持证企业申请注销 \\
          --reason-en "At the holder's request"
    """
    action = "cancel"
    opened = open_record(_root(obj), number, action)
    _must_allow(opened, action, "cancelled", date, reason)
    record_change(
        opened, action, date=date,
        events=[{"date": date, "kind": "cancelled", "reason": reason, "reason_en": reason_en}],
        done=f"cancelled on {date} ({_status_label(opened.settings, lifecycle.CANCELLED)})",
    )


@click.command()
@_number_argument
@click.option("--date", type=DATE, required=True,
              help="Day the renewed certificate is issued: the start of the new validity.")
@click.option("--score", type=SCORE, required=True, help="Score of the recertification audit.")
@click.option("--audit-date", type=DATE,
              help="Day of the recertification audit (复审). Default: --date.")
@click.option("--note", help="A short note on the audit.")
@click.pass_obj
def renew(obj: Any, number: str, date: dt.date, score: Decimal, audit_date: dt.date | None,
          note: str | None) -> None:
    """Renew certificate NUMBER after a passed recertification audit (再认证/复审).

    The certificate keeps its number; it is issued again on --date and expires after the
    scheme's validity (registry/registry.yaml lifecycle.validity_years). Its score and star
    level become those of the recertification audit. A certificate can be renewed until the
    day after it expires; a lapsed one is cancelled and a new certificate issued instead.

    \b
    Example:
      starmark renew ASC-2024-000037 --date 2027-02-25 --audit-date 2027-02-02 --score 95.5
    """
    action = "renew"
    opened = open_record(_root(obj), number, action)
    s = opened.settings
    audit_day = audit_date or date
    _check_score(opened, action, score)
    if score < s.min_score:
        raise Refused(
            opened.number, action,
            f"a recertification audit scoring {score} is below the pass mark {s.min_score}",
        )
    if audit_day > date:
        raise Refused(opened.number, action,
                      f"the audit ({audit_day}) cannot come after the renewal ({date})")
    if date > opened.expires + dt.timedelta(days=1):
        raise Refused(
            opened.number, action,
            f"it lapsed on {opened.expires}; a lapsed certificate is not renewed: cancel it "
            "(starmark cancel) and issue a new one (starmark new)",
        )
    _must_allow(opened, action, "renewed", date, None)
    level, changed = level_change(
        s, opened.level, score, date, "再认证审核", "Recertification audit"
    )
    expires = lifecycle.expiry_for(date, s.lifecycle)
    record_change(
        opened, action, date=date,
        audits=[{"date": audit_day, "kind": "recertification", "score": records.number(score),
                 "result": "pass", "note": note}],
        events=[{"date": date, "kind": "renewed"}, *changed],
        fields=[("score", records.number(score)), ("level", level.key), ("issued", date),
                ("expires", expires)],
        done=f"renewed on {date}, valid until {expires}; level {level.key} ({level.zh})",
    )


# --- new ----------------------------------------------------------------------------------


def _fold_text(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def next_number(root: Path, settings: Settings, year: int) -> str:
    """The next free certificate number for ``year`` from the registry's number format."""
    template, regex = settings.number.template, settings.number.regex
    if not template:
        raise click.ClickException(
            "registry/registry.yaml has no number.template; set it or give --number"
        )
    files, _ = load.find_records(root)
    taken = {rules.fold_number(load.record_stem(p)) for p in files}
    taken |= {rules.fold_number(n) for n in reported_numbers(settings)}
    serials = []
    for path in files:
        match = regex.fullmatch(load.record_stem(path))
        if match is None:
            continue
        groups = match.groupdict()
        if groups.get("year") not in (None, f"{year:04d}", str(year)):
            continue
        if groups.get("serial", "").isdigit():
            serials.append(int(groups["serial"]))
    serial = max(serials, default=0) + 1
    while True:
        try:
            candidate = template.format(year=year, serial=serial)
        except (KeyError, IndexError, ValueError) as exc:
            raise click.ClickException(
                f"registry/registry.yaml number.template {template!r} cannot be filled: {exc}"
            ) from None
        if not regex.fullmatch(candidate):
            raise click.ClickException(
                f"number.template gives {candidate}, which number.pattern does not accept; "
                "make them agree in registry/registry.yaml"
            )
        if rules.fold_number(candidate) not in taken:
            return candidate
        serial += 1


def reported_numbers(settings: Settings) -> frozenset[str]:
    """Numbers listed in registry/counterfeits.yaml, which this body may never issue (a list
    with problems of its own lists none here: ``starmark validate`` reports those)."""
    try:
        return counterfeits.load(settings).number_set
    except InputError:
        return frozenset()


def duplicates(root: Path, credit_code: str, scope_zh: str) -> list[tuple[str, str, str]]:
    """Records for the same organisation and scope: (path, number, status) of each.

    Only files that contain the credit code are parsed, so this stays fast at 100k records.
    """
    code = credit_code.strip().upper()
    scope = _fold_text(scope_zh)
    files, _ = load.find_records(root)
    found = []
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue
        if code.encode() not in raw.upper():
            continue
        doc, _ = source.read_file(path, load.display_path(root, path))
        data = doc.data if doc is not None and isinstance(doc.data, dict) else {}
        org, their_scope = data.get("organization"), data.get("scope")
        their_code = org.get("credit_code") if isinstance(org, dict) else None
        their_zh = their_scope.get("zh") if isinstance(their_scope, dict) else None
        if (
            isinstance(their_code, str)
            and their_code.strip().upper() == code
            and isinstance(their_zh, str)
            and _fold_text(their_zh) == scope
        ):
            shown = load.display_path(root, path)
            found.append((shown, str(data.get("number")), str(data.get("status"))))
    return found


Check = Callable[[Any], str | None]


def _ask(label: str, value: Any, *, kind: Any = str, default: Any = None,
         check: Check | None = None) -> Any:
    """``value`` if given on the command line; otherwise ask until the answer passes ``check``."""
    if value is not None:
        return value
    while True:
        answer = click.prompt(label, type=kind, default=default,
                              show_default=default not in (None, ""))
        if isinstance(answer, str):
            answer = answer.strip()
        if answer == "" and default == "":
            return None
        problem = check(answer) if check else None
        if problem is None:
            return answer
        click.echo(f"  {problem}", err=True)


def _optional(label: str, value: Any, asking: bool) -> Any:
    if value is not None or not asking:
        return value or None
    return _ask(f"{label} (Enter to leave out)", None, default="")


@click.command()
@click.option("--name", help="Registered name of the organisation, in Chinese.")
@click.option("--name-en", help="English name (optional).")
@click.option("--credit-code", help="Unified social credit code, 18 characters.")
@click.option("--region", help="GB/T 2260 code of the organisation's county or city (6 digits).")
@click.option("--address", help="Address, in Chinese.")
@click.option("--address-en", help="Address in English (optional).")
@click.option("--website", help="https:// address of the organisation (optional).")
@click.option("--industry", help="Industry key from registry/industries.yaml.")
@click.option("--scope", help="Products and services covered, in Chinese.")
@click.option("--scope-en", help="Products and services covered, in English (optional).")
@click.option("--score", type=SCORE, help="Score of the initial audit.")
@click.option("--audit-date", type=DATE, help="Day of the initial audit. Default: --issued.")
@click.option("--issued", type=DATE, help="Day the certificate is issued.")
@click.option("--standard", help="Standard certified against. Default: the first in registry/.")
@click.option("--number", "number",
              help="Use this number instead of the next free one (e.g. for existing certificates).")
@click.option("--force", is_flag=True,
              help="Issue even when the organisation already has a certificate for this scope.")
@click.pass_obj
def new(obj: Any, name: str | None, name_en: str | None, credit_code: str | None,
        region: str | None, address: str | None, address_en: str | None, website: str | None,
        industry: str | None, scope: str | None, scope_en: str | None, score: Decimal | None,
        audit_date: dt.date | None, issued: dt.date | None, standard: str | None,
        number: str | None, force: bool) -> None:
    """Issue a new certificate: write a valid record with the next free number.

    Give the fields as options, or leave them out and answer the questions. The record goes to
    certificates/<year>/<NUMBER>.yaml (year of issue; format from registry/registry.yaml). Its
    star level and expiry date follow from the score and the issue date. It is checked like
    `starmark validate` (fields, rules, whether its mark can be drawn, numbers listed as
    counterfeit) and not written if anything is wrong. An organisation (credit code)
    that already has a certificate for the same scope is refused unless --force is given.

    \b
    Example:
      starmark new --name 上海堃喆示例电器服务有限公司 --credit-code 91310000MA1FL0QX36 \\
          --region 310101 --address 上海市黄浦区示例路8号 \\
          --industry household-appliances --scope 家用电器的销售、安装、维修及售后服务 \\
          --score 96.5 --audit-date 2026-03-10 --issued 2026-04-01
    """
    root = _root(obj)
    s = _settings(root)
    name, name_en, credit_code, region, address, address_en, website, industry, scope, \
        scope_en, standard, number = (
            v.strip() if isinstance(v, str) else v
            for v in (name, name_en, credit_code, region, address, address_en, website,
                      industry, scope, scope_en, standard, number)
        )
    required = (name, credit_code, region, address, industry, scope, score, issued)
    asking = any(v is None for v in required)

    def code_ok(code: str) -> str | None:
        code = code.upper()
        if len(code) != 18:
            return "a unified social credit code has 18 characters"
        if not creditcode.is_valid(code):
            return f"the check character should be {creditcode.check_character(code[:17])}; " \
                   "look for a typo"
        return None

    def region_ok(code: str) -> str | None:
        return None if code in s.regions else "not a GB/T 2260 code in registry/regions.yaml"

    def industry_ok(key: str) -> str | None:
        if key in s.industries:
            return None
        return "one of: " + ", ".join(f"{k} ({label.zh})" for k, label in s.industries.items())

    def drawable(text: str) -> str | None:
        """Characters no star-mark font has, said at the prompt (the written check names the
        file and line)."""
        missing = glyphs.missing(text)
        return glyphs.advice(missing[0]) if missing else None

    def score_ok(value: Decimal) -> str | None:
        if value < s.min_score:
            return f"below the pass mark {s.min_score}: not certifiable"
        if value > s.max_score:
            return f"above the maximum {s.max_score}"
        return None

    name = _ask("Organisation name (Chinese)", name, check=drawable)
    name_en = _optional("English name", name_en, asking)
    credit_code = _ask("Unified social credit code", credit_code, check=code_ok).upper()
    region = _ask("Region code (GB/T 2260, 6 digits)", region, check=region_ok)
    address = _ask("Address (Chinese)", address)
    address_en = _optional("Address in English", address_en, asking)
    website = _optional("Website (https://…)", website, asking)
    industry = _ask("Industry key (registry/industries.yaml)", industry, check=industry_ok)
    scope = _ask("Scope: products and services covered (Chinese)", scope, check=drawable)
    scope_en = _optional("Scope in English", scope_en, asking)
    score = _ask("Initial audit score", score, kind=SCORE, check=score_ok)
    issued = _ask("Issue date (YYYY-MM-DD)", issued, kind=DATE)
    if audit_date is None:
        audit_date = (
            _ask("Initial audit date (YYYY-MM-DD)", None, kind=DATE, default=issued.isoformat())
            if asking
            else issued
        )
    standard = standard or (s.standards[0] if s.standards else None)
    assert name and credit_code and region and address and industry and scope
    assert score is not None and issued is not None and audit_date is not None

    if score < s.min_score:
        raise click.ClickException(
            f"score {score} is below the pass mark {s.min_score}: the organisation is not "
            "certifiable, no certificate is issued"
        )
    if audit_date > issued:
        raise click.ClickException(f"the initial audit ({audit_date}) comes after the issue "
                                   f"date ({issued})")
    if issued > _today():
        raise click.ClickException(f"issue date {issued} is in the future (today is {_today()})")
    clashes = duplicates(root, credit_code, scope)
    if clashes and not force:
        listed = "; ".join(f"{num} ({status}, {path})" for path, num, status in clashes)
        live = [num for _, num, status in clashes if status not in lifecycle.FINAL]
        advice = (
            f"to re-certify it, renew {live[0]} (starmark renew); " if live else ""
        ) + "to issue a new certificate anyway, add --force"
        raise click.ClickException(
            f"{credit_code} already has a certificate for this scope: {listed}. {advice}"
        )
    if number is None:
        number = next_number(root, s, issued.year)
    else:
        number = number.strip()
        if find_record(root, s, number) is not None:
            raise click.ClickException(f"number {number} is already used")
        if rules.fold_number(number) in {rules.fold_number(n) for n in reported_numbers(s)}:
            raise click.ClickException(
                f"number {number} is listed in registry/counterfeits.yaml as never issued by "
                "this body; a real certificate is never listed there: choose another number "
                "(or leave out --number), or remove the entry if it was listed by mistake"
            )
    level = s.level_for(score)
    assert level is not None
    fields: list[tuple[str, Any]] = [
        ("number", number),
        ("status", lifecycle.VALID),
        ("organization", {"name": name, "name_en": name_en, "credit_code": credit_code,
                          "region": records.quoted(region), "address": address,
                          "address_en": address_en, "website": website}),
        ("industry", industry),
        ("scope", {"zh": scope, "en": scope_en}),
        ("standard", standard),
        ("score", records.number(score)),
        ("level", level.key),
        ("issued", issued),
        ("expires", lifecycle.expiry_for(issued, s.lifecycle)),
        ("audits", [{"date": audit_date, "kind": "initial", "score": records.number(score),
                     "result": "pass"}]),
        ("events", [{"date": issued, "kind": "issued"}]),
    ]
    tree = records.new_record(fields, comments=[records.SCHEMA_COMMENT])
    year_folder = f"{issued.year:04d}"
    path = root / load.CERTIFICATES_DIR / year_folder / f"{number}{load.RECORD_SUFFIX}"
    display = load.display_path(root, path)
    problems = records.write_checked(path, records.dumps(tree), display, s)
    if problems:
        _report(problems)
        raise click.ClickException(f"{display} was not written: the record would be invalid "
                                   "(see above)")
    click.echo(f"{display}: issued {number}, {level.key} ({level.zh}), valid until "
               f"{lifecycle.expiry_for(issued, s.lifecycle)}")


# --- check --------------------------------------------------------------------------------


@click.command()
@click.option("--base", required=True, metavar="REV",
              help="git revision to compare with, e.g. origin/main.")
@click.pass_obj
def check(obj: Any, base: str) -> None:
    """What CI runs on a proposed change: validate, and refuse changes that destroy history.

    Compared with git revision REV, a record may not be deleted (a certificate is withdrawn or
    cancelled, never deleted), its number may not change, and no past audit or event may be
    rewritten or removed; appending is fine. Prints every problem as path:line: message and
    exits 1 if there is any.
    """
    root = _root(obj)
    _, good, problems = load.validate(root)
    try:
        problems = sorted(set(problems + history.history_problems(root, base)))
    except history.GitError as exc:
        raise click.ClickException(
            f"cannot compare with {base}: {exc} (in CI, check out the full history: "
            "fetch-depth: 0)"
        ) from None
    if problems:
        _report(problems)
        sys.exit(1)
    click.echo(f"{len(good)} records valid; no history lost since {base}", err=True)


COMMANDS = (new, surveil, suspend, reinstate, withdraw, cancel, renew, check)


def register(group: click.Group) -> None:
    """Add the staff's commands to the ``starmark`` group."""
    for command in COMMANDS:
        group.add_command(command)
