"""Valid records to edit into bad ones: shared by the validation tests (a module, not conftest,
so its name cannot collide with another folder's conftest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from generator import source

REPO = Path(__file__).resolve().parent.parent

# A valid record. Tests rely on its line numbers: number 3, status 4, sample 5,
# organization 6 (name 7, name_en 8, credit_code 9, region 10, address 11), industry 12,
# scope 13 (zh 14, en 15), standard 16, score 17, level 18, issued 19, expires 20,
# audits 21 (first audit 22), events 23 (first event 24).
VALID_RECORD = """\
# Sample data: a fictional enterprise, not a real company.
# yaml-language-server: $schema=../../registry/record.schema.json
number: ASC-2025-000123
status: valid
sample: true
organization:
  name: 青岛示例电器股份有限公司
  name_en: Qingdao Example Appliance Co., Ltd.
  credit_code: 91370200MA3C5ABC1G
  region: "370212"
  address: 山东省青岛市崂山区示例路1号
industry: household-appliances
scope:
  zh: 家用空调的销售、安装、维修及售后服务
  en: Sales, installation, repair and after-sales service of air conditioners
standard: GB/T 27922-2011
score: 96.5
level: five-star
issued: 2025-04-01
expires: 2028-03-31
audits:
  - {date: 2025-03-10, kind: initial, score: 96.5, result: pass}
events:
  - {date: 2025-04-01, kind: issued}
"""

DEFAULT_RECORD = "2025/ASC-2025-000123.yaml"  # under certificates/


def _render(key: str, value: Any, indent: str) -> list[str]:
    """``key: value`` lines. Text is written as raw YAML, exactly as given (``no`` stays a bare
    word); a list becomes a block sequence of raw items; other values are written as JSON."""
    if isinstance(value, bool):
        return [f"{indent}{key}: {'true' if value else 'false'}"]
    if isinstance(value, str) and "\n" in value:
        return [f"{indent}{key}:"] + [f"{indent}  {line}" for line in value.splitlines()]
    if isinstance(value, str):
        return [f"{indent}{key}: {value}"]
    if isinstance(value, list):
        items = [
            v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
            for v in value
        ]
        return [f"{indent}{key}:"] + [f"{indent}  - {item}" for item in items]
    if isinstance(value, int | float):
        return [f"{indent}{key}: {value}"]
    return [f"{indent}{key}: {json.dumps(value, ensure_ascii=False, default=str)}"]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: list[str], start: int) -> int:
    """Index just past the value that begins with the key on ``lines[start]``."""
    own = _indent(lines[start])
    end = start + 1
    while end < len(lines):
        line = lines[end]
        deeper = line.strip() == "" or _indent(line) > own
        same_level_item = _indent(line) == own and line.lstrip().startswith("- ")
        if not (deeper or same_level_item):
            break
        end += 1
    while end > start + 1 and lines[end - 1].strip() == "":
        end -= 1
    return end


def edit_record(text: str, **fields: Any) -> str:
    """``text`` with each field replaced, or added (``None``: removed). Nested fields are named
    with ``__``: ``organization__region="012345"``. A field replaced by one line keeps its line.

    Text values are raw YAML, so an edit may make the record unreadable (``"&a x"``, ``"[1,"``):
    every position is taken from ``text`` before any edit is made.
    """
    doc, problems = source.parse_text(text, "record")
    if doc is None or problems:
        raise ValueError(f"cannot edit a record that does not parse: {problems}")
    lines = text.splitlines()
    edits: list[tuple[int, int, int, list[str]]] = []  # start, end, order given, new lines
    for order, (name, value) in enumerate(fields.items()):
        path = tuple(name.split("__"))
        if path in doc.key_lines:
            start = doc.key_lines[path] - 1
            end = _block_end(lines, start)
            indent = " " * _indent(lines[start])
        else:
            parent = path[:-1]
            if parent and parent not in doc.key_lines:
                raise KeyError(f"no field {'.'.join(parent)} to add {path[-1]} to")
            if parent:
                parent_start = doc.key_lines[parent] - 1
                start = end = _block_end(lines, parent_start)
                indent = " " * (_indent(lines[parent_start]) + 2)
            else:
                start = end = len(lines)
                indent = ""
        new = [] if value is None else _render(path[-1], value, indent)
        edits.append((start, end, order, new))
    edits.sort()
    for (_, end, _, _), (later_start, _, _, _) in zip(edits, edits[1:], strict=False):
        if later_start < end:
            raise ValueError("two edits overlap: edit a field or its parent, not both")
    for start, end, _, new in reversed(edits):  # from the bottom, so positions stay true
        lines[start:end] = new
    return "\n".join(lines) + "\n"


MakeRecord = Callable[..., Path]
