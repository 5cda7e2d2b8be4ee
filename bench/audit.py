"""Lighthouse audit of a certificate page, served gzipped the way any static host serves it.

Builds the sample registry (as of a fixed date, so runs compare), serves the site from a local
HTTP server that compresses text responses with gzip, runs Lighthouse 12 (npm ``lighthouse``,
mobile form factor, default simulated throttling) against one certificate page in Debian's
Chromium, and prints the four category scores, LCP and the bytes transferred.

    .venv/bin/python bench/audit.py                       # build, then audit a valid certificate
    .venv/bin/python bench/audit.py --site-dir /tmp/site  # audit an already built site
    .venv/bin/python bench/audit.py --page search/ --runs 3

Exit status 1 when a target is missed (scores 100, ≤ 80 KiB, LCP ≤ 1.5 s), so ``make audit``
fails loudly; the JSON reports are kept under ``bench/work/lighthouse/``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import mimetypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
WORK = ROOT / "bench" / "work" / "lighthouse"
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGET_BYTES = 80 * 1024
TARGET_LCP_MS = 1500
# Debian's Chromium; flags keep it from phoning home, which would add noise to the network log.
CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
                "--disable-background-networking --disable-component-update --disable-sync "
                "--no-first-run --disable-default-apps")
COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/xml",
                "image/svg+xml", "application/atom+xml", "application/manifest+json")


class GzipHandler(SimpleHTTPRequestHandler):
    """Static files, gzipped when the client accepts it (as GitHub Pages, nginx and S3+CDN do)."""

    protocol_version = "HTTP/1.1"  # keep-alive, like a real host
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".json": "application/json", ".svg": "image/svg+xml",
                      ".webmanifest": "application/manifest+json"}

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the redirect to the slash URL
            path = path / "index.html"
        if not path.is_file():
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        ctype = self.guess_type(str(path))
        body = path.read_bytes()
        wants_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        compress = wants_gzip and ctype.startswith(COMPRESSIBLE) and len(body) > 256
        if compress:
            body = gzip.compress(body, compresslevel=6, mtime=0)
        self.send_response(HTTPStatus.OK)
        charset = "; charset=utf-8" if ctype.startswith("text/") else ""
        self.send_header("Content-Type", ctype + charset)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=600")  # GitHub Pages' policy
        self.send_header("Vary", "Accept-Encoding")
        if compress:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        return _BytesFile(body)


class _BytesFile:
    """What ``send_head`` returns: something ``copyfile`` can read and ``close``."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        data, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return data

    def close(self) -> None:
        self.data = b""


@contextmanager
def serve(site_dir: Path, gzip_enabled: bool = True) -> Iterator[str]:
    """Serve ``site_dir`` on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    mimetypes.init()
    handler = partial(GzipHandler if gzip_enabled else _PlainHandler, directory=str(site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _PlainHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def build(site_dir: Path) -> None:
    """The sample registry, as of :data:`AS_OF`."""
    sys.path.insert(0, str(ROOT))
    from generator.publish import build_site

    build_site(ROOT, as_of=AS_OF, site_dir=site_dir, quiet=True)


def pick_certificate() -> str:
    """The URL path of a valid sample certificate: what a shopper scanning a box sees."""
    sys.path.insert(0, str(ROOT))
    from generator.load import load_registry

    registry = load_registry(ROOT, AS_OF)
    for cert in registry.certificates:
        if registry.standing(cert).verdict == "valid":
            return f"c/{cert.number}/"
    raise SystemExit("no valid certificate in the sample registry")


def chrome_path() -> str:
    for candidate in (os.environ.get("CHROME_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("google-chrome")):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("no Chromium: install it (apt-get install chromium) or set CHROME_PATH")


def lighthouse(url: str, out: Path) -> dict:
    """One Lighthouse run; returns its JSON report."""
    if not LIGHTHOUSE.exists():
        raise SystemExit("no node_modules/.bin/lighthouse: run `npm ci` (make install does)")
    env = {**os.environ, "CHROME_PATH": chrome_path()}
    cmd = [str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={out}",
           "--only-categories=" + ",".join(CATEGORIES), f"--chrome-flags={CHROME_FLAGS}",
           "--max-wait-for-load=30000"]
    subprocess.run(cmd, check=True, env=env, timeout=300)
    return json.loads(out.read_text("utf-8"))


def summary(report: dict) -> dict:
    """Scores (0-100), LCP (ms), CLS, transferred bytes and failing audits of one report."""
    audits = report["audits"]
    scores = {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}
    failing = sorted(
        f"{c}: {ref['id']}"
        for c in CATEGORIES for ref in report["categories"][c]["auditRefs"]
        if ref["weight"] > 0 and (audits[ref["id"]].get("score") is not None)
        and audits[ref["id"]]["score"] < 1
    )
    return {
        "scores": scores,
        "lcp_ms": audits["largest-contentful-paint"]["numericValue"],
        "fcp_ms": audits["first-contentful-paint"]["numericValue"],
        "cls": audits["cumulative-layout-shift"]["numericValue"],
        "tbt_ms": audits["total-blocking-time"]["numericValue"],
        "bytes": int(audits["total-byte-weight"]["numericValue"]),
        "requests": len(audits["network-requests"]["details"]["items"]),
        "lcp_element": _lcp_element(audits),
        "failing": failing,
        "benchmark_index": report.get("environment", {}).get("benchmarkIndex"),
        "warnings": report.get("runWarnings", []),
        "console": [i.get("description", "") for i in
                    audits.get("errors-in-console", {}).get("details", {}).get("items", [])],
    }


def _lcp_element(audits: dict) -> str:
    audit = audits.get("largest-contentful-paint-element", {})
    if audit.get("errorMessage"):  # LH 12.2 cannot read the traces of some newer Chromiums
        return "not reported: " + audit["errorMessage"][:100]
    details = audit.get("details", {})
    for item in details.get("items", []):
        for sub in item.get("items", []) if item.get("type") == "table" else [item]:
            node = sub.get("node")
            if node:
                return node.get("snippet", "")[:120]
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site-dir", type=Path, help="audit this built site instead of building")
    parser.add_argument("--page", help='URL path to audit, "" for the home page '
                        "(default: a valid certificate)")
    parser.add_argument("--runs", type=int, default=1, help="runs; the median is reported")
    args = parser.parse_args(argv)

    tmp = None
    site_dir = args.site_dir
    if site_dir is None:
        tmp = Path(tempfile.mkdtemp(prefix="starmark-audit-"))
        site_dir = tmp / "site"
        print(f"building the sample site as of {AS_OF} ...", flush=True)
        build(site_dir)
    page = args.page.lstrip("/") if args.page is not None else pick_certificate()
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        with serve(site_dir) as base:
            runs = []
            for i in range(args.runs):
                out = WORK / f"{page.strip('/').replace('/', '_') or 'home'}-{i + 1}.json"
                print(f"lighthouse {base}{page} (run {i + 1}/{args.runs}) ...", flush=True)
                runs.append(summary(lighthouse(base + page, out)))
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    return report(page, runs)


def _median(values: list[float]) -> float:
    return statistics.median(values)


def report(page: str, runs: list[dict]) -> int:
    """Print the median of every figure over the runs (and each run's), judge the targets."""
    scores = {c: _median([r["scores"][c] for r in runs]) for c in CATEGORIES}
    lcp, fcp, tbt, cls = (_median([r[k] for r in runs])
                          for k in ("lcp_ms", "fcp_ms", "tbt_ms", "cls"))
    size = int(_median([r["bytes"] for r in runs]))
    each = lambda key, fmt: ", ".join(fmt(r[key]) for r in runs)  # noqa: E731
    print(f"\npage: /{page} ({len(runs)} run{'s' if len(runs) > 1 else ''}; medians)")
    print("scores: " + ", ".join(f"{c} {scores[c]:g}" for c in CATEGORIES))
    if len(runs) > 1:
        print("performance per run: " + ", ".join(str(r["scores"]["performance"]) for r in runs))
    print(f"LCP {lcp / 1000:.2f} s (runs: {each('lcp_ms', lambda v: f'{v / 1000:.2f}')}), "
          f"FCP {fcp / 1000:.2f} s, CLS {cls:.3f}, TBT {tbt:.0f} ms "
          f"(runs: {each('tbt_ms', lambda v: f'{v:.0f}')})")
    print(f"transferred: {size} bytes ({size / 1024:.1f} KiB) in {runs[0]['requests']} requests")
    print(f"LCP element: {runs[0]['lcp_element']}")
    print(f"host CPU benchmark index: {each('benchmark_index', lambda v: f'{v:.0f}')} "
          "(Lighthouse's 4x CPU slowdown assumes a fast desktop; it warns below 1000)")
    failing = sorted({line for r in runs for line in r["failing"]})
    for line in failing:
        print(f"  below 1 in some run: {line}")
    for line in sorted({line for r in runs for line in r["console"]}):
        print(f"  console: {line}")
    missed = [c for c in CATEGORIES if scores[c] < 100]
    if size > TARGET_BYTES:
        missed.append(f"bytes > {TARGET_BYTES}")
    if lcp > TARGET_LCP_MS:
        missed.append(f"LCP > {TARGET_LCP_MS} ms")
    if missed:
        print("targets missed: " + ", ".join(missed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
