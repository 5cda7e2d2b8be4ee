"""How long reading a record that is a YAML alias bomb ("billion laughs") takes.

    .venv/bin/python bench/bench_alias_bomb.py [--runs 5]

A record file with nested anchors would expand to 10^9 strings if aliases were followed;
generator/source.py refuses the first anchor instead. Target: under 1 s with either of PyYAML's
parsers (libyaml and the pure-Python one), so that a hostile file cannot stall `validate` or a
build. tests/test_source.py checks that it is refused and with which messages; the time is
measured here, not in a unit test, where a loaded machine would make it fail.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from test_source import billion_laughs  # noqa: E402  (the very file the unit test reads)

from generator import source  # noqa: E402

TARGET_S = 1.0


def main() -> int:
    """Time the refusal with each parser; exit 1 if a median misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    loaders = {"pyyaml": yaml.SafeLoader}
    if hasattr(yaml, "CSafeLoader"):
        loaders["libyaml"] = yaml.CSafeLoader
    missed = False
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.yaml"
        path.write_text(billion_laughs(), "utf-8")
        for name, loader in loaders.items():
            source.LOADER = loader
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                _doc, problems = source.read_file(path, "record.yaml")
                times.append(time.perf_counter() - started)
                assert problems, "the alias bomb was not refused"
            median = statistics.median(times)
            missed |= median >= TARGET_S
            verdict = "met" if median < TARGET_S else "MISSED"
            print(f"{name}: median {median * 1000:.1f} ms over {args.runs} runs "
                  f"(target < {TARGET_S * 1000:.0f} ms: {verdict})")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
