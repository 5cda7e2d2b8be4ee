"""Input the checks once choked on: dates at the end of the calendar, a flood of unknown keys,
record files named ``X.YAML`` or ``X.Yml``, and tabs in the indentation."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from recordkit import VALID_RECORD, MakeRecord

from generator.cli import cli


def validate(root: Path, *paths: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "validate", *paths],
                              env={"SOURCE_DATE_EPOCH": "1796515200"})  # as of 2026-12-06


def lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("certificates/")]


@pytest.mark.parametrize("fields, line, shown", [
    ({"issued": "9997-01-01", "expires": "9999-12-31",
      "events": ["{date: 9997-01-01, kind: issued}"]},
     19, "issued 9997-01-01 is more than 5 years after the as-of date 2026-12-06"),
    ({"audits": ["{date: 9998-12-31, kind: initial, score: 96.5, result: pass}"]},
     22, "audits[0].date 9998-12-31 is more than 5 years after"),
    ({"audits": ["{date: 9999-12-31, kind: initial, score: 96.5, result: pass}"]},
     22, "audits[0].date 9999-12-31 is more than 5 years after"),
    ({"audits": ["{date: 0001-01-01, kind: initial, score: 96.5, result: pass}"]},
     22, "audits[0].date 0001-01-01 is before 2000"),
])
def test_dates_the_scheme_cannot_use_are_refused_without_a_traceback(
        make_record: MakeRecord, sample_root: Path, fields: dict[str, object], line: int,
        shown: str) -> None:
    path = make_record(**fields)
    result = validate(sample_root, str(path))
    assert result.exit_code == 1 and result.exception is None or isinstance(
        result.exception, SystemExit), result.exception
    assert any(text.startswith(f"certificates/2025/ASC-2025-000123.yaml:{line}: {shown}")
               for text in lines(result)), result.output


def test_a_whole_registry_with_a_date_at_the_end_of_the_calendar_is_refused(
        make_record: MakeRecord, sample_root: Path) -> None:
    make_record(audits=["{date: 9999-12-31, kind: initial, score: 96.5, result: pass}"])
    result = validate(sample_root)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert len(lines(result)) == 1


def test_what_one_file_reports_is_capped(make_record: MakeRecord, sample_root: Path) -> None:
    """60,000 unknown keys once printed 60,012 lines in 28 s."""
    flood = "".join(f"k{i}: x\n" for i in range(60_000))
    path = make_record(_raw=VALID_RECORD + flood)
    started = time.monotonic()
    result = validate(sample_root, str(path))
    assert time.monotonic() - started < 20
    shown = lines(result)
    assert len(shown) == 51, shown[-3:]
    assert shown[0] == ("certificates/2025/ASC-2025-000123.yaml:25: unknown field 'k0'; allowed "
                        "here: audits, events, expires, industry, issued, level, number, "
                        "organization, sample, scope, score, standard, status")
    assert shown[-1] == ("certificates/2025/ASC-2025-000123.yaml:75: … and 59950 more unknown "
                         "fields in this file, not listed")


def test_many_problems_of_any_kind_are_capped(make_record: MakeRecord, sample_root: Path) -> None:
    duplicates = "".join("status: valid\n" for _ in range(500))
    path = make_record(_raw=VALID_RECORD + duplicates)
    shown = lines(validate(sample_root, str(path)))
    assert len(shown) == 51
    assert shown[-1].endswith("… and 450 more problems in this file, not listed: fix these first")


@pytest.mark.parametrize("name", ["ASC-2025-000124.YAML", "ASC-2025-000124.Yaml",
                                  "ASC-2025-000124.Yml", "ASC-2025-000124.yml"])
def test_a_record_file_in_any_case_of_yaml_is_never_skipped(
        make_record: MakeRecord, sample_root: Path, name: str) -> None:
    make_record(f"2025/{name}", _raw=VALID_RECORD.replace("000123", "000124"))
    result = validate(sample_root)
    assert result.exit_code == 1
    suffix = name.rpartition(".")[2]
    why = ("record files must end in .yaml, not .yml" if suffix == "yml" else
           f"record files must end in .yaml (lower case), not .{suffix}: rename it to "
           "ASC-2025-000124.yaml")
    assert lines(result) == [f"certificates/2025/{name}:1: {why}"]


def test_a_tab_in_the_indentation_says_tab(make_record: MakeRecord, sample_root: Path) -> None:
    path = make_record(_raw=VALID_RECORD.replace("\n  name_en:", "\n\tname_en:"))
    assert lines(validate(sample_root, str(path))) == [
        "certificates/2025/ASC-2025-000123.yaml:8: a tab in the indentation: YAML indents "
        "with spaces only; replace the tab by spaces"]
