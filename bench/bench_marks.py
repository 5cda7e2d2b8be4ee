"""Cost of star-mark artwork per certificate: file by file, then whole runs cold and cached.

    .venv/bin/python bench/bench_marks.py [--count 200] [--workers 2] [--seed 1] [--repeat 3]

Makes a synthetic registry (``generator.synth``, the same as ``starmark synth``) with ``count``
certificates that may use the mark, in a temporary folder, and reports CPU time per certificate:

* file by file, in this process: "cold" with nothing drawn yet (each level's shared art is drawn
  on first use, and that cost is spread over the run), "warm" further passes over the same
  certificates with the levels drawn (the steady state of a long build; the fastest of
  ``--repeat`` passes, file by file, as other work on a shared machine only ever adds time);
* whole runs of ``render_marks`` with ``--workers`` processes: "cold" with an empty artwork cache
  (every certificate drawn, workers' start-up included), "cached" a second run that only reads
  the cache bundles and compares bytes with the site folder. CPU is this process's and its
  children's; wall-clock time is shown beside it.

CPU time is steadier than wall-clock time on a shared machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from generator import marks, qr  # noqa: E402
from generator.load import load_registry  # noqa: E402
from generator.marks import assembly  # noqa: E402
from generator.model import Registry  # noqa: E402
from generator.output import Output  # noqa: E402
from generator.settings import load as load_settings  # noqa: E402
from generator.synth import prepare_root, synthesize  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
SHARED = "(shared: QR symbol, number outlines)"
SPLIT = "parts.bin: split (assembly.py)"
CHECK = "(not in the build: assemble again)"


def make_registry(folder: Path, count: int, seed: int) -> tuple[Registry, list[marks.MarkInfo]]:
    """A synthetic registry with at least ``count`` certificates that may use the mark."""
    settings = load_settings(REPO)
    prepare_root(REPO, folder)
    records = count
    while True:
        shutil.rmtree(folder / "certificates", ignore_errors=True)
        for _ in synthesize(settings, folder, records, seed=seed, as_of=AS_OF):
            pass
        registry = load_registry(folder, as_of=AS_OF)
        infos = [marks.MarkInfo.of(cert, registry) for cert in marks.marked(registry)]
        if len(infos) >= count:
            return registry, infos[:count]
        records = math.ceil(records * count / max(len(infos), 1)) + 10


def time_files(
    art: marks.Artwork, infos: list[marks.MarkInfo], check: bool = False
) -> dict[str, float]:
    """CPU seconds per file name, summed over ``infos`` (``check``: and the reassembly)."""
    totals: dict[str, float] = {}
    qr.symbol.cache_clear()
    for info in infos:
        start = time.process_time()
        made = {}
        for name, data in art.files(info):
            now = time.process_time()
            key = name or SHARED
            totals[key] = totals.get(key, 0.0) + now - start
            made[name] = data
            start = now
        # What the build does next (generator/marks/cache.py): cut the files into parts.bin
        # and the shared parts (tests/test_marks.py checks that they give back every byte).
        assembly.split(made, art.shared_parts(info))
        totals[SPLIT] = totals.get(SPLIT, 0.0) + time.process_time() - start
        if check:  # the build did this for every certificate until 2026-12-06
            parts_bin, parts = assembly.split(made, art.shared_parts(info))
            static = {name: made[name] for name in assembly.STATIC}
            start = time.process_time()
            assembly.assemble(parts_bin, static, parts, assembly.PLACEHOLDER_DATE)
            totals[CHECK] = totals.get(CHECK, 0.0) + time.process_time() - start
    return totals


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_runs(
    registry: Registry, workers: int, folder: Path
) -> list[tuple[str, float, float, int]]:
    site, cache = folder / "site", folder / "cache"
    rows = []
    for label in ("cold", "cached"):
        cpu_start, wall_start = cpu(), time.perf_counter()
        stats = marks.render_marks(registry, Output(site), cache, workers=workers)
        rows.append(
            (
                f"render_marks {label}, {workers} worker(s)",
                cpu() - cpu_start,
                time.perf_counter() - wall_start,
                stats.certificates,
            )
        )
    shutil.rmtree(cache)
    shutil.rmtree(site)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="certificates with the mark")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="warm passes; the fastest is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        registry, infos = make_registry(folder / "registry", args.count, args.seed)
        style = marks.load_style(registry.settings.root)
        marks.face("regular"), marks.face("bold")  # fonts load once per process
        art = marks.Artwork(style)
        cold = time_files(art, infos)
        passes = [time_files(art, infos, check=True) for _ in range(args.repeat)]
        warm = {name: min(p[name] for p in passes) for name in passes[0]}
        n = len(infos)
        print(f"{n} certificates with the mark; CPU ms per certificate")
        print(f"{'file':<40}{'cold':>8}{'warm':>8}")
        for name in cold:
            print(f"{name:<40}{cold[name] / n * 1000:>8.2f}{warm[name] / n * 1000:>8.2f}")
        total_cold, total_warm = sum(cold.values()), sum(warm.values()) - warm[CHECK]
        label = "all nine files and parts.bin"
        print(f"{label:<40}{total_cold / n * 1000:>8.2f}{total_warm / n * 1000:>8.2f}")
        print(f"{CHECK:<40}{'':>8}{warm[CHECK] / n * 1000:>8.2f}")
        print()
        print(f"{'whole registry':<38}{'CPU ms/cert':>12}{'wall s':>8}{'certs':>7}")
        for workers in sorted({1, args.workers}):
            for label, seconds, wall, certs in time_runs(registry, workers, folder):
                per_cert = seconds / max(certs, 1) * 1000
                print(f"{label:<38}{per_cert:>12.2f}{wall:>8.2f}{certs:>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
