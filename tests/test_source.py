"""Reading YAML safely: scalars stay text; hostile or broken files become problems with lines."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from needs import skip_unless
from recordkit import VALID_RECORD, edit_record

from generator import schema, source
from generator import settings as settings_mod
from generator.errors import Problem

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(params=["libyaml", "pyyaml"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the C parser (when PyYAML has it) and with the pure-Python one."""
    if request.param == "libyaml":
        skip_unless(hasattr(yaml, "CSafeLoader"), "libyaml (PyYAML's C parser)")
        monkeypatch.setattr(source, "LOADER", yaml.CSafeLoader)
    else:
        monkeypatch.setattr(source, "LOADER", yaml.SafeLoader)
    return str(request.param)


def parse(text: str) -> tuple[source.Document | None, list[tuple[int, str]]]:
    doc, problems = source.parse_text(text, "record.yaml")
    assert all(p.path == "record.yaml" for p in problems)
    return doc, [(p.line, p.message) for p in problems]


def read(tmp_path: Path, content: bytes) -> list[tuple[int, str]]:
    path = tmp_path / "record.yaml"
    path.write_bytes(content)
    doc, problems = source.read_file(path, "record.yaml")
    if problems:
        assert doc is None or all("duplicate" in p.message for p in problems)
    return [(p.line, p.message) for p in problems]


def test_valid_record_reads_as_text_with_lines(loader: str) -> None:
    doc, problems = parse(VALID_RECORD)
    assert problems == [] and doc is not None
    assert doc.data["score"] == "96.5"
    assert doc.data["organization"]["region"] == "370212"
    assert doc.data["sample"] == "true"
    assert doc.line(("score",)) == 17
    assert doc.key_line(("organization",)) == 6
    assert doc.line(("audits", 0, "date")) == 22
    assert doc.line(("no", "such", "field")) == 3  # the nearest ancestor: the record itself


def test_malformed_yaml(loader: str) -> None:
    _, problems = parse(edit_record(VALID_RECORD, score="96.5: x"))
    assert len(problems) == 1
    line, message = problems[0]
    assert line == 17
    assert message.startswith("malformed YAML: mapping values are not allowed")


def test_malformed_yaml_names_where_the_bracket_opened(loader: str) -> None:
    _, problems = parse("a: 1\nb: [1, 2\nc: 3\n")
    ((line, message),) = problems
    assert line == 3
    assert message.startswith("malformed YAML: ")
    assert message.endswith("(while parsing a flow sequence, which starts at line 2)")


def test_duplicate_key_is_reported_and_the_first_value_kept(loader: str) -> None:
    doc, problems = parse(VALID_RECORD + "score: 80\n")
    assert problems == [(25, "duplicate key 'score' (first given at line 17)")]
    assert doc is not None and doc.data["score"] == "96.5"


def test_duplicate_nested_key(loader: str) -> None:
    text = VALID_RECORD.replace("  address:", "  name: 另一个名字\n  address:")
    _, problems = parse(text)
    assert problems == [(11, "duplicate key 'name' (first given at line 7)")]


def test_anchor_and_alias_are_refused(loader: str) -> None:
    text = edit_record(VALID_RECORD, organization__name="&n 青岛示例", organization__address="*n")
    doc, problems = parse(text)
    assert doc is None
    assert problems == [
        (7, "YAML anchor &n is not allowed"),
        (11, "YAML alias *n is not allowed; write the value out"),
    ]


def billion_laughs() -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    names = "abcdefghij"
    for previous, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused(loader: str, tmp_path: Path) -> None:
    # How fast: bench/bench_alias_bomb.py (a timing here would fail on a loaded machine).
    problems = read(tmp_path, billion_laughs().encode())
    assert problems[0] == (1, "YAML anchor &a is not allowed")
    assert problems[1] == (2, "YAML anchor &b is not allowed")
    assert [line for line, _ in problems] == list(range(1, 11))  # one problem a line, no flood


def test_deep_nesting_is_refused_without_recursion(loader: str) -> None:
    depth = 200
    _, problems = parse("a: " + "[" * depth + "]" * depth + "\n")
    ((line, message),) = problems
    assert line == 1
    assert "nest" in message


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        ('!!python/object/apply:os.system ["echo pwned"]', "!!python/object/apply:os.system"),
        ("!!python/object:builtins.dict {}", "!!python/object:builtins.dict"),
        ("!!str 青岛示例", "!!str"),
        ("!!binary aGVsbG8=", "!!binary"),
        ("!custom x", "!custom"),
    ],
)
def test_explicit_tags_are_refused(loader: str, value: str, tag: str) -> None:
    doc, problems = parse(edit_record(VALID_RECORD, organization__name=value))
    assert doc is None
    assert problems == [(7, f"YAML tag {tag} is not allowed; write plain values")]


@pytest.mark.parametrize(
    "word",
    ["no", "on", "off", "yes", "y", "012345", "3.10", "1e3", "2025-04-01", "0x1F", "1_000", ".inf"],
)
def test_yaml11_words_stay_the_text_that_was_typed(loader: str, word: str) -> None:
    doc, problems = parse(edit_record(VALID_RECORD, organization__name=word))
    assert problems == [] and doc is not None
    assert doc.data["organization"]["name"] == word


@pytest.mark.parametrize("value", ["", "~", "null", "Null", "NULL"])
def test_plain_null_words_are_empty(loader: str, value: str) -> None:
    doc, _ = parse(f"a: {value}\n")
    assert doc is not None and doc.data == {"a": None}


@pytest.mark.parametrize("value", ['""', "''", '"null"', "'~'"])
def test_quoted_null_words_are_text(loader: str, value: str) -> None:
    doc, _ = parse(f"a: {value}\n")
    assert doc is not None and doc.data == {"a": value[1:-1]}


def test_schema_types_3_10_as_the_number_written() -> None:
    doc, problems = parse(edit_record(VALID_RECORD, score="3.10"))
    assert problems == [] and doc is not None
    typed = schema.check(doc, settings_mod.load(REPO).schema)
    assert typed.data is not None
    assert isinstance(typed.data["score"], Decimal)
    assert str(typed.data["score"]) == "3.10"


def test_raw_control_character_names_its_line(loader: str) -> None:
    _, problems = parse(edit_record(VALID_RECORD, organization__name="青岛\x07示例"))
    assert problems == [(7, "character U+0007 is not allowed in YAML; remove it")]


def test_gbk_file_names_the_line_of_the_first_bad_byte(tmp_path: Path) -> None:
    problems = read(tmp_path, VALID_RECORD.encode("gbk"))
    # line 7 holds the first non-ASCII text, 青 = C7 E0 in GBK
    assert problems == [
        (7, "file is not UTF-8 (byte 0xc7) and looks like GBK/GB18030; save it as UTF-8")
    ]


def test_other_bad_bytes(tmp_path: Path) -> None:
    problems = read(tmp_path, b"number: ASC\nname: \xff\xfe\xfd\xfc\n")
    assert problems == [(2, "file is not UTF-8 (byte 0xff); save it as UTF-8")]


def test_utf8_bom_is_tolerated(loader: str, tmp_path: Path) -> None:
    assert read(tmp_path, b"\xef\xbb\xbf" + VALID_RECORD.encode()) == []


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# only a comment\n", b"---\n"])
def test_empty_file(loader: str, tmp_path: Path, content: bytes) -> None:
    assert read(tmp_path, content) == [(1, "file is empty")]


def test_multi_document_file(loader: str) -> None:
    doc, problems = parse(VALID_RECORD + "---\nnumber: ASC-2025-000124\n")
    assert doc is None
    assert problems == [(25, "a record file holds one YAML document; a second one starts here")]


def test_explicit_document_markers_are_fine(loader: str) -> None:
    doc, problems = parse("---\n" + VALID_RECORD + "...\n")
    assert problems == [] and doc is not None


def test_complex_key_is_reported(loader: str) -> None:
    doc, problems = parse("a: 1\n? [b, c]\n: 2\n")
    assert problems == [(2, "mapping keys must be plain words")]
    assert doc is not None and doc.data == {"a": "1"}


def test_file_too_large(tmp_path: Path) -> None:
    big = b"a: " + b"x" * (source.MAX_BYTES + 1) + b"\n"
    assert read(tmp_path, big) == [
        (1, f"file is larger than {source.MAX_BYTES} bytes; a record is a few KB")
    ]


def test_unreadable_path_is_a_problem_not_an_exception(tmp_path: Path) -> None:
    doc, problems = source.read_file(tmp_path / "missing.yaml", "missing.yaml")
    assert doc is None
    assert len(problems) == 1 and problems[0].message.startswith("cannot read file")


def test_plain_raises_input_error_with_problems(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("a: *b\n")
    with pytest.raises(Exception) as info:
        source.plain(path)
    assert info.value.problems == [
        Problem(str(path), 1, "YAML alias *b is not allowed; write the value out")
    ]
