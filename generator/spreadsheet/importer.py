"""Turn the rows of a workbook into records, checked by the same rules as ``starmark validate``.

Each row becomes the text tree a record file would read as (every scalar as text, like
:mod:`generator.source` gives) and goes through :func:`schema.check` and
:func:`rules.check_record`. The tree's lines are the cells the values came from, so every
problem is reported at its cell: ``FILE.xlsx:证书!E12: 统一社会信用代码: … should be G``. A row
for a certificate already in the registry must match it: a changed one is refused and the
lifecycle command that records the change is named. Nothing is written while any row has a
problem, unless the caller asks for the clean rows alone.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .. import lifecycle, load, rules, schema, source
from ..errors import Problem
from ..settings import Settings
from ..source import PathKey
from . import reading, yamltext
from .columns import (
    AUDIT_KEYS,
    AUDITS,
    CERTIFICATE_COLUMNS,
    EVENT_KEYS,
    EVENTS,
    HISTORY_COLUMNS,
    HISTORY_SHEET,
)
from .values import Cells

CREATE, UNCHANGED, REFUSED = "create", "unchanged", "refused"
# The command that records each kind of event on an existing certificate.
COMMAND_FOR = {
    "surveillance": "surveil", "level-changed": "surveil", "suspended": "suspend",
    "reinstated": "reinstate", "withdrawn": "withdraw", "cancelled": "cancel", "renewed": "renew",
}
BROKEN = "!"  # marks, in a history row's cells, a value that could not be read
_MISSING = re.compile(r"missing required field '([^']+)'")
_ORDER = ("number", "status", "sample", "organization", "industry", "scope", "standard", "score",
          "level", "issued", "expires", "audits", "events")


@dataclass
class Outcome:
    """What importing one row does: create a record, leave it alone, or refuse a change."""

    number: str
    action: str
    display: str
    text: str = ""
    detail: str = ""


@dataclass
class Plan:
    """Every row's outcome, every problem (at its cell) and what was left out, before writing."""

    outcomes: list[Outcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many rows have this outcome."""
        return sum(1 for o in self.outcomes if o.action == action)


def _problem(ref: str, message: str) -> Problem:
    return Problem(ref, 0, message)


def _path(dotted: str) -> PathKey:
    return tuple(dotted.split("."))


def _set(tree: dict[str, Any], path: PathKey, value: str) -> None:
    node = tree
    for part in path[:-1]:
        node = node.setdefault(str(part), {})
    node[str(path[-1])] = value


def _get(tree: dict[str, Any], path: PathKey) -> Any:
    node: Any = tree
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


class _Places:
    """The synthetic "lines" of a row's tree: each is a cell, named for problems."""

    def __init__(self, row_ref: str) -> None:
        self.refs: list[tuple[str, str]] = [(row_ref, "")]
        self.lines: dict[PathKey, int] = {(): 1}

    def add(self, path: PathKey, ref: str, header: str = "") -> None:
        self.refs.append((ref, header))
        self.lines[path] = len(self.refs)

    def where(self, line: int) -> tuple[str, str]:
        return self.refs[line - 1] if 0 < line <= len(self.refs) else self.refs[0]


def _fields_required(settings: Settings) -> set[str]:
    from ..scheme import schema_fields

    return {path for path, _, required in schema_fields(settings.schema)
            if required and "[]" not in path}


class Importer:
    """Reads one workbook against one registry and plans what importing it does."""

    def __init__(self, root: Path, settings: Settings, cells: Cells | None = None) -> None:
        self.root = root
        self.settings = settings
        self.cells = cells or Cells(settings)
        self.required = _fields_required(settings)
        files, _ = load.find_records(root)
        self.existing = {rules.fold_number(load.record_stem(p)): p for p in files}

    # --- history rows ----------------------------------------------------------------------

    def _history_item(self, row: reading.Row, epoch: Any,
                      problems: list[Problem]) -> tuple[str, dict[str, str], dict[str, str]]:
        """(audits or events, the item's text values, the cell of each) of one history row."""
        values: dict[str, str] = {}
        refs: dict[str, str] = {}
        bad = False
        record = None
        record_cell = row.cells.get("record")
        kind_cell = row.cells.get("kind")
        if record_cell is not None and reading.clean(record_cell.value):
            try:
                record = self.cells.read("record", record_cell.value)
            except ValueError as exc:
                problems.append(_problem(record_cell.ref, f"类别: {exc}"))
                bad = True
        if record is None and not bad:
            has_audit_fields = any(
                row.cells.get(k) is not None and reading.clean(row.cells[k].value)
                for k in ("score", "result", "note"))
            record = AUDITS if has_audit_fields else EVENTS
        for column in HISTORY_COLUMNS:
            cell = row.cells.get(column.field)
            if column.field in ("number", "record") or cell is None:
                continue
            try:
                value = self.cells.read(column.kind, cell.value, cell.number_format, epoch,
                                        record=record)
            except ValueError as exc:
                problems.append(_problem(cell.ref, f"{column.header}: {exc}"))
                refs[BROKEN + column.field] = cell.ref  # its absence is not another problem
                continue
            if value is None:
                continue
            keys = AUDIT_KEYS if record == AUDITS else EVENT_KEYS
            if column.field not in keys:
                what = "an audit" if record == AUDITS else "an event"
                problems.append(_problem(cell.ref, f"{column.header}: {what} has no "
                                                   f"{column.header}; leave it empty"))
                continue
            values[column.field] = value
            refs[column.field] = cell.ref
        keys = AUDIT_KEYS if record == AUDITS else EVENT_KEYS
        item = {k: values[k] for k in keys if k in values}
        refs["_row"] = (kind_cell or row.cells.get("date") or next(iter(row.cells.values()))).ref
        return record or EVENTS, item, refs

    # --- certificate rows ------------------------------------------------------------------

    def _row_tree(self, row: reading.Row, found: dict[str, str], epoch: Any,
                  history: list[tuple[str, dict[str, str], dict[str, str]]],
                  problems: list[Problem]) -> tuple[dict[str, Any], _Places, set[str]]:
        tree: dict[str, Any] = {}
        places = _Places(row.ref)
        broken: set[str] = set()
        headers: dict[str, str] = {}
        for column in CERTIFICATE_COLUMNS:
            headers[column.field] = column.header
            cell = row.cells.get(column.field)
            if cell is None:
                continue
            path = _path(column.field)
            places.add(path, cell.ref, column.header)
            try:
                value = self.cells.read(column.kind, cell.value, cell.number_format, epoch)
            except ValueError as exc:
                problems.append(_problem(cell.ref, f"{column.header}: {exc}"))
                broken.add(column.field)
                continue
            if value is not None:
                _set(tree, path, value)
        s = self.settings
        # Columns a body's own workbook may lack, worked out as `starmark new` would.
        if "standard" not in found and len(s.standards) == 1:
            tree["standard"] = s.standards[0]
        if "level" not in found and "score" in tree:
            earned = s.level_for(_decimal(tree["score"]))
            if earned is not None:
                tree["level"] = earned.key
        if "expires" not in found and "issued" in tree:
            issued = dt.date.fromisoformat(tree["issued"])
            tree["expires"] = lifecycle.expiry_for(issued, s.lifecycle).isoformat()
        audits: list[dict[str, str]] = []
        events: list[dict[str, str]] = []
        for record, item, refs in history:
            target = audits if record == AUDITS else events
            index = len(target)
            places.add((record, index), refs["_row"])
            for key, ref in refs.items():
                if key.startswith(BROKEN):
                    broken.add(f"{record}[{index}].{key.removeprefix(BROKEN)}")
                elif key != "_row":
                    header = next(c.header for c in HISTORY_COLUMNS if c.field == key)
                    places.add((record, index, key), ref, header)
            target.append(item)
        if not history and "issued" in tree and tree.get("status", lifecycle.VALID) == "valid":
            issued_ref = row.cells["issued"].ref if "issued" in row.cells else row.ref
            audit = {"date": tree["issued"], "kind": "initial"}
            if "score" in tree:
                audit["score"] = tree["score"]
            audit["result"] = "pass"
            audits.append(audit)
            events.append({"date": tree["issued"], "kind": "issued"})
            for record in (AUDITS, EVENTS):
                places.add((record,), issued_ref, headers["issued"])
        elif not history and tree.get("status") not in (None, "valid"):
            ref = row.cells["status"].ref
            problems.append(_problem(
                ref, f"证书状态: a certificate that is not 有效 needs its audits and events "
                     f"(with the date and reason of the change) in sheet {HISTORY_SHEET}"))
        if "status" not in found and events:
            replay = lifecycle.replay(
                (lifecycle.EventIn(_date(e.get("date")), e.get("kind", ""), e.get("reason"))
                 for e in events if e.get("date") and e.get("kind")), s.lifecycle)
            if replay.state:
                tree["status"] = replay.state
        if audits:
            tree["audits"] = audits
        if events:
            tree["events"] = events
        ordered = {k: tree[k] for k in _ORDER if k in tree}
        return ordered, places, broken

    def _check(self, tree: dict[str, Any], places: _Places, broken: set[str], number: str,
               display: str, found: dict[str, str]) -> list[Problem]:
        doc = source.Document(display, tree, places.lines, places.lines)
        typed = schema.check(doc, self.settings.schema)
        problems = list(typed.problems)
        if typed.data is not None:
            problems += rules.check_record(typed.data, doc, self.settings, number, typed.broken)
        out = []
        for problem in problems:
            missing = _MISSING.search(problem.message)
            if missing:
                dotted = missing.group(1)
                if dotted in broken or (dotted in self.required and dotted not in found):
                    continue  # the cell's own problem, or the missing column, says it already
                column = next((c for c in CERTIFICATE_COLUMNS if c.field == dotted), None)
                ref = places.where(places.lines.get(_path(dotted), 1))[0]
                header = column.header if column else ""
                out.append(_problem(ref, f"{header}: empty; it is required" if header
                                    else problem.message))
                continue
            ref, header = places.where(problem.line)
            out.append(_problem(ref, f"{header}: {problem.message}" if header
                                else problem.message))
        return out

    # --- the whole file --------------------------------------------------------------------

    def plan(self, book: reading.Workbook, shown: str,
             progress: Callable[[int], None] | None = None) -> Plan:
        """What importing a workbook read by :func:`reading.read` would do, every problem."""
        plan = Plan()
        plan.notes += book.notes
        certificates = book.certificates
        if certificates is None:
            names = "、".join(c.header for c in CERTIFICATE_COLUMNS[:5])
            plan.problems.append(_problem(shown, f"no sheet has the headings of a certificate "
                                                 f"table ({names} …) in its first "
                                                 f"{reading.HEADER_SEARCH_ROWS} rows"))
            return plan
        tables = [t for t in (certificates, book.history) if t is not None]
        for table in tables:
            plan.notes += table.notes
            plan.problems += [_problem(ref, message) for ref, message in table.problems]
        for dotted in sorted(self.required):
            if dotted in certificates.found or dotted in ("standard", "level", "expires",
                                                          "status"):
                continue
            column = next((c for c in CERTIFICATE_COLUMNS if c.field == dotted), None)
            if column is not None:
                plan.problems.append(_problem(
                    certificates.where, f"no column {column.header} ({column.en}); every "
                    "certificate needs it (another heading? use --map 列名=" + dotted + ")"))
        history: dict[str, list[tuple[str, dict[str, str], dict[str, str]]]] = {}
        history_rows: dict[str, str] = {}
        # A history row's problems belong to its certificate: with them, it is not written.
        history_problems: dict[str, list[Problem]] = {}
        if book.history is not None:
            epoch = book.history.epoch
            for row in book.history.rows:
                cell = row.cells.get("number")
                number = self.cells.read("number", cell.value) if cell is not None else None
                if not number:
                    plan.problems.append(_problem(row.ref, "证书编号: empty; say which "
                                                           "certificate this row belongs to"))
                    continue
                key = rules.fold_number(number)
                history_rows.setdefault(key, row.ref)
                history.setdefault(key, []).append(
                    self._history_item(row, epoch, history_problems.setdefault(key, [])))
        seen: dict[str, str] = {}
        for row in certificates.rows:
            if progress:
                progress(1)
            self._plan_row(row, certificates, history, history_problems, seen, plan)
        for key, ref in history_rows.items():
            if key not in seen:
                plan.problems += history_problems.get(key, [])
                plan.problems.append(_problem(ref, f"证书编号: no row for this certificate in "
                                                   f"{certificates.where}"))
        plan.problems.sort(key=_cell_order)
        return plan

    def _plan_row(self, row: reading.Row, table: reading.Table,
                  history: dict[str, list[tuple[str, dict[str, str], dict[str, str]]]],
                  history_problems: dict[str, list[Problem]], seen: dict[str, str],
                  plan: Plan) -> None:
        cell = row.cells.get("number")
        number = self.cells.read("number", cell.value) if cell is not None else None
        if not number:
            plan.problems.append(_problem(row.ref, "证书编号: empty; every row needs one"))
            return
        key = rules.fold_number(number)
        if key in seen:
            plan.problems.append(_problem(
                row.ref, f"证书编号: {number} is already in row {seen[key]}; a certificate is one "
                         "row (its audits and events go to sheet " + HISTORY_SHEET + ")"))
            return
        seen[key] = str(row.line)
        row_problems: list[Problem] = list(history_problems.get(key, []))
        tree, places, broken = self._row_tree(row, table.found, table.epoch,
                                              history.get(key, []), row_problems)
        path = self._target(number, tree)
        display = load.display_path(self.root, path)
        row_problems += self._check(tree, places, broken, number, display, table.found)
        if row_problems:
            plan.problems += row_problems
            return
        text = yamltext.record_text(tree)
        doc, parse_problems = source.parse_text(text, display)
        if doc is None or parse_problems or doc.data != tree:
            # The writer and the checks disagree: never write what was not checked.
            plan.problems.append(_problem(
                row.ref, "internal error: the record text does not read back as the checked "
                         "values; please report"))
            return
        existing = self.existing.get(key)
        if existing is None:
            plan.outcomes.append(Outcome(number, CREATE, display, text))
            return
        shown = load.display_path(self.root, existing)
        old, _ = source.read_file(existing, shown)
        old_tree = old.data if old is not None else None
        if old_tree == tree:
            plan.outcomes.append(Outcome(number, UNCHANGED, shown))
            return
        why = _refusal(number, old_tree, tree, shown)
        plan.outcomes.append(Outcome(number, REFUSED, shown, detail=why))
        plan.problems.append(_problem(row.ref, why))

    def _target(self, number: str, tree: dict[str, Any]) -> Path:
        """certificates/<year>/<NUMBER>.yaml: the year of the number, else the year of issue."""
        match = self.settings.number.regex.fullmatch(number)
        year = match.groupdict().get("year") if match else None
        if not year:
            issued = tree.get("issued")
            year = issued[:4] if isinstance(issued, str) else "misc"
        return self.root / load.CERTIFICATES_DIR / year / f"{number}{load.RECORD_SUFFIX}"


def _decimal(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        return Decimal(0)


def _date(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(text or "")
    except ValueError:
        return dt.date.min


def _cell_order(problem: Problem) -> tuple[str, int, str]:
    match = re.search(r"!?([A-Z]+)(\d+)$", problem.path)
    if not match:
        return (problem.path, 0, problem.message)
    head = problem.path[: match.start()]
    return (head, int(match.group(2)), f"{len(match.group(1)):02d}{match.group(1)}")


def _items(tree: Any, key: str) -> list[Any]:
    value = tree.get(key) if isinstance(tree, dict) else None
    return value if isinstance(value, list) else []


def _flat(tree: Any, prefix: str = "") -> dict[str, Any]:
    """The fields of a record other than its history, by dotted name."""
    out: dict[str, Any] = {}
    for key, value in (tree.items() if isinstance(tree, dict) else ()):
        if key in (AUDITS, EVENTS):
            continue
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _refusal(number: str, old: Any, new: dict[str, Any], shown: str) -> str:
    """Why a row that changes an existing certificate is refused, and what to run instead."""
    for key, label in ((AUDITS, "audit"), (EVENTS, "event")):
        before, after = _items(old, key), _items(new, key)
        for i, item in enumerate(before):
            if i >= len(after) or after[i] != item:
                what = f"{item.get('kind')} on {item.get('date')}" if isinstance(item, dict) \
                    else str(item)
                return (f"{number} is in the registry ({shown}) and this file would rewrite or "
                        f"remove its past {label} ({what}); past audits and events are never "
                        "changed (starmark check refuses it too)")
    added = _items(new, EVENTS)[len(_items(old, EVENTS)):]
    commands = [COMMAND_FOR[e["kind"]] for e in added if e.get("kind") in COMMAND_FOR]
    if added or len(_items(new, AUDITS)) > len(_items(old, AUDITS)):
        first = added[0] if added else _items(new, AUDITS)[-1]
        command = commands[0] if commands else "surveil"
        return (f"{number} is in the registry ({shown}); this row adds "
                f"{first.get('kind')} on {first.get('date')}. Changes to an existing certificate "
                f"are recorded with the lifecycle commands, which keep its history: run "
                f"`starmark {command} {number} --date {first.get('date')} …`")
    was, now = _flat(old), _flat(new)
    changed = [f"{k}: {was.get(k, '(empty)')} → {now.get(k, '(empty)')}"
               for k in sorted(set(was) | set(now)) if was.get(k) != now.get(k)]
    return (f"{number} is in the registry ({shown}) and this row differs in {'; '.join(changed)}; "
            "existing certificates are changed with the lifecycle commands (starmark suspend, "
            "surveil, renew …) or by editing the record and running starmark check, never by "
            "import")


def write(root: Path, outcomes: Iterable[Outcome]) -> int:
    """Write the records to create, each complete or not at all; return how many."""
    todo = [o for o in outcomes if o.action == CREATE]
    if not todo:
        return 0
    base = root / load.CERTIFICATES_DIR
    base.mkdir(parents=True, exist_ok=True)
    # A hidden folder beside the records: find_records skips it, and a rename stays on one disk.
    scratch = Path(tempfile.mkdtemp(prefix=".starmark-import-", dir=base))
    placed: list[Path] = []
    try:
        staged = []
        for i, outcome in enumerate(todo):
            temp = scratch / f"{i}.yaml"
            with open(temp, "w", encoding="utf-8", newline="") as handle:
                handle.write(outcome.text)
            staged.append((temp, root / outcome.display))
        folders: set[Path] = set()
        for temp, target in staged:
            if target.parent not in folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                folders.add(target.parent)
            if target.exists():
                raise FileExistsError(f"{target} appeared while importing")
            os.replace(temp, target)
            placed.append(target)
        return len(placed)
    except BaseException:
        for target in placed:
            target.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

