"""The mkdocs plugin ``starmark``: the only module that imports mkdocs.

It loads and checks the registry when mkdocs loads its config (or takes the one that
``publish`` already loaded), adds the generated pages (search, listings index, and the
placeholder pages whose rendering becomes the shells), keeps the rendered shells, and after
mkdocs has built the hand-written pages hands everything else to ``build.render_site``. When
``publish`` names the live site and a spare tree, unchanged outputs are kept or linked.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import Abort, BuildError, PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.pages import Page
from mkdocs.utils import get_build_datetime

from . import (
    build,
    check,
    counterfeits,
    csp,
    frames,
    listings,
    notfound,
    scheme,
    search,
    shell,
    sitemap,
)
from .errors import InputError, OutputError, Problem
from .load import as_of_default, load_registry
from .model import Registry
from .output import Manifest, Output, Previous, SpareCheck

log = get_plugin_logger("starmark")
THEME_DIR = Path(__file__).parent / "theme"
SHELL_DEPTHS = (2, 3)
SEARCH_PAGE = "search/index.md"
LIST_PAGE = "list/index.md"
STILL_SERVING = ("starmark: the site was not rebuilt (see above); the last good site is still "
                 "served. Fix the problems and save: it rebuilds.")


class StarmarkConfig(base.Config):
    """Options of the ``starmark`` plugin in mkdocs.yml."""

    root = c.Optional(c.Type(str))
    """Registry folder (certificates/, registry/); default: $STARMARK_ROOT or mkdocs.yml's."""
    as_of = c.Optional(c.Type(str))
    """As-of date YYYY-MM-DD; default: $STARMARK_AS_OF, SOURCE_DATE_EPOCH's day, or today."""
    cache_dir = c.Optional(c.Type(str))
    """Where rendered artwork is cached; default: <root>/.starmark-cache."""
    quiet = c.Type(bool, default=False)
    """No progress bars."""


def _shell_src(depth: int) -> str:
    return shell.shell_url(depth) + "index.md"


class StarmarkPlugin(BasePlugin[StarmarkConfig]):
    """Builds the certificate registry into a mkdocs-material site."""

    def __init__(self) -> None:
        self.registry: Registry | None = None
        self.shells: dict[int, shell.Shell] = {}
        self.report: build.BuildReport | None = None
        self.own_search_page = False
        self.own_check_page = False
        self.preloaded: Registry | None = None  # set by publish: the registry it checked
        self.digests: dict[str, bytes] = {}  # the loaded records' digests (load.record_digest)
        # Set by publish: what its load left to do (the record cache's save), for render_site
        # to run while its worker makes the open data.
        self.later: list[Callable[[], None]] = []
        # Set by publish for one build: the live site to link from, the folder to assemble the
        # site in (the spare tree) and the manifest of what that folder holds already.
        self.previous: Previous | None = None
        self.build_dir: Path | None = None
        self.spare: Manifest | None = None
        # Set by publish when the spare tree's files are checked beside the load.
        self.spare_check: SpareCheck | None = None
        self.dirty = False
        self.outputs: set[str] = set()
        self.failure: InputError | None = None  # the problems that stopped the last build
        # Under serve every build goes to a new folder, served only once it is complete: a
        # build that fails leaves the last good site served (see on_serve).
        self.serving = False
        self.staged: Path | None = None
        self.good: Previous | None = None
        self.server: Any = None
        self.script_hashes: set[str] = set()  # of every page's inline scripts, for _headers
        self._stats: dict[str, int] | None = None  # see stats()
        # Set by publish: the key of mkdocs' inputs (frames.key) and the site's name, to keep
        # this build's frames under; and the URLs of mkdocs' pages, as the sitemap found them.
        self.frames_key = b""
        self.site_name = ""
        self.docs_urls: list[str] = []

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.dirty = dirty
        self.serving = command == "serve"

    def _fail(self, exc: InputError, what: str) -> PluginError:
        """Keep ``exc`` for ``publish`` and say it as mkdocs prints errors: a line a problem."""
        self.failure = exc
        return PluginError(f"starmark: {what}:\n{exc}")

    def _root(self, config: MkDocsConfig) -> Path:
        root = self.config.root or os.environ.get("STARMARK_ROOT")
        if root:
            return Path(root).resolve()
        return Path(config.config_file_path or ".").resolve().parent

    def _as_of(self) -> dt.date:
        text = self.config.as_of or os.environ.get("STARMARK_AS_OF")
        if not text:
            return as_of_default()
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise PluginError(f"starmark: as_of {text!r} is not a date (YYYY-MM-DD)") from None

    def cache_folder(self, root: Path) -> Path:
        """Where artwork, checked records and site manifests are cached."""
        cache = self.config.cache_dir
        return Path(cache) if cache else root / ".starmark-cache"

    def as_of(self) -> dt.date:
        """The as-of date this build judges expiry and surveillance on."""
        return self._as_of()

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        self.failure = None
        self.script_hashes = set()
        self._stats = None
        root = self._root(config)
        preloaded, self.preloaded = self.preloaded, None  # once: serve rebuilds read afresh
        if preloaded is not None and preloaded.as_of == self._as_of():
            self.registry = preloaded  # with its digests (set by publish)
        else:
            self.digests = {}
            try:
                # The record cache too: a `mkdocs serve` rebuild checks only changed records.
                self.registry = load_registry(root, self._as_of(),
                                              cache_dir=self.cache_folder(root),
                                              digests=self.digests)
            except InputError as exc:
                raise self._fail(exc, "the registry has problems") from None
        settings = self.registry.settings
        # One place for the address: registry/registry.yaml, not mkdocs.yml.
        config.site_url = settings.site_url
        if not config.repo_url and settings.repo_url:
            config.repo_url = settings.repo_url
        dirs = config.theme.dirs
        dirs.insert(1 if config.theme.custom_dir else 0, str(THEME_DIR))
        config.extra_css.append("assets/starmark/starmark.css")
        # The footer of every page (theme/partials/copyright.html) is the body's.
        config.extra["starmark"] = {"body": settings.body, "as_of": self.registry.as_of,
                                    "report_url": counterfeits.report_link(settings)}
        self.cache_dir = self.cache_folder(root)
        if self.serving:
            self.staged = Path(tempfile.mkdtemp(prefix="starmark-serve-"))
            config.site_dir = str(self.staged)
            self.previous = self.good  # link what did not change from the served site
        return config

    def on_env(self, env: jinja2.Environment, /, *, config: MkDocsConfig,
               files: Files) -> jinja2.Environment:
        # The theme's templates compiled once, not on every build (keyed by their source).
        folder = self.cache_dir / "jinja"
        folder.mkdir(parents=True, exist_ok=True)
        env.bytecode_cache = jinja2.FileSystemBytecodeCache(str(folder))
        return env

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        root = self._root(config)
        for folder in ("certificates", "registry"):
            if (root / folder).is_dir():
                server.watch(str(root / folder))
        self.server = server
        if self.good is not None:
            server.root = str(self.good.site_dir)
        server.error_handler = self._error_page
        server.builder = self._guarded(server.builder)
        return server

    def _guarded(self, rebuild: Any) -> Any:
        """``rebuild``, but a failed rebuild is told and the last good site stays served:
        mkdocs would otherwise hold every request until the build works again."""

        def guarded() -> None:
            try:
                rebuild()
            except OSError as exc:
                print(OutputError.of(exc), file=sys.stderr)  # noqa: T201
                print(STILL_SERVING, file=sys.stderr)  # noqa: T201
            except Exception as exc:  # noqa: BLE001 - any failure: keep serving, say why
                if not isinstance(exc, (BuildError, Abort)):  # mkdocs printed those
                    traceback.print_exc()
                print(STILL_SERVING, file=sys.stderr)  # noqa: T201

        return guarded

    def _error_page(self, code: int) -> bytes | None:
        """The served site's own 404 page (mkdocs would look in its unused folder)."""
        if self.good is None:
            return None
        page = self.good.site_dir / f"{code}.html"
        return page.read_bytes() if page.is_file() else None

    def on_build_error(self, *, error: Exception) -> None:
        if self.staged is not None:  # under serve: the served site stays as it was
            shutil.rmtree(self.staged, ignore_errors=True)
            self.staged = None

    def on_shutdown(self) -> None:
        for folder in (self.staged, self.good.site_dir if self.good else None):
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files:
        assert self.registry is not None
        for depth in SHELL_DEPTHS:
            files.append(File.generated(config, _shell_src(depth), content=f"# {shell.TITLE}\n",
                                        inclusion=InclusionLevel.NOT_IN_NAV))
        self.own_search_page = files.get_file_from_path(SEARCH_PAGE) is None
        if self.own_search_page:
            files.append(File.generated(config, SEARCH_PAGE, content="# 查询证书 Search\n"))
        self.own_check_page = files.get_file_from_path(check.PAGE) is None
        if self.own_check_page:
            files.append(File.generated(config, check.PAGE, content=check.PAGE_MARKDOWN))
        if files.get_file_from_path(LIST_PAGE) is None:
            content = listings.index_markdown(self.registry, lambda slug: f"{slug}/")
            files.append(File.generated(config, LIST_PAGE, content=content))
        if files.get_file_from_path(counterfeits.PAGE) is None:
            try:
                content = counterfeits.page_markdown(self.registry)
            except InputError as exc:
                raise self._fail(exc, "the counterfeits list has problems") from None
            files.append(File.generated(config, counterfeits.PAGE, content=content))
        self.outputs = {f.dest_uri for f in files}
        return files

    def _shell_depth(self, page: Page) -> int | None:
        for depth in SHELL_DEPTHS:
            if page.file.src_uri == _shell_src(depth):
                return depth
        return None

    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        assert self.registry is not None
        if self._shell_depth(page):
            page.meta.update({"title": shell.TITLE, "description": shell.DESCRIPTION,
                              "starmark_head": shell.HEAD, "hide": ["navigation", "toc"]})
            return markdown
        if page.file.src_uri in (SEARCH_PAGE, check.PAGE):
            page.meta.setdefault("hide", ["toc"])
        if page.file.src_uri == check.PAGE and self.own_check_page:
            page.meta.update({"starmark_early": check.page_head(self.registry),
                              "starmark_no_bundle": True})
        try:
            return scheme.expand_markers(markdown, self.registry.settings, self.stats())
        except ValueError as exc:
            docs = Path(config.docs_dir).name
            problem = Problem(f"{docs}/{page.file.src_uri}", 0, str(exc))
            raise self._fail(InputError([problem]), "a page cannot be filled in") from None

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        assert self.registry is not None
        if self._shell_depth(page):
            return shell.CONTENT
        if page.file.src_uri == SEARCH_PAGE and self.own_search_page:
            return html + search.search_page_html(self.registry.settings)
        if page.file.src_uri == check.PAGE and self.own_check_page:
            return html + check.check_page_html(self.registry.settings)
        return html

    def on_post_template(self, output_content: str, /, *, template_name: str,
                         config: MkDocsConfig) -> str:
        if template_name == "404.html" and self.registry is not None:
            try:
                return self._protect(notfound.fill(output_content, self.registry))
            except InputError as exc:
                raise self._fail(exc, "cannot make the not-found page") from None
        return output_content

    def _protect(self, page: str) -> str:
        """The page with its Content-Security-Policy. Not under serve: mkdocs' live-reload
        script is inline and new on every request."""
        if self.serving:
            return page
        page, hashes = csp.protect(page)
        self.script_hashes.update(hashes)
        return page

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str:
        output = self._protect(output)
        depth = self._shell_depth(page)
        if depth:
            self.shells[depth] = shell.Shell.from_html(output, depth)
        return output

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        assert self.registry is not None
        site_dir = Path(config.site_dir)  # where mkdocs wrote its pages
        shutil.rmtree(site_dir / shell.SHELL_DIR, ignore_errors=True)
        build_dir = self.build_dir or site_dir
        previous, spare = self.previous, self.spare
        self.previous = self.spare = self.build_dir = None  # once: serve rebuilds start afresh
        key, self.frames_key = self.frames_key, b""  # once: serve rebuilds run mkdocs
        try:
            self.report = build.render_site(
                self.registry, build_dir, self.shells, cache_dir=self.cache_dir,
                quiet=self.config.quiet, previous=previous, spare=spare,
                spare_stale=self._stale(spare),
                mkdocs_dir=None if build_dir == site_dir else site_dir,
                finish=lambda out: self._finish(
                    self.registry, self._mkdocs_urls(site_dir), self.script_hashes, out),
                prune=self.dirty, keep=self.outputs, inputs=_config_bytes(config),
                records=self.digests, frames=key, later=self.later)
        except InputError as exc:
            raise self._fail(exc, "cannot build") from None
        self._check_counts(self.report, build_dir)
        if key and self.site_name:
            frames.save(self.cache_dir, self.site_name, frames.Frames(
                key, dict(self.shells), set(self.script_hashes), set(self.outputs),
                list(self.docs_urls)))
        if self.staged is not None and self.report.manifest is not None:
            replaced, self.good = self.good, Previous(self.staged, self.report.manifest)
            self.staged = None
            if self.server is not None:
                self.server.root = str(self.good.site_dir)
            if replaced is not None:
                shutil.rmtree(replaced.site_dir, ignore_errors=True)
        log.info(f"{self.report.records} certificates, {self.report.listing_pages} listing pages, "
                 f"marks rendered {self.report.marks_rendered} / cached {self.report.marks_cached}")

    def _check_counts(self, report: build.BuildReport, build_dir: Path) -> None:
        mismatches = report.mismatches()
        if mismatches:
            problem = Problem(str(build_dir), 0, "output count check failed: "
                              + "; ".join(mismatches))
            raise self._fail(InputError([problem]), "the build is incomplete")

    # -- builds without mkdocs (see generator.frames)

    def frames_key_of(self, config: MkDocsConfig, registry: Registry) -> bytes:
        """The key of everything mkdocs' part of a build of ``registry`` is made from, or b""
        when what the plugin would write into mkdocs' pages cannot be made (mkdocs then runs,
        and says why)."""
        try:
            injected = [
                repr(sorted(verdict_counts(registry).items())),
                listings.index_markdown(registry, lambda slug: f"{slug}/"),
                counterfeits.page_markdown(registry),
                check.page_head(registry),
                notfound.notfound_html(registry),
            ]
        except (InputError, ValueError):
            return b""
        folders = [Path(config.docs_dir)]
        if config.theme.custom_dir:
            folders.append(Path(config.theme.custom_dir))
        hooks = [str(hook) for hook in (config.get("hooks") or [])]
        return frames.key(registry, Path(config.config_file_path or ""), folders, injected,
                          get_build_datetime().date(), hooks)

    def _stale(self, spare: Manifest | None) -> set[str] | None:
        """The files of the spare tree ``spare`` describes that publish's check found changed
        or gone (:class:`generator.output.SpareCheck`); None when it did not check them."""
        check = self.spare_check
        return check.stale() if check is not None and spare is check.manifest else None

    def replay(self, config: MkDocsConfig, key: bytes) -> build.BuildReport | None:
        """Build the registry ``publish`` loaded without running mkdocs, if mkdocs' inputs are
        those of the last build (``key``) and its files are in the live site or the spare
        tree: they are kept or linked, and the frames come from the last build's record.
        None when mkdocs must run (nothing is changed then)."""
        registry, root = self.preloaded, self._root(config)
        if registry is None or not key or not self.site_name:
            return None
        cache_dir = self.cache_folder(root)
        kept = frames.load(cache_dir, self.site_name)
        build_dir = self.build_dir
        if kept is None or kept.key != key or build_dir is None:
            return None
        try:
            report = build.render_site(
                registry, build_dir, kept.shells, cache_dir=cache_dir,
                quiet=self.config.quiet, previous=self.previous, spare=self.spare,
                spare_stale=self._stale(self.spare),
                finish=lambda out: self._finish(registry, kept.docs_urls, kept.script_hashes,
                                                out),
                inputs=_config_bytes(config), records=self.digests, frames=key, replay=True,
                later=self.later)
        except build.NotReplayed:
            return None
        except InputError as exc:
            raise self._fail(exc, "cannot build") from None
        self.preloaded = self.previous = self.spare = self.build_dir = None
        self._check_counts(report, build_dir)
        return report

    def _finish(self, registry: Registry | None, docs_urls: list[str], script_hashes: set[str],
                out: Output) -> None:
        """What is written last: the sitemap (mkdocs' pages at ``docs_urls``, every certificate
        and listing page), and the security headers of every page (``script_hashes``: of their
        inline scripts)."""
        assert registry is not None
        base = registry.settings.site_url
        entries: list[tuple[str, str | None]] = [(url, None) for url in docs_urls]
        entries += [(registry.settings.certificate_url(c.number), c.last_changed.isoformat())
                    for c in registry.certificates]
        entries += [(base + page.url, None) for page in listings.render_listing_urls(registry)]
        sitemap.write_sitemaps(out, base, entries)
        if not self.serving:
            out.write(csp.HEADERS_FILE, csp.headers_file(script_hashes))

    def _mkdocs_urls(self, mkdocs_dir: Path) -> list[str]:
        """The URLs of mkdocs' pages, from its own sitemap in ``mkdocs_dir`` (kept for builds
        that skip mkdocs)."""
        own = mkdocs_dir / "sitemap.xml"
        docs = sitemap.loc_urls(own.read_text("utf-8"), shell.SHELL_DIR) if own.exists() else []
        self.docs_urls = docs
        return docs

    def stats(self) -> dict[str, int]:
        """Certificates by verdict, for the home page's numbers (counted once a build: every
        page's markers are filled from them)."""
        assert self.registry is not None
        if self._stats is None:
            self._stats = verdict_counts(self.registry)
        return self._stats


def verdict_counts(registry: Registry) -> dict[str, int]:
    """Certificates by verdict, and how many are overdue for surveillance."""
    counts: dict[str, int] = {"total": len(registry.certificates)}
    counts["surveillance_overdue"] = 0
    for standing in registry.standings.values():
        counts[standing.verdict] = counts.get(standing.verdict, 0) + 1
        counts["surveillance_overdue"] += standing.surveillance_overdue
    return counts


def _config_bytes(config: MkDocsConfig) -> bytes:
    """mkdocs.yml as read: every output depends on it."""
    config_file = Path(config.config_file_path or "")
    return config_file.read_bytes() if config_file.is_file() else b""
