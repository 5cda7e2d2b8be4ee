"""Benchmark the signed log: one changed record at 10,000 certificates, and `starmark verify`.

    .venv/bin/python bench/bench_trust.py [--sizes 10000] [--working-tree]

For each size: the synthetic registry of `make bench` (fictional, seeded) is copied into a git
repository and committed, a signing key made, and the site built with $STARMARK_SIGNING_KEY set
(no artwork: bench/run.py measures that). Then, each in a fresh process: a rebuild with nothing
changed, a rebuild after one record changed and was committed (end to end: `starmark build`
as CI runs it, with the log derived from git), a second such change, `starmark verify` of the
whole site and of one downloaded record. Also counted: the files under api/v1/ whose bytes a
one-record change rewrites (the proof tiles, the record, the bulk files: not every record).
Results go to the "Signed log" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402

TARGETS = {"one_change_s": 2.0, "verify_s": 10.0}
# The one-change target was set on a day Hugo built the same 10,000 pages in 4.6 s (the anchor
# of `make bench`): on a machine that is slower or busier, it is this share of Hugo's time.
HUGO_WHEN_SET_S = 4.6
SECTION = "## Signed log (`bench/bench_trust.py`)"
BEGIN, END = "<!-- bench/bench_trust.py: begin -->", "<!-- bench/bench_trust.py: end -->"


def _git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.org",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.org"}
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.blake2b(p.read_bytes()).hexdigest()
            for p in folder.rglob("*") if p.is_file()}


def _rewritten(before: dict[str, str], after: dict[str, str]) -> dict[str, int]:
    changed = [rel for rel, d in after.items() if before.get(rel) != d]
    kinds: dict[str, int] = {}
    for rel in changed:
        kind = ("tiles" if rel.startswith("tile/") else "records" if rel.startswith(
            "certificates/") else "tree heads" if rel.startswith("checkpoints/") else "other")
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def _publish(root: Path) -> None:
    """In this process: the signed log's stage alone (trust.publish: the open data, the log
    from git, tiles, digests, signing) for the registry as it is, warm; report as JSON."""
    import time

    from generator import trust
    from generator.load import load_registry
    from generator.output import Output

    cache = root / ".starmark-cache"
    registry = load_registry(root, bench.AS_OF, cache_dir=cache)
    out = bench.WORK / "trust-publish"
    shutil.rmtree(out, ignore_errors=True)
    trust.publish(registry, Output(out), cache_dir=cache)  # caches warm, as in a rebuild
    wall, cpu = time.perf_counter(), time.process_time()
    trust.publish(registry, Output(out), cache_dir=cache)
    print(json.dumps({"publish_s": time.perf_counter() - wall,
                      "publish_cpu": time.process_time() - cpu}))


def bench_size(size: int, log: Any) -> dict[str, Any]:
    log(f"\n== {size:,} certificates, signed, in git")
    source = bench.synthesize(size)
    root = bench.WORK / f"trust-{size}"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(source, root, ignore=shutil.ignore_patterns(
        "site", "site.*", ".site-*", ".starmark-cache", ".synth"))
    keys = bench.WORK / "trust-keys"
    shutil.rmtree(keys, ignore_errors=True)
    subprocess.run([str(bench.ROOT / ".venv/bin/starmark"), "--root", str(root), "keygen",
                    "--out", str(keys)], check=True, capture_output=True)
    shutil.copy(keys / "signing-key.pub", root / "registry" / "signing-key.pub")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "registry")
    env = {"STARMARK_SIGNING_KEY": str(keys / "signing.key")}
    site = root / "site"
    cmd = bench.build_cmd(root, site, False)
    cold = bench.measure(cmd, env=env)
    log(f"cold build {cold.wall:.1f} s")
    bench.measure(cmd, env=env)  # the first rebuild makes the spare tree
    warm = bench.measure(cmd, env=env)
    log(f"warm rebuild (nothing changed) {warm.wall:.1f} s")
    api = site / "api" / "v1"
    before = _digests(api)
    # The anchor: Hugo building the same certificate pages, before and after the changes (the
    # machine is shared: its speed varies from one day to the next).
    hugo_dir, _mkdocs_dir = bench.anchor_content(source, size)
    hugo_cmd = [bench.ensure_hugo(), "--quiet", "--source", str(hugo_dir), "--destination",
                str(hugo_dir / "public")]
    hugo = [bench.measure(hugo_cmd).wall]
    changes = []
    for step in (1, 2):
        bench.change_one_record(root, step)
        _git(root, "commit", "-qam", f"change {step}")
        run = bench.measure(cmd, env=env)
        changes.append(run)
        log(f"one record changed and committed: {run.wall:.1f} s (CPU {run.cpu:.1f} s); stages "
            + ", ".join(f"{k} {v:.2f}" for k, v in run.report.get("timings", {}).items()))
    hugo.append(bench.measure(hugo_cmd).wall)
    log(f"Hugo, the same {size:,} pages: {hugo[0]:.1f} s and {hugo[1]:.1f} s")
    rewritten = _rewritten(before, _digests(api))
    stage = bench.measure([bench.PYTHON, str(Path(__file__).resolve()), "_publish", str(root)],
                          env=env).report
    log(f"the signed log's stage alone (trust.publish, warm): {stage['publish_s']:.2f} s "
        f"(CPU {stage['publish_cpu']:.2f} s)")
    log(f"files under api/v1/ rewritten by the two changes: {rewritten}")
    starmark = str(bench.ROOT / ".venv/bin/starmark")
    verify = bench.measure([starmark, "--root", str(root), "verify", str(site)])
    log(f"verify of the whole site {verify.wall:.1f} s")
    number = re.sub(r"\.json$", "", next((api / "certificates").iterdir()).name)
    downloads = bench.WORK / "trust-downloads"
    shutil.rmtree(downloads, ignore_errors=True)
    downloads.mkdir()
    for name in ("checkpoint.json", "files.sha256", f"certificates/{number}.json"):
        shutil.copy(api / name, downloads)
    one = bench.measure([starmark, "--root", str(root), "verify",
                         str(downloads / f"{number}.json")])
    log(f"verify of one downloaded record {one.wall:.1f} s")
    tree_size = json.loads((api / "checkpoint.json").read_bytes())["tree_size"]
    return {"size": size, "tree_size": tree_size, "cold_s": cold.wall, "warm_s": warm.wall,
            "one_change_s": changes[0].wall, "one_change_cpu": changes[0].cpu,
            "another_change_s": changes[1].wall, "another_change_cpu": changes[1].cpu,
            "one_change_timings": changes[0].report.get("timings", {}),
            "another_change_timings": changes[1].report.get("timings", {}),
            "rewritten": rewritten, "publish_s": stage["publish_s"],
            "publish_cpu": stage["publish_cpu"], "verify_s": verify.wall, "verify_cpu": verify.cpu,
            "verify_one_s": one.wall, "verify_one_cpu": one.cpu, "hugo_s": hugo}


def table(about: dict[str, str], results: list[dict[str, Any]]) -> str:
    lines = [SECTION, "", BEGIN, "",
             f"Measured by `.venv/bin/python bench/bench_trust.py` at {about['commit']} on "
             f"{about['cores']} cores shared with other work (load {about['load']}). Signed builds "
             "of the `make bench` registry committed to git, artwork left out (see above); "
             "wall times of fresh processes (CPU time, of the process and its workers, in "
             "brackets: the machine is shared, so wall time varies with the others' load).", "",
             "| certificates | log versions | cold | warm | one change (target ≤ 2 s at 10k) | "
             "another | Hugo, same pages (before, after) | one change ÷ Hugo (target ≤ "
             f"{TARGETS['one_change_s'] / HUGO_WHEN_SET_S:.2f}) "
             "| files under api/v1/ rewritten by two changes | verify site (≤ 10 s) "
             "| verify one record |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        files = ", ".join(f"{n} {k}" for k, n in sorted(r["rewritten"].items()))
        hugo = sum(r["hugo_s"]) / len(r["hugo_s"])
        ratios = "–".join(f"{v / hugo:.2f}" for v in sorted((r["one_change_s"],
                                                              r["another_change_s"])))
        lines.append(
            f"| {r['size']:,} | {r['tree_size']:,} | {r['cold_s']:.1f} s | {r['warm_s']:.1f} s "
            f"| {r['one_change_s']:.1f} s ({r['one_change_cpu']:.1f} s) "
            f"| {r['another_change_s']:.1f} s ({r['another_change_cpu']:.1f} s) "
            f"| {r['hugo_s'][0]:.1f}, {r['hugo_s'][1]:.1f} s | {ratios} | {files} "
            f"| {r['verify_s']:.1f} s ({r['verify_cpu']:.1f} s) "
            f"| {r['verify_one_s']:.1f} s ({r['verify_one_cpu']:.1f} s) |")
    lines += ["", f"The ≤ 2 s target was set on a day Hugo built the same 10,000 pages in "
              f"{HUGO_WHEN_SET_S} s; on a slower or busier machine it is that share of Hugo's "
              "time in the same run (one change ÷ Hugo)."]
    for r in results:
        stages = r["another_change_timings"]
        lines.append("")
        lines.append(
            f"Stages of the second one-record change at {r['size']:,} (wall s): "
            + ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
            + ". The signed log's stage alone (`trust.publish`: every record's JSON, "
            "certificates.json and the CSV, the log derived from git, its tiles, the file "
            f"digests and the signatures), warm, in one process: {r['publish_s']:.2f} s "
            f"(CPU {r['publish_cpu']:.2f} s).")
    return "\n".join(lines) + "\n\n" + END + "\n"


def write_results(path: Path, text: str) -> None:
    """Put ``text`` in place of this bench's section of RESULTS.md (or at its end): of the
    part between its markers when they are there, so what is written by hand after them stays."""
    old = path.read_text("utf-8") if path.is_file() else ""
    if SECTION in old and END in old[old.index(SECTION):]:
        start = old.index(SECTION)
        end = old.index(END, start) + len(END) + 1
        new = old[:start] + text + old[end:]
    elif SECTION in old:
        start = old.index(SECTION)
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + (old[end + 1 :] if end >= 0 else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    path.write_text(new, "utf-8")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "_publish":
        _publish(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--working-tree", action="store_true",
                        help="measure generator/ as it is now, not as committed (HEAD)")
    parser.add_argument("--results", type=Path, default=bench.ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args()
    bench.WORK.mkdir(parents=True, exist_ok=True)
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    about = {"cores": str(os.cpu_count()), "load": load,
             "commit": bench.snapshot(args.working_tree)}
    results = [bench_size(int(s), lambda t: print(t, flush=True)) for s in args.sizes.split(",")]
    write_results(args.results, table(about, results))
    print(f"\nwrote {args.results}", flush=True)


if __name__ == "__main__":
    main()
