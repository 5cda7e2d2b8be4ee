"""Read YAML files into plain trees whose scalars are all text, with the line of every value.

YAML 1.1 resolves ``no``, ``on``, ``012345`` and ``3.10`` to booleans and numbers; a registry
cannot afford that, so every scalar is kept as the text that was typed, and ``schema`` types it.
Anchors, aliases and explicit tags are refused (alias bombs, object construction), and so are
duplicate keys, which PyYAML would silently resolve to the last one. The tree is built in one pass
over the parser's events (libyaml's when PyYAML has it), checking each as it comes: nothing is
composed or resolved, so a hostile file is refused without being expanded.
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


def _offset_line(text: str, position: int) -> int:
    """The line of a reader position: libyaml counts UTF-8 bytes, PyYAML characters."""
    if LOADER is yaml.SafeLoader:
        return text[:position].count("\n") + 1
    return text.encode("utf-8")[:position].count(b"\n") + 1


def _tab_indented(text: str, mark: Any) -> int | None:
    """The line of the first tab in an indentation up to where the parser gave up, if any."""
    last = _mark_line(mark)
    for number, line in enumerate(text.splitlines()[:last], 1):
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]:
            return number
    return None


def _yaml_problem(exc: yaml.YAMLError, text: str, display: str) -> Problem:
    """A parser error as a problem at the line where the parser gave up."""
    if isinstance(exc, yaml.reader.ReaderError):
        line = _offset_line(text, exc.position)
        char = int(exc.character)
        return Problem(display, line, f"character U+{char:04X} is not allowed in YAML; remove it")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        tabbed = _tab_indented(text, mark)
        if tabbed:
            return Problem(display, tabbed, "a tab in the indentation: YAML indents with "
                           "spaces only; replace the tab by spaces")
        what = exc.problem or exc.context or "malformed YAML"
        context_line = _mark_line(exc.context_mark) if exc.context_mark else None
        if exc.context and exc.problem and context_line not in (None, _mark_line(mark)):
            what += f" ({exc.context}, which starts at line {context_line})"
        return Problem(display, _mark_line(mark), f"malformed YAML: {what}")
    return Problem(display, 1, f"malformed YAML: {exc}")


# What a mapping frame expects next: a key, or the value of a key it keeps or skips.
_KEY = object()
_SKIP = object()
_MAPPING, _SEQUENCE, _SKIPPED = 0, 1, 2
_SCALAR, _MAPPING_START = yaml.ScalarEvent, yaml.MappingStartEvent
_SEQUENCE_START = yaml.SequenceStartEvent
_MAPPING_END, _SEQUENCE_END = yaml.MappingEndEvent, yaml.SequenceEndEvent
_ALIAS, _DOCUMENT_START = yaml.AliasEvent, yaml.DocumentStartEvent


def parse_text(text: str, display: str) -> tuple[Document | None, list[Problem]]:
    """Parse YAML text into a :class:`Document`; problems carry ``display`` as the path.

    The document is None when the file cannot be read as one safe tree (syntax, aliases, tags).
    Duplicate keys and complex keys are reported but the document is still returned (keeping
    the first value), so the rest of the record can be checked in the same run.

    One pass over the parser's events (libyaml's when available) both checks them and builds
    the tree, so that nothing is composed: anchors, aliases, tags, nesting deeper than
    MAX_DEPTH and a second document are refused, one problem per line (an alias bomb repeats
    the same alias many times a line), and a syntax error anywhere refuses the whole file.
    """
    doc = Document(display, None)
    lines, key_lines = doc.lines, doc.key_lines
    problems: list[Problem] = []
    refused: dict[int, str] = {}
    # A frame: [kind, container, path, what the mapping expects next].
    stack: list[list[Any]] = []
    root: Any = None
    value: Any = None
    container: dict[str, Any] | list[Any] | None = None
    empty = True
    depth = documents = 0
    null_words = NULL_WORDS
    loader: Any = None
    try:
        # What yaml.parse does, without a generator and a check_event call per event.
        loader = LOADER(text)
        get_event = loader.get_event
        while (event := get_event()) is not None:
            kind = type(event)
            if kind is _SCALAR:
                line = event.start_mark.line + 1
                if event.anchor:
                    refused.setdefault(line, f"YAML anchor &{event.anchor} is not allowed")
                if event.tag is not None and (tag := _written_tag(event)):
                    refused.setdefault(line, f"YAML tag {tag} is not allowed; write plain values")
                # plain style is None in PyYAML, "" in libyaml; only a plain word is null
                text_value = event.value
                value = None if not event.style and text_value in null_words else text_value
                container = None
            elif kind is _MAPPING_START or kind is _SEQUENCE_START:
                line = event.start_mark.line + 1
                if event.anchor:
                    refused.setdefault(line, f"YAML anchor &{event.anchor} is not allowed")
                if event.tag is not None and (tag := _written_tag(event)):
                    refused.setdefault(line, f"YAML tag {tag} is not allowed; write plain values")
                depth += 1
                if depth > MAX_DEPTH:
                    message = f"values are nested more than {MAX_DEPTH} levels deep"
                    refused.setdefault(line, message)
                    break
                container = {} if kind is _MAPPING_START else []
                value = container
            elif kind is _MAPPING_END or kind is _SEQUENCE_END:
                depth -= 1
                stack.pop()
                continue
            elif kind is _ALIAS:
                line = event.start_mark.line + 1
                message = f"YAML alias *{event.anchor} is not allowed; write the value out"
                refused.setdefault(line, message)
                value, container = None, None
            else:
                if kind is _DOCUMENT_START:
                    documents += 1
                    if documents == 2:
                        line = event.start_mark.line + 1
                        refused.setdefault(line, "a record file holds one YAML document; "
                                                 "a second one starts here")
                continue
            # Place the node: the root, an item, a mapping key, or a key's value.
            kept = False
            path: PathKey = ()
            if refused or documents > 1:
                pass  # the file is refused: nothing more is kept
            elif not stack:
                root, kept, empty = value, True, False
            else:
                frame = stack[-1]
                frame_kind = frame[0]
                if frame_kind == _MAPPING:
                    expected = frame[3]
                    if expected is _KEY:
                        frame[3] = _SKIP
                        if container is not None:
                            message = "mapping keys must be plain words"
                            problems.append(Problem(display, line, message))
                        elif (key := str(event.value)) in frame[1]:
                            first = key_lines.get((*frame[2], key), 0)
                            message = f"duplicate key '{key}' (first given at line {first})"
                            problems.append(Problem(display, line, message))
                        else:
                            key_lines[(*frame[2], key)] = line
                            frame[3] = key
                    elif expected is _SKIP:
                        frame[3] = _KEY
                    else:
                        path = (*frame[2], expected)
                        frame[1][expected] = value
                        frame[3] = _KEY
                        kept = True
                elif frame_kind == _SEQUENCE:
                    items = frame[1]
                    path = (*frame[2], len(items))
                    items.append(value)
                    kept = True
            if kept:
                lines[path] = line
            if container is not None:
                if not kept:
                    stack.append([_SKIPPED, container, path, _KEY])
                elif kind is _MAPPING_START:
                    stack.append([_MAPPING, container, path, _KEY])
                else:
                    stack.append([_SEQUENCE, container, path, _KEY])
    except yaml.YAMLError as exc:
        return None, [_yaml_problem(exc, text, display)]
    finally:
        if loader is not None:
            loader.dispose()
    if refused:
        return None, [Problem(display, line, message) for line, message in sorted(refused.items())]
    if empty or root is None:
        return None, [Problem(display, 1, "file is empty")]
    doc.data = root
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
