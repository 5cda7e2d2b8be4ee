"""The ``starmark export`` and ``starmark import`` commands (click), over this package."""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from .. import load
from .. import settings as settings_mod
from ..errors import InputError, Problem
from .columns import CERTIFICATE_COLUMNS, HISTORY_COLUMNS, fold_header


def _fail(problems: list[Problem]) -> None:
    for problem in problems:
        click.echo(str(problem))
    click.echo(f"{len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True)
    sys.exit(1)


def _settings(root: Path) -> settings_mod.Settings:
    try:
        return settings_mod.load(root)
    except InputError as exc:
        _fail(exc.problems)
        raise


def _bar(total: int, quiet: bool, desc: str) -> Any:
    from tqdm import tqdm

    # Shown for long files only, and never when output is not a terminal (tqdm's None).
    return tqdm(total=total, desc=desc, unit="row", leave=False,
                disable=True if quiet or total < 500 else None)


@click.command("export")
@click.option("--xlsx", "xlsx", type=click.Path(dir_okay=False, path_type=Path),
              help="Write a workbook (.xlsx).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write CSV (UTF-8 with BOM); audits and events go to NAME.history.csv.")
@click.option("--template", is_flag=True,
              help="Write the empty workbook staff fill in: headings and the 说明 sheet only.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def export(obj: Any, xlsx: Path | None, csv_file: Path | None, template: bool,
           quiet: bool) -> None:
    """Write every record to a workbook (--xlsx) or to CSV (--csv) for staff to review.

    Sheet 证书 has one row per certificate, 审核与事件 one row per audit or event, 说明 the
    columns and the values they take. `starmark import` reads the same columns back.

    \b
    Examples:
      starmark export --xlsx registry.xlsx
      starmark export --csv registry.csv   # also writes registry.history.csv
      starmark export --template --xlsx 模板.xlsx
    """
    from .export import write_csv, write_xlsx

    if (xlsx is None) == (csv_file is None):
        raise click.UsageError("give one of --xlsx FILE or --csv FILE")
    root = Path(obj.root)
    if template:
        settings = _settings(root)
        records: list[dict[str, Any]] = []
    else:
        settings_or_none, good, problems = load.validate(root)
        if problems or settings_or_none is None:
            _fail(problems)
            return
        settings = settings_or_none
        records = sorted((data for data, _ in good), key=lambda d: str(d["number"]))
    if xlsx is not None:
        rows = len(records) + sum(len(d["audits"]) + len(d["events"]) for d in records)
        with _bar(rows, quiet, "export") as bar, _replacing(xlsx) as temp:
            write_xlsx(temp, records, settings, progress=bar.update)
        click.echo(f"wrote {len(records)} certificates to {xlsx}", err=True)
    else:
        assert csv_file is not None
        from .reading import history_csv

        second = history_csv(csv_file)
        with _replacing(csv_file) as temp, _replacing(second) as temp_second:
            write_csv(temp, records, settings, temp_second)
        click.echo(f"wrote {len(records)} certificates to {csv_file} and their audits and "
                   f"events to {second}", err=True)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it only when writing it succeeded."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix,
                                    dir=path.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    fields = {c.field for c in (*CERTIFICATE_COLUMNS, *HISTORY_COLUMNS)}
    mapping = {}
    for pair in pairs:
        heading, sep, field = pair.partition("=")
        field = field.strip()
        if not sep or not heading.strip() or field not in fields:
            raise click.BadParameter(
                f"{pair!r}: write 列名=field, field one of: {', '.join(sorted(fields))}",
                param_hint="--map")
        mapping[fold_header(heading)] = field
    return mapping


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would be created, refused or left "
              "alone; write nothing.")
@click.option("--partial", is_flag=True, help="Write the clean rows even when others have "
              "problems (the problems are still printed, and the exit status is 1).")
@click.option("--map", "maps", multiple=True, metavar="列名=field",
              help="Read a column with another heading as a record field, e.g. "
                   "--map 证书持有人=organization.name (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.pass_obj
def import_(obj: Any, file: Path, dry_run: bool, partial: bool, maps: tuple[str, ...],
            quiet: bool) -> None:
    """Create records from a workbook (.xlsx) or CSV: one certificate per row.

    Reads what `starmark export` writes, or a body's own workbook: headings are matched
    leniently (证书号/证书编号, 企业名称/组织名称, 有效期/有效期至 …; --map for others), the
    heading row may sit below a title, dates may be typed as text. Every row is checked with the
    rules of `starmark validate`; every problem is printed as FILE.xlsx:Sheet!C12: message and
    nothing is written unless the whole file is clean (or --partial). Importing the same file
    again changes nothing; a row that changes an existing certificate is refused, naming the
    lifecycle command that records the change.

    \b
    Examples:
      starmark import --dry-run certificates.xlsx
      starmark import certificates.xlsx --map 证书持有人=organization.name
    """
    from .importer import CREATE, REFUSED, UNCHANGED, Importer, write
    from .reading import ReadError, read

    root = Path(obj.root)
    settings = _settings(root)
    mapping = _mapping(maps)
    shown = str(file)
    importer = Importer(root, settings)
    try:
        book = read(file, shown, mapping)
    except ReadError as exc:
        raise click.ClickException(str(exc)) from None
    rows = len(book.certificates.rows) if book.certificates else 0
    with _bar(rows, quiet, "import") as bar:
        plan = importer.plan(book, shown, progress=bar.update)
    for note in plan.notes:
        click.echo(f"note: {note}", err=True)
    if dry_run:
        for outcome in plan.outcomes:
            word = {CREATE: "create", UNCHANGED: "unchanged", REFUSED: "refused"}[outcome.action]
            click.echo(f"{word}: {outcome.display}")
    for problem in plan.problems:
        click.echo(str(problem))
    counts = (f"{plan.count(CREATE)} to create, {plan.count(UNCHANGED)} unchanged, "
              f"{plan.count(REFUSED)} refused, {len(plan.problems)} problem"
              f"{'s' if len(plan.problems) != 1 else ''}")
    if dry_run:
        click.echo(f"dry run: {counts}; nothing written", err=True)
        sys.exit(1 if plan.problems else 0)
    if plan.problems and not partial:
        click.echo(f"{counts}; nothing written (fix them, or import the clean rows with "
                   "--partial)", err=True)
        sys.exit(1)
    try:
        written = write(root, plan.outcomes)
    except OSError as exc:
        raise click.ClickException(f"nothing written: {exc}") from None
    click.echo(f"wrote {written} records under {load.CERTIFICATES_DIR}/; "
               f"{plan.count(UNCHANGED)} unchanged, {plan.count(REFUSED)} refused", err=True)
    if plan.problems:
        sys.exit(1)


COMMANDS = (export, import_)
