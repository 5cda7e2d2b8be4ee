"""Real-browser fixtures: the sample site built once, served on 127.0.0.1, and Debian's Chromium.

Playwright drives the system Chromium (``/usr/bin/chromium``, or ``$STARMARK_CHROMIUM``): the
browsers Playwright would download are not reachable from here, and CI installs Debian's
package (``.ci/run``). Without a browser these tests are skipped with a loud message on a
developer's machine and fail under CI (the ``CI`` environment variable is set).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import AS_OF, REPO, VERDICTS, missing, pinned_context, unavailable

from generator.load import load_registry
from generator.model import Certificate, Registry

CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for message in missing:
        terminalreporter.write_sep("!", message, red=True, bold=True)


def chromium_path() -> str | None:
    for candidate in (os.environ.get("STARMARK_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium under Playwright, headless; one per test module, because Playwright's
    sync API allows one running instance per thread and other test modules start their own."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed (pip install -e '.[test]')")
    path = chromium_path()
    if path is None:
        unavailable("no Chromium found (apt-get install chromium, or set STARMARK_CHROMIUM)")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        except Exception as exc:  # any launch failure means "no usable browser"
            unavailable(f"Chromium at {path} does not start: {str(exc).splitlines()[0]}")
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REPO, AS_OF)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample registry built as of AS_OF (the artwork cache is the repository's).

    Built by the CLI in a child process: the build forks workers, which must not inherit the
    Playwright driver's threads. ``STARMARK_BROWSER_SITE=<dir>`` tests a site built beforehand
    (same registry and date)."""
    prebuilt = os.environ.get("STARMARK_BROWSER_SITE")
    if prebuilt:
        return Path(prebuilt)
    site_dir = tmp_path_factory.mktemp("browser") / "site"
    run = subprocess.run([sys.executable, "-m", "generator", "--root", str(REPO), "build",
                          "--quiet", "--as-of", AS_OF.isoformat(), "--site-dir", str(site_dir)],
                         cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, f"the sample site does not build:\n{run.stdout}\n{run.stderr}"
    return site_dir


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".mjs": "text/javascript", ".json": "application/json"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def list_directory(self, path: str) -> None:  # type: ignore[override]
        # A static host answers a folder without index.html with 404, not a file listing.
        self.send_error(404, "Not found")
        return None


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    """The built site on http://127.0.0.1:<free port>/, served from a thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class Sample:
    """A sample certificate and the verdict a visitor must see on its page."""

    cert: Certificate
    verdict: str
    zh: str
    en: str

    @property
    def path(self) -> str:
        return f"c/{self.cert.number}/"


@pytest.fixture(scope="session")
def samples(registry: Registry) -> dict[str, Sample]:
    """One certificate per verdict, picked from the loaded registry (not hard-coded numbers)."""
    found: dict[str, Sample] = {}
    for cert in registry.certificates:
        verdict = registry.standing(cert).verdict
        if verdict not in found:
            status = registry.settings.status(verdict)
            found[verdict] = Sample(cert, verdict, status.zh, status.en)
    absent = [v for v in VERDICTS if v not in found]
    assert not absent, f"the sample registry has no certificate that is {absent}"
    return found


OpenPage = Callable[..., Any]
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', e =>
  console.error('CSP violation: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')));"""


@pytest.fixture
def open_page(browser: Any, base_url: str) -> Iterator[OpenPage]:
    """``open_page(path, width=360, height=640, js=True, today=AS_OF)``: a fresh phone-sized
    context, its clock pinned to ``today``, loaded.

    ``page.problems`` collects console errors, page errors and failed or 4xx/5xx requests."""
    contexts: list[Any] = []

    def open_(path: str, *, width: int = 360, height: int = 640, js: bool = True,
              scale: float = 2, wait: str = "load", today: dt.date = AS_OF) -> Any:
        context = pinned_context(browser, today, viewport={"width": width, "height": height},
                                 device_scale_factor=scale, java_script_enabled=js,
                                 is_mobile=True, has_touch=True)
        contexts.append(context)
        # A blocked script or style is a console error too: the page's policy is enforced.
        context.add_init_script(CSP_LISTENER)
        page = context.new_page()
        problems: list[str] = []
        page.problems = problems
        note = problems.append
        page.on("console", lambda msg: msg.type == "error" and note(f"console: {msg.text}"))
        page.on("pageerror", lambda err: note(f"page error: {err}"))
        page.on("requestfailed", lambda req: note(f"request failed: {req.url} {req.failure}"))
        page.on("response", lambda res: res.status >= 400 and note(f"HTTP {res.status}: {res.url}"))
        page.goto(base_url + path, wait_until=wait)
        return page

    yield open_
    for context in contexts:
        context.close()
