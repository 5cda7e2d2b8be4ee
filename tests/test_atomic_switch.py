"""The switch from the old site to the new one: one step, nothing stray, nothing left behind.

A web server reading ``site/`` must always find a whole site: the old one or the new one. Each
test builds a five-record copy of the sample registry (see ``test_incremental``), and the kill
tests end a child build with ``os._exit`` before each file-system step of the switch in turn.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import test_incremental as small
from test_incremental import (
    AS_OF,
    CODE,
    assert_same_as_clean,
    build,
    move,
    records,
    tree,
)

from generator import build as build_module
from generator import load, publish
from generator.output import Manifest
from generator.publish import build_site, leftovers

# The five-record registry of test_incremental, its cache folder, and its fixed code digest.
registry_root = small.registry_root
cache_dir = small.cache_dir
fixed_code = small.fixed_code

pytestmark = pytest.mark.slow


def test_repeated_builds_hold_exactly_the_files_of_a_clean_build(
        registry_root: Path, tmp_path: Path) -> None:
    """Rebuilding over the same inodes (the spare tree shares them with the live site) once
    left ``*.lnk`` temporaries in the published site."""
    site = registry_root / "site"
    for day in (AS_OF.replace(day=26), AS_OF, AS_OF, AS_OF):
        build_site(registry_root, as_of=day, site_dir=site, quiet=True)
    assert not [p for p in site.rglob("*") if p.name.endswith((".lnk", ".tmp"))]
    assert_same_as_clean(registry_root, site, tmp_path)
    move(next(iter(records(registry_root).values())))
    for _ in range(3):
        build(registry_root, site)
    assert_same_as_clean(registry_root, site, tmp_path / "after")


def test_leftovers_of_killed_builds_are_removed(registry_root: Path) -> None:
    site = registry_root / "site"
    build(registry_root, site)
    for name in (".site.build-k1ll3d", ".site.old-4242"):
        (registry_root / name / "c").mkdir(parents=True)
        (registry_root / name / "c" / "index.html").write_text("half a site", "utf-8")
    build(registry_root, site)
    assert leftovers(site) == []


# --------------------------------------------------------------------- killed at every step

STEPS = ("exchange", "rename", "replace", "save", "rmtree")


def _killing_build(root: Path, site: Path, kill_at: int, use_exchange: bool) -> None:
    """In a child: build, and die before the ``kill_at``-th file-system step of the switch."""
    build_module.code_digest = lambda: CODE[0]  # type: ignore[assignment]
    load.checking_code = lambda: CODE[1]  # type: ignore[assignment]
    if not use_exchange:
        publish._EXCHANGE = None
    steps = [0]
    switching = [False]

    def step(name: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if switching[0]:
                steps[0] += 1
                if steps[0] == kill_at:
                    os._exit(9)
            return call(*args, **kwargs)
        return run

    swap = publish.Trees.swap

    def traced_swap(self: publish.Trees, *args: Any) -> None:
        switching[0] = True
        swap(self, *args)
        switching[0] = False

    publish.Trees.swap = traced_swap  # type: ignore[method-assign]
    publish.exchange = step("exchange", publish.exchange)
    publish.swap_into_place = step("swap", publish.swap_into_place)
    for name in ("rename", "replace", "chmod"):
        setattr(os, name, step(name, getattr(os, name)))
    shutil.rmtree = step("rmtree", shutil.rmtree)  # type: ignore[assignment]
    Manifest.save = step("save", Manifest.save)  # type: ignore[method-assign]
    build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    os._exit(0 if steps[0] < kill_at else 3)


def _run_child(root: Path, site: Path, kill_at: int, use_exchange: bool) -> int:
    child = multiprocessing.get_context("fork").Process(
        target=_killing_build, args=(root, site, kill_at, use_exchange))
    child.start()
    child.join(300)
    assert child.exitcode is not None
    return child.exitcode


@pytest.mark.parametrize("use_exchange", [True, False], ids=["exchange", "two renames"])
def test_a_build_killed_at_any_step_of_the_switch_leaves_a_whole_site(
        registry_root: Path, tmp_path: Path, use_exchange: bool) -> None:
    """Before each step of the switch in turn: the site is the old one or the new one (the
    two-rename fallback may show no site for an instant, and the next build puts it back), and
    the next build recovers to exactly a clean build."""
    site = registry_root / "site"
    build(registry_root, site)
    build(registry_root, site)  # a spare tree too: the switch then exchanges two trees
    old = tree(site)
    record = next(iter(records(registry_root).values()))
    original = record.read_text("utf-8")
    move(record)
    new_root = tmp_path / "clean"
    shutil.copytree(registry_root, new_root, ignore=shutil.ignore_patterns("site"))
    clean = tmp_path / "clean-site"
    build(new_root, clean)
    new = tree(clean)
    assert new != old
    kill_at = 1
    while True:
        code = _run_child(registry_root, site, kill_at, use_exchange)
        if code == 0:
            break
        assert code == 9, f"the child build failed ({code}) before step {kill_at}"
        if site.exists() or use_exchange:
            assert tree(site) in (old, new), f"killed before step {kill_at}: a mixed site"
        # The next build finds the site whole, in either state, and leaves nothing stray.
        build(registry_root, site)
        assert tree(site) == new
        assert leftovers(site) == []
        record.write_text(original, "utf-8")
        build(registry_root, site)
        assert tree(site) == old
        move(record)
        kill_at += 1
    assert kill_at > 3, "the switch has fewer steps than expected: is the tracing broken?"
    assert tree(site) == new
