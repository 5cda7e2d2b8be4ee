"""Run mkdocs for a registry: a build that replaces the site only when complete, and a preview.

mkdocs is driven through its Python API; the ``starmark`` plugin does the registry's part. A
build goes into a new folder beside the site, linking what did not change from the live site
(see ``build``), is checked, and is then swapped in; its manifest is saved only after the swap,
so the next build links from exactly what is live.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime as dt
import errno
import fcntl
import gc
import glob
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from .build import BuildReport, manifest_path, progress, run_later
from .errors import InputError, OutputError, Problem
from .load import load_registry
from .output import Manifest, Previous, SpareCheck, gc_frozen, gc_paused

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


# From how many files the spare tree's check runs in a process of its own (below, a stat of each
# file where it is used costs less than starting one).
SPARE_CHECK_FILES = 2_000
_RENAME_EXCHANGE = 2  # linux/fs.h: swap two names in one step


def _renameat2() -> Any:
    """libc's renameat2(2), or None where the C library has none (not Linux, old glibc)."""
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    return function


_AT_FDCWD = -100
_EXCHANGE = _renameat2()


def exchange(new: Path, target: Path) -> bool:
    """Swap the folders ``new`` and ``target`` in one step (renameat2 RENAME_EXCHANGE).

    Every path lookup sees either the old tree or the new one, never none: a web server
    serving ``target`` always serves a whole site. False when the system or the file system
    cannot exchange (then nothing was changed).
    """
    if _EXCHANGE is None:
        return False
    if _EXCHANGE(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(target),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(target))


def swap_into_place(new: Path, target: Path) -> Path | None:
    """Put the folder ``new`` where ``target`` is; return where the replaced site is now.

    One atomic exchange where the system has it; elsewhere two renames (target → old,
    new → target), so a reader may find no site for that instant, and a build killed
    between them leaves the old site beside it for the next build to put back.
    """
    if not target.exists():
        os.rename(new, target)
        return None
    if exchange(new, target):
        return new
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    os.replace(target, old)
    os.replace(new, target)
    return old


def leftovers(target: Path) -> list[Path]:
    """Folders that killed builds left beside ``target``: half-built sites and replaced ones."""
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.build-*")) + sorted(
        target.parent.glob(f".{glob.escape(target.name)}.old-*"))


def _remove_leftovers(target: Path) -> None:
    """Remove what killed builds left (only while holding the site's lock: no build is on)."""
    if not target.exists():
        for old in sorted(target.parent.glob(f".{glob.escape(target.name)}.old-*")):
            os.replace(old, target)  # killed between the two renames of a swap: put it back
            break
    for folder in leftovers(target):
        shutil.rmtree(folder, ignore_errors=True)


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


def _os_problem(path: Path, what: str, exc: OSError) -> OutputError:
    return OutputError(str(path), f"{what}: {exc.strerror or exc}")


def check_folders(target: Path, cache_dir: Path) -> None:
    """Before building: the site, its parent and the cache folder can be written.

    Found here, a read-only folder or a cache path that is a file costs a second, not a whole
    build that then fails at the switch. Raises :class:`OutputError` (the path and the cause).
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_problem(target.parent, "cannot create the site's folder", exc) from None
    if target.exists() and not target.is_dir():
        raise OutputError(str(target), "the site path is a file, not a folder")
    try:
        probe = tempfile.mkdtemp(prefix=f".{target.name}.probe-", dir=target.parent)
        os.rmdir(probe)
    except OSError as exc:
        raise _os_problem(target.parent, "cannot write beside the site (a build is assembled "
                          "there and switched in)", exc) from None
    if target.is_dir() and not os.access(target, os.W_OK):
        # Moving a folder to another parent rewrites its ".." entry: it must be writable.
        raise _os_problem(target, "the site folder cannot be replaced",
                          PermissionError(errno.EACCES, "it is not writable"))
    if cache_dir.exists() and not cache_dir.is_dir():
        raise OutputError(str(cache_dir), "the cache folder is a file; remove it or set the "
                          "starmark plugin's cache_dir")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".probe-", dir=cache_dir)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _os_problem(cache_dir, "cannot write the cache folder", exc) from None


def build_site(root: Path, *, as_of: dt.date | None = None, site_dir: Path | None = None,
               config_file: Path | None = None, quiet: bool = False) -> BuildReport:
    """Validate, build into a folder that is not the live site, check, then switch it in.

    The folder is the spare tree kept in the cache folder (the site that was live before the
    last build), updated to this build: what did not change is kept there or linked from the
    live site. The switch exchanges the two trees in one step, so the replaced site becomes
    the spare tree. When the cache folder is on another file system than the site, a new
    folder beside the site is used and the old site deleted.
    """
    from mkdocs.exceptions import MkDocsException

    started = time.perf_counter()
    target = (site_dir or root / "site").resolve()
    config_path = _config_file(root, config_file)
    with _quiet_logs(quiet):
        config = _load_config(root, config_path, as_of, quiet, site_dir=str(target))
    plugin = config.plugins["starmark"]
    cache_dir = plugin.cache_folder(root)
    check_folders(target, cache_dir)
    with contextlib.ExitStack() as held:
        held.enter_context(_exclusive(manifest_path(cache_dir, target).with_suffix(".lock")))
        plugin.later = []
        held.callback(run_later, plugin.later)  # what the build did not get to (it failed)
        _remove_leftovers(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.build-", dir=target.parent))
        held.callback(shutil.rmtree, tmp, True)  # mkdocs' own output, moved out when it worked
        config.site_dir = str(tmp)
        trees = Trees(cache_dir, target)
        live = trees.prepare()
        plugin.spare_check = None
        if trees.spare_dir is not None and trees.spare is not None and (
                len(trees.spare.files) >= SPARE_CHECK_FILES):
            # The spare tree's files are checked on the other core while the registry loads.
            plugin.spare_check = held.enter_context(
                contextlib.closing(SpareCheck(trees.spare_dir, trees.spare)))
        try:
            loading = time.perf_counter()
            # Every record problem, before mkdocs says anything; the plugin reuses this registry.
            # The registry is never garbage during the build: frozen out of the collector as
            # soon as it is made (else the first collection walks all of it, 0.5 s at 100,000).
            held.enter_context(gc_frozen())
            plugin.digests = {}
            with gc_paused():
                plugin.preloaded = load_registry(
                    root, plugin.as_of(), cache_dir=cache_dir, digests=plugin.digests,
                    later=plugin.later,
                    progress=None if quiet else (
                        lambda files: progress(files, len(files), "records", quiet)))
                gc.freeze()
            loaded = time.perf_counter() - loading
            trees.claim()
            plugin.previous = Previous(target, live) if live is not None else None
            plugin.build_dir, plugin.spare = trees.spare_dir or tmp, trees.spare
            building = time.perf_counter()
            # mkdocs runs only when something it reads changed (generator.frames).
            plugin.site_name = manifest_path(cache_dir, target).stem
            key = plugin.frames_key_of(config, plugin.preloaded)
            report = plugin.replay(config, key) if live is not None else None
            if report is None:
                from mkdocs.commands.build import build

                plugin.frames_key = key
                with _quiet_logs(quiet):
                    build(config)
                report = plugin.report
            if report is None:
                raise BuildFailed("the starmark plugin did not run")
            report.timings["mkdocs"] = (time.perf_counter() - building
                                        - report.timings.get("render_site", 0.0))
        except (MkDocsException, BuildFailed) as exc:
            if plugin.failure is not None:  # the registry's own problems, path:line each
                raise plugin.failure from None
            message = f"build failed, site left as it was: {exc}"
            raise InputError([Problem(str(config_path), 0, message)]) from None
        swapping = time.perf_counter()
        trees.swap(trees.spare_dir or tmp, report, live)
        report.timings["load"] = loaded
        report.timings["swap"] = time.perf_counter() - swapping
        report.timings["total"] = time.perf_counter() - started
        _save_report(report, cache_dir, target)
    return report


def exit_at_once(status: int = 0) -> NoReturn:
    """End the process now, its output flushed, without freeing its objects one by one: after a
    build that teardown takes longer than some whole rebuilds (0.5 s at 10,000 certificates,
    3 s at 100,000), and nothing is left to do (``build_site`` has removed its temporary
    folders, released its lock and written its manifests and caches)."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


class Trees:
    """The live site and the spare tree of one site, with their manifests.

    ``<cache>/sites/<key>.manifest`` describes the live site, ``.spare-manifest`` the spare
    tree ``<cache>/trees/<key>/spare``. The spare's manifest is removed while a build changes
    the spare tree, so a build that fails leaves a spare tree that the next one discards.
    The new site's manifest waits as ``.next-<inode of the new site's folder>`` until the
    switch: a build killed around it is recognised by whether the live folder is that inode.
    """

    def __init__(self, cache_dir: Path, target: Path) -> None:
        self.target = target
        self.live_path = manifest_path(cache_dir, target)
        self.spare_path = self.live_path.with_suffix(".spare-manifest")
        self.folder = cache_dir / "trees" / self.live_path.stem
        self.spare_dir: Path | None = None
        self.spare: Manifest | None = None

    def _pending(self) -> list[Path]:
        return sorted(self.live_path.parent.glob(f"{self.live_path.stem}.next-*"))

    def _finish_switch(self) -> None:
        """Settle the manifests of a build killed during its switch."""
        try:
            live_inode = os.stat(self.target).st_ino
        except FileNotFoundError:
            live_inode = None
        for pending in self._pending():
            if pending.suffix == f".next-{live_inode}":
                os.replace(pending, self.live_path)  # the switch happened
            else:
                pending.unlink()

    def prepare(self) -> Manifest | None:
        """Settle what an interrupted build left and read the manifests; return the live
        site's. Nothing is changed in the spare tree until :meth:`claim` (a build that fails
        before it keeps the spare tree for the next one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        old = self.folder / "old"
        if old.exists():  # a two-rename swap was interrupted between its renames
            if not self.target.exists():
                os.replace(old, self.target)
            else:
                shutil.rmtree(old, ignore_errors=True)
        self._finish_switch()
        live = Manifest.load(self.live_path) if self.target.is_dir() else None
        if os.stat(self.folder).st_dev != os.stat(self.target.parent).st_dev:
            return live  # no renames across file systems: build in a new folder
        self.spare_dir = self.folder / "spare"
        self.spare = Manifest.load(self.spare_path) if self.spare_dir.is_dir() else None
        return live

    def claim(self) -> None:
        """Make the spare tree ready to build in (after :meth:`prepare`)."""
        if self.spare_dir is None:
            return
        if self.spare is None:
            shutil.rmtree(self.spare_dir, ignore_errors=True)  # unknown content
        self.spare_path.unlink(missing_ok=True)  # the spare tree is about to change
        self.spare_dir.mkdir(exist_ok=True)

    def swap(self, built: Path, report: BuildReport, live: Manifest | None) -> None:
        """Switch ``built`` in as the live site; keep the replaced site as the spare tree."""
        os.chmod(built, 0o755)
        pending = self.live_path.with_suffix(f".next-{os.stat(built).st_ino}")
        if report.manifest is not None:
            report.manifest.save(pending)
        if self.spare_dir is None:
            replaced = swap_into_place(built, self.target)
        elif self.target.exists() and exchange(built, self.target):
            replaced = built  # the spare tree's folder now holds the replaced site
        else:
            replaced = swap_into_place(built, self.target)
            if replaced is not None:
                os.replace(replaced, self.spare_dir)
                replaced = self.spare_dir
        if report.manifest is not None:
            os.replace(pending, self.live_path)
        if replaced is not None and replaced != self.spare_dir:
            shutil.rmtree(replaced, ignore_errors=True)
        elif replaced is not None and live is not None:
            live.save(self.spare_path)


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
    # What `mkdocs serve` prints (the address, each rebuild, each problem) is mkdocs' log.
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    serve(str(config_path), livereload=True, dev_addr=dev_addr,
          watch=[str(root / "certificates"), str(root / "registry")])
