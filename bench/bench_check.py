"""Benchmark of the bulk check (/check/): 100 numbers against a 100,000-certificate registry.

    .venv/bin/python bench/bench_check.py [--size 100000] [--numbers 100]

Makes (or reuses) the synthetic registry that bench/run.py builds (`starmark synth`, fixed seed),
builds its status index (timed), and puts it into the sample site built as of the bench date in
place of the sample's own index: the check page, its scripts and the checkpoint are the same for
any registry size, the index is what grows. Then:

* what the page downloads for 100 numbers, through the real check.js under Node (the index files
  it reads, raw and gzip level 6, as a compressing server sends them), plus the page's scripts;
* the time until the answer is on screen in Debian's Chromium under Lighthouse's mobile
  throttling (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, CPU 4× slower), served gzipped
  over HTTP/1.1 (six connections per host) and over HTTP/2 (one connection, as CDNs serve):
  after pasting the list into a loaded page (from the click to the table), and opening a shared
  link (from navigation to the table). Bytes and requests are counted by the browser.

Results go to bench/RESULTS.md between the bench_check markers, and bench/work/check-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import audit  # noqa: E402
import run as bench_run  # noqa: E402

from generator import check, csp  # noqa: E402
from generator.load import load_registry  # noqa: E402

WORK = ROOT / "bench" / "work"
CLI = ROOT / "tests" / "js" / "check_cli.mjs"
H2 = ROOT / "bench" / "h2_serve.mjs"
AS_OF = bench_run.AS_OF
ON = "2026-05-20"
BEGIN, END = "<!-- bench/bench_check.py: begin -->", "<!-- bench/bench_check.py: end -->"
TARGET_KB = 300.0
TARGET_S = 2.0
# Lighthouse's mobile throttling (lighthouse-core/config/constants.js, mobileSlow4G).
RTT_MS = 150
DOWN_BPS = 1638.4 * 1024 / 8
UP_BPS = 750 * 1024 / 8
CPU = 4
ASSETS = ("check/index.html", "assets/starmark/check.js", "assets/starmark/search.js",
          "assets/starmark/periods.js", "assets/starmark/periods.css", "api/v1/checkpoint.json")


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def sloppy(number: str, i: int) -> str:
    """The number as staff copy it: lower case, no hyphens, full width, spaces, as printed."""
    forms = (number.lower(), number.replace("-", ""),
             "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in number),
             number.replace("-", " "), number)
    return forms[i % len(forms)]


def node_download(index_dir: Path, numbers: list[str]) -> dict[str, Any]:
    """What check.js reads for ``numbers`` (run under Node over the files on disk)."""
    request = {"check": str(index_dir), "numbers": numbers, "day": ON,
               "today": AS_OF.isoformat()}
    done = subprocess.run(["node", str(CLI)], input=json.dumps(request, ensure_ascii=False) + "\n",
                          capture_output=True, text=True, check=True, encoding="utf-8")
    reply = json.loads(done.stdout.splitlines()[0])
    if "error" in reply:
        raise SystemExit(reply["error"])
    result = reply["ok"]
    fetched = result["fetched"]
    return {"files": len(fetched), "raw": sum(f["raw"] for f in fetched),
            "gzip": sum(f["gzip"] for f in fetched),
            "found": sum(1 for r in result["rows"] if r["found"])}


def certificate(tmp: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the HTTP/2 server needs TLS)."""
    key, cert = tmp / "key.pem", tmp / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj",
                    "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return key, cert


def browser_times(base: str, numbers: list[str], chromium: Any) -> dict[str, Any]:
    """Time to the answer in Chromium under Lighthouse's mobile throttling."""
    out: dict[str, Any] = {}
    for mode in ("paste", "link"):
        context = chromium.new_context(viewport={"width": 412, "height": 823},
                                       device_scale_factor=1.75, is_mobile=True,
                                       ignore_https_errors=True, locale="zh-CN")
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", {
            "offline": False, "latency": RTT_MS, "downloadThroughput": DOWN_BPS,
            "uploadThroughput": UP_BPS})
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU})
        sizes: dict[str, float] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent",
               lambda e, urls=urls: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished",
               lambda e, sizes=sizes: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        text = "\n".join(numbers)
        if mode == "paste":
            page.goto(base + "check/", wait_until="load")
            page.fill("#sm-check-q", text)
            page.fill("#sm-check-on", ON)
            sizes.clear()
            urls.clear()
            start = page.evaluate("performance.now()")
            page.click(".sm-check__form button[type=submit]")
            page.wait_for_selector("[data-check-summary]", timeout=120_000)
            elapsed = page.evaluate("performance.now()") - start
        else:
            query = ",".join(numbers)
            started = time.perf_counter()
            page.goto(base + f"check/?on={ON}&q={query}", wait_until="commit")
            page.wait_for_selector("[data-check-summary]", timeout=120_000)
            elapsed = (time.perf_counter() - started) * 1000
        rows = page.locator(".sm-check__row[data-number]").count()
        out[mode] = {"ms": round(elapsed), "requests": len(sizes),
                     "index_requests": sum(1 for i in sizes
                                           if "/api/v1/status/" in urls.get(i, "")),
                     "kb": round(sum(sizes.values()) / 1024, 1), "rows": rows}
        context.close()
    return out


def measure(size: int, count: int, log: Any) -> dict[str, Any]:
    root = bench_run.synthesize(size)
    started = time.perf_counter()
    registry = load_registry(root, AS_OF, cache_dir=WORK / "check-cache")
    load_s = time.perf_counter() - started
    log(f"loaded {size:,} certificates in {load_s:.1f} s")
    started, cpu = time.perf_counter(), time.process_time()
    files = check.build_index(registry)
    index_s, index_cpu = time.perf_counter() - started, time.process_time() - cpu
    raw = sum(len(b) for b in files.values())
    log(f"status index: {len(files)} files, {raw / 1e6:.1f} MB, built in {index_s:.1f} s"
        f" ({index_cpu:.1f} s CPU)")

    site = WORK / "check-site"
    audit.build(site)  # the page and its scripts as they are now
    own_index(site, registry)
    status_dir = site / check.INDEX_DIR
    shutil.rmtree(status_dir, ignore_errors=True)
    for rel, content in files.items():
        target = site / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)

    rng = random.Random(27922)
    picked = rng.sample([c.number for c in registry.certificates], count)
    numbers = [sloppy(n, i) for i, n in enumerate(picked)]
    download = node_download(status_dir, numbers)
    assets = {rel: gz((site / rel).read_bytes()) for rel in ASSETS}
    log(f"{count} numbers: {download['files']} index files, {download['gzip'] / 1024:.1f} KB gzip;"
        f" page scripts and checkpoint {sum(assets.values()) / 1024:.1f} KB gzip")

    from playwright.sync_api import sync_playwright

    browser: dict[str, Any] = {}
    chromium_path = audit_chromium()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--ignore-certificate-errors"])
        with audit.serve(site) as base:
            browser["http/1.1"] = browser_times(base, numbers, chromium)
            log(f"HTTP/1.1: {browser['http/1.1']}")
        key, cert = certificate(Path(tmp))
        server = subprocess.Popen(["node", str(H2), str(site), str(key), str(cert)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            browser["http/2"] = browser_times(f"https://127.0.0.1:{port}/", numbers, chromium)
            log(f"HTTP/2: {browser['http/2']}")
        finally:
            assert server.stdin is not None
            server.stdin.close()
            server.wait(timeout=10)
        chromium.close()
    return {"size": size, "numbers": count, "load_s": load_s, "index_s": index_s,
            "index_cpu_s": index_cpu,
            "index_files": len(files), "index_raw": raw,
            "index_gzip": sum(gz(b) for b in files.values()), "download": download,
            "assets": assets, "browser": browser}


def own_index(site: Path, registry: Any) -> None:
    """The check page as a build of this registry writes it: its head's inline script knows the
    index's shard count (check.early_script), and the page's policy allows that script's hash."""
    page = site / "check" / "index.html"
    text = page.read_text("utf-8")
    built = text.split("<script>starmarkCheck = ", 1)[1].split("</script>", 1)[0]
    built = "starmarkCheck = " + built
    wanted = check.early_script(registry)
    # The policy is an attribute: its quotes are escaped, the hashes (base64) are not.
    text = text.replace(built, wanted).replace(csp.source_hash(built).strip("'"),
                                               csp.source_hash(wanted).strip("'"))
    if csp.source_hash(wanted).strip("'") not in text:
        raise SystemExit(f"{page}: the policy does not name the check script's hash")
    page.write_text(text, "utf-8")


def audit_chromium() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).exists():
            return candidate
    raise SystemExit("no Chromium (apt-get install chromium)")


def table(r: dict[str, Any], about: dict[str, str]) -> list[str]:
    d, b = r["download"], r["browser"]
    assets_kb = sum(r["assets"].values()) / 1024
    index_kb = d["gzip"] / 1024
    # Over HTTP/2, what the hosts docs/publishing.md names serve (and deploy/nginx.conf); over
    # HTTP/1.1 100 index files take at least 17 round trips (6 connections), see RESULTS.md.
    served = b.get("http/2") or next(iter(b.values()))
    worst = max(served[mode]["ms"] for mode in ("paste", "link")) / 1000
    lines = [
        BEGIN, "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by `bench/bench_check.py` on "
        f"{about['cpu']}, commit {about['commit']}: {r['numbers']} numbers (typed sloppily: lower "
        f"case, no hyphens, full width, spaces) checked on {ON} and today against "
        f"{r['size']:,} synthetic certificates.", "",
        "| what | result |", "| --- | ---: |",
        f"| status index | {r['index_files']:,} files, {r['index_raw'] / 1e6:.1f} MB "
        f"({r['index_gzip'] / 1e6:.1f} MB gzip), built in {r['index_s']:.1f} s "
        f"({r['index_cpu_s']:.1f} s CPU) |",
        f"| index files read for {r['numbers']} numbers (check.js under Node) | {d['files']} files,"
        f" {d['raw'] / 1024:.1f} KB ({index_kb:.1f} KB gzip) |",
        f"| the page's HTML, scripts, styles and checkpoint (gzip) | {assets_kb:.1f} KB |",
        f"| downloaded for the check, index + page (gzip) | {index_kb + assets_kb:.1f} KB "
        f"(target ≤ {TARGET_KB:.0f} KB) |",
    ]
    for protocol, modes in b.items():
        for mode, label in (("paste", "list pasted into the loaded page: click → table"),
                            ("link", "shared link opened: navigation → table")):
            m = modes[mode]
            lines.append(f"| {protocol}, {label} | {m['ms'] / 1000:.2f} s, {m['requests']} "
                         f"requests ({m['index_requests']} index), {m['kb']} KB |")
    lines += ["",
              f"Answer on screen over HTTP/2, the slower of a pasted list and a shared link: "
              f"{worst:.2f} s (target ≤ "
              f"{TARGET_S:.0f} s); throttling as Lighthouse's mobile preset ({RTT_MS} ms round "
              f"trip, 1.6 Mbit/s down, CPU ×{CPU}), applied by Chromium's DevTools protocol.",
              "", END]
    return lines


def write_results(path: Path, lines: list[str]) -> None:
    text = path.read_text("utf-8") if path.exists() else ""
    block = "\n".join(lines)
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Bulk check (`bench/bench_check.py`)\n\n" + block + "\n"
    path.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--numbers", type=int, default=100)
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    cpus = sum(1 for line in Path("/proc/cpuinfo").read_text().splitlines()
               if line.startswith("processor"))
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    about = {"cpu": f"{cpus} CPUs (load average {load} at start)", "commit": commit}
    result = measure(args.size, args.numbers, lambda text: print(text, flush=True))
    (WORK / f"check-{dt.date.today()}.json").write_text(json.dumps(result, indent=1), "utf-8")
    write_results(args.results, table(result, about))
    print(f"wrote {args.results}", flush=True)


if __name__ == "__main__":
    main()
