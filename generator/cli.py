"""The ``starmark`` command line: validate, build and preview the site, manage certificates."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from . import __version__
from .errors import InputError, OutputError, Problem
from .load import validate as validate_records


def report(problems: list[Problem]) -> None:
    """Print problems as ``path:line: message``, one a line, and a count on stderr."""
    for problem in problems:
        click.echo(str(problem))
    files = len({p.path for p in problems})
    many, files_many = len(problems) != 1, files != 1
    click.echo(
        f"{len(problems)} problem{'s' if many else ''} in {files} file{'s' if files_many else ''}",
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

# Set by a command whose process has nothing left to do once it returns (see main).
ENDING = {"at_once": False}


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

    With no PATHS, checks every record under certificates/, and then what only the whole
    registry shows: characters the star-mark font lacks, and the reported-counterfeits list.
    Exits 1 if anything is wrong, 0 if every record is valid.
    """
    settings, good, problems = validate_records(ctx.root, paths)
    if settings is not None and not problems and not paths:
        problems = registry_problems(ctx.root)
    if problems:
        report(problems)
        sys.exit(1)
    click.echo(f"{len(good)} record{'s' if len(good) != 1 else ''} valid", err=True)


def registry_problems(root: Path) -> list[Problem]:
    """What only the whole registry shows: glyphs the mark font lacks, a bad counterfeits list."""
    from . import counterfeits, marks
    from .load import load_registry

    registry = load_registry(root)
    problems = marks.check_glyphs(registry)
    try:
        counterfeits.for_registry(registry)
    except InputError as exc:
        problems += exc.problems
    return problems


# build and serve read the same mkdocs configuration.
config_file_option = click.option(
    "--config-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="mkdocs configuration. Default: <root>/mkdocs.yml.",
)


@cli.command()
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="Judge expiry and surveillance on this day (YYYY-MM-DD). "
    "Default: the day of SOURCE_DATE_EPOCH if set, else today.",
)
@click.option(
    "--site-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the site goes. Default: <root>/site.",
)
@config_file_option
@click.option(
    "-q", "--quiet", is_flag=True, help="No progress bars or informational messages (for CI)."
)
@click.option(
    "--require-signature",
    is_flag=True,
    help="Fail (exit 1, site untouched) unless $STARMARK_SIGNING_KEY is set (for CI).",
)
@pass_ctx
def build(
    ctx: Context,
    as_of: dt.date | None,
    site_dir: Path | None,
    config_file: Path | None,
    quiet: bool,
    require_signature: bool,
) -> None:
    """Validate every record, then build the site.

    The site is built in a temporary folder next to the target and moved into place only when
    the build is complete and every record has its page, JSON entry, search entry and feed.
    On any error the previous site is left exactly as it was and the exit status is 1.
    """
    from .publish import build_site
    from .trust import UNSIGNED_WARNING, is_signed

    if not is_signed():
        if require_signature:
            raise click.ClickException(f"--require-signature: {UNSIGNED_WARNING}")
        if not quiet:
            click.echo(f"warning: {UNSIGNED_WARNING}", err=True)
    report = build_site(
        ctx.root, as_of=as_of, site_dir=site_dir, config_file=config_file, quiet=quiet
    )
    ENDING["at_once"] = True  # main() ends the process without tearing the registry down
    if not quiet:
        click.echo(
            f"built {report.records} certificates into {site_dir or ctx.root / 'site'} "
            f"({report.listing_pages} listing pages; marks rendered {report.marks_rendered}, "
            f"from cache {report.marks_cached})",
            err=True,
        )


@cli.command()
@click.option(
    "--as-of", "as_of", callback=parse_date, metavar="DATE", help="As-of date (YYYY-MM-DD)."
)
@click.option(
    "-a",
    "--dev-addr",
    default="127.0.0.1:8000",
    show_default=True,
    metavar="IP:PORT",
    help="Address to serve the preview on.",
)
@config_file_option
@pass_ctx
def serve(ctx: Context, as_of: dt.date | None, dev_addr: str, config_file: Path | None) -> None:
    """Preview the site, rebuilding when a record, a setting or a page changes."""
    from .publish import serve_site

    serve_site(ctx.root, as_of=as_of, dev_addr=dev_addr, config_file=config_file)


@cli.command()
@click.option("--count", type=click.IntRange(1), required=True, help="How many records to make.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for the new registry (settings, pages and mkdocs.yml are copied from --root).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same records.")
@click.option(
    "--as-of",
    "as_of",
    callback=parse_date,
    metavar="DATE",
    help="Histories end on this day. Default: SOURCE_DATE_EPOCH's day or today.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@pass_ctx
def synth(
    ctx: Context, count: int, out: Path, seed: int, as_of: dt.date | None, quiet: bool
) -> None:
    """Make a synthetic registry of COUNT fictional, valid certificates for benchmarks and tests.

    Every record is labelled sample data (示例数据) and passes `starmark validate`; statuses,
    star levels, regions, industries and audit histories are varied as in a real registry.
    """
    from tqdm import tqdm

    from .load import as_of_default
    from .settings import load as load_settings
    from .synth import prepare_root, synthesize

    settings = load_settings(ctx.root)
    prepare_root(ctx.root, out)
    with tqdm(total=count, desc="records", disable=True if quiet else None, leave=False) as bar:
        for _ in synthesize(
            settings, out, count, seed=seed, as_of=as_of or as_of_default(), progress=bar.update
        ):
            pass
    if not quiet:
        click.echo(f"wrote {count} records to {out / 'certificates'}", err=True)


# Commands defined in other modules register themselves here (one line each).
from .commands import register as _register_commands  # noqa: E402
from .deploy.command import deploy as _deploy  # noqa: E402
from .deploy.command import hostcheck as _hostcheck  # noqa: E402
from .spreadsheet.commands import COMMANDS as _SPREADSHEET_COMMANDS  # noqa: E402
from .status import status as _status  # noqa: E402
from .trust.cli import keygen as _keygen  # noqa: E402
from .trust.cli import verify as _verify  # noqa: E402

_register_commands(cli)
cli.add_command(_keygen)
cli.add_command(_verify)
cli.add_command(_deploy)
cli.add_command(_hostcheck)
for _command in _SPREADSHEET_COMMANDS:
    cli.add_command(_command)
cli.add_command(_status)


def main(*, at_once: bool = False) -> None:
    """Run the command line; problems as ``path:line: message``, exit status 1.

    ``at_once``: the process ends when this returns (the ``starmark`` script, :func:`script`):
    after a build it then ends without tearing down what it loaded.
    """
    ENDING["at_once"] = False
    try:
        cli(prog_name="starmark")
    except SystemExit as exc:
        if at_once and ENDING["at_once"] and exc.code in (0, None):
            from .publish import exit_at_once

            exit_at_once(0)
        raise
    except InputError as exc:
        report(exc.problems)
        sys.exit(1)
    except OSError as exc:  # disk full, read-only folder…: the path and why, not a traceback
        click.echo(str(OutputError.of(exc)), err=True)
        sys.exit(1)
    except OutputError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)


def script() -> None:
    """Entry point of the ``starmark`` script and of ``python -m generator``."""
    main(at_once=True)


if __name__ == "__main__":
    script()
