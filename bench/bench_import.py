"""Benchmark `starmark import` (and export) on a synthetic registry: rows per second.

    .venv/bin/python bench/bench_import.py [--rows 10000] [--keep DIR]

`starmark synth` makes ROWS fictional certificates (seeded); `starmark export --xlsx` writes
them to a workbook; `starmark import` reads it into an empty registry. Each command runs in a
fresh process and is timed from outside (wall clock), as staff would run it. The imported
records are then compared with the originals, field by field as the text they hold.
Target (issue 13): 10,000 rows imported in under 30 s on this machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STARMARK = [sys.executable, "-m", "generator"]
AS_OF = "2026-11-27"
SEED = 27922
TARGET_S = 30.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one starmark command in a fresh process."""
    start, cpu = time.perf_counter(), _cpu()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([*STARMARK, *args], cwd=cwd, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    """Run the benchmark and print its results as a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    source, target = work / "source", work / "target"
    book = work / "registry.xlsx"
    load = os.getloadavg()  # a busy machine stretches wall time, not CPU time
    try:
        shutil.rmtree(target, ignore_errors=True)
        synth = _run(["--root", str(ROOT), "synth", "--count", str(args.rows), "--out",
                      str(source), "--seed", str(SEED), "--as-of", AS_OF, "-q"], ROOT)
        export = _run(["--root", str(source), "export", "-q", "--xlsx", str(book)], ROOT)
        shutil.copytree(source / "registry", target / "registry")
        imported = _run(["--root", str(target), "import", "-q", str(book)], ROOT)
        again = _run(["--root", str(target), "import", "-q", str(book)], ROOT)
        originals = sorted((source / "certificates").rglob("*.yaml"))
        # synth and import write records with one writer: the round trip is byte for byte.
        different = [p for p in originals
                     if p.read_bytes() != (target / p.relative_to(source)).read_bytes()]
        rows = args.rows
        print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python "
              f"{platform.python_version()}; {dt.date.today().isoformat()}")
        print(f"workbook: {book.stat().st_size / 1e6:.1f} MB, {rows} certificates")
        print(f"load average before/after: {load[0]:.1f} / {os.getloadavg()[0]:.1f}")
        print("| step | wall s | CPU s | rows/s (wall) |")
        print("| --- | ---: | ---: | ---: |")
        for name, (wall, cpu) in (("synth", synth), ("export --xlsx", export),
                                  ("import (empty registry)", imported),
                                  ("import again (all unchanged)", again)):
            print(f"| {name} | {wall:.1f} | {cpu:.1f} | {rows / wall:,.0f} |")
        verdict = "met" if imported[0] < TARGET_S else "MISSED"
        print(f"target: import {rows} rows < {TARGET_S:.0f} s: {verdict}; "
              f"records differing from the originals: {len(different)}")
        if different:
            sys.exit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
