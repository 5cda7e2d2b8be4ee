"""Record text in the layout of certificates/, written fast enough for 10,000 imported rows.

The layout is the one ``starmark new`` writes through ruamel.yaml (:mod:`generator.records`):
two-space mappings, list items indented by two, an audit or event on one line as
``- {date: …, kind: …}`` unless it carries a note or reason (then one key a line), text plain
where YAML allows it and in double quotes where not, region codes always in double quotes.
ruamel takes about 10 ms a record; this takes a few microseconds. The importer parses every
text it writes and compares it with the values it checked, so a slip here cannot go unnoticed.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import yaml

from .. import records

# Field paths whose values are written as text even when they look like something else.
QUOTED_ALWAYS = frozenset({("organization", "region")})
# Typed fields: written plain (a date, a number, a boolean, a key).
TYPED = frozenset({"number", "status", "sample", "industry", "standard", "score", "level",
                   "issued", "expires", "date", "kind", "result"})
_LONG_TEXT = frozenset({"note", "reason", "reason_en"})
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@`")
_FLOW = frozenset(",[]{}")
_RESOLVER = yaml.resolver.Resolver()
_STR_TAG = "tag:yaml.org,2002:str"
SAMPLE_COMMENT = "示例数据 (sample data): a fictional enterprise, not a real company."


@functools.lru_cache(maxsize=8192)
def _plain_ok(text: str, flow: bool, typed: bool = False) -> bool:
    """Whether ``text`` can be written without quotes and read back as the same text
    (``typed``: a date, number or key, which may look like one)."""
    if not text or text != text.strip() or text[0] in _INDICATORS:
        return False
    if ": " in text or " #" in text or text.endswith(":") or not text.isprintable():
        return False
    if flow and any(ch in _FLOW for ch in text):
        return False
    return typed or _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) == _STR_TAG


def scalar(value: str, key: str, *, flow: bool = False, quote: bool = False) -> str:
    """One value as the records write it: plain when it reads back as the same text."""
    if not quote and _plain_ok(value, flow, typed=key in TYPED):
        return value
    return json.dumps(value, ensure_ascii=False)


def _item(item: dict[str, str]) -> list[str]:
    if not _LONG_TEXT.intersection(item):
        inner = ", ".join(f"{k}: {scalar(v, k, flow=True)}" for k, v in item.items())
        return [f"  - {{{inner}}}"]
    lines = []
    for i, (k, v) in enumerate(item.items()):
        lines.append(f"{'  - ' if i == 0 else '    '}{k}: {scalar(v, k)}")
    return lines


def record_text(tree: dict[str, Any]) -> str:
    """The text of a record whose scalars are all text, in the order of ``tree``."""
    lines = [f"# {records.SCHEMA_COMMENT}"]
    if tree.get("sample") == "true":
        lines.append(f"# {SAMPLE_COMMENT}")
    for key, value in tree.items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {scalar(v, k, quote=(key, k) in QUOTED_ALWAYS)}"
                      for k, v in value.items()]
        elif isinstance(value, list):
            lines.append(f"{key}:")
            for item in value:
                lines += _item(item)
        else:
            lines.append(f"{key}: {scalar(value, key)}")
    return "\n".join(lines) + "\n"
