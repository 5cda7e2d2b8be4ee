"""Cost of star-mark artwork per certificate: each file drawn cold, and whole runs cold and cached.

    .venv/bin/python bench/bench_marks.py [--root .] [--count 12] [--workers 2]

"Cold" draws with fonts already loaded but nothing in the artwork cache; "cached" is a second
run over the same registry, which only reads bundles and compares bytes with the site folder.
File by file, the cost is CPU time of this process (steady on a shared machine); whole runs are
wall-clock time, since their work happens in worker processes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import marks, pdf, qr  # noqa: E402
from generator.load import load_registry  # noqa: E402
from generator.model import Registry  # noqa: E402
from generator.output import Output  # noqa: E402


def per_file(info: marks.MarkInfo, style: marks.MarkStyle) -> dict[str, Callable[[], bytes]]:
    """One function per artwork file, each doing all the work that file needs from scratch."""
    sizes = style.sizes
    mm = sizes["recommended_mm"]

    def svg(variant: str) -> Callable[[], bytes]:
        return lambda: marks.to_svg(marks.mark_scene(info, style, variant), mm).encode()

    print_px = round(mm / 25.4 * sizes["print_dpi"])

    def web_png() -> bytes:
        scene = marks.mark_scene(info, style)
        printed = marks.rasterise(scene, print_px)
        return marks.png_bytes(marks._web_image(scene, printed, int(sizes["web_png_px"])))

    def print_png() -> bytes:
        scene = marks.mark_scene(info, style)
        return marks.png_bytes(marks.rasterise(scene, print_px), int(sizes["print_dpi"]))

    def display() -> bytes:
        sheet = marks.display_scene(info, style)
        return pdf.write_pdf(sheet.fills, sheet.width, sheet.height, sheet.title)

    return {
        "mark.svg": svg("colour"),
        "mark-mono.svg": svg("mono"),
        "mark-reverse.svg": svg("reverse"),
        "mark.png (drawn at print size, scaled)": web_png,
        "mark-print.png": print_png,
        "qr.svg": lambda: qr.qr_svg(info.url).encode(),
        "qr.png": lambda: qr.qr_png(info.url, module_px=10, dpi=300),
        "display.pdf": display,
    }


def time_files(registry: Registry, count: int) -> dict[str, list[float]]:
    style = marks.load_style(registry.settings.root)
    timings: dict[str, list[float]] = {}
    for cert in list(marks.marked(registry))[:count]:
        info = marks.MarkInfo.of(cert, registry)
        files: dict[str, bytes] = {}
        for name, make in per_file(info, style).items():
            qr.symbol.cache_clear()
            start = time.process_time()
            files[name] = make()
            timings.setdefault(name, []).append(time.process_time() - start)
        files[marks.USAGE_FILE] = marks.usage_text(info, style).encode()
        start = time.process_time()
        marks._zip(files, info.number)
        timings.setdefault("marks.zip (zipping only)", []).append(time.process_time() - start)
        qr.symbol.cache_clear()
        start = time.process_time()
        marks.render_files(info, style)
        timings.setdefault("all files of one certificate", []).append(time.process_time() - start)
    return timings


def time_runs(registry: Registry, workers: int) -> list[tuple[str, float, int]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        site, cache = Path(tmp) / "site", Path(tmp) / "cache"
        for label in ("cold", "cached"):
            start = time.perf_counter()
            stats = marks.render_marks(registry, Output(site), cache, workers=workers)
            elapsed = time.perf_counter() - start
            rows.append((f"render_marks {label}, {workers} worker(s)", elapsed, stats.certificates))
        shutil.rmtree(cache)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--count", type=int, default=12, help="certificates timed file by file")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--as-of", default="2026-11-27")
    args = parser.parse_args()
    registry = load_registry(args.root, as_of=dt.date.fromisoformat(args.as_of))
    marks.face("regular"), marks.face("bold")  # fonts load once per process; not per certificate
    marks.render_files(
        marks.MarkInfo.of(next(marks.marked(registry)), registry), marks.load_style(args.root)
    )

    print(f"{'file (drawn cold), CPU':<40}{'median ms':>10}{'max ms':>10}")
    for name, values in time_files(registry, args.count).items():
        print(f"{name:<40}{statistics.median(values) * 1000:>10.1f}{max(values) * 1000:>10.1f}")
    print()
    print(f"{'whole registry, wall clock':<42}{'s':>8}{'certs':>7}{'ms/cert':>9}")
    for workers in sorted({1, args.workers}):
        for label, seconds, certs in time_runs(registry, workers):
            print(f"{label:<42}{seconds:>8.2f}{certs:>7}{seconds / max(certs, 1) * 1000:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
