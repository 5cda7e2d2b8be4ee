"""Run mkdocs for a registry: a build that replaces the site only when complete, and a preview.

mkdocs is driven through its Python API; the ``starmark`` plugin does the registry's part. A
build goes into a new folder beside the site, linking what did not change from the live site
(see ``build``), is checked, and is then swapped in; its manifest is saved only after the swap,
so the next build links from exactly what is live.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .build import BuildReport, manifest_path, progress
from .errors import InputError, Problem
from .load import load_registry

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")


class BuildFailed(Exception):
    """The site could not be built; the previous site is untouched."""


def _config_file(root: Path, config_file: Path | None) -> Path:
    path = config_file or root / "mkdocs.yml"
    if not path.is_file():
        message = "no mkdocs configuration here; copy mkdocs.yml from starmark"
        raise InputError([Problem(str(path), 0, message)])
    return path


def _load_config(root: Path, config_file: Path, as_of: dt.date | None, quiet: bool,
                 **overrides: Any) -> Any:
    from mkdocs.config import load_config

    config = load_config(str(config_file), **overrides)
    plugin = config.plugins.get("starmark")
    if plugin is None:
        message = "the starmark plugin is not listed under plugins"
        raise InputError([Problem(str(config_file), 0, message)])
    plugin.config.root = str(root)
    if as_of:
        plugin.config.as_of = as_of.isoformat()
    plugin.config.quiet = quiet
    return config


@contextlib.contextmanager
def _quiet_logs(quiet: bool) -> Iterator[None]:
    logger = logging.getLogger("mkdocs")
    level = logger.level
    if quiet:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def swap_into_place(new: Path, target: Path, *, keep_old: bool = False) -> Path | None:
    """Replace ``target`` by ``new``: two renames, so a reader sees the old or the new site.

    The old site is deleted, or with ``keep_old`` returned for the caller to delete.
    """
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None and not keep_old:
        shutil.rmtree(old, ignore_errors=True)
        return None
    return old


@contextlib.contextmanager
def _exclusive(lock: Path) -> Iterator[None]:
    """One build of a site at a time: a second waits rather than swapping in a half-linked one."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_site(root: Path, *, as_of: dt.date | None = None, site_dir: Path | None = None,
               config_file: Path | None = None, quiet: bool = False) -> BuildReport:
    """Validate, build into a temporary folder, check, then move it into place."""
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    started = time.perf_counter()
    target = (site_dir or root / "site").resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    config_path = _config_file(root, config_file)
    with contextlib.ExitStack() as held:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
        try:
            with _quiet_logs(quiet):
                config = _load_config(root, config_path, as_of, quiet, site_dir=str(tmp))
            plugin = config.plugins["starmark"]
            cache_dir = plugin.cache_folder(root)
            held.enter_context(_exclusive(manifest_path(cache_dir, target).with_suffix(".lock")))
            loading = time.perf_counter()
            # Every record problem, before mkdocs says anything; the plugin reuses this registry.
            plugin.preloaded = load_registry(
                root, plugin.as_of(), cache_dir=cache_dir,
                progress=lambda files: progress(files, len(files), "records", quiet))
            loaded = time.perf_counter() - loading
            plugin.previous_site = target
            with _quiet_logs(quiet):
                build(config)
            report = plugin.report
            if report is None:
                raise BuildFailed("the starmark plugin did not run")
        except (MkDocsException, BuildFailed) as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            message = f"build failed, site left as it was: {exc}"
            raise InputError([Problem(str(config_path), 0, message)]) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        os.chmod(tmp, 0o755)
        old = swap_into_place(tmp, target, keep_old=True)
        # The old tree is mostly links to the new one's files: delete it while the new
        # site's manifest is written.
        deleting = threading.Thread(target=shutil.rmtree, args=(old, True))
        if old is not None:
            deleting.start()
        report.timings["load"] = loaded
        _save_manifest(report, plugin.cache_dir, target)
        if old is not None:
            deleting.join()
        report.timings["total"] = time.perf_counter() - started
        _save_report(report, plugin.cache_dir, target)
    return report


def _save_manifest(report: BuildReport, cache_dir: Path, site: Path) -> None:
    """Keep what the live site holds, for the next build to link from."""
    if report.manifest is not None:
        report.manifest.save(manifest_path(cache_dir, site))


def _save_report(report: BuildReport, cache_dir: Path, site: Path) -> None:
    """Keep the report of the build that made the live site (counts and stage timings)."""
    summary = manifest_path(cache_dir, site).with_suffix(".report.json")
    summary.write_text(json.dumps(report.summary(), indent=2, sort_keys=True) + "\n", "utf-8")


def serve_site(root: Path, *, as_of: dt.date | None, dev_addr: str,
               config_file: Path | None) -> None:
    """Live preview: mkdocs serve with the registry's folders watched."""
    from mkdocs.commands.serve import serve

    config_path = _config_file(root, config_file)
    if as_of:
        os.environ["STARMARK_AS_OF"] = as_of.isoformat()
    os.environ["STARMARK_ROOT"] = str(root)
    serve(str(config_path), livereload=True, dev_addr=dev_addr,
          watch=[str(root / "certificates"), str(root / "registry")])
