"""Every `starmark` command the README and the staff guide show works as written on a copy of
the sample registry, and both documents invoke the CLI the same way.

An example is a line of a fenced code block, or an inline code span outside a table, that starts
with ``starmark``. Table rows summarise commands with placeholders (NUMBER, D, 编号 …) and are
not examples; nor is a command with a placeholder, a heading, or a bare command name in a
sentence (`starmark renew`) when the command needs arguments. The examples in the commands'
own help count too. Each example runs on its own copy, on the day of its latest date (the day
staff would run it); a reinstatement runs after the suspension the same document shows first,
as both documents tell it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from generator.cli import cli

REPO = Path(__file__).resolve().parent.parent
DOCUMENTS = ("README.md", "docs/publishing.md")
DEFAULT_DAY = dt.date(2026, 11, 27)  # for an example that names no date
PLACEHOLDER = re.compile(
    r"^(?:[A-Z]|NUMBER|REV|PATHS?|编号|命令|托管方式)$|…|^\[|^~"
    r"|\b(?:BUCKET|PREFIX|USER|HOST|PATH|DEST|FILE|LIST)\b"  # s3://BUCKET/PREFIX, USER@HOST:/PATH
)
FENCE = re.compile(r"^\s*```(\w*)\s*$")
INLINE = re.compile(r"`(starmark [^`]+)`")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


@dataclass(frozen=True)
class Example:
    document: str
    line: int
    command: str

    @property
    def argv(self) -> list[str]:
        return shlex.split(self.command, comments=True)[1:]

    @property
    def day(self) -> dt.date:
        days = [dt.date.fromisoformat(d) for d in DATE.findall(self.command)]
        return max(days, default=DEFAULT_DAY)

    def __str__(self) -> str:
        return f"{self.document}:{self.line}: {self.command}"


def examples(document: str) -> list[Example]:
    """The runnable `starmark` commands of ``document``, in order."""
    found: list[Example] = []
    lines = (REPO / document).read_text("utf-8").splitlines()
    in_code, command, start = False, "", 0
    for number, line in enumerate(lines, 1):
        if FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            text = line.strip()
            if command:
                command += " " + text
            elif text.startswith("starmark"):
                command, start = text, number
            else:
                continue
            if command.endswith("\\"):
                command = command[:-1].rstrip()
                continue
            found.append(Example(document, start, command))
            command = ""
        elif not line.lstrip().startswith(("|", "#")):  # not a table row, not a heading
            found += [Example(document, number, span) for span in INLINE.findall(line)
                      if not _mention(span)]
    return [e for e in found if not any(PLACEHOLDER.search(t) for t in shlex.split(e.command))
            and not _over_ssh(e)]


def _over_ssh(example: Example) -> bool:
    """`starmark deploy USER@HOST:/PATH` needs a real SSH server: the rsync transport is tested
    on a local folder in tests/test_deploy_e2e.py, and no test may reach another machine."""
    words = example.argv
    return (len(words) > 1 and words[0] == "deploy"
            and re.match(r"^[^/]*@[^/]*:", words[1]) is not None)


def _mention(span: str) -> bool:
    """`starmark renew` in a sentence names a command that cannot run without arguments;
    `starmark serve` runs until it is stopped (tests/test_errors.py serves a site for real)."""
    words = span.split()
    if words[1:] == ["serve"]:
        return True
    command = cli.commands.get(words[1]) if len(words) == 2 else None
    return command is not None and any(p.required for p in command.params)


def help_examples() -> list[Example]:
    """The examples in the commands' own help (`starmark new --help` …)."""
    found = []
    for name, command in sorted(cli.commands.items()):
        lines = (command.help or "").splitlines()
        marks = [i for i, line in enumerate(lines) if line.strip() in ("Example:", "Examples:")]
        joined = ""
        for line in lines[marks[0] + 1:] if marks else []:
            text = line.strip()
            if not text:
                break
            joined = f"{joined} {text}".strip()
            if joined.endswith("\\"):
                joined = joined[:-1].rstrip()
                continue
            found.append(Example(f"starmark {name} --help", 0, joined))
            joined = ""
    return found


ALL = [example for document in DOCUMENTS for example in examples(document)] + help_examples()


def test_the_documents_show_the_commands_staff_need() -> None:
    shown = {(e.document, e.argv[0]) for e in ALL}
    for name in ("new", "surveil", "suspend", "reinstate", "withdraw", "cancel", "renew",
                 "validate", "check", "build"):
        assert ("docs/publishing.md", name) in shown, name
    for name in ("suspend", "validate", "check", "reinstate"):
        assert ("README.md", name) in shown, name


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "registry"
    for name in ("registry", "certificates", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    return root


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.name=示例", "-c", "user.email=a@b.c",
                    *args], check=True, capture_output=True)


def _run(root: Path, example: Example, monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(calendar.timegm(example.day.timetuple())))
    monkeypatch.chdir(root)  # files an example names (export --xlsx FILE) land in the copy
    return CliRunner().invoke(cli, ["--root", str(root), *example.argv])


@pytest.mark.parametrize("example", ALL, ids=str)
def test_every_documented_example_works_as_written(
    example: Example, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    root = _copy(tmp_path)
    if example.argv[0] == "check":
        # What CI has: a clone whose origin/main is the registry before the change.
        _git(root, "init", "-q", "-b", "main")
        _git(root, "add", "-A")
        _git(root, "commit", "-q", "-m", "sample registry")
        _git(root, "update-ref", "refs/remotes/origin/main", "HEAD")
    if example.argv[0] == "reinstate":
        shown = examples(example.document) if example.line else help_examples()
        before = next(e for e in shown if e.argv[0] == "suspend")
        done = _run(root, before, monkeypatch)
        assert done.exit_code == 0, f"{before}\n{done.output}"
    if example.argv[0] == "import":
        # The workbook an import example reads: the registry's own export (re-importing it
        # changes nothing, which is what a body sees when it tries the command first).
        workbook = next(a for a in example.argv[1:] if a.endswith((".xlsx", ".csv")))
        made = CliRunner().invoke(cli, ["--root", str(root), "export", "--xlsx",
                                        str(root / workbook)])
        assert made.exit_code == 0, made.output
    if example.argv[0] == "status" and "--file" in example.argv:
        # A supplier list as staff paste it: sloppy forms of two sample numbers.
        listed = root / example.argv[example.argv.index("--file") + 1]
        listed.write_text("asc2025000140\nASC-2025-000123\n", "utf-8")
    if example.argv[0] in ("deploy", "hostcheck"):
        # What staff do first: build the site these commands publish or check.
        built = CliRunner().invoke(cli, ["--root", str(root), "build", "--quiet", "--as-of",
                                         example.day.isoformat()])
        assert built.exit_code == 0, built.output
    if example.argv[0] == "deploy" and example.argv[1].startswith("s3://"):
        _s3_bucket(example.argv[1], request.getfixturevalue("s3_endpoint"), monkeypatch, tmp_path)
    result = _run(root, example, monkeypatch)
    assert result.exit_code == 0, f"{example}\n{result.output}"
    assert "Traceback" not in result.output


def _s3_bucket(dest: str, endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials in the environment, as a CI job sets them, and the bucket the example names."""
    import boto3

    for name, value in {"AWS_ACCESS_KEY_ID": "docs-example", "AWS_SECRET_ACCESS_KEY": "x",
                        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
                        "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = dest.removeprefix("s3://").split("/")[0]
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)


def test_documented_output_is_what_the_command_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staff guide quotes what the suspension example prints."""
    guide = (REPO / "docs" / "publishing.md").read_text("utf-8")
    quoted = re.search(r"命令打印改动的文件：`([^`]+)`", guide)
    assert quoted is not None
    suspend = next(e for e in examples("docs/publishing.md") if e.argv[0] == "suspend")
    result = _run(_copy(tmp_path), suspend, monkeypatch)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == quoted.group(1)


def test_both_documents_invoke_the_cli_one_way() -> None:
    """`starmark …` everywhere, after activating .venv once; never `.venv/bin/starmark`."""
    for document in DOCUMENTS:
        text = (REPO / document).read_text("utf-8")
        assert ".venv/bin/starmark" not in text, document
        assert ". .venv/bin/activate" in text, document
