"""The CLI as staff meet it: help that explains, whole-registry checks in validate."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from generator.cli import cli


def test_help_lists_every_command_with_a_sentence() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in ("validate", "build", "serve", "new", "surveil", "suspend", "reinstate", "withdraw",
                 "cancel", "renew", "check", "synth", "keygen", "verify"):
        assert re.search(rf"^\s+{name}\s+\S", result.output, re.M), name


def test_validate_reports_a_character_the_mark_font_lacks(sample_root: Path) -> None:
    record = sample_root / "certificates" / "2025" / "ASC-2025-000123.yaml"
    text = record.read_text("utf-8").replace("青岛示例电器", "青岛𠀀示例电器", 1)
    record.write_text(text, "utf-8")
    result = CliRunner().invoke(cli, ["--root", str(sample_root), "validate"])
    assert result.exit_code == 1
    assert "certificates/2025/ASC-2025-000123.yaml" in result.output
    assert "U+20000" in result.output


def test_validate_passes_on_the_sample_registry(sample_root: Path) -> None:
    result = CliRunner().invoke(cli, ["--root", str(sample_root), "validate"])
    assert result.exit_code == 0, result.output
