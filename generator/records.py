"""Round-trip editing of record files: change a record and keep its comments and layout.

Records are read with ruamel.yaml's round-trip loader, so comments, key order, quoting and the
one-line ``- {date: …, kind: …}`` audit and event items survive an edit. Nothing is written
until the new text passes the same checks as ``starmark validate`` (:func:`load.check_file`);
the file is then replaced in one rename, so a reader sees the old record or the new one.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tempfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.scalarstring import DoubleQuotedScalarString
from ruamel.yaml.tokens import CommentToken

from . import glyphs, lifecycle, load, source
from .errors import Problem
from .settings import Settings

# The layout of the records in certificates/: two-space mappings, list items indented by two.
MAPPING_INDENT, SEQUENCE_INDENT, SEQUENCE_OFFSET = 2, 4, 2
# Never fold a long Chinese name or reason over two lines: a record line is one field.
LINE_WIDTH = 4096
# Where a record's editor support comes from, relative to certificates/<year>/<NUMBER>.yaml.
SCHEMA_COMMENT = "yaml-language-server: $schema=../../registry/record.schema.json"


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=MAPPING_INDENT, sequence=SEQUENCE_INDENT, offset=SEQUENCE_OFFSET)
    yaml.width = LINE_WIDTH
    yaml.preserve_quotes = True
    yaml.allow_unicode = True
    # Records refuse anchors and aliases; the same date in an audit and an event is written twice.
    yaml.representer.ignore_aliases = lambda *_: True
    return yaml


def parse(text: str) -> CommentedMap:
    """A record's text as a round-trip tree (comments and layout attached)."""
    data = _yaml().load(text)
    if not isinstance(data, CommentedMap):
        raise ValueError("a record is a mapping of fields")
    return data


def read(path: Path) -> tuple[CommentedMap, str]:
    """The round-trip tree of a record file and the line ending it uses."""
    raw = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    return parse(text), newline


def dumps(data: CommentedMap, newline: str = "\n") -> str:
    """The record's text, in the layout of the records in certificates/."""
    out = io.StringIO()
    _yaml().dump(data, out)
    text = out.getvalue()
    return text.replace("\n", newline) if newline != "\n" else text


def flow(items: Iterable[tuple[str, Any]]) -> CommentedMap:
    """A mapping written on one line, like the audit and event items: ``{date: …, kind: …}``."""
    mapping = CommentedMap((key, value) for key, value in items if value is not None)
    mapping.fa.set_flow_style()
    return mapping


def append_item(items: CommentedSeq, item: dict[str, Any]) -> None:
    """Append an audit or event in the style of the items before it (one line, usually).

    Comment lines below the last item (``# end of record``) belong below the list, not to that
    item: they move down so that the new item is written above them.
    """
    entry = flow(item.items())
    last = len(items) - 1
    if last >= 0 and isinstance(items[last], CommentedMap) and items[last].fa.flow_style() is False:
        entry.fa.set_block_style()
    moved = None
    slot = items.ca.items.get(last) if last >= 0 else None
    if slot and isinstance(slot[0], CommentToken):
        own, newline, below = slot[0].value.partition("\n")
        if below:
            slot[0].value = own + newline
            moved = CommentToken(newline + below, CommentMark(0))
    items.append(entry)
    if moved is not None:
        items.ca.items[last + 1] = [moved, None, None, None]


def number(value: Decimal) -> int | float:
    """A score as a YAML number that reads back as the same decimal (91 stays 91, 92.5 stays 92.5).

    Scores have at most a few decimals, so the float's shortest repr is the decimal itself.
    """
    if value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return int(value)
    as_float = float(value)
    if Decimal(repr(as_float)) != value:
        raise ValueError(f"score {value} has too many digits to write exactly")
    return as_float


def quoted(text: str) -> DoubleQuotedScalarString:
    """Text written in double quotes (region codes: ``"370212"``, as in the sample records)."""
    return DoubleQuotedScalarString(text)


def new_record(fields: Iterable[tuple[str, Any]], comments: Iterable[str] = ()) -> CommentedMap:
    """A record tree in field order, its audits and events written one item a line."""
    data = CommentedMap()
    for key, value in fields:
        if value is None:
            continue
        if isinstance(value, list):
            seq = CommentedSeq()
            for item in value:
                seq.append(flow(item.items()) if isinstance(item, dict) else item)
            value = seq
        elif isinstance(value, dict):
            value = CommentedMap((k, v) for k, v in value.items() if v is not None)
        data[key] = value
    start = "\n".join(comments)
    if start:
        data.yaml_set_start_comment(start)
    return data


def iso(value: Any) -> str:
    """A date read by ruamel (a ``datetime.date``) or as text, as ISO text."""
    return value.isoformat() if isinstance(value, dt.date) else str(value)


def drawing_problems(data: dict[str, Any], doc: source.Document) -> list[Problem]:
    """Characters no star-mark font has in the fields a valid certificate's mark draws.

    ``starmark validate`` reports them for every certificate whose mark may be used; a record
    whose status is not valid draws no mark (until it is reinstated, which checks again).
    """
    if data.get("status") != lifecycle.VALID:
        return []
    return glyphs.record_problems(data, doc)


def write_checked(path: Path, text: str, display: str, settings: Settings) -> list[Problem]:
    """Write ``text`` to ``path`` only if it passes ``load.check_file`` and, while it is
    valid, its mark can be drawn (:func:`drawing_problems`); return its problems.

    The text is checked as a file of the same name in a hidden folder beside the target (so the
    number-equals-file-name rule sees the real name, and ``find_records`` skips the folder), then
    renamed over the target. On any problem, or any error, nothing is left behind.
    """
    created: list[Path] = []
    folder = path.parent
    while not folder.exists():
        created.append(folder)
        folder = folder.parent
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".starmark-edit-", dir=path.parent))
    ok = False
    try:
        candidate = scratch / path.name
        with open(candidate, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        data, doc, problems = load.check_file(candidate, display, settings)
        if not problems and data is not None and doc is not None:
            problems = drawing_problems(data, doc)
        if problems:
            return problems
        if path.exists():
            shutil.copymode(path, candidate)
        os.replace(candidate, path)
        ok = True
        return []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        if not ok:
            for folder in created:  # innermost first; only the folders this call made
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
