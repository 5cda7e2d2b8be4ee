"""Build benchmark (`make bench`): synthetic registries built by starmark, Hugo and plain mkdocs.

    .venv/bin/python bench/run.py                      # 1,000 and 10,000 certificates
    .venv/bin/python bench/run.py --full               # and 100,000 (takes a long while)
    .venv/bin/python bench/run.py --sizes 1000 --artwork-upto 0

For each size: `starmark synth` makes the registry (fictional, seeded), then, each in a fresh
process, a cold build (no site, no cache), a first rebuild with nothing changed (it links every
file from the live site), a warm rebuild with nothing changed (it also has the spare tree: the
steady state of a registry rebuilt daily), and a rebuild after one record changed; each reports
wall time, CPU time, stage timings and peak memory (the largest process, and the sum over the
process tree sampled as PSS). Then the output size, the
search index size and what a browser downloads for a query by name and by number (through the
real search.js under Node), the largest listing page, and the same certificate pages built by
Hugo (bench/hugo/) and by plain mkdocs-material (one page per certificate, not in the nav, no
search plugin). Ratios are of times measured in the same run, so a noisy machine affects both.

Star-mark artwork costs far more than everything else (see RESULTS.md), so it is rendered for
real only up to ``--artwork-upto`` certificates; larger registries are built with the artwork
stage left out and its time estimated from the rate measured on the largest real run.
Results go to bench/RESULTS.md (``--results``) and bench/work/results-<date>.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import hashlib
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.append(str(ROOT))  # after PYTHONPATH: the snapshot, when measuring
WORK = ROOT / "bench" / "work"
HUGO_SKELETON = ROOT / "bench" / "hugo"
SEARCH_CLI = ROOT / "tests" / "js" / "search_cli.mjs"
AS_OF = dt.date(2026, 11, 27)
SEED = 27922
PYTHON = sys.executable

# Targets of the scale issue, on this machine (2 cores).
TARGETS = {
    "page_vs_hugo": 1.0,  # certificate-page rendering at 10k / Hugo, same pages
    "cold_10k_s": 45.0,  # cold full build with artwork (issue 15)
    "warm_s": 10.0,  # warm rebuild, nothing changed (10k)
    "one_change_s": 5.0,  # rebuild after one changed record (10k)
    "cold_100k_s": 600.0,  # with everything an enterprise can download (issue 15)
    "memory_100k_mb": 2048.0,
    "site_10k_mb": 1000.0,  # one free static host (GitHub Pages: 1 GB per published site)
    "site_10k_files": 100_000,  # (GitLab Pages 200,000; Cloudflare Pages 20,000 / 100,000)
    "query_kb": 100.0,  # bytes downloaded per query at 100k (gzip)
    "listing_kb": 100.0,  # each listing page
}


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    """One measured process."""

    wall: float
    cpu: float = 0.0  # user + system of the process and its children
    maxrss_mb: float = 0.0  # the largest single process
    tree_pss_mb: float = 0.0  # the process tree's peak proportional set size, sampled
    report: dict[str, Any] = field(default_factory=dict)


def _tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    queue += [int(c) for c in handle.read().split()]
        except OSError:
            pass
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


SNAPSHOT = WORK / "snapshot"


def snapshot(working_tree: bool) -> str:
    """The generator as committed (or as in the working tree), copied aside, so that edits made
    during a long run do not change what is measured (nor make every output look changed to an
    incremental build)."""
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    SNAPSHOT.mkdir(parents=True)
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True, check=True).stdout.strip()
    if working_tree:
        shutil.copytree(ROOT / "generator", SNAPSHOT / "generator",
                        ignore=shutil.ignore_patterns("__pycache__"))
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "generator"],
                               capture_output=True, text=True).stdout.strip()
        if dirty:
            commit += " with uncommitted changes in generator/"
    else:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "HEAD", "generator"],
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(SNAPSHOT)], input=archive, check=True)
    # Byte-compiled, as installing a package does: else every measured process compiles the
    # generator's source again (0.3 s) wherever $PYTHONDONTWRITEBYTECODE is set.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(SNAPSHOT / "generator")], check=True,
                   stdout=subprocess.DEVNULL)
    return commit


def measure(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` in a wrapper process that reports its rusage; sample the tree's memory."""
    wrapper = [PYTHON, str(Path(__file__).resolve()), "_exec", "--", *cmd]
    started = time.perf_counter()
    path = os.pathsep.join(p for p in (str(SNAPSHOT), os.environ.get("PYTHONPATH")) if p)
    proc = subprocess.Popen(wrapper, cwd=cwd, env={**os.environ, "PYTHONPATH": path, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.25):
            peak = max(peak, sum(_pss_kb(p) for p in _tree(proc.pid)))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{err[-4000:]}")
    lines = out.strip().splitlines()
    stats = json.loads(lines[-1])
    report = json.loads(lines[-2]) if len(lines) > 1 and lines[-2].startswith("{") else {}
    return Run(wall, stats["cpu"], stats["maxrss_kb"] / 1024, peak / 1024, report)


def _exec(cmd: list[str]) -> None:
    """The wrapper: run ``cmd``, pass its output through, then print its rusage as JSON."""
    result = subprocess.run(cmd)
    if result.returncode != 0:
        sys.exit(result.returncode)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}))


def _build(root: Path, site: Path, artwork: bool) -> None:
    """One `starmark build` in this process (artwork optionally left out), report as JSON."""
    from generator import marks
    from generator.publish import build_site, exit_at_once

    if not artwork:
        def no_artwork(*_args: object, **_kwargs: object) -> marks.MarkStats:
            return marks.MarkStats(0, 0)

        marks.render_marks = no_artwork  # type: ignore[assignment]
    os.environ.pop("SOURCE_DATE_EPOCH", None)
    report = build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    print(json.dumps(report.summary()))
    exit_at_once(0)  # as `starmark build` ends


# --------------------------------------------------------------------------- the registry


def synthesize(size: int) -> Path:
    """A synthetic registry of ``size`` certificates under bench/work (reused when present)."""
    root = WORK / f"registry-{size}"
    stamp = root / ".synth"
    version = hashlib.blake2b((ROOT / "generator" / "synth.py").read_bytes(), digest_size=8)
    # synth writes its text through the import's writer: a new layout is a new registry.
    version.update((ROOT / "generator" / "spreadsheet" / "yamltext.py").read_bytes())
    # The registry/ folder is copied in: a changed setting (e.g. registry/mark.yaml) is a new one.
    for path in sorted((ROOT / "registry").rglob("*")):
        if path.is_file():
            version.update(path.read_bytes())
    wanted = f"{size} {SEED} {AS_OF} {version.hexdigest()}"
    if stamp.is_file() and stamp.read_text() == wanted:
        return root
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run([str(ROOT / ".venv/bin/starmark"), "--root", str(ROOT), "synth", "--count",
                    str(size), "--out", str(root), "--seed", str(SEED),
                    "--as-of", AS_OF.isoformat(),
                    "--quiet"], check=True)
    stamp.write_text(wanted)
    return root


def change_one_record(root: Path, step: int) -> Path:
    """Give one certificate in force a new address (a real edit: page, data, search change)."""
    for path in sorted((root / "certificates").rglob("*.yaml")):
        text = path.read_text("utf-8")
        if "\nstatus: valid\n" in text:
            changed = re.sub(r"(?m)^(  address: .*号)$", rf"\g<1>{step}栋", text, count=1)
            if changed != text:
                path.write_text(changed, "utf-8")
                return path
    raise SystemExit("no record to change")


# --------------------------------------------------------------------------- the site


def site_size(site: Path) -> tuple[int, int]:
    """Bytes (each inode once) and files of a built site."""
    seen: set[int] = set()
    total = files = 0
    for dirpath, _dirs, names in os.walk(site):
        for name in names:
            st = os.lstat(os.path.join(dirpath, name))
            files += 1
            if st.st_ino not in seen:
                seen.add(st.st_ino)
                total += st.st_size
    return total, files


def site_kinds(site: Path) -> dict[str, list[int]]:
    """Bytes and files of a built site by kind, each path counted (as a host stores them):
    ``c/N/<file>`` and ``api/v1/certificates/N.json`` per certificate, else the top folder."""
    kinds: dict[str, list[int]] = {}
    for dirpath, _dirs, names in os.walk(site):
        rel_dir = os.path.relpath(dirpath, site)
        parts = [] if rel_dir == "." else rel_dir.split(os.sep)
        for name in names:
            if parts[:1] == ["c"] and len(parts) == 2:
                kind = f"c/N/{name}"
            elif parts[:3] == ["api", "v1", "certificates"]:
                kind = "api/v1/certificates/N.json"
            elif parts[:2] == ["assets", "marks"]:
                kind = "assets/marks/ (shared artwork parts)"
            else:
                kind = f"{parts[0]}/" if parts else name
            entry = kinds.setdefault(kind, [0, 0])
            entry[0] += os.lstat(os.path.join(dirpath, name)).st_size
            entry[1] += 1
    return kinds


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6, mtime=0))


def search_figures(site: Path, root: Path) -> dict[str, Any]:
    """Index size, and what the browser downloads for queries, through the real search.js."""
    index_dir = site / "search" / "idx"
    files = [p for p in index_dir.rglob("*") if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    packed = sum(gz(p.read_bytes()) for p in files)
    from generator.load import load_registry

    registry = load_registry(root, AS_OF, cache_dir=root / ".starmark-cache")
    cert = registry.certificates[len(registry.certificates) // 3]
    name = cert.organization.name
    queries = {
        "name substring (4 chars)": name[2:6],
        "name substring (2 chars)": name[2:4],
        "full number": cert.number,
        "number tail": cert.number[-6:],
    }
    out = subprocess.run(["node", str(SEARCH_CLI), str(index_dir), *queries.values()],
                         capture_output=True, text=True, check=True)
    answers = json.loads(out.stdout)
    per_query = {}
    for (label, query), answer in zip(queries.items(), answers, strict=True):
        per_query[label] = {
            "query": query,
            "found": answer.get("total"),
            "files": len(answer["fetched"]),
            "raw_kb": sum(f["raw"] for f in answer["fetched"]) / 1024,
            "gzip_kb": sum(f["gzip"] for f in answer["fetched"]) / 1024,
        }
    return {"index_files": len(files), "index_mb": raw / 1e6, "index_gzip_mb": packed / 1e6,
            "queries": per_query}


def page_figures(site: Path) -> dict[str, Any]:
    """The largest listing page and a typical certificate page, raw and gzip."""
    listing = max((p for p in (site / "list").rglob("index.html")), key=lambda p: p.stat().st_size)
    cert = next(iter(sorted((site / "c").glob("*/index.html"))))
    return {"listing_max_kb": listing.stat().st_size / 1024,
            "listing_max_gzip_kb": gz(listing.read_bytes()) / 1024,
            "listing_max": listing.relative_to(site).as_posix(),
            "certificate_kb": cert.stat().st_size / 1024,
            "certificate_gzip_kb": gz(cert.read_bytes()) / 1024}


# --------------------------------------------------------------------------- the anchors


def ensure_hugo() -> str:
    """Debian's hugo, installed if missing."""
    found = shutil.which("hugo")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "-qq", "hugo"], check=True,
                   stdout=subprocess.DEVNULL)
    return shutil.which("hugo") or "hugo"


def anchor_content(root: Path, size: int) -> tuple[Path, Path]:
    """The same certificates as Hugo content and as plain mkdocs pages (written once)."""
    from generator import data, marks, pages
    from generator.load import load_registry

    hugo_dir, mkdocs_dir = WORK / f"hugo-{size}", WORK / f"mkdocs-{size}"
    stamp = (root / ".synth").read_text()
    if (hugo_dir / ".stamp").is_file() and (hugo_dir / ".stamp").read_text() == stamp:
        return hugo_dir, mkdocs_dir
    for folder in (hugo_dir, mkdocs_dir):
        shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(HUGO_SKELETON, hugo_dir)
    (hugo_dir / "content" / "c").mkdir(parents=True)
    (mkdocs_dir / "docs" / "c").mkdir(parents=True)
    registry = load_registry(root, AS_OF, cache_dir=root / ".starmark-cache")
    settings = registry.settings
    for cert in registry.certificates:
        derived = data.derived_dict(cert, registry)
        standing = registry.standing(cert)
        front = {
            "title": pages.title(cert, registry), "description": pages.description(cert, registry),
            "number": cert.number, "verdict": standing.verdict, "verdict_zh": derived["verdict_zh"],
            "verdict_en": derived["verdict_en"], "since": derived["since"],
            "reason": standing.reason, "name": cert.organization.name,
            "name_en": cert.organization.name_en, "level": cert.level,
            "level_zh": derived["level_zh"], "level_en": derived["level_en"],
            "stars": derived["stars"], "score": str(cert.score), "scope_zh": cert.scope_zh,
            "scope_en": cert.scope_en, "issued": cert.issued.isoformat(),
            "expires": cert.expires.isoformat(), "next_surveillance": derived["next_surveillance"],
            "body": settings.body.name, "credit_code": cert.organization.credit_code,
            "region": derived["region_name"], "address": cert.organization.address,
            "industry": cert.industry, "industry_zh": derived["industry_zh"],
            "standard": cert.standard, "as_of": AS_OF.isoformat(),
            "marks": [list(m) for m in marks.MARK_FILES] if derived["mark_allowed"] else [],
            "history": [{"date": h.date.isoformat(), "zh": h.zh, "en": h.en, "kind": h.kind,
                         "detail": h.detail_zh} for h in pages.history(cert)],
            "json_ld": pages.json_ld(cert, registry),
        }
        text = json.dumps(front, ensure_ascii=False, indent=1)
        (hugo_dir / "content" / "c" / f"{cert.number}.md").write_text(text + "\n", "utf-8")
        article = pages.render_page(cert, registry, marks.MARK_FILES).content
        page = mkdocs_dir / "docs" / "c" / cert.number / "index.md"
        page.parent.mkdir()
        page.write_text(f"---\ntitle: {json.dumps(front['title'], ensure_ascii=False)}\n---\n\n"
                        f"{article}\n", "utf-8")
    (mkdocs_dir / "docs" / "index.md").write_text("# 售后服务认证证书查询\n", "utf-8")
    config = {
        "site_name": "售后服务认证证书查询", "site_url": settings.site_url,
        "use_directory_urls": True, "theme": {"name": "material", "language": "zh", "font": False},
        "nav": ["index.md"], "plugins": [],
    }
    (mkdocs_dir / "mkdocs.yml").write_text(json.dumps(config, ensure_ascii=False), "utf-8")
    (hugo_dir / ".stamp").write_text(stamp)
    return hugo_dir, mkdocs_dir


# --------------------------------------------------------------------------- one size


def build_cmd(root: Path, site: Path, artwork: bool) -> list[str]:
    return [PYTHON, str(Path(__file__).resolve()), "_build", str(root), str(site),
            "--artwork" if artwork else "--no-artwork"]


def bench_size(size: int, artwork: bool, anchors: bool, log: Any) -> dict[str, Any]:
    log(f"\n== {size:,} certificates ({'with' if artwork else 'without'} artwork)")
    root = synthesize(size)
    site = root / "site"
    shutil.rmtree(site, ignore_errors=True)
    shutil.rmtree(root / ".starmark-cache", ignore_errors=True)
    result: dict[str, Any] = {"size": size, "artwork": artwork}
    cold = measure(build_cmd(root, site, artwork))
    log(f"cold build {cold.wall:.1f} s (CPU {cold.cpu:.1f} s), peak {cold.maxrss_mb:.0f} MB "
        f"largest process, {cold.tree_pss_mb:.0f} MB tree; stages "
        + ", ".join(f"{k} {v:.1f}" for k, v in cold.report.get("timings", {}).items()))
    first = measure(build_cmd(root, site, artwork))
    log(f"first rebuild (nothing changed, no spare tree yet) {first.wall:.1f} s; reused "
        f"{first.report.get('reused')}, linked {first.report.get('linked')} files")
    warm = measure(build_cmd(root, site, artwork))
    log(f"warm rebuild (nothing changed) {warm.wall:.1f} s; reused {warm.report.get('reused')}, "
        f"kept {warm.report.get('kept')}, linked {warm.report.get('linked')}, "
        f"wrote {warm.report.get('changed')} files")
    change_one_record(root, 1)
    one = measure(build_cmd(root, site, artwork))
    log(f"one record changed {one.wall:.1f} s; reused {one.report.get('reused')}, "
        f"wrote {one.report.get('changed')} files")
    # And another: now the spare tree's files are its own (not links shared with the live
    # site), as in a registry that changes every day, and changed files are written in place.
    change_one_record(root, 2)
    another = measure(build_cmd(root, site, artwork))
    log(f"another record changed {another.wall:.1f} s; wrote {another.report.get('changed')} "
        "files")
    result |= {"cold": asdict(cold), "first_rebuild": asdict(first), "warm": asdict(warm),
               "one_change": asdict(one), "another_change": asdict(another)}
    total, files = site_size(site)
    result["site_mb"], result["site_files"] = total / 1e6, files
    result["kinds"] = site_kinds(site)
    uploaded = sum(b for b, _f in result["kinds"].values())
    log(f"as a host counts it: {uploaded / 1e6:.0f} MB in {files:,} files, "
        f"{uploaded / size / 1e3:.1f} kB and {files / size:.2f} files a certificate")
    result |= page_figures(site)
    result["search"] = search_figures(site, root)
    log(f"site {total / 1e6:.0f} MB in {files:,} files; search index "
        f"{result['search']['index_mb']:.1f} MB ({result['search']['index_files']:,} files); "
        + "; ".join(f"{k}: {v['gzip_kb']:.1f} KB gzip"
                    for k, v in result["search"]["queries"].items()))
    if anchors:
        hugo_dir, mkdocs_dir = anchor_content(root, size)
        shutil.rmtree(hugo_dir / "public", ignore_errors=True)
        hugo = measure([ensure_hugo(), "--quiet", "--source", str(hugo_dir),
                        "--destination", str(hugo_dir / "public")])
        shutil.rmtree(mkdocs_dir / "site", ignore_errors=True)
        mkdocs = measure([str(ROOT / ".venv/bin/mkdocs"), "build", "--quiet", "--config-file",
                          str(mkdocs_dir / "mkdocs.yml")])
        result["hugo"], result["mkdocs"] = asdict(hugo), asdict(mkdocs)
        pages_s = cold.report["timings"].get("pages", 0.0)
        result["ratios"] = {
            "pages_vs_hugo": pages_s / hugo.wall,
            "cold_vs_hugo": cold.wall / hugo.wall,
            "cold_vs_mkdocs": cold.wall / mkdocs.wall,
            "mkdocs_vs_hugo": mkdocs.wall / hugo.wall,
            "pages_vs_mkdocs": pages_s / mkdocs.wall,
        }
        log(f"hugo {hugo.wall:.1f} s; plain mkdocs-material {mkdocs.wall:.1f} s; our page stage "
            f"{pages_s:.1f} s = {result['ratios']['pages_vs_hugo']:.2f}x Hugo; cold build "
            f"{result['ratios']['cold_vs_hugo']:.2f}x Hugo, "
            f"{result['ratios']['cold_vs_mkdocs']:.2f}x plain mkdocs")
    if not artwork:
        shutil.rmtree(site, ignore_errors=True)  # large; nothing else reads it
    return result


# --------------------------------------------------------------------------- the report


def machine() -> dict[str, str]:
    model = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    hugo = subprocess.run([ensure_hugo(), "version"], capture_output=True, text=True).stdout
    return {"cpu": f"{os.cpu_count()} × {model}", "memory": f"{memory:.0f} GiB",
            "kernel": platform.release(), "python": platform.python_version(),
            "hugo": hugo.split()[1] if hugo else "?", "date": dt.datetime.now(dt.UTC).isoformat(),
            "load": " ".join(Path("/proc/loadavg").read_text().split()[:3])}


def artwork_rate(results: list[dict[str, Any]]) -> float | None:
    """Seconds of wall time per certificate drawn, from the largest run with real artwork."""
    real = [r for r in results if r["artwork"] and r["cold"]["report"].get("marks_rendered")]
    if not real:
        return None
    best = max(real, key=lambda r: r["size"])
    return best["cold"]["report"]["timings"]["marks"] / best["cold"]["report"]["marks_rendered"]


BEGIN, END = "<!-- bench/run.py: begin -->", "<!-- bench/run.py: end -->"


def _s(value: float) -> str:
    return f"{value:.1f} s" if value < 600 else f"{value / 60:.1f} min"


def _verdict(measured: float, target: float, unit: str) -> str:
    if measured <= target:
        return f"met ({measured:.2f}{unit} ≤ {target:g}{unit})"
    return f"**missed** by {measured - target:.2f}{unit} ({measured / target:.1f}× the target)"


def tables(about: dict[str, str], results: list[dict[str, Any]], rate: float | None,
           command: str) -> list[str]:
    """The measured part of RESULTS.md."""
    when = about["date"][:16].replace("T", " ")
    out = [BEGIN, "",
           f"Measured {when} UTC by `bench/run.py {command}`".strip()
           + f" at commit {about['commit']}, on {about['cpu']}, {about['memory']} RAM, "
           f"Linux {about['kernel']}, "
           f"Python {about['python']}, Hugo {about['hugo']} (load average at start "
           f"{about['load']}: the machine is shared, so times are wall clock of one run and the "
           "ratios compare runs made minutes apart).", "",
           "Times are wall clock (CPU time of the process tree in brackets).", "",
           "| certificates | cold build | first rebuild, no change | warm rebuild, no change | "
           "one record changed | another record changed | peak memory (largest process / "
           "tree PSS) | site | search index "
           "| query by name (gzip) | query by number (gzip) | largest listing page (gzip) |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in results:
        q = r["search"]["queries"]
        artwork = "" if r["artwork"] else " ‡"

        def run(key: str, r: dict[str, Any] = r) -> str:
            return f"{_s(r[key]['wall'])} ({_s(r[key]['cpu'])})"

        out.append(
            f"| {r['size']:,} | {run('cold')}{artwork} | {run('first_rebuild')} | {run('warm')} | "
            f"{run('one_change')} | {run('another_change') if 'another_change' in r else '-'} | "
            f"{r['cold']['maxrss_mb']:.0f} / "
            f"{r['cold']['tree_pss_mb']:.0f} MB | {r['site_mb']:,.0f} MB, {r['site_files']:,} "
            f"files{artwork} | {r['search']['index_mb']:.1f} MB, {r['search']['index_files']:,} "
            f"files | {q['name substring (4 chars)']['gzip_kb']:.1f} KB "
            f"({q['name substring (2 chars)']['gzip_kb']:.1f} KB for 2 chars) | "
            f"{q['full number']['gzip_kb']:.1f} KB ({q['number tail']['gzip_kb']:.1f} KB for "
            f"the last 6 digits) | {r['listing_max_kb']:.0f} KB "
            f"({r['listing_max_gzip_kb']:.1f} KB) |")
    if any(not r["artwork"] for r in results):
        out += ["", "‡ built without star-mark artwork (see below); the site size then leaves "
                "out about 64 kB of artwork per certificate in force (files and parts.bin)."]
    out += ["", "One record changed: the first change after builds that changed nothing (the two "
            "trees share every file, so every file the change touches gets a new inode: its "
            "page, its JSON, two log tiles, a tree head and the aggregates); another: the next "
            "change (the spare tree's files are its own and are written in place), as in a "
            "registry that changes daily.", "",
            "Stages of the cold build (seconds, wall):", ""]
    stages = ["load", "hash", "link", "marks", "pages", "feeds", "listings", "search", "data",
              "render_site", "total"]
    out += ["| certificates | " + " | ".join(stages) + " |",
            "| ---: |" + " ---: |" * len(stages)]
    for r in results:
        timings = r["cold"]["report"].get("timings", {})
        out.append(f"| {r['size']:,} | " + " | ".join(f"{timings.get(s, 0):.1f}" for s in stages)
                   + " |")
    anchored = [r for r in results if "ratios" in r]
    if anchored:
        out += ["", "The same certificate pages built by Hugo (bench/hugo/) and by plain "
                "mkdocs-material (one page per certificate, not in the nav, no search plugin):", "",
                "| certificates | our certificate-page stage | Hugo | plain mkdocs-material | "
                "pages ÷ Hugo | our cold build ÷ Hugo | our cold build ÷ plain mkdocs | "
                "plain mkdocs ÷ Hugo |", "|" + " ---: |" * 8]
        for r in anchored:
            x = r["ratios"]
            out.append(
                f"| {r['size']:,} | {_s(r['cold']['report']['timings'].get('pages', 0))} | "
                f"{_s(r['hugo']['wall'])} | {_s(r['mkdocs']['wall'])} | {x['pages_vs_hugo']:.2f} | "
                f"{x['cold_vs_hugo']:.2f} | {x['cold_vs_mkdocs']:.2f} | "
                f"{x['mkdocs_vs_hugo']:.2f} |")
    if rate is not None and not all(r["artwork"] for r in results):
        out += ["", f"Artwork: {rate * 1000:.0f} ms of wall time per certificate drawn (two "
                "worker processes), measured on the largest build with artwork. Estimated cold "
                "builds with artwork: " + ", ".join(
                    f"{r['size']:,}: {_s(r['cold']['wall'] + rate * r['size'] * 0.8)}"
                    for r in results if not r["artwork"]) + " (80 % of certificates in force)."]
    sized = [r for r in results if "kinds" in r and r["artwork"]]
    if sized:
        out += ["", "The site by kind, per certificate (every path counted, as a host stores "
                "it; kB = 1,000 bytes; the artwork of certificates in force only):", "",
                "| kind | " + " | ".join(f"{r['size']:,}: kB | files" for r in sized) + " |",
                "| --- |" + " ---: | ---: |" * len(sized)]
        kinds = sorted({k for r in sized for k in r["kinds"]},
                       key=lambda k: -max(r["kinds"].get(k, [0, 0])[0] / r["size"] for r in sized))
        for kind in kinds:
            cells = []
            for r in sized:
                b, f = r["kinds"].get(kind, [0, 0])
                cells.append(f"{b / r['size'] / 1e3:.2f} | {f / r['size']:.3f}")
            out.append(f"| {kind} | " + " | ".join(cells) + " |")
        cells = []
        for r in sized:
            b = sum(v[0] for v in r["kinds"].values())
            f = sum(v[1] for v in r["kinds"].values())
            cells.append(f"**{b / r['size'] / 1e3:.1f}** | **{f / r['size']:.2f}**")
        out.append("| **all** | " + " | ".join(cells) + " |")
    by_size = {r["size"]: r for r in results}
    checks = []
    if 10_000 in by_size and "kinds" in by_size[10_000] and by_size[10_000]["artwork"]:
        kinds = by_size[10_000]["kinds"]
        checks += [("10k site with every download, bytes (one free static host)",
                    _verdict(sum(v[0] for v in kinds.values()) / 1e6, TARGETS["site_10k_mb"],
                             " MB")),
                   ("10k site with every download, files",
                    _verdict(sum(v[1] for v in kinds.values()), TARGETS["site_10k_files"], ""))]
    if 10_000 in by_size and "ratios" in by_size[10_000]:
        checks.append(("certificate pages at 10k ÷ Hugo",
                       _verdict(by_size[10_000]["ratios"]["pages_vs_hugo"], 1.0, "×")))
    if 10_000 in by_size:
        r = by_size[10_000]
        cold = r["cold"]["wall"] + (0 if r["artwork"] or rate is None else rate * 8000)
        label = "10k cold build with artwork" + ("" if r["artwork"] else " (estimated)")
        checks += [(label, _verdict(cold, TARGETS["cold_10k_s"], " s")),
                   ("10k warm rebuild", _verdict(r["warm"]["wall"], TARGETS["warm_s"], " s")),
                   ("10k one changed record (first after unchanged builds)",
                    _verdict(r["one_change"]["wall"], TARGETS["one_change_s"], " s"))]
        if "another_change" in r:
            checks.append(("10k one changed record (the next one)",
                           _verdict(r["another_change"]["wall"], TARGETS["one_change_s"], " s")))
    if 100_000 in by_size:
        r = by_size[100_000]
        checks += [("100k cold build, artwork left out",
                    _verdict(r["cold"]["wall"], TARGETS["cold_100k_s"], " s")),
                   ("100k cold build with artwork (estimated)" if not r["artwork"] else
                    "100k cold build with artwork",
                    _verdict(r["cold"]["wall"] + (0 if r["artwork"] or rate is None
                                                  else rate * r["size"] * 0.8),
                             TARGETS["cold_100k_s"], " s")),
                   ("100k peak memory (tree)",
                    _verdict(r["cold"]["tree_pss_mb"], TARGETS["memory_100k_mb"], " MB"))]
    largest = max(results, key=lambda r: r["size"])
    worst = max(q["gzip_kb"] for q in largest["search"]["queries"].values())
    checks += [(f"search download per query at {largest['size']:,} (worst of the queries)",
                _verdict(worst, TARGETS["query_kb"], " KB")),
               ("largest listing page", _verdict(max(r["listing_max_kb"] for r in results),
                                                 TARGETS["listing_kb"], " KB"))]
    out += ["", "| target | result |", "| --- | --- |"]
    out += [f"| {name} | {verdict} |" for name, verdict in checks]
    out += ["", END]
    return out


def write_results(path: Path, about: dict[str, str], results: list[dict[str, Any]],
                  rate: float | None, command: str) -> None:
    """Replace the measured part of RESULTS.md, keeping the written analysis around it."""
    text = path.read_text("utf-8") if path.is_file() else f"# Build benchmark\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text:
        text += f"\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    path.write_text(head + "\n".join(tables(about, results, rate, command)) + tail, "utf-8")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_exec":
        _exec(sys.argv[3:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "_build":
        _build(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4] == "--artwork")
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated registry sizes")
    parser.add_argument("--full", action="store_true", help="add 100,000 certificates")
    parser.add_argument("--artwork-upto", type=int, default=1000, metavar="N",
                        help="render artwork for real up to N certificates (default 1000)")
    parser.add_argument("--no-anchors", action="store_true", help="skip Hugo and plain mkdocs")
    parser.add_argument("--working-tree", action="store_true",
                        help="measure generator/ as it is now, not as committed (HEAD)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "RESULTS.md")
    parser.add_argument("--import-rows", type=int, default=10_000, metavar="N",
                        help="rows for bench/bench_import.py (spreadsheet import; 0: skip)")
    parser.add_argument("--trust-sizes", default="10000,100000", metavar="N,...",
                        help="registry sizes for bench/bench_trust.py (signed builds in git: "
                             "the one-change target of issue 14; empty: skip)")
    parser.add_argument("--check-size", type=int, default=100_000, metavar="N",
                        help="certificates for bench/bench_check.py (the bulk check, whose "
                             "targets are set at 100,000; 0: skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.full and 100_000 not in sizes:
        sizes.append(100_000)
    WORK.mkdir(parents=True, exist_ok=True)
    about = machine() | {"commit": snapshot(args.working_tree)}
    print(f"machine: {about}", flush=True)
    results = []
    for size in sizes:
        results.append(bench_size(size, size <= args.artwork_upto, not args.no_anchors,
                                  lambda text: print(text, flush=True)))
    rate = artwork_rate(results)
    stamp = dt.date.today().isoformat()
    (WORK / f"results-{stamp}.json").write_text(
        json.dumps({"machine": about, "artwork_s_per_cert": rate, "results": results}, indent=1),
        "utf-8")
    write_results(args.results, about, results, rate, " ".join(sys.argv[1:]))
    print(f"\nwrote {args.results}", flush=True)
    if args.import_rows:
        subprocess.run([PYTHON, str(ROOT / "bench" / "bench_import.py"), "--rows",
                        str(args.import_rows)], check=True)
    # Signed builds committed to git: a change appends to the log (its own section).
    if args.trust_sizes:
        subprocess.run([PYTHON, str(ROOT / "bench" / "bench_trust.py"), "--sizes",
                        args.trust_sizes, "--results", str(args.results)]
                       + (["--working-tree"] if args.working_tree else []), check=True)
    # The bulk check (/check/) at the size its targets name (its own section of results).
    if args.check_size:
        subprocess.run([PYTHON, str(ROOT / "bench" / "bench_check.py"), "--size",
                        str(args.check_size), "--results", str(args.results)], check=True)


if __name__ == "__main__":
    main()
