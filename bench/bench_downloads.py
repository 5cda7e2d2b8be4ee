"""Time from click to file for every star-mark download of a certificate page, in Chromium.

    .venv/bin/python bench/bench_downloads.py [--site DIR] [--repeat 5]

Builds the sample registry (or takes ``--site``), serves it on 127.0.0.1 and, in Debian's
Chromium under Playwright, clicks each download of the first certificate in force: the files
published whole are fetched, the others are assembled by marks.js (generator/marks/assembly.py).
Prints the median milliseconds from the click to the browser's download event, first click
(nothing cached) and again (parts cached), and each file's size. The server is local, so this is
the browser's own work plus loopback requests; a real host adds one round trip per request
(parts.bin, then the shared parts and files a recipe names, fetched in parallel).
"""

from __future__ import annotations

import argparse
import functools
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import marks  # noqa: E402
from generator.load import load_registry  # noqa: E402

AS_OF = "2026-11-27"


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    site = args.site
    if site is None:
        site = Path(tempfile.mkdtemp()) / "site"
        subprocess.run([sys.executable, "-m", "generator", "--root", str(ROOT), "build",
                        "--quiet", "--as-of", AS_OF, "--site-dir", str(site)], check=True)
    import datetime as dt

    registry = load_registry(ROOT, dt.date.fromisoformat(AS_OF))
    number = next(marks.marked(registry)).number
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/c/{number}/"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])
        print(f"{number}: ms from click to download (median of {args.repeat}), bytes")
        for name, _zh, _en in marks.MARK_FILES:
            first, again, size = [], [], 0
            for _ in range(args.repeat):
                context = browser.new_context(accept_downloads=True)
                page = context.new_page()
                page.goto(url, wait_until="networkidle")
                for times in (first, again):
                    start = time.perf_counter()
                    with page.expect_download() as event:
                        page.locator(f'.sm-downloads a[href="{name}"]').click()
                    times.append((time.perf_counter() - start) * 1000)
                    size = Path(event.value.path()).stat().st_size
                context.close()
            how = "assembled" if name in marks.ASSEMBLED else "file"
            print(f"| {name} | {how} | {statistics.median(first):.0f} | "
                  f"{statistics.median(again):.0f} | {size:,} |")
        browser.close()
    server.shutdown()


if __name__ == "__main__":
    main()
