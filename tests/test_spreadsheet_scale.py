"""Export and import at scale: 10,000 synthetic certificates go out to a workbook and come back
as the same record files, byte for byte (slow: about 80 s on two cores)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from recordkit import REPO

from generator import load
from generator.settings import load as load_settings
from generator.spreadsheet import reading
from generator.spreadsheet.export import write_xlsx
from generator.spreadsheet.importer import CREATE, Importer, write
from generator.synth import prepare_root, synthesize

COUNT = 10_000


@pytest.mark.slow
def test_ten_thousand_synthetic_records_round_trip(tmp_path: Path) -> None:
    original, empty = tmp_path / "original", tmp_path / "empty"
    settings = load_settings(REPO)
    prepare_root(REPO, original)
    for _ in synthesize(settings, original, COUNT, seed=13, as_of=dt.date(2026, 11, 27)):
        pass
    _, good, problems = load.validate(original)
    assert not problems and len(good) == COUNT
    book = tmp_path / "registry.xlsx"
    write_xlsx(book, sorted((d for d, _ in good), key=lambda d: str(d["number"])), settings)

    shutil.copytree(REPO / "registry", empty / "registry")
    plan = Importer(empty, settings).plan(reading.read(book, "registry.xlsx", {}), "registry.xlsx")
    assert plan.problems == [] and plan.count(CREATE) == COUNT
    assert write(empty, plan.outcomes) == COUNT

    made = sorted(p.relative_to(original) for p in (original / "certificates").rglob("*.yaml"))
    back = sorted(p.relative_to(empty) for p in (empty / "certificates").rglob("*.yaml"))
    assert made == back and len(made) == COUNT
    # synth and import write through the same writer, comments included: the bytes are equal.
    differ = [p for p in made if (original / p).read_bytes() != (empty / p).read_bytes()]
    assert differ == [], f"{len(differ)} records differ, the first {differ[0]}"
    again = Importer(empty, settings).plan(reading.read(book, "registry.xlsx", {}), "x")
    assert again.problems == [] and again.count(CREATE) == 0
