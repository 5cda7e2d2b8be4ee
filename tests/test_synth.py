"""``starmark synth``: synthetic registries that validate, vary like real ones, repeat by seed."""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from generator import records, source
from generator.cli import cli
from generator.load import load_registry
from generator.model import Registry
from generator.spreadsheet.yamltext import SAMPLE_COMMENT

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
COUNT = 500


def synth(out: Path, count: int = COUNT, seed: int = 7) -> None:
    args = ["--root", str(REPO), "synth", "--count", str(count), "--out", str(out),
            "--seed", str(seed), "--as-of", AS_OF.isoformat(), "-q"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output


def tree(folder: Path) -> dict[str, bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "registry"
    synth(out)
    return out


@pytest.fixture(scope="module")
def registry(synthetic: Path) -> Registry:
    return load_registry(synthetic, AS_OF)


def test_output_passes_starmark_validate(synthetic: Path) -> None:
    result = CliRunner().invoke(cli, ["--root", str(synthetic), "validate"])
    assert result.exit_code == 0, result.output
    assert f"{COUNT} records valid" in result.output


def test_output_is_a_registry_that_builds_alone(synthetic: Path) -> None:
    for name in ("registry", "docs", "mkdocs.yml"):
        assert (synthetic / name).exists(), name
    assert len(list((synthetic / "certificates").rglob("*.yaml"))) == COUNT


def test_same_seed_gives_the_same_bytes(synthetic: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    synth(again)
    assert tree(again / "certificates") == tree(synthetic / "certificates")
    other = tmp_path / "other"
    synth(other, seed=8)
    assert tree(other / "certificates") != tree(synthetic / "certificates")


def _as_new_writes(text: dict[str, Any]) -> str:
    """The record ``starmark new`` (ruamel.yaml) writes for these fields, labelled sample data."""
    typed = {"date", "issued", "expires"}

    def value(key: str, v: Any) -> Any:
        if key in typed:
            return dt.date.fromisoformat(v)
        if key == "score":
            return records.number(Decimal(v))
        return True if key == "sample" else v

    fields: list[tuple[str, Any]] = []
    for key, v in text.items():
        if isinstance(v, dict):
            v = {k: records.quoted(x) if k == "region" else x for k, x in v.items()}
        elif isinstance(v, list):
            v = [{k: value(k, x) for k, x in item.items()} for item in v]
        else:
            v = value(key, v)
        fields.append((key, v))
    tree = records.new_record(fields, [records.SCHEMA_COMMENT, SAMPLE_COMMENT])
    for item in (*tree["audits"], *tree["events"]):
        if "reason" in item:  # the lifecycle commands write an item with a reason a key a line
            item.fa.set_block_style()
    return records.dumps(tree)


def test_records_are_written_as_starmark_new_writes_them(synthetic: Path) -> None:
    files = sorted((synthetic / "certificates").rglob("*.yaml"))
    with_reason = [p for p in files if b"reason:" in p.read_bytes()]
    assert len(with_reason) >= 20
    for path in files[:40] + with_reason[:40]:
        doc, problems = source.read_file(path)
        assert doc is not None and not problems
        assert path.read_text("utf-8") == _as_new_writes(doc.data), path


def test_rerun_into_the_same_folder_replaces_the_records(synthetic: Path, tmp_path: Path) -> None:
    out = tmp_path / "reused"
    shutil.copytree(synthetic, out)
    synth(out, count=20)
    assert len(list((out / "certificates").rglob("*.yaml"))) == 20


def test_every_status_and_level_is_present(registry: Registry) -> None:
    settings = registry.settings
    verdicts = Counter(registry.standing(c).verdict for c in registry.certificates)
    assert set(verdicts) == {status.key for status in settings.statuses}, verdicts
    levels = Counter(c.level for c in registry.certificates)
    assert set(levels) == {level.key for level in settings.levels}, levels
    assert verdicts["valid"] > COUNT // 2  # most certificates of a real registry are in force


def test_records_vary_like_a_real_registry(registry: Registry) -> None:
    certs = registry.certificates
    assert len({c.industry for c in certs}) >= 10
    assert len({c.organization.region[:2] for c in certs}) >= 20
    assert len({c.organization.name for c in certs}) == len(certs)
    assert len({c.organization.credit_code for c in certs}) == len(certs)
    assert max(len(c.audits) for c in certs) >= 3
    assert {e.kind for c in certs for e in c.events} >= {"issued", "surveillance", "suspended",
                                                         "withdrawn", "cancelled"}


def test_records_are_labelled_sample_data_and_name_no_real_brand(registry: Registry) -> None:
    from test_sample_registry import REAL_BRANDS_ZH

    for cert in registry.certificates:
        assert cert.sample, cert.number
        for brand in REAL_BRANDS_ZH:
            assert brand not in cert.organization.name, (cert.number, brand)


def test_a_number_reported_as_counterfeit_is_never_issued() -> None:
    from generator import counterfeits, settings, synth

    registry_settings = settings.load(REPO)
    reported = sorted(counterfeits.load(registry_settings).number_set)
    maker = synth.Synthesizer(registry_settings, AS_OF)
    issued = set()
    for number in reported:
        year = int(number.split("-")[1]) if number.count("-") == 2 else None
        serial = int(number.rsplit("-", 1)[1]) if year else None
        if year and serial:
            maker.serials[year] = serial - 1
            issued.add(maker._number(year))
    assert issued and not issued & set(reported)
