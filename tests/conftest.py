"""Shared fixtures: a temporary copy of the registry, and valid records to edit into bad ones.

``make_record(**fields)`` writes :data:`VALID_RECORD` with some fields replaced, so a test
changes exactly one thing and knows the line of every field (see the numbers below).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recordkit import DEFAULT_RECORD, REPO, VALID_RECORD, MakeRecord, edit_record


@pytest.fixture
def sample_root(tmp_path: Path) -> Path:
    """A temporary registry root holding copies of the repository's registry/ and certificates/."""
    root = tmp_path / "root"
    root.mkdir()
    for name in ("registry", "certificates"):
        shutil.copytree(REPO / name, root / name)
    return root




@pytest.fixture
def make_record(sample_root: Path) -> MakeRecord:
    """Write a record under ``sample_root/certificates/`` and return its path.

    ``make_record(score="3.10", organization__name="no")`` edits :data:`VALID_RECORD`.
    ``_path`` is the file under certificates/ (default: the sample record, which is replaced);
    a record written elsewhere gets the matching number unless ``number`` is given.
    ``_raw`` (text or bytes) is written as is, for files that are not YAML records at all.
    """

    def make(_path: str = DEFAULT_RECORD, _raw: str | bytes | None = None, **fields: Any) -> Path:
        target = sample_root / "certificates" / _path
        target.parent.mkdir(parents=True, exist_ok=True)
        if _raw is not None:
            if isinstance(_raw, bytes):
                target.write_bytes(_raw)
            else:
                target.write_text(_raw, encoding="utf-8")
            return target
        if _path != DEFAULT_RECORD and "number" not in fields:
            fields = {"number": Path(_path).name.removesuffix(".yaml"), **fields}
        target.write_text(edit_record(VALID_RECORD, **fields), encoding="utf-8")
        return target

    return make


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server (moto's server mode) on 127.0.0.1, on a port the system chose."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
