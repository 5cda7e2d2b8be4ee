"""``starmark status``: numbers typed as staff copy them, on a day and today; exit 1 on unknowns."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from recordkit import REPO
from test_periods import Node

from generator import check
from generator.cli import cli
from generator.settings import load as load_settings

EPOCH = str(int(dt.datetime(2026, 11, 27, tzinfo=dt.UTC).timestamp()))


def run(root: Path, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), "status", *args], input=stdin,
                              env={"SOURCE_DATE_EPOCH": EPOCH})


def answers(result: Result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_sloppy_numbers_are_found_and_repeats_merged() -> None:
    result = run(REPO, "--json", "asc2025000123", "ＡＳＣ－２０２５－０００１４０, ASC 2024 000052",
                 "ASC-2025-000123", "--on", "2025-05-20")
    assert result.exit_code == 0, result.output
    found = answers(result)
    assert [a["number"] for a in found] == ["ASC-2025-000123", "ASC-2025-000140",
                                            "ASC-2024-000052"]
    assert found[0]["input"] == ["asc2025000123", "ASC-2025-000123"]
    suspended = found[2]
    assert suspended["on"][0]["status"] == "suspended" and suspended["on"][0]["day"] == "2025-05-20"
    assert suspended["today"]["status"] == "withdrawn"
    assert suspended["today"]["day"] == "2026-11-27", "today is SOURCE_DATE_EPOCH's day"


def test_text_output_names_the_deciding_entry() -> None:
    result = run(REPO, "ASC-2024-000052", "--on", "2025-05-20")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ASC-2024-000052  天津瑞通家居物流有限公司")
    assert "on    2025-05-20  暂停 Suspended · 达标级 Compliant  [since 2025-03-10: 暂停" in (
        lines[1])
    assert "today 2026-11-27  已撤销 Withdrawn" in lines[2]


def test_unknown_numbers_exit_1_and_say_so() -> None:
    result = run(REPO, "ASC-2025-000123", "ASC-2099-000001")
    assert result.exit_code == 1
    assert "ASC-2099-000001  未找到 not in the registry" in result.stdout
    assert "1 of 2 numbers not in the registry" in result.stderr


def test_a_reported_counterfeit_is_flagged_and_counts_as_unknown() -> None:
    reported = "asc-2025-009999"  # on registry/counterfeits.yaml, typed in lower case
    result = run(REPO, reported)
    assert result.exit_code == 1
    assert "ASC-2025-009999  !! 假冒证书编号 REPORTED COUNTERFEIT" in result.stdout
    data = answers(run(REPO, "--json", reported))[0]
    assert data["found"] is False and data["counterfeit"]["reported"] == "2026-03-02"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_list_file_pasted_from_excel(tmp_path: Path, encoding: str) -> None:
    listing = tmp_path / "供应商.txt"
    text = "证书编号\r\nASC-2025-000123\r\nasc 2025 000140\r\n\r\nASC－2024－000052\r\n"
    listing.write_text(text, encoding=encoding)
    result = run(REPO, "--json", "--file", str(listing))
    assert result.exit_code == 0, result.output
    assert [a["number"] for a in answers(result)] == ["ASC-2025-000123", "ASC-2025-000140",
                                                      "ASC-2024-000052"]


def test_a_list_on_standard_input() -> None:
    result = run(REPO, "--json", "--file", "-", stdin="ASC-2025-000123;ASC-2025-000140\n")
    assert [a["number"] for a in answers(result)] == ["ASC-2025-000123", "ASC-2025-000140"]


def test_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    bad_date = run(REPO, "ASC-2025-000123", "--on", "2025-13-01")
    assert bad_date.exit_code == 2 and "is not a date; write YYYY-MM-DD" in bad_date.output
    nothing = run(REPO)
    assert nothing.exit_code == 2 and "give certificate numbers" in nothing.output
    missing = subprocess.run([sys.executable, "-m", "generator", "--root", str(REPO), "status",
                              "--file", str(tmp_path / "absent.txt")],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 1
    assert f"{tmp_path / 'absent.txt'}: cannot read" in missing.stdout
    assert "Traceback" not in missing.stderr


def test_a_broken_record_asked_for_is_reported_with_its_line(sample_root: Path) -> None:
    record = sample_root / "certificates" / "2025" / "ASC-2025-000123.yaml"
    record.write_text(record.read_text("utf-8").replace("level: five-star", "level: four-star"),
                      "utf-8")
    done = subprocess.run([sys.executable, "-m", "generator", "--root", str(sample_root), "status",
                           "ASC-2025-000123"], capture_output=True, text=True, check=False)
    assert done.returncode == 1
    assert "certificates/2025/ASC-2025-000123.yaml:" in done.stdout
    assert "level four-star disagrees with score" in done.stdout


LISTS = [
    "ASC-2025-000123\nasc2025000140\n",
    "证书编号\tASC-2025-000123\nASC 2025 000140",
    "ASC-2025-000123, ASC-2025-000140，ASC-2025-000154、ASC-2025-000168；ASC-2025-000186",
    "ASC-2025-000123 ASC-2025-000140 asc 2025 000154",
    "ＡＳＣ－２０２５－０００１２３　ａｓｃ２０２５０００１４０",
    "ASC-2025 000123\n\n\n   \n",
    "no numbers here\n证书编号",
]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js")
def test_the_page_and_the_terminal_split_a_list_alike() -> None:
    example = load_settings(REPO).number.example
    node = Node()
    try:
        for text in LISTS:
            assert node.ask({"split": text, "example": example}) == check.split_list(text, example)
    finally:
        node.close()
    assert check.split_list(LISTS[3], example) == ["ASC-2025-000123", "ASC-2025-000140",
                                                   "asc 2025 000154"]
    assert check.split_list(LISTS[-1], example) == []
