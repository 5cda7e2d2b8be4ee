"""Find the table in a sheet the way staff lay it out, and name every cell it reads.

The heading row need not be the first (a title, often merged over several cells, may stand
above it); headings are matched leniently (:func:`columns.match`); empty rows are skipped, and
so is a total row (合计, 总计, 共 N 条…) at the bottom. A hidden column is left out: staff hide
what they do not want published. A second heading row in English is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from .columns import (
    CERTIFICATE_COLUMNS,
    CERTIFICATES_SHEET,
    HISTORY_COLUMNS,
    HISTORY_CSV_SUFFIX,
    HISTORY_SHEET,
    Column,
    fold_header,
    match,
)
from .values import clean

HEADER_SEARCH_ROWS = 30  # a title block above the headings is never longer than this
_TOTAL = re.compile(r"^(合计|总计|小计|共计|总数|total|sum)|^共\s*\d+\s*(条|家|张|个|项)")
ALL_TABLES = (CERTIFICATE_COLUMNS, HISTORY_COLUMNS)


class ReadError(Exception):
    """A file that cannot be read as a spreadsheet at all."""


@dataclass(frozen=True)
class Cell:
    """A cell's value, its number format and where it is (``Sheet!C12`` or ``C12``)."""

    value: Any
    ref: str
    number_format: str = "General"


@dataclass
class Row:
    """One data row: the cells of the known columns, keyed by record field."""

    line: int
    ref: str  # where the row is, for problems about the row as a whole
    cells: dict[str, Cell]


@dataclass
class Table:
    """The rows of one table and what was learnt reading it."""

    where: str  # FILE.xlsx:Sheet (or FILE.csv), the prefix of every problem
    columns: tuple[Column, ...]
    found: dict[str, str] = field(default_factory=dict)  # field → column letter
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (ref, message)
    epoch: dt.datetime | None = None


@dataclass
class Workbook:
    """The certificates table and, when there is one, the audits-and-events table."""

    certificates: Table | None
    history: Table | None
    notes: list[str]


def _column_of(value: Any, columns: tuple[Column, ...],
               mapped: dict[str, str]) -> Column | None:
    if not isinstance(value, str):
        return None
    wanted = mapped.get(fold_header(value))
    if wanted is not None:  # --map 列名=field
        return next((c for c in columns if c.field == wanted), None)
    return match(value, columns)


def _classify(values: list[Any], mapped: dict[str, str]) -> tuple[Column, ...] | None:
    """Which table a heading row heads, if any: the one whose columns it names most (three
    different fields at least, the certificate number among them)."""
    best, best_score = None, 0
    for columns in ALL_TABLES:
        found = {c.field for c in (_column_of(v, columns, mapped) for v in values) if c}
        if len(found) >= 3 and len(found) > best_score and "number" in found:
            best, best_score = columns, len(found)
    return best


def _table(where: str, grid: list[tuple[int, list[Any], list[str]]], hidden: set[int],
           columns: tuple[Column, ...], mapped: dict[str, str], sheet: str | None) -> Table:
    """The table under the first heading row of ``grid`` (rows of values and number formats)."""
    prefix = f"{where}!" if sheet else f"{where}:"
    table = Table(where, columns)
    header_at = None
    for index, (_, values, _) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        if _classify(values, mapped) is columns:
            header_at = index
            break
    if header_at is None:
        return table
    line, heads, _ = grid[header_at]
    positions: dict[str, int] = {}
    for col, head in enumerate(heads):
        if not isinstance(head, str) or not head.strip():
            continue
        letter = get_column_letter(col + 1)
        column = _column_of(head, columns, mapped)
        if col in hidden:
            table.notes.append(f"{where}: column {letter} ({clean(head)}) is hidden: left out")
            continue
        if column is None:
            table.notes.append(f"{where}: column {letter} ({clean(head)}) is not a record "
                               "field: left out (map it with --map 列名=field)")
            continue
        if column.field in positions:
            first = get_column_letter(positions[column.field] + 1)
            table.problems.append(
                (f"{prefix}{letter}{line}",
                 f"{clean(head)} is the same field as column {first} ({column.header}); "
                 "keep one of them"))
            continue
        positions[column.field] = col
        table.found[column.field] = letter
    body = grid[header_at + 1:]
    english = {fold_header(c.en) for c in columns}
    if body and sum(isinstance(v, str) and fold_header(v) in english for v in body[0][1]) >= 2:
        body = body[1:]
    number_at = positions.get("number")
    for line, values, formats in body:
        present = {f: i for f, i in positions.items()
                   if i < len(values) and clean(values[i]) != ""}
        if not present:
            continue
        texts = [clean(v) for v in values if clean(v)]
        number = clean(values[number_at]) if number_at is not None and number_at < len(values) \
            else ""
        if _TOTAL.match(texts[0].casefold()) and (not number or number == texts[0]):
            table.notes.append(f"{where}: row {line} ({texts[0]}) is a total row: left out")
            continue
        cells = {
            f: Cell(values[i] if i < len(values) else None,
                    f"{prefix}{get_column_letter(i + 1)}{line}",
                    formats[i] if i < len(formats) else "General")
            for f, i in positions.items()
        }
        table.rows.append(Row(line, f"{prefix}{get_column_letter((number_at or 0) + 1)}{line}",
                              cells))
    return table


def _hidden_columns(sheet: Any) -> set[int]:
    """Indexes of the hidden columns of a read-only sheet.

    A read-only sheet (three times faster to read) does not load its column settings, so
    they are read here with openpyxl's own parser from the <cols> element, which comes before
    the cell data; reading stops there.
    """
    from openpyxl.worksheet._reader import COL_TAG
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    hidden: set[int] = set()
    data_tag = f"{{{SHEET_MAIN_NS}}}sheetData"
    with sheet._get_source() as src:  # the sheet's XML in the archive, as openpyxl reads it
        for event, element in iterparse(src, events=("start", "end")):
            if element.tag == data_tag:
                break
            if event == "end" and element.tag == COL_TAG and element.get("hidden") in ("1",
                                                                                      "true"):
                low, high = int(element.get("min", 0)), int(element.get("max", 0))
                hidden.update(range(low - 1, high))
    return hidden


def _sheet_grid(sheet: Any) -> list[tuple[int, list[Any], list[str]]]:
    sheet.reset_dimensions()  # some writers store a wrong size; read every row there is
    grid = []
    for line, row in enumerate(sheet.iter_rows(), 1):
        grid.append((line, [c.value for c in row],
                     [getattr(c, "number_format", "General") for c in row]))
    return grid


def read_xlsx(path: Path, shown: str, mapped: dict[str, str]) -> Workbook:
    """Both tables of a workbook, wherever their sheets and heading rows are."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise ReadError(f"{shown}: cannot be read as an .xlsx workbook ({exc})") from None
    found: dict[int, Table] = {}
    notes: list[str] = []
    # The sheets export names first, then the rest in order.
    order = sorted(book.worksheets,
                   key=lambda ws: (ws.title not in (CERTIFICATES_SHEET, HISTORY_SHEET),))
    for sheet in order:
        if sheet.sheet_state != "visible":
            notes.append(f"{shown}:{sheet.title}: the sheet is hidden: left out")
            continue
        grid = _sheet_grid(sheet)
        kind = next((_classify(values, mapped) for _, values, _ in grid[:HEADER_SEARCH_ROWS]
                     if _classify(values, mapped)), None)
        if kind is None or id(kind) in found:
            continue
        table = _table(f"{shown}:{sheet.title}", grid, _hidden_columns(sheet), kind, mapped,
                       sheet.title)
        table.epoch = book.epoch
        found[id(kind)] = table
    book.close()
    return Workbook(found.get(id(CERTIFICATE_COLUMNS)), found.get(id(HISTORY_COLUMNS)), notes)


def _csv_grid(path: Path) -> list[tuple[int, list[Any], list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")  # what Excel in China saves as "CSV"
    # A quoted cell may hold a line break: the reader, not splitlines, decides where rows end.
    rows = csv.reader(io.StringIO(text, newline=""))
    return [(n, list(values), []) for n, values in enumerate(rows, 1)]


def history_csv(path: Path) -> Path:
    """Where the audits and events of a CSV export are: beside it, ``<name>.history.csv``."""
    return path.with_name(path.name.removesuffix(".csv") + HISTORY_CSV_SUFFIX)


def read_csv(path: Path, shown: str, mapped: dict[str, str]) -> Workbook:
    """A CSV of certificates, with its ``.history.csv`` beside it when there is one."""
    tables: dict[int, Table] = {}
    paths = [path]
    extra = history_csv(path)
    if extra.is_file() and extra != path:
        paths.append(extra)
    for index, one in enumerate(paths):
        name = shown if index == 0 else str(Path(shown).with_name(one.name))
        try:
            grid = _csv_grid(one)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise ReadError(f"{name}: cannot be read as CSV ({exc})") from None
        kind = next((_classify(v, mapped) for _, v, _ in grid[:HEADER_SEARCH_ROWS]
                     if _classify(v, mapped)), None)
        if kind is None or id(kind) in tables:
            continue
        tables[id(kind)] = _table(name, grid, set(), kind, mapped, None)
    return Workbook(tables.get(id(CERTIFICATE_COLUMNS)), tables.get(id(HISTORY_COLUMNS)), [])


def read(path: Path, shown: str, mapped: dict[str, str]) -> Workbook:
    """The tables of an .xlsx or .csv file."""
    if path.suffix.casefold() == ".csv":
        return read_csv(path, shown, mapped)
    if path.suffix.casefold() in (".xlsx", ".xlsm"):
        return read_xlsx(path, shown, mapped)
    raise ReadError(f"{shown}: import reads .xlsx and .csv files (save an .xls as .xlsx first)")


def rows(table: Table | None) -> Iterator[Row]:
    """The data rows of a table that may be missing."""
    if table is not None:
        yield from table.rows
