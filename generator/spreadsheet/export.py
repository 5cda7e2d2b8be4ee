"""Write the registry to a workbook staff can review, or to CSV, in the columns import reads.

Sheet 证书 holds one row per certificate, 审核与事件 one row per audit or event (keyed by
证书编号), 说明 what each column holds and the values it takes. Headings are frozen and
filtered, each carries its English name as a comment, dates are real Excel dates, and columns
are sized for Chinese text.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..settings import Settings
from .columns import (
    ABOUT_SHEET,
    AUDITS,
    CERTIFICATE_COLUMNS,
    CERTIFICATES_SHEET,
    EVENTS,
    EXPLAINED_HEADER,
    HISTORY_COLUMNS,
    HISTORY_SHEET,
    Column,
    explained,
)
from .values import Cells

Record = dict[str, Any]
TextRow = list[tuple[Column, str | None]]
MAX_WIDTH = 60


def as_text(value: Any) -> str:
    """A typed record value as the text its file holds (``Decimal('77.0')`` → ``77.0``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    return str(value)


def _get(data: Record, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def certificate_rows(records: Iterable[Record]) -> Iterator[TextRow]:
    """One row of text values per certificate, in column order."""
    for data in records:
        yield [(c, None if (v := _get(data, c.field)) is None else as_text(v))
               for c in CERTIFICATE_COLUMNS]


def history_rows(records: Iterable[Record]) -> Iterator[tuple[str, TextRow]]:
    """(audits or events, its row) for every audit and event, a certificate's in file order."""
    for data in records:
        for record in (AUDITS, EVENTS):
            for item in data.get(record, []):
                values = {"number": data["number"], "record": record, **item}
                yield record, [(c, None if (v := values.get(c.field)) is None else as_text(v))
                               for c in HISTORY_COLUMNS]


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(path: Path, records: list[Record], settings: Settings,
               progress: Callable[[int], None] | None = None) -> None:
    """Write the workbook: 证书, 审核与事件 and 说明."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    cells = Cells(settings)
    book = Workbook()
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")

    def sheet(title: str, columns: tuple[Column, ...], rows: Iterable[tuple[str | None, TextRow]],
              first: bool) -> None:
        ws = book.active if first else book.create_sheet()
        assert ws is not None
        ws.title = title
        widths = [_display_width(c.header) + 2 for c in columns]
        for i, column in enumerate(columns, 1):
            head = ws.cell(row=1, column=i, value=column.header)
            head.font, head.fill = bold, fill
            head.comment = Comment(f"{column.en} ({column.field})", "starmark")
        line = 1
        for record, row in rows:
            line += 1
            for i, (column, text) in enumerate(row, 1):
                if text is None:
                    continue
                value, number_format = cells.show(column.kind, text, record)
                cell = ws.cell(row=line, column=i, value=value)
                if number_format:
                    cell.number_format = number_format
                width = 12 if column.kind == "date" else _display_width(str(value)) + 2
                widths[i - 1] = max(widths[i - 1], width)
            if progress:
                progress(1)
        for i, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(i)].width = min(width, MAX_WIDTH)
        ws.freeze_panes = "B2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(line, 1)}"

    sheet(CERTIFICATES_SHEET, CERTIFICATE_COLUMNS,
          ((None, row) for row in certificate_rows(records)), True)
    sheet(HISTORY_SHEET, HISTORY_COLUMNS, history_rows(records), False)

    about = book.create_sheet(ABOUT_SHEET)
    about.append(list(EXPLAINED_HEADER))
    for line in explained(settings):
        about.append(list(line))
    for cell in about[1]:
        cell.font, cell.fill = bold, fill
    for letter, width in zip("ABCDEFG", (12, 18, 26, 26, 50, 50, 40), strict=True):
        about.column_dimensions[letter].width = width
        for cell in about[letter]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    about.freeze_panes = "A2"
    book.save(path)


def write_csv(path: Path, records: list[Record], settings: Settings, second: Path) -> None:
    """Write the certificates to ``path`` and their audits and events to ``second`` (UTF-8
    with BOM, which Excel needs to show Chinese)."""
    cells = Cells(settings)

    def shown(column: Column, text: str | None, record: str | None) -> str:
        if text is None:
            return ""
        if column.kind in ("date", "score"):
            return text  # ISO dates and the score as written: read back exactly
        return str(cells.show(column.kind, text, record)[0])

    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c.header for c in CERTIFICATE_COLUMNS])
        for row in certificate_rows(records):
            out.writerow([shown(c, t, None) for c, t in row])
    with open(second, "w", encoding="utf-8-sig", newline="") as handle:
        out = csv.writer(handle)
        out.writerow([c.header for c in HISTORY_COLUMNS])
        for record, row in history_rows(records):
            out.writerow([shown(c, t, record) for c, t in row])
