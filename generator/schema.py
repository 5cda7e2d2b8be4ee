"""Type a text-only record by the published JSON Schema, then validate it with every error kept.

``source`` leaves every scalar as text. Here the schema decides which fields are numbers or
booleans, the text is converted where it is well formed, and ``jsonschema`` checks the result.
Its messages are rewritten for certification staff, each tied to the line of the field. The
paths the schema found wrong are kept too, so that ``rules`` can still check everything else.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .errors import MAX_PER_FILE, Problem
from .source import Document, PathKey

NUMBER_TEXT = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        ref = schema["$ref"]
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        target: Any = root
        for part in ref.lstrip("#/").split("/"):
            target = target[part]
        schema = {**target, **extra}
    return schema


def coerce(value: Any, schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Convert text to the type the schema asks for; leave it alone where it is not well formed."""
    schema = _resolve(schema, root)
    kind = schema.get("type")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        return {k: (coerce(v, props[k], root) if k in props else v) for k, v in value.items()}
    if isinstance(value, list):
        items = schema.get("items", {})
        return [coerce(v, items, root) for v in value]
    if isinstance(value, str):
        if kind in ("number", "integer") and NUMBER_TEXT.match(value):
            try:
                number = Decimal(value)
            except InvalidOperation:
                return value
            if kind == "integer":
                return int(number) if number == number.to_integral_value() else value
            return number
        if kind == "boolean" and value in ("true", "false"):
            return value == "true"
    return value


def field_name(path: PathKey) -> str:
    """A field as staff write it: ``organization.name``, ``audits[0].date``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "record"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(str(value))


TYPE_WORDS = {
    "string": "text",
    "number": "a number",
    "integer": "a whole number",
    "object": "a mapping of fields",
    "array": "a list",
    "boolean": "true or false",
}


def edit_distance(a: str, b: str) -> int:
    """Edits from ``a`` to ``b``, where swapping two neighbouring characters counts as one.

    The optimal-string-alignment distance: 'scpoe' is one edit from 'scope', two from 'score'.
    """
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (ca != cb),
            )
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def suggest(word: str, options: Iterable[str], prefer: Iterable[str] = ()) -> str | None:
    """The option that a misspelt ``word`` most likely meant, or None when none is close.

    Closest by edit distance (a transposition counts as one edit), then options in ``prefer``
    (say, required fields still missing), then difflib's similarity ratio.
    """
    wanted = set(prefer)
    folded = word.casefold()
    scored = []
    for option in options:
        ratio = difflib.SequenceMatcher(None, folded, option.casefold()).ratio()
        distance = edit_distance(folded, option.casefold())
        if ratio >= 0.6 or distance <= max(1, len(option) // 4):
            scored.append((distance, option not in wanted, -ratio, option))
    return min(scored)[3] if scored else None


def _message(error: jsonschema.ValidationError, doc: Document) -> list[tuple[int, str]]:
    path: PathKey = tuple(error.absolute_path)
    name = field_name(path)
    value = error.instance
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        what = missing[0] if missing else error.message
        where = field_name((*path, what))
        return [
            (doc.key_line(path) if path else doc.line(path), f"missing required field '{where}'")
        ]
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        absent = [k for k in allowed if k not in value]
        out = []
        unknown = sorted(set(value) - set(allowed), key=lambda k: doc.key_line((*path, k)))
        if len(unknown) > MAX_PER_FILE:  # suggesting a field costs: only for those shown
            hidden = len(unknown) - MAX_PER_FILE
            first = doc.key_line((*path, unknown[MAX_PER_FILE]))
            where = f"under '{name}'" if path else "in this file"
            out.append((first, f"… and {hidden} more unknown fields {where}, not listed"))
            unknown = unknown[:MAX_PER_FILE]
        for key in unknown:
            hint = suggest(key, allowed, prefer=absent)
            more = f" (did you mean '{hint}'?)" if hint else f"; allowed here: {', '.join(allowed)}"
            out.append(
                (doc.key_line((*path, key)), f"unknown field '{field_name((*path, key))}'{more}")
            )
        return out
    line = doc.line(path)
    if value is None and validator == "type":
        return [(line, f"field '{name}' is empty: give a value or remove the line")]
    if validator == "type":
        want = schema.get("type")
        got = _describe(value)
        return [(line, f"field '{name}' must be {TYPE_WORDS.get(str(want), want)}, got {got}")]
    if validator == "enum":
        options = ", ".join(str(o) for o in schema.get("enum", []))
        return [(line, f"field '{name}' is {_describe(value)}; it must be one of: {options}")]
    if validator == "format" and schema.get("format") == "date":
        if not re.fullmatch(schema.get("pattern", ".*"), str(value)):
            return []  # the pattern error already says how to write a date
        return [(line, f"field '{name}' is {_describe(value)}, which is not a real calendar date")]
    if validator == "pattern":
        if schema.get("format") == "date":
            return [
                (line, f"field '{name}' must be a date written YYYY-MM-DD, got {_describe(value)}")
            ]
        hint = schema.get("description", "")
        got = _describe(value)
        return [
            (line, f"field '{name}' has an invalid value {got}" + (f": {hint}" if hint else ""))
        ]
    if validator in ("minimum", "maximum"):
        return [(line, f"field '{name}' is {value}; it must be between {_resolve_range(error)}")]
    if validator == "minLength":
        return [(line, f"field '{name}' is empty")]
    if validator == "maxLength":
        return [(line, f"field '{name}' is longer than {schema.get('maxLength')} characters")]
    if validator == "minItems":
        return [(line, f"field '{name}' needs at least {schema.get('minItems')} entry")]
    return [(line, f"field '{name}': {error.message}")]


def _resolve_range(error: jsonschema.ValidationError) -> str:
    schema = error.schema if isinstance(error.schema, dict) else {}
    low, high = schema.get("minimum", "-"), schema.get("maximum", "-")
    return f"{low} and {high}"


# Errors that say something is missing or wrong *at* a path, so rules must not read it. An
# unknown extra key leaves the known fields beside it usable, so it does not count.
_NOT_BREAKING = frozenset({"additionalProperties"})


@dataclass
class Typed:
    """A record typed by the schema: data (None unless a mapping), problems, and broken paths.

    ``broken`` holds the path of every schema error: a value there, or below it, is missing or
    not of the type the schema promises. A required field that is absent is simply not in
    ``data``; its parent's path is in ``broken``.
    """

    data: dict[str, Any] | None
    problems: list[Problem]
    broken: frozenset[PathKey] = field(default_factory=frozenset)

    def usable(self, path: PathKey) -> bool:
        """True when ``path`` holds a value and the schema found nothing wrong there or below."""
        return usable(self.data, self.broken, path)


def usable(data: Any, broken: Collection[PathKey], path: PathKey) -> bool:
    """True when ``path`` holds a value in ``data`` and no path in ``broken`` is at or below it."""
    node = data
    for part in path:
        in_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_mapping or in_list:
            node = node[part]
        else:
            return False
    if not broken:
        return True
    size = len(path)
    return not any(len(bad) >= size and tuple(bad[:size]) == tuple(path) for bad in broken)


def _inline(node: Any, root: dict[str, Any]) -> Any:
    """``node`` with every local ``$ref`` replaced by what it names (the record schema's
    definitions do not refer to themselves), so validation does not look references up."""
    if isinstance(node, dict):
        resolved = _resolve(node, root) if "$ref" in node else node
        return {k: _inline(v, root) for k, v in resolved.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline(v, root) for v in node]
    return node


Predicate = Callable[[Any], bool]
Coercer = Callable[[Any], Any]
# JSON types that jsonschema tests with a plain isinstance (numbers need its own checker).
_PLAIN_TYPES: dict[str, type] = {"string": str, "object": dict, "array": list, "boolean": bool}
_NUMBER_TYPES = frozenset({Decimal, int, float})  # exactly these are JSON numbers, bool not
# Keywords that only annotate, or that the compiled check below implements exactly as
# jsonschema does; any other keyword jsonschema knows leaves every record to jsonschema.
_COMPILED = frozenset({
    "type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "required",
    "properties", "additionalProperties", "items", "minItems", "maxItems", "format",
})


def _value_checks(node: dict[str, Any], validator: Draft202012Validator) -> list[Predicate] | None:
    """The checks of ``node`` (an inlined schema) on the value itself (not on the values in
    it), or None when ``node`` uses a keyword that :func:`_compile` does not implement."""
    if any(k in validator.VALIDATORS and k not in _COMPILED for k in node):
        return None
    checks: list[Predicate] = []
    any_type = validator.is_type

    def is_type(x: Any, kind: str) -> bool:
        if kind == "number" and type(x) in _NUMBER_TYPES:
            return True  # what jsonschema answers, without its type checker's lookups
        return any_type(x, kind)  # type: ignore[no-any-return]

    if "type" in node:
        types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        if len(types) == 1 and types[0] in _PLAIN_TYPES:
            plain = _PLAIN_TYPES[types[0]]
            checks.append(lambda x: isinstance(x, plain))
        elif types == ["number"]:
            checks.append(lambda x: is_type(x, "number"))
        else:
            checks.append(lambda x: any(is_type(x, t) for t in types))
    if "enum" in node:
        if not all(isinstance(v, str) for v in node["enum"]):
            return None
        allowed = frozenset(node["enum"])
        checks.append(lambda x: isinstance(x, str) and x in allowed)
    if "pattern" in node:
        search = re.compile(node["pattern"]).search
        checks.append(lambda x: not isinstance(x, str) or search(x) is not None)
    if "minLength" in node:
        low = node["minLength"]
        checks.append(lambda x: not isinstance(x, str) or len(x) >= low)
    if "maxLength" in node:
        high = node["maxLength"]
        checks.append(lambda x: not isinstance(x, str) or len(x) <= high)
    if "minimum" in node:
        least = node["minimum"]
        checks.append(lambda x: not is_type(x, "number") or not x < least)
    if "maximum" in node:
        most = node["maximum"]
        checks.append(lambda x: not is_type(x, "number") or not x > most)
    if "format" in node:
        conforms, fmt = validator.format_checker.conforms, node["format"]
        known_texts: dict[str, bool] = {}  # dates repeat across records: each is checked once

        def check_format(x: Any) -> bool:
            if isinstance(x, str):
                answer = known_texts.get(x)
                if answer is None:
                    answer = conforms(x, fmt)
                    if len(known_texts) < 100_000:
                        known_texts[x] = answer
                return answer
            return conforms(x, fmt)  # type: ignore[no-any-return]

        checks.append(check_format)
    if "required" in node:
        needed = tuple(node["required"])

        def check_required(x: Any) -> bool:
            if isinstance(x, dict):
                for k in needed:
                    if k not in x:
                        return False
            return True

        checks.append(check_required)
    if "minItems" in node:
        fewest = node["minItems"]
        checks.append(lambda x: not isinstance(x, list) or len(x) >= fewest)
    if "maxItems" in node:
        most_items = node["maxItems"]
        checks.append(lambda x: not isinstance(x, list) or len(x) <= most_items)
    return checks


def _all_of(checks: list[Predicate]) -> Predicate:
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)

    def check_all(x: Any) -> bool:
        for check in every:  # noqa: SIM110 (a loop: all() over a generator costs more)
            if not check(x):
                return False
        return True

    return check_all


def _compile(node: Any, validator: Draft202012Validator) -> Predicate | None:
    """A predicate true exactly when jsonschema would find no error in an instance of ``node``
    (an inlined schema), or None when ``node`` uses a keyword it does not implement.

    Most records are valid: for them this answers in a few microseconds where jsonschema
    takes half a millisecond. An invalid record is validated again by jsonschema, whose
    errors are the ones reported, so the messages do not depend on this shortcut.
    """
    if node is True or node is False:
        answer: bool = node
        return lambda _instance: answer
    if not isinstance(node, dict):
        return None
    checks = _value_checks(node, validator)
    if checks is None:
        return None
    if "properties" in node:
        props: dict[str, Predicate] = {}
        for key, sub in node["properties"].items():
            compiled = _compile(sub, validator)
            if compiled is None:
                return None
            props[key] = compiled
        prop_checks = tuple(props.items())

        def check_properties(x: Any) -> bool:
            if isinstance(x, dict):
                for k, check in prop_checks:
                    if k in x and not check(x[k]):
                        return False
            return True

        checks.append(check_properties)
    if "additionalProperties" in node:
        extra = _compile(node["additionalProperties"], validator)
        if extra is None:
            return None
        known = frozenset(node.get("properties", {}))

        def check_additional(x: Any) -> bool:
            if isinstance(x, dict):
                for k, v in x.items():
                    if k not in known and not extra(v):
                        return False
            return True

        checks.append(check_additional)
    if "items" in node:
        item = _compile(node["items"], validator)
        if item is None:
            return None

        def check_items(x: Any) -> bool:
            if isinstance(x, list):
                for v in x:
                    if not item(v):
                        return False
            return True

        checks.append(check_items)
    if not checks:
        return lambda _instance: True
    return _all_of(checks)


def _coercer(node: Any, root: dict[str, Any], made: dict[int, Coercer]) -> Coercer:
    """A function that does what ``coerce(value, node, root)`` does, with the schema looked
    at once instead of for every value (references resolved, properties found)."""
    known = made.get(id(node))
    if known is not None:
        return known
    later: list[Coercer] = []  # a schema that refers to itself reaches this node again
    made[id(node)] = lambda value: later[0](value)
    schema = _resolve(node, root)
    kind = schema.get("type")
    props = {k: _coercer(sub, root, made) for k, sub in schema.get("properties", {}).items()}
    items = _coercer(schema.get("items", {}), root, made) if "items" in schema else None
    plain_items: Coercer | None = None

    def coerce_items(value: list[Any]) -> list[Any]:
        nonlocal plain_items
        if items is not None:
            return [items(v) for v in value]
        if plain_items is None:
            plain_items = _coercer({}, root, made)
        return [plain_items(v) for v in value]

    number = kind in ("number", "integer")
    integer = kind == "integer"
    boolean = kind == "boolean"

    def coerce_node(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: (props[k](v) if k in props else v) for k, v in value.items()}
        if isinstance(value, list):
            return coerce_items(value)
        if isinstance(value, str):
            if number and NUMBER_TEXT.match(value):
                try:
                    decimal = Decimal(value)
                except InvalidOperation:
                    return value
                if integer:
                    return int(decimal) if decimal == decimal.to_integral_value() else value
                return decimal
            if boolean and value in ("true", "false"):
                return value == "true"
        return value

    later.append(coerce_node)
    made[id(node)] = coerce_node
    return coerce_node


@dataclass(frozen=True)
class _Compiled:
    """What checking by one schema needs, built once for a run."""

    schema: dict[str, Any]
    validator: Draft202012Validator
    valid: Predicate | None  # see _compile
    coercer: Coercer | None  # see _coercer (None: coerce() itself)


_last_validator: _Compiled | None = None


def _validator(schema: dict[str, Any]) -> _Compiled:
    """A validator for ``schema``, its compiled check and its coercer."""
    global _last_validator
    if _last_validator is None or _last_validator.schema is not schema:
        checker = FormatChecker(formats=("date",))
        validator = Draft202012Validator(_inline(schema, schema), format_checker=checker)
        coercer: Coercer | None
        try:
            coercer = _coercer(schema, schema, {})
        except Exception:  # a schema coerce() would fail on only for some values
            coercer = None
        _last_validator = _Compiled(schema, validator, _compile(validator.schema, validator),
                                    coercer)
    return _last_validator


def check(doc: Document, schema: dict[str, Any]) -> Typed:
    """Type ``doc.data`` by ``schema``; keep every problem, line-tagged, and the broken paths."""
    if not isinstance(doc.data, dict):
        message = "a record must be a mapping of fields (name: value)"
        got = "a list" if isinstance(doc.data, list) else _describe(doc.data)
        return Typed(None, [Problem(doc.path, doc.line(()), f"{message}, not {got}")])
    compiled = _validator(schema)
    validator, valid, coercer = compiled.validator, compiled.valid, compiled.coercer
    data = coercer(doc.data) if coercer is not None else coerce(doc.data, schema, schema)
    errors = [] if valid is not None and valid(data) else list(validator.iter_errors(data))
    explained = set()  # (path, field) of a missing field that an unknown key's hint names
    for error in errors:
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = sorted(error.schema.get("properties", {}))
            absent = [k for k in allowed if k not in error.instance]
            for key in sorted(set(error.instance) - set(allowed))[:MAX_PER_FILE]:
                explained.add((tuple(error.absolute_path), suggest(key, allowed, prefer=absent)))
    problems: list[Problem] = []
    for error in errors:
        if error.validator == "required":
            missing = re.findall(r"'([^']+)' is a required property", error.message)
            if missing and (tuple(error.absolute_path), missing[0]) in explained:
                continue
        for line, message in _message(error, doc):
            problems.append(Problem(doc.path, line, message.strip()))
    broken = frozenset(tuple(e.absolute_path) for e in errors if e.validator not in _NOT_BREAKING)
    return Typed(data, sorted(set(problems)), broken)


def validate(doc: Document, schema: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """Type ``doc.data`` by ``schema`` and return it with every schema problem, line-tagged."""
    typed = check(doc, schema)
    return typed.data, typed.problems
