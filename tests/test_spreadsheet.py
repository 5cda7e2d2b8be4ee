"""`starmark export` and `starmark import`: round trips, and workbooks made the way staff make
them (a title above the headings, merged cells, empty rows, a hidden column, a total row, dates
typed as text, typos), each driven through click on a temporary registry."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from openpyxl import Workbook, load_workbook
from recordkit import REPO

from generator import creditcode
from generator.cli import cli
from generator.settings import load as load_settings
from generator.spreadsheet.columns import (
    CERTIFICATE_COLUMNS,
    CERTIFICATES_SHEET,
    HISTORY_COLUMNS,
    HISTORY_SHEET,
    match,
)
from generator.spreadsheet.values import Cells

ISSUED = dt.date(2025, 4, 1)


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], catch_exceptions=False)


def empty_registry(tmp_path: Path, name: str = "empty") -> Path:
    root = tmp_path / name
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    return root


def tree(root: Path) -> dict[str, bytes]:
    base = root / "certificates"
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*.yaml"))}


def code(first17: str) -> str:
    return first17 + creditcode.check_character(first17)


GOOD_CODE = code("91370200MA3C5ABC1")
TYPO_CODE = GOOD_CODE[:-1] + ("0" if GOOD_CODE[-1] != "0" else "1")


def staff_workbook(path: Path, rows: list[list[Any]], *, hide: str | None = "L") -> Path:
    """A workbook as staff make it: a merged title, an empty row, headings with other names,
    a column of their own (hidden), an empty row among the data and a total row at the end."""
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Sheet1"
    ws["A1"] = "华信示例认证 2025年获证企业清单（示例数据）"
    ws.merge_cells("A1:M1")
    ws.append([])
    ws.append(["序号", "证书号", "企业名称", "统一社会信用代码 ", "所在地区", "企业地址", "行业",
               "认证范围", "得分", "星级", "发证日期", "内部备注", "状态"])
    for i, row in enumerate(rows):
        if i == 1:
            ws.append([])  # an empty row in the middle
        ws.append(row)
    ws.append(["合计", None, f"{len(rows)} 家"])
    if hide:
        ws.column_dimensions[hide].hidden = True
    book.save(path)
    return path


def staff_row(n: int, number: str, **changes: Any) -> list[Any]:
    values = {
        "seq": n, "number": number, "name": f"青岛示例电器{n}号有限公司 ", "code": GOOD_CODE,
        "region": "370212", "address": f"山东省青岛市崂山区示例路{n}号",
        "industry": "household-appliances", "scope": "家用空调的销售、安装、维修及售后服务",
        "score": 96.5, "level": "五星级", "issued": "2025/4/1", "memo": "内部备注，不公开",
        "status": "有效",
    }
    values.update(changes)
    return list(values.values())


# --- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_sample_registry_round_trips_byte_for_byte(sample_root: Path, tmp_path: Path,
                                                   kind: str) -> None:
    out = tmp_path / f"registry.{kind}"
    assert run(sample_root, "export", f"--{kind}", str(out)).exit_code == 0
    target = empty_registry(tmp_path)
    result = run(target, "import", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 46 records" in result.output
    assert tree(target) == tree(sample_root)


def test_importing_the_same_file_again_changes_nothing(sample_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "registry.xlsx"
    run(sample_root, "export", "--xlsx", str(out))
    before = {p: p.stat().st_mtime_ns for p in (sample_root / "certificates").rglob("*.yaml")}
    result = run(sample_root, "import", str(out))
    assert result.exit_code == 0, result.output
    assert "wrote 0 records" in result.output and "46 unchanged" in result.output
    assert {p: p.stat().st_mtime_ns
            for p in (sample_root / "certificates").rglob("*.yaml")} == before


# --- the exported workbook ---------------------------------------------------------------


def test_export_writes_a_workbook_staff_can_review(sample_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "registry.xlsx"
    run(sample_root, "export", "--xlsx", str(out))
    book = load_workbook(out)
    assert book.sheetnames == [CERTIFICATES_SHEET, HISTORY_SHEET, "说明"]
    certs, history = book[CERTIFICATES_SHEET], book[HISTORY_SHEET]
    assert [c.value for c in certs[1]] == [c.header for c in CERTIFICATE_COLUMNS]
    assert certs["A1"].comment is not None and "Certificate number" in certs["A1"].comment.text
    assert certs.freeze_panes == "B2" and certs.auto_filter.ref.startswith("A1:")
    assert certs.max_row == 47
    issued = [c.column for c in certs[1] if c.value == "颁证日期"][0]
    assert isinstance(certs.cell(row=2, column=issued).value, dt.datetime)  # a real Excel date
    name_width = certs.column_dimensions["C"].width
    assert name_width is not None and name_width >= 24  # sized for Chinese names
    kinds = {row[1] for row in history.iter_rows(min_row=2, values_only=True)}
    assert kinds == {"审核", "事件"}
    explained = {row[1] for row in book["说明"].iter_rows(min_row=2, values_only=True)}
    assert {c.header for c in CERTIFICATE_COLUMNS} <= explained


def test_csv_export_is_utf8_with_bom_and_keeps_history_beside_it(sample_root: Path,
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "registry.csv"
    run(sample_root, "export", "--csv", str(out))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(out.read_text("utf-8-sig").splitlines()))
    assert rows[0] == [c.header for c in CERTIFICATE_COLUMNS] and len(rows) == 47
    history = list(csv.reader((tmp_path / "registry.history.csv").read_text("utf-8-sig")
                              .splitlines()))
    assert history[0] == [c.header for c in HISTORY_COLUMNS]


def test_template_has_the_headings_and_no_rows(sample_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "模板.xlsx"
    assert run(sample_root, "export", "--template", "--xlsx", str(out)).exit_code == 0
    certs = load_workbook(out)[CERTIFICATES_SHEET]
    assert certs.max_row == 1 and certs["A1"].value == "证书编号"


# --- workbooks made by staff -------------------------------------------------------------


def test_a_staff_workbook_with_faults_is_reported_cell_by_cell_and_nothing_written(
        tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [
        staff_row(1, "ASC-2025-000901"),
        staff_row(2, "ASC-2025-000902", code=TYPO_CODE, issued="2025年4月1日"),
        staff_row(3, "ASC-2025-000901", issued="2025.4.1"),
        staff_row(4, "ASC-2025-000904", issued="2025/13/1"),
    ])
    result = run(root, "import", str(book))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    where = f"{book}:Sheet1!"
    expected = creditcode.check_character(TYPO_CODE[:17])
    # rows: title 1, empty 2, headings 3, data 4, empty 5, then 6, 7, 8
    assert any(ln.startswith(f"{where}D6: 统一社会信用代码:") and f"should be {expected}" in ln
               for ln in lines), lines
    assert any(ln.startswith(f"{where}B7: 证书编号: ASC-2025-000901 is already in row 4")
               for ln in lines), lines
    assert any(ln.startswith(f"{where}K8: 颁证日期:") and "not a real calendar date" in ln
               for ln in lines), lines
    assert "nothing written" in result.output
    assert "column L (内部备注) is hidden" in result.output
    assert "row 9 (合计) is a total row" in result.output
    assert not (root / "certificates").exists()


def test_values_are_read_as_staff_type_them(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [
        staff_row(1, "asc-2025-000901", code=GOOD_CODE.lower(), score="９６.５", level="5星"),
        staff_row(2, "ASC-2025-000902", issued="2025年4月1日", level="five-star"),
        staff_row(3, "ASC-2025-000903", issued=45748, score=91, level="四星级"),  # a serial
        staff_row(4, "ASC-2025-000904", issued=dt.datetime(2025, 4, 1), score="80分",
                  level="三星级", status="有效 "),
    ])
    result = run(root, "import", str(book))
    assert result.exit_code == 0, result.output
    first = (root / "certificates/2025/ASC-2025-000901.yaml").read_text("utf-8")
    assert "number: ASC-2025-000901\n" in first
    assert f"credit_code: {GOOD_CODE}\n" in first
    assert "name: 青岛示例电器1号有限公司\n" in first  # the trailing space is gone
    assert "score: 96.5\nlevel: five-star\nissued: 2025-04-01\nexpires: 2028-03-31\n" in first
    assert "  - {date: 2025-04-01, kind: initial, score: 96.5, result: pass}\n" in first
    for n, level in ((2, "five-star"), (3, "four-star"), (4, "three-star")):
        text = (root / f"certificates/2025/ASC-2025-00090{n}.yaml").read_text("utf-8")
        assert f"level: {level}\nissued: 2025-04-01\n" in text
    assert run(root, "validate").exit_code == 0


def test_partial_writes_the_clean_rows_and_still_fails(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [
        staff_row(1, "ASC-2025-000901"),
        staff_row(2, "ASC-2025-000902", code=TYPO_CODE),
    ])
    result = run(root, "import", "--partial", str(book))
    assert result.exit_code == 1
    assert [p.name for p in (root / "certificates").rglob("*.yaml")] == ["ASC-2025-000901.yaml"]


def test_dry_run_lists_what_would_happen_and_writes_nothing(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [staff_row(1, "ASC-2025-000901")])
    result = run(root, "import", "--dry-run", str(book))
    assert result.exit_code == 0, result.output
    assert "create: certificates/2025/ASC-2025-000901.yaml" in result.output
    assert not (root / "certificates").exists()


def test_map_reads_a_column_with_a_heading_of_its_own(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [staff_row(1, "ASC-2025-000901")])
    wb = load_workbook(book)
    wb.active["C3"] = "证书持有人"  # type: ignore[index]
    wb.save(book)
    refused = run(root, "import", str(book))
    assert refused.exit_code == 1 and "no column 组织名称" in refused.output
    result = run(root, "import", "--map", "证书持有人=organization.name", str(book))
    assert result.exit_code == 0, result.output
    text = (root / "certificates/2025/ASC-2025-000901.yaml").read_text("utf-8")
    assert "name: 青岛示例电器1号有限公司\n" in text


def test_a_gbk_csv_saved_by_excel_is_read(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    out = tmp_path / "清单.csv"
    heads = ["证书编号", "组织名称", "统一社会信用代码", "所在地区", "地址", "行业", "认证范围",
             "得分", "颁证日期"]
    row = ["ASC-2025-000901", "青岛示例电器有限公司", GOOD_CODE, "370212", "山东省青岛市示例路1号",
           "household-appliances", "家用空调的售后服务", "92", "2025/4/1"]
    out.write_bytes(("\r\n".join(",".join(r) for r in (heads, row)) + "\r\n").encode("gb18030"))
    result = run(root, "import", str(out))
    assert result.exit_code == 0, result.output
    text = (root / "certificates/2025/ASC-2025-000901.yaml").read_text("utf-8")
    assert "level: four-star\n" in text and "expires: 2028-03-31\n" in text


# --- existing certificates ---------------------------------------------------------------


def _exported(sample_root: Path, tmp_path: Path) -> tuple[Path, Any]:
    out = tmp_path / "registry.xlsx"
    run(sample_root, "export", "--xlsx", str(out))
    return out, load_workbook(out)


def test_a_changed_certificate_is_refused_naming_the_lifecycle_command(
        sample_root: Path, tmp_path: Path) -> None:
    out, book = _exported(sample_root, tmp_path)
    certs, history = book[CERTIFICATES_SHEET], book[HISTORY_SHEET]
    number = "ASC-2025-000059"
    row = next(r for r in certs.iter_rows(min_row=2) if r[0].value == number)
    row[1].value = "暂停"
    history.append([number, "事件", dt.date(2026, 5, 20), "暂停", None, None, None,
                    "投诉处理不及时"])
    book.save(out)
    before = tree(sample_root)
    result = run(sample_root, "import", str(out))
    assert result.exit_code == 1
    assert f"run `starmark suspend {number} --date 2026-05-20" in result.output
    assert f"{out}:证书!A{row[0].row}:" in result.output
    assert tree(sample_root) == before


def test_a_row_that_rewrites_a_past_audit_is_refused(sample_root: Path, tmp_path: Path) -> None:
    out, book = _exported(sample_root, tmp_path)
    history = book[HISTORY_SHEET]
    number = "ASC-2025-000059"
    audit = next(r for r in history.iter_rows(min_row=2)
                 if r[0].value == number and r[1].value == "审核" and r[3].value == "初次认证审核")
    audit[4].value = 79  # the score of a past audit, "improved"
    audit[4].number_format = "0.0"
    book.save(out)
    before = tree(sample_root)
    result = run(sample_root, "import", str(out))
    assert result.exit_code == 1
    assert f"{number} is in the registry" in result.output
    assert "past audit (initial on 2025-02-17)" in result.output
    assert tree(sample_root) == before


# --- reading values and headings ---------------------------------------------------------


@pytest.fixture(scope="module")
def cells() -> Cells:
    return Cells(load_settings(REPO))


@pytest.mark.parametrize("typed", ["2025-04-01", "2025/4/1", "2025.4.1", "2025年4月1日",
                                   "２０２５年４月１日", " 2025 / 04 / 01 ", "20250401",
                                   "1 April 2025", "Apr 1, 2025", "2025-04-01 00:00:00", 45748])
def test_dates_in_the_forms_staff_type(cells: Cells, typed: Any) -> None:
    assert cells.read("date", typed) == "2025-04-01"


@pytest.mark.parametrize("typed,key", [("五星级", "five-star"), ("5星", "five-star"),
                                       ("五星", "five-star"), ("Five-star", "five-star"),
                                       ("★★★★", "four-star"), ("达标级", "compliant")])
def test_star_levels_in_the_forms_staff_type(cells: Cells, typed: str, key: str) -> None:
    assert cells.read("level", typed) == key


@pytest.mark.parametrize("typed,key", [("有效", "valid"), ("暂停", "suspended"),
                                       ("撤销", "withdrawn"), ("已撤销", "withdrawn"),
                                       ("注销", "cancelled"), ("Cancelled", "cancelled")])
def test_statuses_in_the_forms_staff_type(cells: Cells, typed: str, key: str) -> None:
    assert cells.read("status", typed) == key


def test_expired_is_refused_with_the_reason(cells: Cells) -> None:
    with pytest.raises(ValueError, match="有效期至"):
        cells.read("status", "已过期")


def test_a_score_keeps_the_decimals_its_cell_shows(cells: Cells) -> None:
    assert cells.read("score", 94, "0.0") == "94.0"
    assert cells.read("score", 94.0, "General") == "94"
    assert cells.read("score", 92.5, "0.00") == "92.5"


@pytest.mark.parametrize("heading,field", [("证书号", "number"), ("企业名称", "organization.name"),
                                           ("有效期", "expires"), ("到期日期", "expires"),
                                           ("有效期至（YYYY-MM-DD）", "expires"),
                                           ("Certificate number", "number"),
                                           ("organization.credit_code",
                                            "organization.credit_code")])
def test_headings_are_matched_leniently(heading: str, field: str) -> None:
    column = match(heading, CERTIFICATE_COLUMNS)
    assert column is not None and column.field == field


# --- the staff page ----------------------------------------------------------------------

IMPORT_PAGE = REPO / "docs" / "import.md"


def test_the_import_page_lists_every_column_from_the_mapping_table() -> None:
    from generator.scheme import expand_markers

    page = IMPORT_PAGE.read_text("utf-8")
    assert "<!-- starmark:spreadsheet-columns -->" in page
    table = expand_markers(page, load_settings(REPO))
    for column in (*CERTIFICATE_COLUMNS, *HISTORY_COLUMNS):
        assert f"| {column.header} | {column.en} |" in table
    for column in CERTIFICATE_COLUMNS[2:]:  # the list itself is never typed on the page
        assert column.en not in page.split("## English summary")[0]


def test_the_worked_example_on_the_import_page_is_what_the_command_prints(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page = IMPORT_PAGE.read_text("utf-8")
    lines = [ln for ln in page.splitlines() if ln.startswith("| ")]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| 行 |"))
    table = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines[start:]]
    heads, rows = table[0][1:], [r[1:] for r in table[2:]]
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = "Sheet1"
    ws["A1"] = "2025年获证企业清单（示例数据）"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(heads))
    ws.append(heads)
    score = heads.index("得分")
    for row in rows:  # scores typed as numbers, except the full-width one (typed as text)
        ws.append([float(v) if i == score and v.isascii() and v else (v or None)
                   for i, v in enumerate(row)])
    book.save(tmp_path / "清单.xlsx")
    root = empty_registry(tmp_path)
    monkeypatch.chdir(tmp_path)
    shown = page.split("$ starmark import --dry-run 清单.xlsx\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(cli, ["--root", str(root), "import", "--dry-run", "清单.xlsx"])
    assert result.exit_code == 1
    for line in shown.strip().splitlines():
        assert line.removeprefix("note: ") in result.output, line


# --- refusing bad input without a traceback ----------------------------------------------


def test_export_of_an_invalid_registry_prints_the_problems(sample_root: Path,
                                                           tmp_path: Path) -> None:
    record = next((sample_root / "certificates").rglob("*.yaml"))
    record.write_text(record.read_text("utf-8").replace("score: ", "score: x", 1), "utf-8")
    out = tmp_path / "registry.xlsx"
    result = run(sample_root, "export", "--xlsx", str(out))
    assert result.exit_code == 1
    assert f"certificates/{record.relative_to(sample_root / 'certificates').as_posix()}:" \
        in result.output
    assert not out.exists()


def test_a_file_that_is_not_a_workbook_is_refused_in_one_line(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    fake = tmp_path / "清单.xlsx"
    fake.write_text("not a workbook", "utf-8")
    result = run(root, "import", str(fake))
    assert result.exit_code == 1
    assert "cannot be read as an .xlsx workbook" in result.output
    assert "Traceback" not in result.output


def test_a_bad_map_is_refused(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    book = staff_workbook(tmp_path / "清单.xlsx", [staff_row(1, "ASC-2025-000901")])
    result = run(root, "import", "--map", "证书持有人=holder", str(book))
    assert result.exit_code == 2 and "write 列名=field" in result.output


def test_a_changed_name_is_refused_and_the_record_kept(sample_root: Path, tmp_path: Path) -> None:
    out, book = _exported(sample_root, tmp_path)
    certs = book[CERTIFICATES_SHEET]
    row = next(r for r in certs.iter_rows(min_row=2) if r[0].value == "ASC-2025-000059")
    row[2].value = "南安闽砺新材料有限公司"
    book.save(out)
    before = tree(sample_root)
    result = run(sample_root, "import", str(out))
    assert result.exit_code == 1
    assert "differs in organization.name: 南安闽砺建材有限公司 → 南安闽砺新材料有限公司;" \
        in result.output
    assert "never by import" in result.output
    assert tree(sample_root) == before


def test_history_rows_are_checked_cell_by_cell(sample_root: Path, tmp_path: Path) -> None:
    out, book = _exported(sample_root, tmp_path)
    history = book[HISTORY_SHEET]
    audit = next(r for r in history.iter_rows(min_row=2)
                 if r[0].value == "ASC-2025-000059" and r[1].value == "审核")
    audit[7].value = "原因写错了列"  # a reason on an audit
    audit[2].value = "2025年2月30日"
    book.save(out)
    target = empty_registry(tmp_path)
    result = run(target, "import", str(out))
    assert result.exit_code == 1
    line = audit[0].row
    assert f"{out}:{HISTORY_SHEET}!H{line}: 原因: an audit has no 原因" in result.output
    assert f"{out}:{HISTORY_SHEET}!C{line}: 日期: '2025年2月30日' is not a real calendar date" \
        in result.output
    assert not (target / "certificates").exists()
    partial = run(target, "import", "--partial", str(out))
    assert partial.exit_code == 1 and "wrote 45 records" in partial.output
    assert not list(target.rglob("ASC-2025-000059.yaml"))  # its history had problems


def test_a_csv_cell_with_a_line_break_stays_one_cell(tmp_path: Path) -> None:
    root = empty_registry(tmp_path)
    out = tmp_path / "清单.csv"
    with open(out, "w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["证书编号", "组织名称", "统一社会信用代码", "所在地区", "地址", "行业",
                         "认证范围", "得分", "颁证日期"])
        writer.writerow(["ASC-2025-000901", "青岛示例电器有限公司", GOOD_CODE, "370212",
                         "山东省青岛市\n示例路1号", "household-appliances", "家用空调的售后服务",
                         "92", "2025-04-01"])
    result = run(root, "import", str(out))
    assert result.exit_code == 1
    assert f"{out}:E2: 地址:" in result.output  # one row, the break reported at its cell
