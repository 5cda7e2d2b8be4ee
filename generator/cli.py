"""The ``starmark`` command line: validate records, build and preview the site, manage certificates."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from . import __version__
from .errors import InputError, Problem
from .load import validate as validate_records


def report(problems: list[Problem]) -> None:
    """Print problems as ``path:line: message``, one a line, and a count on stderr."""
    for problem in problems:
        click.echo(str(problem))
    files = len({p.path for p in problems})
    click.echo(
        f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} file{'s' if files != 1 else ''}",
        err=True,
    )


def parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


class Context:
    """What every command shares: the registry root folder."""

    def __init__(self, root: Path) -> None:
        self.root = root


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=".",
    show_default=True,
    help="Registry folder: holds certificates/, registry/ and mkdocs.yml.",
)
@click.version_option(__version__, prog_name="starmark")
@click.pass_context
def cli(ctx: click.Context, root: Path) -> None:
    """Publish a registry of GB/T 27922 after-sales service certificates (商品售后服务认证).

    Records are YAML files in certificates/, one per certificate; registry-wide settings are in
    registry/. `starmark validate` checks them, `starmark build` turns them into a static site.
    """
    ctx.obj = Context(root.resolve())


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@pass_ctx
def validate(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Check records and print every problem as path:line: message.

    With no PATHS, checks every record under certificates/. Exits 1 if anything is wrong,
    0 if every record is valid.
    """
    settings, good, problems = validate_records(ctx.root, paths)
    if problems:
        report(problems)
        sys.exit(1)
    click.echo(f"{len(good)} record{'s' if len(good) != 1 else ''} valid", err=True)


def main() -> None:
    """Entry point of the ``starmark`` script."""
    try:
        cli(prog_name="starmark")
    except InputError as exc:
        report(exc.problems)
        sys.exit(1)


if __name__ == "__main__":
    main()
