"""Read YAML files into plain trees whose scalars are all text, with the line of every value.

YAML 1.1 resolves ``no``, ``on``, ``012345`` and ``3.10`` to booleans and numbers; a registry
cannot afford that, so every scalar is kept as the text that was typed, and ``schema`` types it.
Anchors, aliases and explicit tags are refused (alias bombs, object construction), and so are
duplicate keys, which PyYAML would silently resolve to the last one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

PathKey = tuple[str | int, ...]
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})


@dataclass
class Document:
    """A YAML file read as text: the tree, the line of each value and of each mapping key."""

    path: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)
    key_lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int:
        """The line of the value at ``path``, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return self.lines.get((), 1)

    def key_line(self, path: PathKey) -> int:
        """The line of the mapping key that ends ``path`` (falls back to the value's line)."""
        return self.key_lines.get(tuple(path)) or self.line(path)


def decode(raw: bytes, display: str) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (a leading BOM is tolerated), naming the line of the first bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            Problem(display, line, f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8")
        ]


def _mark_line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 1


def _check_events(text: str, display: str) -> list[Problem]:
    """Refuse anchors, aliases and explicit tags before anything is composed."""
    problems: list[Problem] = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = _mark_line(event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            problems.append(Problem(display, line, f"YAML alias *{event.anchor} is not allowed; write the value out"))
        elif getattr(event, "anchor", None):
            problems.append(Problem(display, line, f"YAML anchor &{event.anchor} is not allowed"))
        tag = getattr(event, "tag", None)
        if tag and isinstance(event, yaml.ScalarEvent | yaml.MappingStartEvent | yaml.SequenceStartEvent):
            implicit = getattr(event, "implicit", True)
            explicit = not (implicit[0] if isinstance(implicit, tuple) else implicit)
            if explicit:
                problems.append(Problem(display, line, f"YAML tag {tag} is not allowed"))
    return problems


def _tree(node: yaml.Node, path: PathKey, doc: Document, problems: list[Problem]) -> Any:
    doc.lines[path] = _mark_line(node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        value = str(node.value)
        if node.style is None and value in NULL_WORDS:
            return None
        return value
    if isinstance(node, yaml.SequenceNode):
        return [_tree(item, (*path, i), doc, problems) for i, item in enumerate(node.value)]
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line = _mark_line(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(doc.path, line, "mapping keys must be plain words"))
                continue
            key = str(key_node.value)
            if key in out:
                first = doc.key_lines.get((*path, key), 0)
                problems.append(Problem(doc.path, line, f"duplicate key '{key}' (first given at line {first})"))
                continue
            doc.key_lines[(*path, key)] = line
            out[key] = _tree(value_node, (*path, key), doc, problems)
        return out
    problems.append(Problem(doc.path, doc.lines[path], "unsupported YAML node"))
    return None


def parse_text(text: str, display: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text into a :class:`Document`; problems carry ``display`` as the path."""
    try:
        problems = _check_events(text, display)
        if problems:
            return None, problems
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "malformed YAML"
        return None, [Problem(display, _mark_line(mark), f"malformed YAML: {what}")]
    except yaml.YAMLError as exc:
        return None, [Problem(display, 1, f"malformed YAML: {exc}")]
    doc = Document(display, None)
    if node is None:
        return None, [Problem(display, 1, "file is empty")]
    problems = []
    doc.data = _tree(node, (), doc, problems)
    return (None if problems else doc), problems


def read_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and parse one YAML file, never raising for bad content."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, 0, f"cannot read file: {exc.strerror}")]
    text, problems = decode(raw, shown)
    if text is None:
        return None, problems
    return parse_text(text, shown)


def plain(path: Path) -> Any:
    """Load a trusted settings file as text-typed plain data, raising InputError on problems."""
    from .errors import InputError

    doc, problems = read_file(path)
    if problems or doc is None:
        raise InputError(problems)
    return doc
