"""Load a registry: find record files, read, type, check every rule, and build the model.

``load_registry`` is the front of the pipeline that both the CLI and the mkdocs plugin call;
it returns every problem in every record rather than stopping at the first.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from . import rules, schema, settings as settings_mod, source
from .errors import InputError, Problem
from .model import Certificate, Registry
from .settings import Settings

CERTIFICATES_DIR = "certificates"
RECORD_SUFFIX = ".yaml"


def as_of_default() -> dt.date:
    """Today, or the day of SOURCE_DATE_EPOCH when set, so that builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.fromtimestamp(time.time())


def _display(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def find_records(root: Path, paths: Iterable[Path] = ()) -> tuple[list[Path], list[Problem]]:
    """Record files under ``certificates/`` (or the given files and folders), sorted."""
    base = root / CERTIFICATES_DIR
    targets = [Path(p) for p in paths] or [base]
    found: list[Path] = []
    problems: list[Problem] = []
    for target in targets:
        target = target if target.is_absolute() else (Path.cwd() / target)
        if target.is_file():
            found.append(target)
            continue
        if not target.is_dir():
            problems.append(Problem(_display(root, target), 0, "no such file or folder"))
            continue
        for dirpath, dirnames, filenames in os.walk(target):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = Path(dirpath) / name
                if name.startswith("."):
                    continue
                if name.endswith(".yml"):
                    problems.append(Problem(_display(root, path), 0, "record files must end in .yaml, not .yml"))
                elif name.endswith(RECORD_SUFFIX):
                    found.append(path)
    resolved_base = base.resolve()
    safe = []
    for path in found:
        if path.is_symlink() and not path.resolve().is_relative_to(resolved_base):
            problems.append(Problem(_display(root, path), 0, "record is a link to a file outside certificates/"))
        else:
            safe.append(path)
    return sorted(set(safe)), problems


def check_file(path: Path, display: str, settings: Settings) -> tuple[dict[str, Any] | None, source.Document | None, list[Problem]]:
    """Read, type and check one record file; returns its data only when it has no problem."""
    doc, problems = source.read_file(path, display)
    if doc is None:
        return None, None, problems
    data, problems = schema.validate(doc, settings.schema)
    if problems:
        return None, doc, problems
    problems = rules.check_record(data, doc, settings, path.name[: -len(RECORD_SUFFIX)])
    return (None if problems else data), doc, problems


def validate(root: Path, paths: Iterable[Path] = ()) -> tuple[Settings | None, list[tuple[dict[str, Any], source.Document]], list[Problem]]:
    """Check every record; return the settings, the good records and every problem."""
    try:
        settings = settings_mod.load(root)
    except InputError as exc:
        return None, [], exc.problems
    files, problems = find_records(root, paths)
    good: list[tuple[dict[str, Any], source.Document]] = []
    checked: list[tuple[dict[str, Any], source.Document]] = []
    for path in files:
        data, doc, found = check_file(path, _display(root, path), settings)
        problems += found
        if doc is not None and isinstance(doc.data, dict):
            checked.append((doc.data, doc))
        if data is not None and doc is not None:
            good.append((data, doc))
    problems += rules.registry_rules(checked)
    return settings, good, sorted(set(problems))


def load_registry(root: Path, as_of: dt.date | None = None) -> Registry:
    """Load and check the whole registry; raise :class:`InputError` with every problem."""
    settings, good, problems = validate(root)
    if problems or settings is None:
        raise InputError(problems)
    certificates = [Certificate.from_data(data, doc.path) for data, doc in good]
    return Registry.create(settings, certificates, as_of or as_of_default())
