"""Fuzzing the loader and the model: no mutant of a valid record may end in a traceback.

Hypothesis mutates a valid record (a value replaced by odd text, a date anywhere in the
calendar, a line removed, doubled or cut, stray characters or bytes) and checks it the way
``starmark validate`` does; what passes becomes a certificate and its standing is derived for
as-of dates at both ends of the calendar. Any exception other than a reported problem fails.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from recordkit import REPO, VALID_RECORD

from generator import load, model
from generator import settings as settings_mod

SETTINGS = settings_mod.load(REPO)
LINES = VALID_RECORD.splitlines(keepends=True)
AS_OF = dt.date(2026, 12, 6)

# Anywhere in the calendar, and often near its ends, where date arithmetic overflows.
dates = st.one_of(
    st.dates(),
    st.dates(min_value=dt.date(9990, 1, 1)),
    st.dates(max_value=dt.date(10, 12, 31)),
    st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)),
).map(dt.date.isoformat)
odd_text = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "~", "null", "no", "0", "-1", "1e309", "nan", "[]", "{}", "'", "\t",
                     "&a", "*a", "!!python/object:os.system", "0000-00-00", "2025-02-29",
                     "96.5.1", "１００", "ASC-2025-000123\n  x: y"]),
    dates,
)


@st.composite
def mutants(draw: st.DrawFn) -> bytes:
    """A valid record with one to three mutations."""
    lines = list(LINES)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(0, len(lines) - 1))
        line = lines[index]
        kind = draw(st.sampled_from(["value", "date", "drop", "double", "cut", "insert"]))
        if kind in ("value", "date") and ":" in line:
            key = line.split(":", 1)[0]
            value = draw(dates if kind == "date" else odd_text)
            lines[index] = f"{key}: {value}\n"
        elif kind == "date" and "date: " in line:
            before, _, rest = line.partition("date: ")
            lines[index] = before + "date: " + draw(dates) + rest[10:]
        elif kind == "drop":
            del lines[index]
        elif kind == "double":
            lines.insert(index, line)
        elif kind == "cut":
            lines[index] = line[: draw(st.integers(0, len(line)))]
        else:
            lines.insert(index, draw(st.text(max_size=20)))
        if not lines:
            lines = [""]
    raw = "".join(lines).encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and draw(st.booleans()):
        position = draw(st.integers(0, len(raw)))
        raw = raw[:position] + draw(st.binary(max_size=4)) + raw[position:]
    return raw


@pytest.fixture(scope="module")
def record_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "ASC-2025-000123.yaml"


@settings(max_examples=2000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=mutants(), as_of=st.sampled_from([AS_OF, dt.date(2001, 1, 1), dt.date(9999, 12, 31)]))
def test_no_mutant_ends_in_a_traceback(record_path: Path, raw: bytes, as_of: dt.date) -> None:
    record_path.write_bytes(raw)
    data, doc, problems = load.check_file(record_path, record_path.name, SETTINGS, as_of=AS_OF)
    assert (data is None) == bool(problems)
    for problem in problems:
        assert problem.path == record_path.name and problem.message
    if data is not None:
        cert = model.Certificate.from_data(data, record_path.name)
        model.Registry.create(SETTINGS, [cert], as_of)


def test_the_unmutated_record_passes(record_path: Path) -> None:
    """The fuzzer starts from a valid record (else every mutant fails early, testing little)."""
    record_path.write_text(VALID_RECORD, "utf-8")
    data, _, problems = load.check_file(record_path, record_path.name, SETTINGS, as_of=AS_OF)
    assert problems == [] and data is not None
