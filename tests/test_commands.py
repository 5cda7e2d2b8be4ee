"""The staff's commands: `new` and the lifecycle commands, on a temporary copy of the registry.

Each test copies registry/ and certificates/ into tmp_path, adds a record it knows line by line,
and drives the command through click with ``--root``. Every refusal must exit 1 with a clear
message and leave the file exactly as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator import commands, load, records
from generator import settings as settings_mod
from generator.cli import cli
from generator.settings import Settings
from generator.settings import load as load_settings

REPO = Path(__file__).resolve().parent.parent
# "Today" for every command run here (the commands refuse dates after it): pinned, so that the
# tests mean the same on any day and under any SOURCE_DATE_EPOCH the caller set.
TODAY = dt.date(2026, 11, 27)
NUMBER = "ASC-2025-000900"
RECORD = f"certificates/2025/{NUMBER}.yaml"
CREDIT_CODE = "91370100MA3D900900"

# A five-star certificate issued 2025-04-01 (expires 2028-03-31), with comments in the places
# staff put them: the header, after a value, above a list, after an item, below the last item.
TEXT = f"""\
# yaml-language-server: $schema=../../registry/record.schema.json
# 示例数据 (sample data): a fictional enterprise for the command tests.
number: {NUMBER}
status: valid  # set by the lifecycle commands
sample: true
organization:
  name: 济南示例家电服务有限公司
  name_en: Jinan Example Appliance Service Co., Ltd.
  credit_code: {CREDIT_CODE}
  region: "370102"
  address: 山东省济南市历下区示例路9号
industry: household-appliances
scope:
  zh: 家用电器的安装、维修及售后服务
  en: Installation, repair and after-sales service of household appliances
standard: GB/T 27922-2011
score: 96.5
level: five-star
issued: 2025-04-01
expires: 2028-03-31

# Audits and events are history: append, never rewrite.
audits:
  - {{date: 2025-03-10, kind: initial, score: 96.5, result: pass}}  # initial audit
events:
  - {{date: 2025-04-01, kind: issued}}  # first issue
# end of record
"""

# Issued 2022-05-01, expired 2025-04-30, surveilled every year until then.
EXPIRED_NUMBER = "ASC-2022-000901"
EXPIRED = f"""\
number: {EXPIRED_NUMBER}
status: valid
organization:
  name: 苏州示例电梯服务有限公司
  credit_code: 91320500MA1N12345N
  region: "320505"
  address: 江苏省苏州市虎丘区示例路1号
industry: elevators
scope:
  zh: 电梯的安装、维修及保养服务
standard: GB/T 27922-2011
score: 88
level: three-star
issued: 2022-05-01
expires: 2025-04-30
audits:
  - {{date: 2022-04-10, kind: initial, score: 86, result: pass}}
  - {{date: 2023-04-01, kind: surveillance, score: 87, result: pass}}
  - {{date: 2024-03-20, kind: surveillance, score: 88, result: pass}}
events:
  - {{date: 2022-05-01, kind: issued}}
  - {{date: 2023-04-01, kind: surveillance}}
  - {{date: 2024-03-20, kind: surveillance}}
"""


_LOADED: dict[str, Settings] = {}


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands' today (``load.as_of_default``) is TODAY, whatever the clock says."""
    noon = dt.datetime.combine(TODAY, dt.time(12), tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(noon.timestamp())))


@pytest.fixture(autouse=True)
def settings_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read each distinct registry/ once per test session (parsing regions.yaml takes ~1 s).

    Keyed by the bytes of every file in registry/, so a test that edits a setting still
    gets its own settings.
    """
    real = settings_mod.load

    def load_once(root: Path) -> Settings:
        folder = Path(root) / settings_mod.REGISTRY_DIR
        digest = hashlib.sha256()
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
        key = digest.hexdigest()
        if key not in _LOADED:
            _LOADED[key] = real(Path(root))
        return dataclasses.replace(_LOADED[key], root=Path(root))

    monkeypatch.setattr(settings_mod, "load", load_once)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the sample registry with the two records above added."""
    root = tmp_path / "registry-root"
    root.mkdir()
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    write(root, RECORD, TEXT)
    write(root, f"certificates/2022/{EXPIRED_NUMBER}.yaml", EXPIRED)
    return root


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def run(root: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--root", str(root), *args], input=input)


def text(root: Path, rel: str = RECORD) -> str:
    return (root / rel).read_text(encoding="utf-8")


@functools.cache
def settings() -> Settings:
    """The sample registry's settings (every test root has a copy of the same registry/)."""
    return load_settings(REPO)


def data(root: Path, rel: str = RECORD) -> dict:
    typed, _, problems = load.check_file(root / rel, rel, settings())
    assert not problems, problems
    assert typed is not None
    return typed


def assert_valid(root: Path, rel: str = RECORD) -> None:
    """The record passes every check of `starmark validate` (load.check_file)."""
    _, _, problems = load.check_file(root / rel, rel, settings())
    assert not problems, problems


def assert_refused(result: Result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    for fragment in fragments:
        assert fragment in result.output, result.output


def refused_unchanged(root: Path, args: list[str], *fragments: str, rel: str = RECORD) -> None:
    before = text(root, rel)
    assert_refused(run(root, *args), *fragments)
    assert text(root, rel) == before
    assert not list(root.glob("certificates/**/.starmark-edit-*"))


def suspend_on(root: Path, date: str) -> None:
    result = run(root, "suspend", NUMBER, "--date", date, "--reason", "企业申请暂停")
    assert result.exit_code == 0, result.output


# --- help and documentation ---------------------------------------------------------------

STAFF_COMMANDS = ("new", "surveil", "suspend", "reinstate", "withdraw", "cancel", "renew", "check")


def test_help_lists_every_staff_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in STAFF_COMMANDS:
        assert re.search(rf"^\s+{name}\s+\S", result.output, re.M), name


@pytest.mark.parametrize("name", STAFF_COMMANDS)
def test_each_command_has_help_with_root(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert len(result.output.split("Options:")[0].strip().splitlines()) >= 3
    group = CliRunner().invoke(cli, ["--help"]).output
    assert "--root" in group


@pytest.mark.parametrize("name", STAFF_COMMANDS)
def test_commands_are_documented_for_staff(name: str) -> None:
    guide = (REPO / "docs" / "publishing.md").read_text(encoding="utf-8")
    assert f"starmark {name}" in guide


def test_readme_walks_through_a_suspension() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Publishing", 1)[1].split("\n## ", 1)[0]
    for step in ("starmark suspend", "starmark validate", "git commit", "pull request",
                 "starmark check", "暂停", "starmark reinstate"):
        assert step in section, step


# --- surveil ------------------------------------------------------------------------------


def test_surveil_pass_keeps_level(root: Path) -> None:
    result = run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "97")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["score"] == 97 and record["level"] == "five-star"
    assert record["audits"][-1] == {"date": "2026-03-02", "kind": "surveillance", "score": 97,
                                    "result": "pass"}
    assert record["events"][-1] == {"date": "2026-03-02", "kind": "surveillance"}
    assert "  - {date: 2026-03-02, kind: surveillance, score: 97, result: pass}\n" in text(root)
    assert_valid(root)


def test_surveil_score_changes_level(root: Path) -> None:
    result = run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "91.5")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["score"] == pytest.approx(91.5) and record["level"] == "four-star"
    changed = record["events"][-1]
    assert changed["kind"] == "level-changed" and changed["date"] == "2026-03-02"
    assert "五星级" in changed["reason"] and "四星级" in changed["reason"]
    assert "Four-star" in changed["reason_en"]
    assert [e["kind"] for e in record["events"]] == ["issued", "surveillance", "level-changed"]
    assert "score: 91.5\n" in text(root)
    assert_valid(root)


def test_surveil_below_pass_mark_fails_and_suspends(root: Path) -> None:
    result = run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "64")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "suspended"
    assert record["score"] == pytest.approx(96.5) and record["level"] == "five-star"
    assert record["audits"][-1]["result"] == "fail"
    assert record["events"][-1]["kind"] == "suspended"
    assert "监督审核未通过" in record["events"][-1]["reason"]
    assert_valid(root)


def test_surveil_fail_flag_suspends_whatever_the_score(root: Path) -> None:
    result = run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "85", "--fail",
                 "--reason", "发现严重不符合项", "--reason-en", "Major nonconformity")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "suspended"
    assert record["events"][-1]["reason"] == "发现严重不符合项"
    assert record["events"][-1]["reason_en"] == "Major nonconformity"
    assert record["audits"][-1] == {"date": "2026-03-02", "kind": "surveillance", "score": 85,
                                    "result": "fail"}


def test_surveil_refuses_an_expired_certificate(root: Path) -> None:
    rel = f"certificates/2022/{EXPIRED_NUMBER}.yaml"
    refused_unchanged(root, ["surveil", EXPIRED_NUMBER, "--date", "2025-05-10", "--score", "90"],
                      "expired on 2025-04-30", rel=rel)


def test_surveil_refuses_a_suspended_certificate(root: Path) -> None:
    suspend_on(root, "2026-02-01")
    refused_unchanged(root, ["surveil", NUMBER, "--date", "2026-03-02", "--score", "96"],
                      "needs a valid certificate", "reinstate")


def test_surveil_refuses_a_date_before_the_last_event(root: Path) -> None:
    refused_unchanged(root, ["surveil", NUMBER, "--date", "2025-03-31", "--score", "96"],
                      "earlier than the last event")


def test_surveil_refuses_a_future_date(root: Path) -> None:
    later = (TODAY + dt.timedelta(days=1)).isoformat()
    refused_unchanged(root, ["surveil", NUMBER, "--date", later, "--score", "96"], "future")


def test_surveil_refuses_a_score_above_the_maximum(root: Path) -> None:
    refused_unchanged(root, ["surveil", NUMBER, "--date", "2026-03-02", "--score", "101"],
                      "above the maximum")


def test_surveil_rejects_a_malformed_date_and_score(root: Path) -> None:
    before = text(root)
    bad_date = run(root, "surveil", NUMBER, "--date", "2026/03/02", "--score", "96")
    assert bad_date.exit_code == 2 and "YYYY-MM-DD" in bad_date.output
    bad_score = run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "ninety")
    assert bad_score.exit_code == 2 and "not a score" in bad_score.output
    assert text(root) == before


def test_an_edit_that_would_make_the_record_invalid_is_not_written(root: Path) -> None:
    # 15 months after the last audit while valid: validate's surveillance-gap rule refuses it.
    result = run(root, "surveil", NUMBER, "--date", "2026-06-10", "--score", "96")
    assert_refused(result, f"{RECORD}:", "days between audits", "was not changed")
    assert text(root) == TEXT


def test_an_invalid_record_is_not_edited(root: Path) -> None:
    write(root, RECORD, TEXT.replace("level: five-star", "level: four-star"))
    before = text(root)
    result = run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "x")
    assert_refused(result, f"{RECORD}:18:", "fix them first")
    assert text(root) == before


def test_unknown_number_is_refused(root: Path) -> None:
    assert_refused(run(root, "suspend", "ASC-2025-999999", "--date", "2026-02-01", "--reason", "x"),
                   "no record ASC-2025-999999.yaml")


def test_number_is_found_whatever_its_case(root: Path) -> None:
    result = run(root, "suspend", NUMBER.lower(), "--date", "2026-02-01", "--reason", "企业申请")
    assert result.exit_code == 0, result.output
    assert data(root)["status"] == "suspended"


# --- suspend, reinstate -------------------------------------------------------------------


def test_suspend(root: Path) -> None:
    result = run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "监督审核未按期进行",
                 "--reason-en", "Surveillance audit overdue")
    assert result.exit_code == 0, result.output
    assert "2026-08-01" in result.output  # reinstate or withdraw it by then
    record = data(root)
    assert record["status"] == "suspended"
    assert record["events"][-1] == {"date": "2026-02-01", "kind": "suspended",
                                    "reason": "监督审核未按期进行",
                                    "reason_en": "Surveillance audit overdue"}
    assert_valid(root)


def test_suspend_needs_a_reason(root: Path) -> None:
    result = run(root, "suspend", NUMBER, "--date", "2026-02-01")
    assert result.exit_code == 2 and "--reason" in result.output
    refused_unchanged(root, ["suspend", NUMBER, "--date", "2026-02-01", "--reason", "  "],
                      "needs a reason")


def test_suspend_refuses_a_suspended_certificate(root: Path) -> None:
    assert run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["suspend", NUMBER, "--date", "2026-02-02", "--reason", "b"],
                      "needs a valid certificate, but it is suspended")


def test_suspend_refuses_a_withdrawn_certificate(root: Path) -> None:
    assert run(root, "withdraw", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["suspend", NUMBER, "--date", "2026-02-02", "--reason", "b"],
                      "withdrawn certificate is final")


def test_suspend_refuses_an_expired_certificate(root: Path) -> None:
    rel = f"certificates/2022/{EXPIRED_NUMBER}.yaml"
    refused_unchanged(root, ["suspend", EXPIRED_NUMBER, "--date", "2025-06-01", "--reason", "x"],
                      "expired on 2025-04-30", rel=rel)


def test_reinstate(root: Path) -> None:
    suspend_on(root, "2026-02-01")
    result = run(root, "reinstate", NUMBER, "--date", "2026-04-01", "--reason", "原因消除")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "valid"
    assert record["events"][-1] == {"date": "2026-04-01", "kind": "reinstated",
                                    "reason": "原因消除"}
    assert_valid(root)


def test_reinstate_after_a_failed_audit_needs_the_follow_up_score(root: Path) -> None:
    assert run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "60").exit_code == 0
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2026-05-01"],
                      "latest audit (2026-03-02) failed", "--score")
    result = run(root, "reinstate", NUMBER, "--date", "2026-05-01", "--score", "92",
                 "--reason", "整改完成，跟踪审核通过")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "valid" and record["score"] == 92
    assert record["level"] == "four-star"
    assert [e["kind"] for e in record["events"]][-2:] == ["reinstated", "level-changed"]
    assert record["audits"][-1]["result"] == "pass"
    assert_valid(root)


def test_reinstate_refuses_a_follow_up_below_the_pass_mark(root: Path) -> None:
    assert run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "60").exit_code == 0
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2026-05-01", "--score", "65"],
                      "below the pass mark")


def test_reinstate_refuses_a_valid_certificate(root: Path) -> None:
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2026-02-01"],
                      "needs a suspended certificate, but it is valid")


def test_reinstate_refuses_a_withdrawn_certificate(root: Path) -> None:
    assert run(root, "withdraw", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2026-02-02"],
                      "withdrawn certificate is final", "starmark new")


def test_reinstate_refuses_a_suspension_longer_than_the_scheme_allows(root: Path) -> None:
    assert run(root, "suspend", NUMBER, "--date", "2025-06-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2025-12-02"],
                      "suspended since 2025-06-01", "at most 6 months", "withdraw")
    # the last day allowed is fine
    assert run(root, "reinstate", NUMBER, "--date", "2025-12-01").exit_code == 0


def test_reinstate_refuses_a_date_before_the_suspension(root: Path) -> None:
    assert run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["reinstate", NUMBER, "--date", "2026-01-31"],
                      "earlier than the last event (suspended on 2026-02-01)")


# --- withdraw, cancel ---------------------------------------------------------------------


def test_withdraw_a_valid_certificate(root: Path) -> None:
    result = run(root, "withdraw", NUMBER, "--date", "2026-02-01", "--reason", "发生严重质量事故",
                 "--reason-en", "Serious quality incident")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "withdrawn"
    assert record["events"][-1]["kind"] == "withdrawn"
    assert_valid(root)


def test_withdraw_a_suspended_certificate(root: Path) -> None:
    assert run(root, "suspend", NUMBER, "--date", "2025-06-01", "--reason", "a").exit_code == 0
    result = run(root, "withdraw", NUMBER, "--date", "2025-12-05", "--reason", "暂停期满未整改")
    assert result.exit_code == 0, result.output
    assert data(root)["status"] == "withdrawn"
    assert_valid(root)


def test_withdraw_needs_a_reason_and_refuses_a_cancelled_certificate(root: Path) -> None:
    assert run(root, "withdraw", NUMBER, "--date", "2026-02-01").exit_code == 2
    assert run(root, "cancel", NUMBER, "--date", "2026-02-01").exit_code == 0
    refused_unchanged(root, ["withdraw", NUMBER, "--date", "2026-02-02", "--reason", "x"],
                      "cancelled certificate is final")


def test_cancel(root: Path) -> None:
    result = run(root, "cancel", NUMBER, "--date", "2026-02-01", "--reason", "持证企业申请注销")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["status"] == "cancelled"
    assert record["events"][-1] == {"date": "2026-02-01", "kind": "cancelled",
                                    "reason": "持证企业申请注销"}
    assert_valid(root)


def test_cancel_without_reason_and_after_expiry(root: Path) -> None:
    rel = f"certificates/2022/{EXPIRED_NUMBER}.yaml"
    result = run(root, "cancel", EXPIRED_NUMBER, "--date", "2025-06-01")
    assert result.exit_code == 0, result.output
    assert data(root, rel)["status"] == "cancelled"
    assert_valid(root, rel)


def test_cancel_refuses_a_withdrawn_certificate(root: Path) -> None:
    assert run(root, "withdraw", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["cancel", NUMBER, "--date", "2026-02-02"],
                      "withdrawn certificate is final")


# --- renew --------------------------------------------------------------------------------


def test_renew(root: Path) -> None:
    result = run(root, "renew", NUMBER, "--date", "2026-03-20", "--audit-date", "2026-03-02",
                 "--score", "93")
    assert result.exit_code == 0, result.output
    record = data(root)
    assert record["issued"] == "2026-03-20" and record["expires"] == "2029-03-19"
    assert record["score"] == 93 and record["level"] == "four-star"
    assert record["audits"][-1] == {"date": "2026-03-02", "kind": "recertification",
                                    "score": 93, "result": "pass"}
    assert [e["kind"] for e in record["events"]][-2:] == ["renewed", "level-changed"]
    assert_valid(root)


def test_renew_on_the_day_after_expiry(root: Path) -> None:
    rel = f"certificates/2022/{EXPIRED_NUMBER}.yaml"
    result = run(root, "renew", EXPIRED_NUMBER, "--date", "2025-05-01", "--audit-date",
                 "2025-04-15", "--score", "90")
    assert result.exit_code == 0, result.output
    record = data(root, rel)
    assert record["issued"] == "2025-05-01" and record["expires"] == "2028-04-30"
    assert record["level"] == "four-star"
    assert_valid(root, rel)


def test_renew_refuses_a_lapsed_certificate(root: Path) -> None:
    rel = f"certificates/2022/{EXPIRED_NUMBER}.yaml"
    refused_unchanged(root, ["renew", EXPIRED_NUMBER, "--date", "2025-05-02", "--score", "90"],
                      "lapsed on 2025-04-30", "starmark new", rel=rel)


def test_renew_refuses_a_failing_score_and_a_suspended_certificate(root: Path) -> None:
    refused_unchanged(root, ["renew", NUMBER, "--date", "2026-03-20", "--score", "69.9"],
                      "below the pass mark")
    assert run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    refused_unchanged(root, ["renew", NUMBER, "--date", "2026-03-20", "--score", "96"],
                      "needs a valid certificate, but it is suspended")


def test_renew_refuses_an_audit_after_the_renewal(root: Path) -> None:
    refused_unchanged(root, ["renew", NUMBER, "--date", "2026-03-20", "--audit-date",
                             "2026-03-21", "--score", "96"], "cannot come after the renewal")


# --- layout -------------------------------------------------------------------------------


def test_an_untouched_record_round_trips_byte_for_byte() -> None:
    assert records.dumps(records.parse(TEXT)) == TEXT
    for path in sorted((REPO / "certificates").rglob("*.yaml")):
        original = path.read_text(encoding="utf-8")
        assert records.dumps(records.parse(original)) == original, path


def test_comments_and_layout_survive_an_edit(root: Path) -> None:
    assert run(root, "surveil", NUMBER, "--date", "2026-03-02", "--score", "91.5").exit_code == 0
    assert run(root, "suspend", NUMBER, "--date", "2026-04-01", "--reason", "企业申请暂停",
               "--reason-en", "At the holder's request: temporary").exit_code == 0
    after = text(root)
    for line in TEXT.splitlines():
        if line.startswith(("status:", "score:", "level:")):
            continue
        assert line in after.splitlines(), line
    assert "status: suspended  # set by the lifecycle commands" in after or \
        "status: suspended # set by the lifecycle commands" in after
    lines = after.splitlines()
    assert lines[-1] == "# end of record"
    assert lines[-2].startswith("  - {date: 2026-04-01, kind: suspended, ")
    assert "  - {date: 2025-04-01, kind: issued}  # first issue" in lines
    # every audit and event is still one flow-style line
    items = [line for line in lines if line.startswith("  - ")]
    assert len(items) == 2 + 4
    assert all(item.startswith("  - {") and item.rstrip().endswith(("}", "issue", "audit"))
               for item in items)
    assert_valid(root)


def test_block_style_items_stay_block_style(root: Path) -> None:
    block = TEXT.replace(
        "  - {date: 2025-04-01, kind: issued}  # first issue\n",
        "  - date: 2025-04-01\n    kind: issued\n",
    )
    write(root, RECORD, block)
    assert run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    assert "  - date: 2026-02-01\n    kind: suspended\n    reason: a\n" in text(root)
    assert_valid(root)


def test_crlf_line_endings_are_kept(root: Path) -> None:
    (root / RECORD).write_bytes(TEXT.replace("\n", "\r\n").encode())
    assert run(root, "suspend", NUMBER, "--date", "2026-02-01", "--reason", "a").exit_code == 0
    raw = (root / RECORD).read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")


# --- new ----------------------------------------------------------------------------------

NEW_FLAGS = [
    "--name", "杭州示例净水科技有限公司", "--name-en", "Hangzhou Example Water: Tech Co., Ltd.",
    "--credit-code", "91440300MA5F00777U", "--region", "110108",
    "--address", "北京市海淀区示例路7号", "--industry", "water-treatment",
    "--scope", "净水器的销售、安装、维修及售后服务", "--scope-en", "Water purifiers",
    "--score", "93.5", "--audit-date", "2026-03-10", "--issued", "2026-04-01",
]


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A registry holding only registry/ and three known records."""
    root = tmp_path / "bare"
    root.mkdir()
    shutil.copytree(REPO / "registry", root / "registry")
    write(root, RECORD, TEXT)
    write(root, "certificates/2026/ASC-2026-000007.yaml",
          TEXT.replace(NUMBER, "ASC-2026-000007").replace(CREDIT_CODE, "91110108MA01ABCD2H"))
    write(root, "certificates/2026/ASC-2026-000003.yaml",
          TEXT.replace(NUMBER, "ASC-2026-000003").replace(CREDIT_CODE, "91110108MA01ABCD2H")
          .replace("家用电器的安装", "厨房电器的安装"))
    return root


def test_new_writes_a_valid_record_with_the_next_number(bare: Path) -> None:
    result = run(bare, "new", *NEW_FLAGS)
    assert result.exit_code == 0, result.output
    rel = "certificates/2026/ASC-2026-000008.yaml"
    assert rel in result.output
    record = data(bare, rel)
    assert record["number"] == "ASC-2026-000008"
    assert record["status"] == "valid"
    assert record["level"] == "four-star" and record["score"] == pytest.approx(93.5)
    assert record["issued"] == "2026-04-01" and record["expires"] == "2029-03-31"
    assert record["organization"]["name_en"] == "Hangzhou Example Water: Tech Co., Ltd."
    assert record["audits"] == [{"date": "2026-03-10", "kind": "initial", "score": 93.5,
                                 "result": "pass"}]
    assert record["events"] == [{"date": "2026-04-01", "kind": "issued"}]
    written = text(bare, rel)
    assert written.startswith("# yaml-language-server: $schema=../../registry/record.schema.json\n")
    assert '  region: "110108"\n' in written
    assert "  - {date: 2026-03-10, kind: initial, score: 93.5, result: pass}\n" in written
    assert run(bare, "validate").exit_code == 0


def test_new_makes_the_year_folder_and_starts_at_one(bare: Path) -> None:
    flags = [f if f != "2026-04-01" else "2024-04-01" for f in NEW_FLAGS]
    flags = [f if f != "2026-03-10" else "2024-03-10" for f in flags]
    result = run(bare, "new", *flags)
    assert result.exit_code == 0, result.output
    assert (bare / "certificates/2024/ASC-2024-000001.yaml").is_file()


def test_new_in_the_sample_registry(root: Path) -> None:
    taken = [int(p.stem.rsplit("-", 1)[1]) for p in (root / "certificates/2026").glob("*.yaml")]
    result = run(root, "new", *NEW_FLAGS)
    assert result.exit_code == 0, result.output
    expected = f"ASC-2026-{max(taken, default=0) + 1:06d}"
    assert (root / f"certificates/2026/{expected}.yaml").is_file()
    assert run(root, "validate").exit_code == 0


def test_new_refuses_a_duplicate_organisation_and_scope(bare: Path) -> None:
    flags = list(NEW_FLAGS)
    flags[flags.index("91440300MA5F00777U")] = CREDIT_CODE.lower()
    flags[flags.index("净水器的销售、安装、维修及售后服务")] = "家用电器的安装、维修及售后服务 "
    before = sorted(p.name for p in (bare / "certificates").rglob("*"))
    result = run(bare, "new", *flags)
    assert_refused(result, NUMBER, "already has a certificate", "starmark renew", "--force")
    assert sorted(p.name for p in (bare / "certificates").rglob("*")) == before
    forced = run(bare, "new", *flags, "--force")
    assert forced.exit_code == 0, forced.output
    assert (bare / "certificates/2026/ASC-2026-000008.yaml").is_file()


def test_new_same_organisation_other_scope_is_fine(bare: Path) -> None:
    flags = list(NEW_FLAGS)
    flags[flags.index("91440300MA5F00777U")] = CREDIT_CODE
    assert run(bare, "new", *flags).exit_code == 0


def test_new_never_leaves_an_invalid_file(bare: Path) -> None:
    flags = list(NEW_FLAGS)
    flags[flags.index("91440300MA5F00777U")] = "91440300MA5F00777X"  # wrong check character
    flags[flags.index("2026-04-01")] = "2023-04-01"
    flags[flags.index("2026-03-10")] = "2023-03-10"
    result = run(bare, "new", *flags)
    assert_refused(result, "certificates/2023/ASC-2023-000001.yaml:", "fails its check",
                   "was not written")
    assert not (bare / "certificates/2023").exists()
    assert not list(bare.glob("certificates/**/.starmark-edit-*"))


def test_new_refuses_a_score_below_the_pass_mark_and_a_used_number(bare: Path) -> None:
    flags = list(NEW_FLAGS)
    flags[flags.index("93.5")] = "65"
    assert_refused(run(bare, "new", *flags), "not certifiable")
    assert_refused(run(bare, "new", *NEW_FLAGS, "--number", "ASC-2026-000007"), "already used")
    assert not (bare / "certificates/2026/ASC-2026-000008.yaml").exists()


def test_new_with_an_explicit_number(bare: Path) -> None:
    result = run(bare, "new", *NEW_FLAGS, "--number", "ASC-2026-000100")
    assert result.exit_code == 0, result.output
    assert data(bare, "certificates/2026/ASC-2026-000100.yaml")["number"] == "ASC-2026-000100"


def test_new_asks_for_what_is_missing(bare: Path) -> None:
    answers = "\n".join([
        "杭州示例净水科技有限公司",  # name
        "",  # English name: left out
        "91440300MA5F0077",  # too short: asked again
        "91440300MA5F00777U",
        "999999",  # unknown region: asked again
        "110108",
        "北京市海淀区示例路7号",
        "",  # address in English
        "",  # website
        "water",  # unknown industry: asked again
        "water-treatment",
        "净水器的销售、安装、维修及售后服务",
        "",  # scope in English
        "65",  # below the pass mark: asked again
        "95",
        "2026-04-01",
        "",  # initial audit date: the issue date
    ]) + "\n"
    result = run(bare, "new", input=answers)
    assert result.exit_code == 0, result.output
    assert "18 characters" in result.output
    assert "not a GB/T 2260 code" in result.output
    assert "water-treatment (净水及环境电器)" in result.output
    assert "below the pass mark" in result.output
    record = data(bare, "certificates/2026/ASC-2026-000008.yaml")
    assert record["level"] == "five-star"
    assert "name_en" not in record["organization"] and "en" not in record["scope"]
    assert record["audits"][0]["date"] == "2026-04-01"


def test_next_number_follows_the_registry_format(bare: Path) -> None:
    assert commands.next_number(bare, settings(), 2026) == "ASC-2026-000008"
    assert commands.next_number(bare, settings(), 2025) == "ASC-2025-000901"
    assert commands.next_number(bare, settings(), 2030) == "ASC-2030-000001"
