"""`starmark validate`: every bad input is refused with path:line: message, all in one run.

Each test edits one thing in the valid record of ``conftest`` and names the exact line and text
of what validation says, so that a vague or misplaced message is a failing test.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner
from recordkit import VALID_RECORD, MakeRecord, edit_record

from generator import load, rules, schema
from generator import settings as settings_mod
from generator.cli import cli
from generator.errors import Problem
from generator.settings import Settings

REPO = Path(__file__).resolve().parent.parent
NAME_LINE, CODE_LINE, REGION_LINE = 7, 9, 10
NUMBER_LINE, STATUS_LINE, INDUSTRY_LINE = 3, 4, 12
SCORE_LINE, LEVEL_LINE, ISSUED_LINE, EXPIRES_LINE = 17, 18, 19, 20
LEVELS = "five-star, four-star, three-star, compliant"
AUDIT_LINE = 22  # the first audit; with two audits the second is 23, events 24, first event 25


@pytest.fixture(scope="module")
def settings() -> Settings:
    return settings_mod.load(REPO)


def check(path: Path, settings: Settings) -> list[tuple[int, str]]:
    """Every problem of one record file, as (line, message)."""
    _, _, problems = load.check_file(path, path.name, settings)
    assert all(p.path == path.name for p in problems)
    return [(p.line, p.message) for p in problems]


def audit(date: str, score: Any, kind: str = "initial", result: str = "pass") -> str:
    return f"{{date: {date}, kind: {kind}, score: {score}, result: {result}}}"


def event(date: str, kind: str, reason: str | None = None) -> str:
    return f"{{date: {date}, kind: {kind}" + (f", reason: {reason}" if reason else "") + "}"


def rewrite(path: Path, old: str, new: str) -> Path:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


# --- the valid record and the repository ------------------------------------------------------


def test_the_valid_record_is_valid(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(), settings) == []


def test_the_repository_records_are_valid() -> None:
    found, good, problems = load.validate(REPO)
    assert problems == []
    assert found is not None and good


# --- YAML-level problems arrive as file:line through validation -------------------------------


def test_malformed_yaml(make_record: MakeRecord, settings: Settings) -> None:
    [(line, message)] = check(make_record(score="96.5: x"), settings)
    assert (line, message.split(":")[0]) == (SCORE_LINE, "malformed YAML")


def test_duplicate_key_and_the_rest_is_still_checked(
    make_record: MakeRecord, settings: Settings
) -> None:
    path = make_record(organization__region="999999")
    rewrite(path, "level: five-star\n", "level: five-star\nscore: 80\n")
    assert check(path, settings) == [
        (REGION_LINE, "unknown region code 999999 (GB/T 2260; see registry/regions.yaml)"),
        (19, "duplicate key 'score' (first given at line 17)"),
    ]


def test_alias_is_refused(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(organization__name="&org 青岛示例", organization__address="*org")
    assert check(path, settings) == [
        (NAME_LINE, "YAML anchor &org is not allowed"),
        (11, "YAML alias *org is not allowed; write the value out"),
    ]


def test_python_tag_is_refused(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(organization__name='!!python/object/apply:os.system ["touch pwned"]')
    assert check(path, settings) == [
        (NAME_LINE, "YAML tag !!python/object/apply:os.system is not allowed; write plain values")
    ]
    assert not Path("pwned").exists()


def test_gbk_file(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(_raw=VALID_RECORD.encode("gbk"))
    assert check(path, settings) == [
        (NAME_LINE, "file is not UTF-8 (byte 0xc7) and looks like GBK/GB18030; save it as UTF-8")
    ]


def test_empty_file(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(_raw=""), settings) == [(1, "file is empty")]


def test_list_instead_of_mapping(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(_raw="- number: ASC-2025-000123\n- status: valid\n")
    assert check(path, settings) == [
        (1, "a record must be a mapping of fields (name: value), not a list")
    ]


def test_multi_document_file(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(_raw=VALID_RECORD + "---\n" + VALID_RECORD)
    assert check(path, settings) == [
        (25, "a record file holds one YAML document; a second one starts here")
    ]


# --- YAML 1.1 coercions -------------------------------------------------------------------------


@pytest.mark.parametrize("word", ["no", "on", "off", "yes", "012345", "3.10", "null-ish"])
def test_a_name_that_yaml_11_would_coerce_stays_text(
    make_record: MakeRecord, settings: Settings, word: str
) -> None:
    data, _, problems = load.check_file(make_record(organization__name=word), "r", settings)
    assert problems == []
    assert data is not None and data["organization"]["name"] == word


def test_unquoted_region_with_leading_zero_is_text_and_an_unknown_region(
    make_record: MakeRecord, settings: Settings
) -> None:
    assert check(make_record(organization__region="012345"), settings) == [
        (REGION_LINE, "unknown region code 012345 (GB/T 2260; see registry/regions.yaml)")
    ]


def test_score_3_10_is_the_number_3_10(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(score="3.10", audits=[audit("2025-03-10", "3.10")])
    assert check(path, settings) == [
        (SCORE_LINE, "score 3.10 is below 70: not certifiable"),
        (AUDIT_LINE, "an audit scoring 3.10 (below 70) cannot pass"),
    ]


def test_yes_is_not_a_boolean(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(sample="yes"), settings) == [
        (5, "field 'sample' must be true or false, got 'yes'")
    ]


def test_on_is_not_a_status(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(status="on"), settings) == [
        (
            STATUS_LINE,
            "field 'status' is 'on'; it must be one of: valid, suspended, withdrawn, cancelled",
        )
    ]


# --- fields: unknown, missing, wrong type, impossible date -------------------------------------


def test_misspelt_field_suggests_the_closest(make_record: MakeRecord, settings: Settings) -> None:
    path = rewrite(make_record(), "scope:", "scpoe:")
    assert check(path, settings) == [(13, "unknown field 'scpoe' (did you mean 'scope'?)")]


def test_misspelt_nested_field(make_record: MakeRecord, settings: Settings) -> None:
    path = rewrite(make_record(), "  name:", "  nmae:")
    assert check(path, settings) == [
        (NAME_LINE, "unknown field 'organization.nmae' (did you mean 'name'?)")
    ]


def test_unknown_field_lists_what_is_allowed(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(scope__colour="red")
    assert check(path, settings) == [(16, "unknown field 'scope.colour'; allowed here: en, zh")]


@pytest.mark.parametrize(
    ("word", "options", "expected"),
    [
        ("scpoe", ["score", "scope", "standard"], "scope"),
        ("socre", ["score", "scope"], "score"),
        ("isued", ["issued", "expires"], "issued"),
        ("adress", ["address", "address_en"], "address"),
        ("Level", ["level", "levels"], "level"),
        ("zzzz", ["score", "scope"], None),
    ],
)
def test_suggest(word: str, options: list[str], expected: str | None) -> None:
    assert schema.suggest(word, options) == expected


def test_suggest_prefers_a_missing_field_on_a_tie() -> None:
    assert schema.suggest("nam", ["name", "nap"], prefer=["nap"]) == "nap"


def test_missing_required_field(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(level=None), settings) == [
        (NUMBER_LINE, "missing required field 'level'")
    ]


def test_missing_nested_field_names_its_parent_line(
    make_record: MakeRecord, settings: Settings
) -> None:
    assert check(make_record(organization__region=None), settings) == [
        (6, "missing required field 'organization.region'")
    ]


def test_empty_value(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(industry=""), settings) == [
        (INDUSTRY_LINE, "field 'industry' is empty: give a value or remove the line")
    ]


def test_wrong_type_number(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(score="abc"), settings) == [
        (SCORE_LINE, "field 'score' must be a number, got 'abc'")
    ]


def test_wrong_type_mapping(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(organization="青岛示例"), settings) == [
        (6, "field 'organization' must be a mapping of fields, got '青岛示例'")
    ]


def test_wrong_type_list(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(events="{date: 2025-04-01, kind: issued}")
    assert check(path, settings) == [(23, "field 'events' must be a list, got a mapping")]


def test_impossible_date(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(issued="2025-02-30"), settings) == [
        (ISSUED_LINE, "field 'issued' is '2025-02-30', which is not a real calendar date")
    ]


def test_badly_written_date(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(expires="2028/03/31"), settings) == [
        (EXPIRES_LINE, "field 'expires' must be a date written YYYY-MM-DD, got '2028/03/31'")
    ]


# --- the number ------------------------------------------------------------------------------


def test_number_differs_from_file_name(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(number="ASC-2025-000124"), settings) == [
        (NUMBER_LINE, "number ASC-2025-000124 differs from the file name ASC-2025-000123.yaml")
    ]


def test_number_breaks_registry_format(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(_path="2025/ASC-25-000123.yaml"), settings) == [
        (
            NUMBER_LINE,
            "number ASC-25-000123 does not follow the registry format (e.g. ASC-2025-000123)",
        )
    ]


SCHEMA_NUMBER_HINT = (
    "Certificate number, ASCII, equal to the file name; format set in registry/registry.yaml "
    "(number.pattern)."
)


@pytest.mark.parametrize(
    "number",
    [
        "../ASC-2025-000123",
        "ASC/2025/000123",
        "..",
        "ASC-2025-000123/..",
        "/etc/passwd",
        "ASC 2025",
    ],
)
def test_number_that_could_leave_the_output_folder(
    make_record: MakeRecord, settings: Settings, number: str
) -> None:
    assert check(make_record(number=f'"{number}"'), settings) == [
        (NUMBER_LINE, f"field 'number' has an invalid value '{number}': {SCHEMA_NUMBER_HINT}")
    ]


def validate_problems(root: Path, paths: tuple[Path, ...] = ()) -> list[Problem]:
    settings, _, problems = load.validate(root, paths)
    assert settings is not None
    return problems


def test_duplicate_number(sample_root: Path, make_record: MakeRecord) -> None:
    make_record()
    make_record(_path="2024/ASC-2025-000123.yaml")
    assert validate_problems(sample_root) == [
        Problem(
            "certificates/2025/ASC-2025-000123.yaml",
            NUMBER_LINE,
            "number ASC-2025-000123 is already used by certificates/2024/ASC-2025-000123.yaml:3",
        )
    ]


def test_duplicate_number_after_case_folding(sample_root: Path, make_record: MakeRecord) -> None:
    make_record()
    make_record(_path="2025/asc-2025-000123.yaml")
    assert [str(p) for p in validate_problems(sample_root)] == [
        "certificates/2025/asc-2025-000123.yaml:3: number asc-2025-000123 does not follow the "
        "registry format (e.g. ASC-2025-000123)",
        "certificates/2025/asc-2025-000123.yaml:3: number asc-2025-000123 is already used as "
        "ASC-2025-000123 (case and full-width forms count as the same) by "
        "certificates/2025/ASC-2025-000123.yaml:3",
    ]


def test_duplicate_number_after_nfkc(sample_root: Path, make_record: MakeRecord) -> None:
    make_record()
    make_record(_path="2025/ＡＳＣ-2025-000123.yaml")
    path = "certificates/2025/ＡＳＣ-2025-000123.yaml"
    assert validate_problems(sample_root) == [
        Problem(
            path,
            3,
            f"field 'number' has an invalid value 'ＡＳＣ-2025-000123': {SCHEMA_NUMBER_HINT}",
        ),
        Problem(
            path,
            3,
            "number ＡＳＣ-2025-000123 is already used as ASC-2025-000123 (case and full-width "
            "forms count as the same) by certificates/2025/ASC-2025-000123.yaml:3",
        ),
    ]


def test_duplicate_found_when_validating_one_file(
    sample_root: Path, make_record: MakeRecord
) -> None:
    make_record()
    new = make_record(_path="2026/ASC-2025-000123.yaml")
    assert validate_problems(sample_root, (new,)) == [
        Problem(
            "certificates/2026/ASC-2025-000123.yaml",
            NUMBER_LINE,
            "number ASC-2025-000123 is already used by certificates/2025/ASC-2025-000123.yaml:3",
        )
    ]


def test_records_without_numbers_do_not_clash(sample_root: Path, make_record: MakeRecord) -> None:
    make_record(number=None)
    make_record(_path="2024/ASC-2024-999999.yaml", number="")
    messages = [p.message for p in validate_problems(sample_root)]
    assert messages == [
        "field 'number' is empty: give a value or remove the line",  # certificates/2024/
        "missing required field 'number'",  # certificates/2025/
    ]


# --- escaping certificates/ ------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_record_linked_from_outside(sample_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(edit_record(VALID_RECORD, number="ASC-2025-000999"), encoding="utf-8")
    (sample_root / "certificates" / "2025" / "ASC-2025-000999.yaml").symlink_to(outside)
    assert validate_problems(sample_root) == [
        Problem(
            "certificates/2025/ASC-2025-000999.yaml",
            1,
            "record is a link to a file outside certificates/",
        )
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_record_linked_from_outside_given_by_path(sample_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.yaml"
    outside.write_text(edit_record(VALID_RECORD, number="ASC-2025-000999"), encoding="utf-8")
    link = sample_root / "certificates" / "ASC-2025-000999.yaml"
    link.symlink_to(outside)
    assert validate_problems(sample_root, (link,)) == [
        Problem(
            "certificates/ASC-2025-000999.yaml",
            1,
            "record is a link to a file outside certificates/",
        )
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_folder_linked_from_outside(sample_root: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "ASC-2025-000999.yaml").write_text(
        edit_record(VALID_RECORD, number="ASC-2025-000999"), encoding="utf-8"
    )
    (sample_root / "certificates" / "linked").symlink_to(outside, target_is_directory=True)
    assert validate_problems(sample_root) == [
        Problem("certificates/linked", 0, "folder is a link to a place outside certificates/")
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_link_inside_certificates_is_a_duplicate_not_an_escape(
    sample_root: Path, make_record: MakeRecord
) -> None:
    real = make_record()
    (real.parent / "copy.yaml").symlink_to(real)
    messages = [str(p) for p in validate_problems(sample_root)]
    assert messages == [
        "certificates/2025/copy.yaml:3: number ASC-2025-000123 differs from the file name "
        "copy.yaml",
        "certificates/2025/copy.yaml:3: number ASC-2025-000123 is already used by "
        "certificates/2025/ASC-2025-000123.yaml:3",
    ]


@pytest.mark.parametrize(
    "industry", ["../etc", "a/b", "..", "household-appliances/../x", "Household"]
)
def test_industry_with_path_characters(
    make_record: MakeRecord, settings: Settings, industry: str
) -> None:
    assert check(make_record(industry=f'"{industry}"'), settings) == [
        (
            INDUSTRY_LINE,
            f"field 'industry' has an invalid value '{industry}': A key of "
            "registry/industries.yaml: lower-case ASCII letters, digits and '-' "
            "(it becomes part of URLs).",
        )
    ]


def test_industry_key_with_path_characters_in_registry(sample_root: Path) -> None:
    industries = sample_root / "registry" / "industries.yaml"
    industries.write_text(
        industries.read_text(encoding="utf-8") + '"../evil": {zh: 坏, en: Evil}\n', encoding="utf-8"
    )
    line = industries.read_text(encoding="utf-8").count("\n")
    assert validate_problems(sample_root) == [
        Problem(
            "registry/industries.yaml",
            line,
            "key '../evil' must match ^[a-z0-9-]+$: it becomes part of URLs",
        )
    ]


def test_yml_files_are_refused(sample_root: Path) -> None:
    (sample_root / "certificates" / "2025" / "ASC-2025-000999.yml").write_text("x: y\n")
    assert validate_problems(sample_root) == [
        Problem(
            "certificates/2025/ASC-2025-000999.yml", 1, "record files must end in .yaml, not .yml"
        )
    ]


# --- score and level -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "level"),
    [
        ("95.0", "five-star"),
        ("95", "five-star"),
        ("100", "five-star"),
        ("94.9", "four-star"),
        ("90", "four-star"),
        ("89.99", "three-star"),
        ("80", "three-star"),
        ("70", "compliant"),
        ("79.9", "compliant"),
    ],
)
def test_score_boundaries_inclusive(
    make_record: MakeRecord, settings: Settings, score: str, level: str
) -> None:
    path = make_record(score=score, level=level, audits=[audit("2025-03-10", score)])
    assert check(path, settings) == []


def test_level_disagrees_with_score(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(score="94.9", level="five-star", audits=[audit("2025-03-10", "94.9")])
    assert check(path, settings) == [
        (
            LEVEL_LINE,
            "level five-star disagrees with score 94.9, which earns four-star (四星级, 90 or more)",
        )
    ]


def test_score_below_the_pass_mark(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(score="69.9", level="compliant", audits=[audit("2025-03-10", "69.9")])
    assert check(path, settings) == [
        (SCORE_LINE, "score 69.9 is below 70: not certifiable"),
        (AUDIT_LINE, "an audit scoring 69.9 (below 70) cannot pass"),
    ]


def test_score_above_the_maximum(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(score="100.5", audits=[audit("2025-03-10", "100.5")])
    assert check(path, settings) == [
        (SCORE_LINE, "score 100.5 is above the maximum score 100"),
        (AUDIT_LINE, "audit score 100.5 is above the maximum 100"),
    ]


def test_unknown_level(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(level="six-star"), settings) == [
        (
            LEVEL_LINE,
            f"unknown level 'six-star'; expected one of: {LEVELS}",
        )
    ]


def test_score_differs_from_the_latest_audit(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(score="97"), settings) == [
        (SCORE_LINE, "score 97 differs from the latest passed audit's score 96.5 (2025-03-10)")
    ]


def test_thresholds_come_from_the_registry(sample_root: Path, make_record: MakeRecord) -> None:
    registry = sample_root / "registry" / "registry.yaml"
    text = registry.read_text(encoding="utf-8")
    registry.write_text(text.replace("min_score: 95", "min_score: 97"), encoding="utf-8")
    make_record()
    mine = [p for p in validate_problems(sample_root) if p.path.endswith("/ASC-2025-000123.yaml")]
    assert mine == [
        Problem(
            "certificates/2025/ASC-2025-000123.yaml",
            LEVEL_LINE,
            "level five-star disagrees with score 96.5, which earns four-star (四星级, 90 or more)",
        )
    ]


# --- validity, surveillance, status and events ---------------------------------------------


def test_validity_other_than_three_years(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(expires="2028-04-01"), settings) == [
        (
            EXPIRES_LINE,
            "expires 2028-04-01 does not give the scheme's 3-year validity: a certificate issued "
            "2025-04-01 expires 2028-03-31",
        )
    ]


def test_surveillance_gap_while_valid(make_record: MakeRecord, settings: Settings) -> None:
    audits = [audit("2025-03-10", "96.5"), audit("2026-04-10", "96.5", "surveillance")]
    assert check(make_record(audits=audits), settings) == [
        (
            23,
            "396 days between audits (2025-03-10 to 2026-04-10) while the certificate was valid: "
            "surveillance is due every 12 months (grace 30 days)",
        )
    ]


def test_surveillance_on_the_last_day_of_grace(make_record: MakeRecord, settings: Settings) -> None:
    audits = [audit("2025-03-10", "96.5"), audit("2026-04-09", "96.5", "surveillance")]
    assert check(make_record(audits=audits), settings) == []


def test_no_gap_while_suspended_in_time(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        status="suspended",
        audits=[audit("2025-03-10", "96.5"), audit("2026-06-01", "60", "surveillance", "fail")],
        events=[
            event("2025-04-01", "issued"),
            event("2026-03-20", "suspended", "监督审核未按期进行"),
        ],
    )
    assert check(path, settings) == []


def test_gap_before_a_late_suspension(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        status="suspended",
        audits=[audit("2025-03-10", "96.5"), audit("2026-06-01", "60", "surveillance", "fail")],
        events=[
            event("2025-04-01", "issued"),
            event("2026-05-01", "suspended", "监督审核未按期进行"),
        ],
    )
    assert check(path, settings) == [
        (
            23,
            "448 days between audits (2025-03-10 to 2026-06-01) while the certificate was valid: "
            "surveillance is due every 12 months (grace 30 days)",
        )
    ]


def test_failed_audit_leaves_status_valid(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        audits=[audit("2025-03-10", "96.5"), audit("2026-03-01", "60", "surveillance", "fail")]
    )
    assert check(path, settings) == [
        (
            STATUS_LINE,
            "the latest audit (2026-03-01) failed but the status is valid: record a suspension",
        )
    ]


def test_suspended_without_an_event(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(status="suspended"), settings) == [
        (
            STATUS_LINE,
            "status is suspended but no 'suspended' event (with date and reason) records it",
        )
    ]


def test_suspension_without_reason(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        status="suspended", events=[event("2025-04-01", "issued"), event("2025-06-01", "suspended")]
    )
    assert check(path, settings) == [
        (
            STATUS_LINE,
            "status is suspended but no 'suspended' event (with date and reason) records it",
        ),
        (25, "a 'suspended' event needs a reason"),
    ]


def test_withdrawn_without_reason(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        status="withdrawn", events=[event("2025-04-01", "issued"), event("2025-06-01", "withdrawn")]
    )
    assert check(path, settings) == [
        (
            STATUS_LINE,
            "status is withdrawn but no 'withdrawn' event (with date and reason) records it",
        ),
        (25, "a 'withdrawn' event needs a reason"),
    ]


def test_reinstating_a_withdrawn_certificate(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        events=[
            event("2025-04-01", "issued"),
            event("2025-06-01", "withdrawn", "拒绝监督检查"),
            event("2025-07-01", "reinstated"),
        ]
    )
    assert check(path, settings) == [
        (STATUS_LINE, "status is valid but the event history leads to withdrawn"),
        (26, "a withdrawn certificate is final: 'reinstated' cannot follow"),
    ]


def test_events_out_of_order(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        events=[
            event("2025-04-01", "issued"),
            event("2025-08-01", "suspended", "整改未完成"),
            event("2025-07-01", "reinstated"),
        ]
    )
    assert check(path, settings) == [
        (26, "event dated 2025-07-01 comes before the previous one (2025-08-01)")
    ]


def test_suspension_longer_than_six_months(make_record: MakeRecord, settings: Settings) -> None:
    path = make_record(
        events=[
            event("2025-04-01", "issued"),
            event("2025-06-01", "suspended", "整改未完成"),
            event("2025-12-02", "reinstated"),
        ]
    )
    assert check(path, settings) == [
        (
            26,
            "suspension from 2025-06-01 lasted past 2025-12-01 (at most 6 months); "
            "it should have been withdrawn",
        )
    ]


def test_reinstated_on_the_last_day_of_suspension(
    make_record: MakeRecord, settings: Settings
) -> None:
    path = make_record(
        events=[
            event("2025-04-01", "issued"),
            event("2025-06-01", "suspended", "整改未完成"),
            event("2025-12-01", "reinstated"),
        ]
    )
    assert check(path, settings) == []


def test_first_event_must_be_issued(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(events=[event("2025-04-01", "surveillance")]), settings) == [
        (24, "the first event must be 'issued', not 'surveillance'")
    ]


def test_issued_before_the_issued_event(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(events=[event("2025-05-01", "issued")]), settings) == [
        (ISSUED_LINE, "issued 2025-04-01 is before the 'issued' event (2025-05-01)")
    ]


# --- registry keys and identifiers ----------------------------------------------------------


def test_unknown_industry(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(industry="space-travel"), settings) == [
        (INDUSTRY_LINE, "unknown industry 'space-travel' (see registry/industries.yaml)")
    ]


def test_unknown_region(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(organization__region='"999999"'), settings) == [
        (REGION_LINE, "unknown region code 999999 (GB/T 2260; see registry/regions.yaml)")
    ]


def test_unknown_standard(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(standard="ISO 9001"), settings) == [
        (16, "unknown standard 'ISO 9001'; expected one of: GB/T 27922-2011")
    ]


def test_credit_code_check_character(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(organization__credit_code="91370200MA3C5ABC1H"), settings) == [
        (
            CODE_LINE,
            "unified social credit code 91370200MA3C5ABC1H fails its check: the last character "
            "should be G; look for a typo",
        )
    ]


def test_credit_code_with_letters_outside_the_alphabet(
    make_record: MakeRecord, settings: Settings
) -> None:
    [(line, message)] = check(make_record(organization__credit_code="91370200MA3C5ABCIO"), settings)
    assert line == CODE_LINE
    assert message.startswith(
        "field 'organization.credit_code' has an invalid value '91370200MA3C5ABCIO'"
    )


@pytest.mark.parametrize(
    ("escaped", "code", "name"),
    [
        ("\\u202e", "202E", "RIGHT-TO-LEFT OVERRIDE"),
        ("\\u2066", "2066", "LEFT-TO-RIGHT ISOLATE"),
        ("\\u200b", "200B", "ZERO WIDTH SPACE"),
        ("\\u200d", "200D", "ZERO WIDTH JOINER"),
        ("\\ufeff", "FEFF", "ZERO WIDTH NO-BREAK SPACE"),
        ("\\x07", "0007", "control character"),
        ("\\x1b", "001B", "control character"),
        ("\\u2028", "2028", "LINE SEPARATOR"),
    ],
)
def test_invisible_characters_in_names(
    make_record: MakeRecord, settings: Settings, escaped: str, code: str, name: str
) -> None:
    path = make_record(organization__name=f'"青岛{escaped}示例电器"')
    assert check(path, settings) == [
        (NAME_LINE, f"field 'organization.name' contains an invisible character U+{code} ({name})")
    ]


def test_raw_bidi_override_in_a_name(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(organization__name="青岛\u202e示例"), settings) == [
        (
            NAME_LINE,
            "field 'organization.name' contains an invisible character U+202E "
            "(RIGHT-TO-LEFT OVERRIDE)",
        )
    ]


def test_line_break_in_a_name(make_record: MakeRecord, settings: Settings) -> None:
    assert check(make_record(organization__name='"青岛\\n示例"'), settings) == [
        (NAME_LINE, "field 'organization.name' contains a line break; write it on one line")
    ]


def test_markup_in_a_name_is_kept_as_literal_text(
    make_record: MakeRecord, settings: Settings
) -> None:
    name = "<script>alert('x')</script>&amp;"
    data, _, problems = load.check_file(make_record(organization__name=f'"{name}"'), "r", settings)
    assert problems == []
    assert data is not None and data["organization"]["name"] == name


# --- every problem in one run -------------------------------------------------------------------


def test_schema_and_rule_errors_are_reported_together(
    make_record: MakeRecord, settings: Settings
) -> None:
    path = make_record(
        score="abc",
        organization__region="999999",
        organization__credit_code="91370200MA3C5ABC1H",
        issued="2025-02-30",
        level="six-star",
    )
    assert check(path, settings) == [
        (
            CODE_LINE,
            "unified social credit code 91370200MA3C5ABC1H fails its check: the last "
            "character should be G; look for a typo",
        ),
        (REGION_LINE, "unknown region code 999999 (GB/T 2260; see registry/regions.yaml)"),
        (SCORE_LINE, "field 'score' must be a number, got 'abc'"),
        (
            LEVEL_LINE,
            f"unknown level 'six-star'; expected one of: {LEVELS}",
        ),
        (ISSUED_LINE, "field 'issued' is '2025-02-30', which is not a real calendar date"),
    ]


def test_a_broken_audit_skips_only_the_rules_that_read_audits(
    make_record: MakeRecord, settings: Settings
) -> None:
    path = make_record(
        audits=["{date: 2025-03-10, kind: initial, score: 96.5}"], status="suspended"
    )
    assert check(path, settings) == [
        (
            STATUS_LINE,
            "status is suspended but no 'suspended' event (with date and reason) records it",
        ),
        (AUDIT_LINE, "missing required field 'audits[0].result'"),
    ]


def test_rule_needs_are_fields_of_the_schema(settings: Settings) -> None:
    for registered in rules.RULES:
        for need in registered.needs:
            node: Any = settings.schema
            for part in need:
                node = schema._resolve(node, settings.schema)["properties"][part]
            assert node, need


def test_a_rule_that_crashes_is_not_hidden(
    make_record: MakeRecord, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(data: Any, doc: Any, s: Any, stem: str) -> Iterator[Any]:
        raise RuntimeError("bug in a rule")
        yield

    monkeypatch.setattr(rules, "RULES", [*rules.RULES, rules.Registered(broken, (("score",),))])
    with pytest.raises(RuntimeError, match="bug in a rule"):
        check(make_record(), settings)


WRONG_VALUES = ["~", '""', "[]", "{}", "{a: b}", "[1, 2]", "x", "-1", "2025-02-30", "1e9", "true"]
FIELDS = [
    "number",
    "status",
    "sample",
    "organization",
    "organization__name",
    "organization__credit_code",
    "organization__region",
    "industry",
    "scope",
    "scope__zh",
    "standard",
    "score",
    "level",
    "issued",
    "expires",
    "audits",
    "events",
]


@pytest.mark.parametrize("field", FIELDS)
def test_any_wrong_value_is_a_problem_never_a_crash(
    make_record: MakeRecord, settings: Settings, field: str
) -> None:
    for value in WRONG_VALUES:
        problems = check(make_record(**{field: value}), settings)
        assert all(line > 0 and message for line, message in problems)


@pytest.mark.parametrize(
    "items",
    [
        ["x"],
        ["{}"],
        ["[]"],
        ["~"],
        ["{date: x, kind: y}"],
        ["{date: 2025-02-30, kind: issued}"],
        ["{date: 2025-04-01, kind: issued, reason: {a: b}}"],
        ["{date: 2025-04-01, kind: issued, score: x}"],
    ],
)
def test_any_wrong_list_item_is_a_problem_never_a_crash(
    make_record: MakeRecord, settings: Settings, items: list[str]
) -> None:
    assert check(make_record(audits=items), settings)
    assert check(make_record(events=items), settings)


# --- the command line ---------------------------------------------------------------------------


def run(root: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--root", str(root), "validate", *args])


def test_cli_exit_0_on_the_repository_records(sample_root: Path) -> None:
    result = run(sample_root)
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert re.fullmatch(r"\d+ records? valid\n", result.stderr)


BAD_RECORDS: dict[str, dict[str, Any]] = {
    "2025/ASC-2025-000901.yaml": {"score": "abc"},
    "2025/ASC-2025-000902.yaml": {"organization__region": "012345"},
    "2025/ASC-2025-000903.yaml": {"issued": "2025-02-30", "level": "six-star"},
    "2025/ASC-2025-000904.yaml": {"_raw": VALID_RECORD.encode("gbk")},
    "2025/ASC-2025-000905.yaml": {"_raw": ""},
    "2025/ASC-2025-000906.yaml": {"_raw": "- a\n- b\n"},
    "2025/ASC-2025-000907.yaml": {"organization__name": "&a x", "organization__address": "*a"},
    "2025/ASC-2025-000908.yaml": {"status": "suspended"},
    "2025/ASC-2025-000909.yaml": {"organization__name": '"\\u202e"'},
}


def test_cli_reports_every_bad_record_in_one_run(
    sample_root: Path, make_record: MakeRecord
) -> None:
    for path, fields in BAD_RECORDS.items():
        make_record(_path=path, **fields)
    result = run(sample_root)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines and all(
        re.fullmatch(r"certificates/[^:]+\.yaml:[1-9][0-9]*: \S.*", line) for line in lines
    ), lines
    reported = {line.split(":")[0] for line in lines}
    assert reported == {f"certificates/{path}" for path in BAD_RECORDS}
    assert (
        "certificates/2025/ASC-2025-000903.yaml:19: field 'issued' is '2025-02-30', "
        "which is not a real calendar date" in lines
    )
    assert (
        f"certificates/2025/ASC-2025-000903.yaml:18: unknown level 'six-star'; expected one of: "
        f"{LEVELS}" in lines
    )
    assert result.stderr == f"{len(lines)} problems in {len(BAD_RECORDS)} files\n"


def test_cli_validates_given_paths_only(sample_root: Path, make_record: MakeRecord) -> None:
    bad = make_record(_path="2025/ASC-2025-000901.yaml", score="abc")
    make_record(_path="2025/ASC-2025-000902.yaml", status="suspended")
    result = run(sample_root, str(bad))
    assert result.exit_code == 1
    assert (
        result.stdout
        == "certificates/2025/ASC-2025-000901.yaml:17: field 'score' must be a number, got 'abc'\n"
    )
    assert result.stderr == "1 problem in 1 file\n"


def test_cli_names_a_missing_path(sample_root: Path) -> None:
    result = run(sample_root, str(sample_root / "certificates" / "nope.yaml"))
    assert result.exit_code == 1
    assert result.stdout == "certificates/nope.yaml: no such file or folder\n"


def test_typed_score_keeps_its_digits(make_record: MakeRecord, settings: Settings) -> None:
    data, _, _ = load.check_file(
        make_record(score="96.50", audits=[audit("2025-03-10", "96.50")]), "r", settings
    )
    assert data is not None and data["score"] == Decimal("96.50") and str(data["score"]) == "96.50"


# --- the record cache ----------------------------------------------------------------------------


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The display path of every record file that validation checks (not taken from a cache)."""
    checked: list[str] = []
    check_file = load.check_file

    def counting(path: Path, display: str, settings: Settings) -> Any:
        checked.append(display)
        return check_file(path, display, settings)

    monkeypatch.setattr(load, "check_file", counting)
    return checked


def _same_size_edit(path: Path, old: str, new: str) -> None:
    """Change the file's content, keep its size and its modification time (as cp -p,
    rsync -t or an editor that keeps times can)."""
    assert len(old.encode()) == len(new.encode())
    before = path.stat()
    rewrite(path, old, new)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def test_cache_rechecks_only_changed_records(
    sample_root: Path, make_record: MakeRecord, counted: list[str], tmp_path: Path
) -> None:
    record = make_record()
    cache = tmp_path / "cache"
    _, good, problems = load.validate(sample_root, cache_dir=cache)
    assert problems == [] and len(counted) == len(good) > 1
    counted.clear()
    _, again, problems = load.validate(sample_root, cache_dir=cache)
    assert problems == [] and counted == []
    assert [(data, doc.path, doc.line(("number",))) for data, doc in again] == [
        (data, doc.path, doc.line(("number",))) for data, doc in good
    ]
    rewrite(record, "score: 96.5\n", "score: 96.6\n")
    _, _, problems = load.validate(sample_root, cache_dir=cache)
    assert counted == ["certificates/2025/ASC-2025-000123.yaml"]
    assert [p.message for p in problems] == [
        "score 96.6 differs from the latest passed audit's score 96.5 (2025-03-10)"
    ]


def test_cache_rechecks_a_record_changed_with_the_same_size_and_mtime(
    sample_root: Path, make_record: MakeRecord, counted: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stat stands for the content only while the ctime is the stored one: a change that
    keeps size and mtime still changes the ctime."""
    monkeypatch.setattr(load, "RACY_NS", -(10**18))  # every stat looks old enough to trust
    record = make_record()
    cache = tmp_path / "cache"
    assert load.validate(sample_root, cache_dir=cache)[2] == []
    counted.clear()
    assert load.validate(sample_root, cache_dir=cache)[2] == []
    assert counted == []  # the stats were trusted: nothing was read or checked
    time.sleep(0.05)  # past a coarse file-system clock's tick
    _same_size_edit(record, "score: 96.5\n", "score: 16.5\n")
    problems = load.validate(sample_root, cache_dir=cache)[2]
    assert counted == ["certificates/2025/ASC-2025-000123.yaml"]
    assert "score 16.5 is below 70: not certifiable" in [p.message for p in problems]


def test_cache_hashes_a_file_whose_stat_was_taken_right_after_a_change(
    sample_root: Path, make_record: MakeRecord, counted: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file changed within RACY_NS before its stat was taken could change again within the
    same tick of the file system's clock, leaving every field of the stat as it was: its stat is
    not kept, and its bytes are hashed next time."""
    record = make_record()
    now = time.time_ns()
    frozen = SimpleNamespace(st_size=record.stat().st_size, st_mtime_ns=now, st_ctime_ns=now,
                             st_ino=1, st_dev=2)
    stat = os.stat

    def same_stat(path: str) -> Any:
        return frozen if path == str(record) else stat(path)

    monkeypatch.setattr(load, "_stat", same_stat)
    cache = tmp_path / "cache"
    assert load.validate(sample_root, cache_dir=cache)[2] == []
    _same_size_edit(record, "score: 96.5\n", "score: 16.5\n")
    counted.clear()
    problems = load.validate(sample_root, cache_dir=cache)[2]
    assert counted == ["certificates/2025/ASC-2025-000123.yaml"]
    assert "score 16.5 is below 70: not certifiable" in [p.message for p in problems]


def test_cache_starts_again_when_the_settings_or_the_code_change(
    sample_root: Path, counted: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _, good, _ = load.validate(sample_root, cache_dir=cache)
    counted.clear()
    settings_file = sample_root / "registry" / "registry.yaml"
    settings_file.write_text(settings_file.read_text("utf-8") + "# reviewed\n", "utf-8")
    load.validate(sample_root, cache_dir=cache)
    assert len(counted) == len(good)
    counted.clear()
    monkeypatch.setattr(load, "checking_code", lambda: b"another version of the checks")
    load.validate(sample_root, cache_dir=cache)
    assert len(counted) == len(good)
    assert len(list((cache / "records").iterdir())) == 1  # the caches of other keys removed


def test_cache_gives_the_registry_a_fresh_load_gives(
    sample_root: Path, counted: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also the standings it keeps: on the day they were derived for, and not on another."""
    from generator import model

    derived: list[str] = []
    derive = model.standing

    def counting(cert: Any, *args: Any) -> Any:
        derived.append(cert.number)
        return derive(cert, *args)

    monkeypatch.setattr(model, "standing", counting)
    cache = tmp_path / "cache"
    days = [load.dt.date(2026, 11, 27)] * 2 + [load.dt.date(2031, 1, 1)] * 2
    for n, as_of in enumerate([*days, days[0]]):
        fresh = load.load_registry(sample_root, as_of)
        counted.clear()
        derived.clear()
        cached = load.load_registry(sample_root, as_of, cache_dir=cache)
        assert cached.certificates == fresh.certificates
        assert cached.standings == fresh.standings
        assert cached.settings == fresh.settings
        assert counted == ([] if n else sorted(counted))
        # Derived on the first load of each day; kept for the next one of the same day.
        assert len(derived) == (0 if n in (1, 3) else len(fresh.certificates)), n
    assert {s.verdict for s in fresh.standings.values()} != {
        s.verdict for s in load.load_registry(sample_root, days[2]).standings.values()}


def test_cache_keeps_each_score_as_written(sample_root: Path, make_record: MakeRecord,
                                           counted: list[str], tmp_path: Path) -> None:
    """The cache stores one object for each value its records repeat; 96.50 and 96.5 are equal
    numbers but are shown as written, so each record keeps its own."""
    make_record(_path="2025/ASC-2025-000301.yaml", score="96.50",
                audits=[audit("2025-03-10", "96.50")])
    # (both files in one shard of the cache: load._shard)
    make_record(_path="2025/ASC-2025-000337.yaml", score="96.5",
                audits=[audit("2025-03-10", "96.5")])
    as_of = load.dt.date(2026, 11, 27)
    fresh = load.load_registry(sample_root, as_of)
    cache = tmp_path / "cache"
    load.load_registry(sample_root, as_of, cache_dir=cache)
    counted.clear()
    cached = load.load_registry(sample_root, as_of, cache_dir=cache)
    assert counted == []
    assert repr(cached.certificates) == repr(fresh.certificates)
    scores = {c.number: str(c.score) for c in cached.certificates}
    assert scores["ASC-2025-000301"] == "96.50" and scores["ASC-2025-000337"] == "96.5"
    assert cached.get("ASC-2025-000301").audits[0].date is (  # type: ignore[union-attr]
        cached.get("ASC-2025-000337").audits[0].date)  # type: ignore[union-attr]


def test_a_broken_cache_file_is_no_error(sample_root: Path, counted: list[str],
                                         tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _, good, _ = load.validate(sample_root, cache_dir=cache)
    for stored in (cache / "records").glob("*/*"):
        stored.write_bytes(stored.read_bytes()[:1000])
    counted.clear()
    _, again, problems = load.validate(sample_root, cache_dir=cache)
    assert problems == [] and len(again) == len(good) == len(counted)


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks")
def test_finding_records_by_strings_is_finding_them_by_paths(
    sample_root: Path, make_record: MakeRecord, tmp_path: Path
) -> None:
    certificates = sample_root / "certificates"
    make_record(_path="2025/b/ASC-2025-000200.yaml")
    make_record(_path="2025/a.yaml")  # sorts after the folder 2025/a-b and before 2025/a/
    make_record(_path="2025/a-b/ASC-2025-000201.yaml")
    make_record(_path="2025/a/ASC-2025-000202.yaml")
    make_record(_path="2025/.hidden/ASC-2025-000203.yaml")
    make_record(_path="2025/.ASC-2025-000204.yaml")
    (certificates / "2025" / "old.yml").write_text("x: y\n")
    (certificates / "2025" / "notes.txt").write_text("x\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "ASC-2025-000300.yaml").write_text("x: y\n")
    (certificates / "elsewhere").symlink_to(outside, target_is_directory=True)
    (certificates / "2025" / "linked.yaml").symlink_to(outside / "ASC-2025-000300.yaml")
    (certificates / "2025" / "inside.yaml").symlink_to(certificates / "2025" / "a.yaml")
    (certificates / "2024" / "here").symlink_to(certificates / "2025", target_is_directory=True)
    found, problems = load.find_records(sample_root)
    assert (found, problems) == load._find_records(sample_root, [])
    assert certificates / "2025" / "inside.yaml" in found
    assert [p.message for p in problems] == [
        "folder is a link to a place outside certificates/",
        "record files must end in .yaml, not .yml",
        "record is a link to a file outside certificates/",
    ]
    assert found == sorted(found)


def test_add_months_is_relativedelta() -> None:
    from datetime import date, timedelta

    from dateutil.relativedelta import relativedelta

    from generator.lifecycle import add_months

    day = date(2023, 12, 28)
    while day < date(2025, 3, 5):
        for months in (-25, -12, -1, 0, 1, 6, 11, 12, 13, 36, 120):
            assert add_months(day, months) == day + relativedelta(months=months), (day, months)
        day += timedelta(days=1)


def test_a_wide_space_is_no_invisible_character(
    make_record: MakeRecord, settings: Settings
) -> None:
    """U+3000 and U+00A0 are not printable for str.isprintable, but they are seen."""
    assert check(make_record(organization__name='"青岛\u3000示例\u00a0电器"'), settings) == []


def test_records_checked_by_worker_processes_are_the_same(
    sample_root: Path, make_record: MakeRecord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "fork" not in load.multiprocessing.get_all_start_methods():
        pytest.skip("no fork here")
    as_of = load.dt.date(2026, 11, 27)
    alone = load.load_registry(sample_root, as_of)
    monkeypatch.setattr(load, "PARALLEL_MIN", 2)
    monkeypatch.setattr(load, "_workers", lambda: 2)
    monkeypatch.setattr(load, "_CHUNK", 3)
    cache = tmp_path / "cache"
    forked = load.load_registry(sample_root, as_of, cache_dir=cache)
    assert forked.certificates == alone.certificates and forked.standings == alone.standings
    checked: list[str] = []
    check_one = load._check_one

    def counting(record: Any, *args: Any, **kwargs: Any) -> Any:
        checked.append(record.display)
        return check_one(record, *args, **kwargs)

    monkeypatch.setattr(load, "_check_one", counting)
    again = load.load_registry(sample_root, as_of, cache_dir=cache)  # all from the cache
    assert checked == [] and again.certificates == alone.certificates
    make_record(_path="2025/ASC-2025-000901.yaml", score="abc")
    make_record(_path="2024/ASC-2025-000123.yaml")
    with pytest.raises(load.InputError) as forked_error:
        load.load_registry(sample_root, as_of)
    monkeypatch.setattr(load, "PARALLEL_MIN", 10**9)
    with pytest.raises(load.InputError) as alone_error:
        load.load_registry(sample_root, as_of)
    assert forked_error.value.problems == alone_error.value.problems
    assert len(forked_error.value.problems) == 2


def test_the_checking_code_is_every_module_that_checking_imports() -> None:
    """load.CHECKING_MODULES (what a record cache is kept for) holds load and every module of
    the package it imports, directly or through another, at the top or inside a function."""
    import ast

    folder = Path(load.__file__).parent
    seen: set[str] = set()
    todo = ["load"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in ast.walk(ast.parse((folder / f"{name}.py").read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.level == 1 or (
                    node.module or "").split(".")[0] == "generator"):
                module = (node.module or "").removeprefix("generator").lstrip(".")
                if module:
                    todo.append(module.split(".")[0])
                else:
                    todo += [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                todo += [alias.name.split(".")[1] for alias in node.names
                         if alias.name.startswith("generator.")]
    assert seen == set(load.CHECKING_MODULES)
