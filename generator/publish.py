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
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .build import BuildReport, manifest_path, progress
from .errors import InputError, Problem
from .load import load_registry
from .output import Manifest, Previous

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
    """Validate, build into a folder that is not the live site, check, then swap it in.

    The folder is the spare tree kept in the cache folder (the site that was live before the
    last build), updated to this build: what did not change is kept there or linked from the
    live site. After the swap the replaced site becomes the spare tree. When the cache folder
    is on another file system than the site, a new folder is used and the old site deleted.
    """
    from mkdocs.commands.build import build
    from mkdocs.exceptions import MkDocsException

    started = time.perf_counter()
    target = (site_dir or root / "site").resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    config_path = _config_file(root, config_file)
    with contextlib.ExitStack() as held:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
        held.callback(shutil.rmtree, tmp, True)  # mkdocs' own output, moved out when it worked
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
            trees = Trees(cache_dir, target)
            live = trees.prepare()
            plugin.previous = Previous(target, live) if live is not None else None
            plugin.build_dir, plugin.spare = trees.spare_dir or tmp, trees.spare
            building = time.perf_counter()
            with _quiet_logs(quiet):
                build(config)
            report = plugin.report
            if report is None:
                raise BuildFailed("the starmark plugin did not run")
            report.timings["mkdocs"] = (time.perf_counter() - building
                                        - report.timings.get("render_site", 0.0))
        except (MkDocsException, BuildFailed) as exc:
            message = f"build failed, site left as it was: {exc}"
            raise InputError([Problem(str(config_path), 0, message)]) from None
        swapping = time.perf_counter()
        trees.swap(trees.spare_dir or tmp, report, live)
        report.timings["load"] = loaded
        report.timings["swap"] = time.perf_counter() - swapping
        report.timings["total"] = time.perf_counter() - started
        _save_report(report, cache_dir, target)
    return report


class Trees:
    """The live site and the spare tree of one site, with their manifests.

    ``<cache>/sites/<key>.manifest`` describes the live site, ``.spare-manifest`` the spare
    tree ``<cache>/trees/<key>/spare``. The spare's manifest is removed while a build changes
    the spare tree, so a build that fails leaves a spare tree that the next one discards.
    """

    def __init__(self, cache_dir: Path, target: Path) -> None:
        self.target = target
        self.live_path = manifest_path(cache_dir, target)
        self.spare_path = self.live_path.with_suffix(".spare-manifest")
        self.folder = cache_dir / "trees" / self.live_path.stem
        self.spare_dir: Path | None = None
        self.spare: Manifest | None = None

    def prepare(self) -> Manifest | None:
        """Make the spare tree ready to build in; return the live site's manifest."""
        self.folder.mkdir(parents=True, exist_ok=True)
        old = self.folder / "old"
        if old.exists():  # a swap was interrupted between its two renames
            if not self.target.exists():
                os.replace(old, self.target)
            else:
                shutil.rmtree(old, ignore_errors=True)
        live = Manifest.load(self.live_path) if self.target.is_dir() else None
        if os.stat(self.folder).st_dev != os.stat(self.target.parent).st_dev:
            return live  # no renames across file systems: build in a new folder
        self.spare_dir = self.folder / "spare"
        self.spare = Manifest.load(self.spare_path) if self.spare_dir.is_dir() else None
        if self.spare is None:
            shutil.rmtree(self.spare_dir, ignore_errors=True)  # unknown content
        self.spare_path.unlink(missing_ok=True)  # the spare tree is about to change
        self.spare_dir.mkdir(exist_ok=True)
        return live

    def swap(self, built: Path, report: BuildReport, live: Manifest | None) -> None:
        """Put ``built`` in place of the live site, keep the replaced site as the spare tree."""
        os.chmod(built, 0o755)
        if self.spare_dir is None:
            swap_into_place(built, self.target)
        else:
            old = self.folder / "old"
            had_site = self.target.exists()
            if had_site:
                os.replace(self.target, old)
            os.replace(built, self.target)
            if had_site:
                os.replace(old, self.spare_dir)
                if live is not None:
                    live.save(self.spare_path)
        if report.manifest is not None:
            report.manifest.save(self.live_path)


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
