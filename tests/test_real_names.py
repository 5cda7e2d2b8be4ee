"""Registered names as they are: `starmark new` and the lifecycle commands accept every
character the star-mark fonts draw, refuse one that none has at its ``path:line`` before
writing, and never write a record that `starmark validate` would reject."""

from __future__ import annotations

import calendar
import datetime as dt
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli

REPO = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 11, 27)
ISSUE_NAME = "上海堃喆𠮷祥电器服务有限公司"  # the name of issue 12
NO_FONT = "𪚥"  # U+2A6A5: in no star-mark font

FLAGS = [
    "--credit-code", "91310000MA1FL0QX36", "--region", "310101",
    "--address", "上海市黄浦区示例路8号", "--industry", "household-appliances",
    "--scope", "家用电器的销售、安装、维修及售后服务", "--score", "91",
    "--audit-date", "2026-10-12", "--issued", "2026-11-02",
]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample registry, judged on :data:`TODAY`."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(calendar.timegm(TODAY.timetuple())))
    root = tmp_path / "registry-root"
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    return root


def run(root: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input)


def files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_new_accepts_the_registered_name_and_validate_agrees(root: Path) -> None:
    result = run(root, "new", "--name", ISSUE_NAME, "--name-en", "Shanghai Kunzhe Jixiang", *FLAGS)
    assert result.exit_code == 0, result.output
    record = [p for p in (root / "certificates" / "2026").glob("*.yaml")
              if ISSUE_NAME in p.read_text("utf-8")]
    assert len(record) == 1
    assert f"  name: {ISSUE_NAME}\n" in record[0].read_text("utf-8")
    checked = run(root, "validate")
    assert checked.exit_code == 0, checked.output


def test_new_refuses_a_character_no_font_has_before_writing(root: Path) -> None:
    before = files(root)
    result = run(root, "new", "--name", f"上海{NO_FONT}电器服务有限公司", *FLAGS)
    assert result.exit_code == 1
    first = result.output.splitlines()[0]
    assert first.startswith("certificates/2026/ASC-2026-")
    assert f".yaml:5: organization.name: character '{NO_FONT}' (U+2A6A5) is in no star-mark" \
        in first
    assert "business licence (营业执照)" in first
    assert "was not written" in result.output
    assert "Traceback" not in result.output
    assert files(root) == before


def test_new_asks_again_for_a_name_no_font_can_draw(root: Path) -> None:
    answers = "\n".join([
        f"上海{NO_FONT}电器服务有限公司",  # refused at the prompt
        ISSUE_NAME,
        "", "91310000MA1FL0QX36", "310101", "上海市黄浦区示例路8号", "", "",
        "household-appliances", "家用电器的维修", "", "91", "2026-11-02", "",
    ]) + "\n"
    result = run(root, "new", input=answers)
    assert result.exit_code == 0, result.output
    assert f"character '{NO_FONT}' (U+2A6A5) is in no star-mark font" in result.output


def _valid_record(root: Path) -> Path:
    """A sample record whose status is valid and whose surveillance is due by TODAY."""
    for path in sorted((root / "certificates").rglob("*.yaml")):
        if "status: valid" in path.read_text("utf-8") and "2025" in path.name:
            return path
    raise AssertionError("the sample registry has no valid 2025 record")


@pytest.mark.parametrize(
    ("command", "refused"),
    [
        (["surveil", "--date", "2026-11-20", "--score", "93"], True),
        (["suspend", "--date", "2026-11-20", "--reason", "企业申请暂停"], False),
    ],
)
def test_lifecycle_commands_check_the_drawn_fields_before_writing(
    root: Path, command: list[str], refused: bool
) -> None:
    """A record edited by hand to hold a character no font has: a command that leaves the
    certificate valid (its mark drawn) refuses with the line; one that suspends it may go on."""
    path = _valid_record(root)
    text = path.read_text("utf-8")
    scope_line = next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith("  zh:"))
    text = text.replace("\n  zh: ", f"\n  zh: {NO_FONT}", 1)
    path.write_text(text, "utf-8")
    number = path.stem
    result = run(root, command[0], number, *command[1:])
    if refused:
        assert result.exit_code == 1
        shown = path.relative_to(root).as_posix()
        assert result.output.startswith(
            f"{shown}:{scope_line}: scope.zh: character '{NO_FONT}' (U+2A6A5)"
        ), result.output
        assert "was not changed" in result.output
        assert path.read_text("utf-8") == text
    else:
        assert result.exit_code == 0, result.output
        assert "status: suspended" in path.read_text("utf-8")


def test_new_never_takes_a_number_listed_as_counterfeit(root: Path) -> None:
    listed = "ASC-2025-009999"  # in the sample registry/counterfeits.yaml
    assert listed in (root / "registry" / "counterfeits.yaml").read_text("utf-8")
    flags = [f if f not in ("2026-10-12", "2026-11-02") else f.replace("2026", "2025")
             for f in FLAGS]
    before = files(root)
    result = run(root, "new", "--name", ISSUE_NAME, *flags, "--number", listed)
    assert result.exit_code == 1
    assert f"number {listed} is listed in registry/counterfeits.yaml" in result.output
    assert files(root) == before


def test_the_next_free_number_skips_numbers_listed_as_counterfeit(root: Path) -> None:
    taken = max(int(p.stem.rsplit("-", 1)[1]) for p in (root / "certificates/2026").glob("*"))
    listed = f"ASC-2026-{taken + 1:06d}"
    path = root / "registry" / "counterfeits.yaml"
    path.write_text(
        path.read_text("utf-8").replace(
            "numbers:\n",
            f"numbers:\n  - number: {listed}\n    reported: 2026-10-01\n"
            "    note: 示例数据：下一个编号被冒用\n",
            1,
        ),
        "utf-8",
    )
    result = run(root, "new", "--name", ISSUE_NAME, *FLAGS)
    assert result.exit_code == 0, result.output
    assert not (root / f"certificates/2026/{listed}.yaml").exists()
    assert (root / f"certificates/2026/ASC-2026-{taken + 2:06d}.yaml").is_file()
    assert run(root, "validate").exit_code == 0


def test_validate_names_the_line_of_a_character_no_font_has(root: Path) -> None:
    path = _valid_record(root)
    lines = path.read_text("utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("  name: "))
    lines[line - 1] = lines[line - 1].rstrip("\n") + NO_FONT + "\n"
    path.write_text("".join(lines), "utf-8")
    result = run(root, "validate")
    assert result.exit_code == 1
    shown = path.relative_to(root).as_posix()
    assert result.output.splitlines()[0].startswith(
        f"{shown}:{line}: organization.name: character '{NO_FONT}' (U+2A6A5) is in no star-mark"
    ), result.output
