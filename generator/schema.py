"""Type a text-only record by the published JSON Schema, then validate it with every error kept.

``source`` leaves every scalar as text. Here the schema decides which fields are numbers or
booleans, the text is converted where it is well formed, and ``jsonschema`` checks the result.
Its messages are rewritten for certification staff, each tied to the line of the field.
"""

from __future__ import annotations

import difflib
import re
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

from .errors import Problem
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


def _field(path: PathKey) -> str:
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


def _message(error: jsonschema.ValidationError, doc: Document) -> list[tuple[int, str]]:
    path: PathKey = tuple(error.absolute_path)
    name = _field(path)
    value = error.instance
    validator = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if validator == "required":
        missing = re.findall(r"'([^']+)' is a required property", error.message)
        what = missing[0] if missing else error.message
        where = _field((*path, what))
        return [(doc.line(path), f"missing required field '{where}'")]
    if validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        out = []
        for key in sorted(set(value) - set(allowed)):
            hint = difflib.get_close_matches(key, allowed, n=1)
            more = f" (did you mean '{hint[0]}'?)" if hint else f"; allowed here: {', '.join(allowed)}"
            out.append((doc.key_line((*path, key)), f"unknown field '{_field((*path, key))}'{more}"))
        return out
    line = doc.line(path)
    if value is None and validator == "type":
        return [(line, f"field '{name}' is empty: give a value or remove the line")]
    if validator == "type":
        want = schema.get("type")
        return [(line, f"field '{name}' must be {TYPE_WORDS.get(str(want), want)}, got {_describe(value)}")]
    if validator == "enum":
        options = ", ".join(str(o) for o in schema.get("enum", []))
        return [(line, f"field '{name}' is {_describe(value)}; it must be one of: {options}")]
    if validator == "format" and schema.get("format") == "date":
        if not re.fullmatch(schema.get("pattern", ".*"), str(value)):
            return []  # the pattern error already says how to write a date
        return [(line, f"field '{name}' is {_describe(value)}, which is not a real calendar date")]
    if validator == "pattern":
        if schema.get("format") == "date":
            return [(line, f"field '{name}' must be a date written YYYY-MM-DD, got {_describe(value)}")]
        hint = schema.get("description", "")
        return [(line, f"field '{name}' has an invalid value {_describe(value)}" + (f": {hint}" if hint else ""))]
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


def validate(doc: Document, schema: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """Type ``doc.data`` by ``schema`` and return it with every schema problem, line-tagged."""
    if not isinstance(doc.data, dict):
        return None, [Problem(doc.path, 1, "a record must be a mapping of fields (name: value)")]
    data = coerce(doc.data, schema, schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker(formats=("date",)))
    problems: list[Problem] = []
    for error in validator.iter_errors(data):
        for line, message in _message(error, doc):
            problems.append(Problem(doc.path, line, message.strip()))
    return data, sorted(set(problems))
