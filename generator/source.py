"""Read YAML files into plain trees whose scalars are all text, with the line of every value.

YAML 1.1 resolves ``no``, ``on``, ``012345`` and ``3.10`` to booleans and numbers; a registry
cannot afford that, so every scalar is kept as the text that was typed, and ``schema`` types it.
Anchors, aliases and explicit tags are refused (alias bombs, object construction), and so are
duplicate keys, which PyYAML would silently resolve to the last one. The stream of parser events
is checked before any node is composed, so a hostile file is refused without being expanded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem

PathKey = tuple[str | int, ...]
NULL_WORDS = frozenset({"", "~", "null", "Null", "NULL"})

# A record is a few kilobytes; these bounds keep a hostile file from costing time or recursion.
MAX_BYTES = 1_000_000
MAX_DEPTH = 32

# libyaml when PyYAML was built with it (ten times faster on the 150 KB region table).
LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        guess = ""
        try:
            raw.decode("gb18030")
            guess = " and looks like GBK/GB18030"
        except UnicodeDecodeError:
            pass
        message = f"file is not UTF-8 (byte 0x{raw[exc.start]:02x}){guess}; save it as UTF-8"
        return None, [Problem(display, line, message)]


def _mark_line(mark: Any) -> int:
    return int(mark.line) + 1 if mark is not None else 1


def _written_tag(event: yaml.Event) -> str | None:
    """The tag the author wrote on this node (``!!str``, ``!!python/object``…), if any."""
    tag = getattr(event, "tag", None)
    if not tag or tag == "!":  # a bare "!" only forces plain text
        return None
    implicit = getattr(event, "implicit", True)
    if implicit[0] if isinstance(implicit, tuple) else implicit:
        return None
    return str(tag).replace("tag:yaml.org,2002:", "!!", 1)


def _check_events(text: str, display: str) -> list[Problem]:
    """Refuse anchors, aliases, tags, deep nesting and extra documents before composing anything.

    One problem per line is enough: an alias bomb repeats the same alias many times a line.
    """
    by_line: dict[int, str] = {}
    depth = documents = 0

    def refuse(line: int, message: str) -> None:
        by_line.setdefault(line, message)

    for event in yaml.parse(text, Loader=LOADER):
        line = _mark_line(event.start_mark)
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents == 2:
                refuse(line, "a record file holds one YAML document; a second one starts here")
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent):
            refuse(line, f"YAML alias *{anchor} is not allowed; write the value out")
        elif anchor:
            refuse(line, f"YAML anchor &{anchor} is not allowed")
        tag = _written_tag(event)
        if tag:
            refuse(line, f"YAML tag {tag} is not allowed; write plain values")
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                refuse(line, f"values are nested more than {MAX_DEPTH} levels deep")
                break
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    return [Problem(display, line, message) for line, message in sorted(by_line.items())]


def _offset_line(text: str, position: int) -> int:
    """The line of a reader position: libyaml counts UTF-8 bytes, PyYAML characters."""
    if LOADER is yaml.SafeLoader:
        return text[:position].count("\n") + 1
    return text.encode("utf-8")[:position].count(b"\n") + 1


def _yaml_problem(exc: yaml.YAMLError, text: str, display: str) -> Problem:
    """A parser error as a problem at the line where the parser gave up."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = _offset_line(text, exc.position)
        char = int(exc.character)
        return Problem(display, line, f"character U+{char:04X} is not allowed in YAML; remove it")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "malformed YAML"
        context_line = _mark_line(exc.context_mark) if exc.context_mark else None
        if exc.context and exc.problem and context_line not in (None, _mark_line(mark)):
            what += f" ({exc.context}, which starts at line {context_line})"
        return Problem(display, _mark_line(mark), f"malformed YAML: {what}")
    return Problem(display, 1, f"malformed YAML: {exc}")


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and not node.style and node.value in NULL_WORDS


def _tree(node: yaml.Node, path: PathKey, doc: Document, problems: list[Problem]) -> Any:
    doc.lines[path] = _mark_line(node.start_mark)
    if isinstance(node, yaml.ScalarNode):
        # plain style is None in PyYAML, "" in libyaml; only a plain word can mean null
        return None if _is_null(node) else str(node.value)
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
                problems.append(
                    Problem(doc.path, line, f"duplicate key '{key}' (first given at line {first})")
                )
                continue
            doc.key_lines[(*path, key)] = line
            out[key] = _tree(value_node, (*path, key), doc, problems)
        return out
    problems.append(Problem(doc.path, doc.lines[path], "unsupported YAML node"))
    return None


def parse_text(text: str, display: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text into a :class:`Document`; problems carry ``display`` as the path.

    The document is None when the file cannot be read as one safe tree (syntax, aliases, tags).
    Duplicate keys and complex keys are reported but the document is still returned (keeping
    the first value), so the rest of the record can be checked in the same run.
    """
    try:
        problems = _check_events(text, display)
        if problems:
            return None, problems
        node = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, text, display)]
    if node is None or _is_null(node):
        return None, [Problem(display, 1, "file is empty")]
    doc = Document(display, None)
    doc.data = _tree(node, (), doc, problems)
    return doc, problems


def read_file(path: Path, display: str | None = None) -> tuple[Document | None, list[Problem]]:
    """Read and parse one YAML file, never raising for bad content."""
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, 0, f"cannot read file: {exc.strerror or exc}")]
    if len(raw) > MAX_BYTES:
        return None, [
            Problem(shown, 1, f"file is larger than {MAX_BYTES} bytes; a record is a few KB")
        ]
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
