"""Load a registry: find record files, read, type, check every rule, and build the model.

``load_registry`` is the front of the pipeline that both the CLI and the mkdocs plugin call;
it returns every problem in every record rather than stopping at the first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import os
import pickle
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from . import rules, schema, source
from . import settings as settings_mod
from .errors import InputError, Problem
from .model import Certificate, Registry
from .settings import Settings
from .source import PathKey

CERTIFICATES_DIR = "certificates"
RECORD_SUFFIX = ".yaml"


def as_of_default() -> dt.date:
    """Today, or the day of SOURCE_DATE_EPOCH when set, so that builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC).date()
    return dt.date.fromtimestamp(time.time())


def display_path(root: Path, path: Path) -> str:
    """A record's path as problems name it: relative to the root where it lies inside."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def record_stem(path: Path) -> str:
    """The certificate number a record file is named for."""
    name = path.name
    return name[: -len(RECORD_SUFFIX)] if name.endswith(RECORD_SUFFIX) else path.stem


def _inside(path: Path, folder: Path) -> bool:
    return path.is_relative_to(folder)


def _resolved(path: Path, real_folders: dict[Path, Path]) -> Path:
    """``path.resolve()``, resolving each folder once: a file that is not itself a link
    resolves to its folder's real path and its own name."""
    if path.is_symlink():
        return path.resolve()
    real = real_folders.get(path.parent)
    if real is None:
        real = real_folders[path.parent] = path.parent.resolve()
    return real / path.name


def find_records(root: Path, paths: Iterable[Path] = ()) -> tuple[list[Path], list[Problem]]:
    """Record files under ``certificates/`` (or the given files and folders), sorted.

    A record, or a folder of records, inside ``certificates/`` that is a link to somewhere
    outside it is refused: what is published must be what is in the repository.
    """
    base = root / CERTIFICATES_DIR
    resolved_base = base.resolve()
    targets = [Path(p) for p in paths] or [base]
    found: list[Path] = []
    problems: list[Problem] = []
    for target in targets:
        target = target if target.is_absolute() else (Path.cwd() / target)
        if target.is_file():
            found.append(target)
            continue
        if not target.is_dir():
            problems.append(Problem(display_path(root, target), 0, "no such file or folder"))
            continue
        for dirpath, dirnames, filenames in os.walk(target):
            here = Path(dirpath)
            for name in list(dirnames):
                folder = here / name
                if folder.is_symlink() and not _inside(folder.resolve(), resolved_base):
                    problems.append(
                        Problem(
                            display_path(root, folder),
                            0,
                            "folder is a link to a place outside certificates/",
                        )
                    )
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                path = here / name
                if name.startswith("."):
                    continue
                if name.endswith(".yml"):
                    problems.append(
                        Problem(display_path(root, path), 1,
                                "record files must end in .yaml, not .yml")
                    )
                elif name.endswith(RECORD_SUFFIX):
                    found.append(path)
    safe = []
    lexical_base = os.path.abspath(base)
    real_folders: dict[Path, Path] = {}
    for path in found:
        lexical = os.path.abspath(path)
        lexically_inside = lexical == lexical_base or lexical.startswith(lexical_base + os.sep)
        if lexically_inside and not _inside(_resolved(path, real_folders), resolved_base):
            problems.append(
                Problem(display_path(root, path), 1,
                        "record is a link to a file outside certificates/")
            )
        else:
            safe.append(path)
    return sorted(set(safe)), problems


def check_file(
    path: Path, display: str, settings: Settings
) -> tuple[dict[str, Any] | None, source.Document | None, list[Problem]]:
    """Read, type and check one record file; returns its data only when it has no problem.

    Every rule whose fields are usable runs even when the file has other problems (a
    duplicate key, a schema error), so that one run reports everything wrong with it.
    """
    doc, problems = source.read_file(path, display)
    if doc is None:
        return None, None, problems
    typed = schema.check(doc, settings.schema)
    problems = problems + typed.problems
    if typed.data is not None:
        problems += rules.check_record(typed.data, doc, settings, record_stem(path), typed.broken)
    return (typed.data if not problems else None), doc, sorted(set(problems))


def registry_key_problems(root: Path, settings: Settings) -> list[Problem]:
    """Keys of registry/industries.yaml and regions.yaml that records could never name safely.

    They become parts of URLs and output paths, so they must match the record schema's
    pattern for the field that names them (no '/', '..' or other path characters).
    """
    checks: tuple[tuple[str, PathKey, Iterable[str]], ...] = (
        (settings_mod.INDUSTRIES_FILE, ("industry",), settings.industries),
        (settings_mod.REGIONS_FILE, ("organization", "region"), settings.regions),
    )
    problems: list[Problem] = []
    for name, field, keys in checks:
        pattern = _schema_pattern(settings.schema, field)
        bad = [key for key in keys if pattern is not None and not re.fullmatch(pattern, key)]
        if not bad:
            continue
        display = f"{settings_mod.REGISTRY_DIR}/{name}"
        doc, _ = source.read_file(root / settings_mod.REGISTRY_DIR / name, display)
        for key in bad:
            line = doc.key_line((key,)) if doc is not None else 0
            message = f"key {key!r} must match {pattern}: it becomes part of URLs"
            problems.append(Problem(display, line, message))
    return problems


def _schema_pattern(record_schema: dict[str, Any], field: PathKey) -> str | None:
    node: Any = record_schema
    for part in field:
        node = node.get("properties", {}).get(part, {}) if isinstance(node, dict) else {}
    pattern = node.get("pattern") if isinstance(node, dict) else None
    return pattern if isinstance(pattern, str) else None


def _clashing_records(
    root: Path, checked: list[tuple[dict[str, Any], source.Document]], skip: set[Path]
) -> list[tuple[dict[str, Any], source.Document]]:
    """Other records under certificates/ whose file name folds to a number being checked.

    Used when only some files are validated. A valid record's number is its file name, so
    only the few files whose names clash need to be read.
    """
    wanted = {
        rules.fold_number(data["number"])
        for data, _ in checked
        if isinstance(data.get("number"), str)
    }
    files, _ = find_records(root)
    out = []
    for path in files:
        if path.resolve() in skip or rules.fold_number(record_stem(path)) not in wanted:
            continue
        doc, _ = source.read_file(path, display_path(root, path))
        if doc is not None and isinstance(doc.data, dict):
            out.append((doc.data, doc))
    return out


Checked = tuple[dict[str, Any], source.Document]
Progress = Callable[[Sequence[Path]], Iterable[Path]]


def checking_code() -> bytes:
    """The version of the code that checks records: every module of the package, PyYAML and
    jsonschema, and Python."""
    h = hashlib.blake2b(digest_size=16)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in ("pyyaml", "jsonschema"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            h.update(metadata.version(name).encode())
    h.update(sys.version.encode())
    return h.digest()


class RecordCache:
    """Records that passed every check, by file name and content digest.

    A cache file holds the records checked under one state of ``registry/`` and of the
    checking code (every module of the package, PyYAML and jsonschema versions); any change to
    those starts a new one. A cached record comes back with the typed data that checking it
    would return, and a :class:`source.Document` that keeps only its path and the line of its
    number (what the registry-wide rules read): loading 10,000 full documents would cost more
    than a second. Only records used by the last run are kept, so the file does not grow.
    """

    def __init__(self, folder: Path, root: Path) -> None:
        context = hashlib.blake2b(checking_code(), digest_size=12)
        for path in sorted(root.glob(f"{settings_mod.REGISTRY_DIR}/**/*")):
            if path.is_file():
                name = path.relative_to(root).as_posix()
                context.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
        self.path = folder / f"{context.hexdigest()}.pickle"
        self.entries: dict[tuple[str, bytes], tuple[dict[str, Any], Any, int]] = {}
        self.used: dict[tuple[str, bytes], tuple[dict[str, Any], Any, int]] = {}
        try:
            with open(self.path, "rb") as handle:
                self.entries = pickle.load(handle)
        except (OSError, EOFError, ValueError, TypeError, AttributeError, pickle.UnpicklingError):
            self.entries = {}

    @staticmethod
    def key(display: str, path: Path) -> tuple[str, bytes] | None:
        try:
            return display, hashlib.blake2b(path.read_bytes(), digest_size=16).digest()
        except OSError:
            return None

    def get(self, key: tuple[str, bytes] | None) -> Checked | None:
        found = self.entries.get(key) if key is not None else None
        if found is None or key is None:
            return None
        self.used[key] = found
        data, number, line = found
        doc = source.Document(key[0], {"number": number}, {(): 1, ("number",): line},
                              {("number",): line})
        return data, doc

    def put(self, key: tuple[str, bytes] | None, checked: Checked) -> None:
        if key is not None:
            data, doc = checked
            self.used[key] = (data, doc.data.get("number"), doc.line(("number",)))

    def save(self) -> None:
        """Keep the records of this run (atomically; an unwritable cache is no error)."""
        if self.used.keys() == self.entries.keys():
            return  # every record came from the cache, and every cached one was used
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            with open(tmp, "wb") as handle:
                pickle.dump(self.used, handle, protocol=5)
            os.replace(tmp, self.path)
            for old in self.path.parent.glob("*.pickle"):
                if old != self.path:
                    old.unlink(missing_ok=True)
        except OSError:
            pass


def validate(
    root: Path, paths: Iterable[Path] = (), *, cache_dir: Path | None = None,
    progress: Progress | None = None,
) -> tuple[Settings | None, list[tuple[dict[str, Any], source.Document]], list[Problem]]:
    """Check every record; return the settings, the good records and every problem.

    With ``paths``, only those files are checked, but their numbers are still compared with
    every record under certificates/. With ``cache_dir``, a record whose bytes passed every
    check before, under the same settings and code, is taken from the cache (see
    :class:`RecordCache`). ``progress`` wraps the list of files (a progress bar).
    """
    try:
        settings = settings_mod.load(root)
    except InputError as exc:
        return None, [], exc.problems
    paths = list(paths)
    files, problems = find_records(root, paths)
    problems += registry_key_problems(root, settings)
    cache = RecordCache(cache_dir / "records", root) if cache_dir is not None else None
    good: list[tuple[dict[str, Any], source.Document]] = []
    checked: list[tuple[dict[str, Any], source.Document]] = []
    for path in progress(files) if progress is not None else files:
        display = display_path(root, path)
        key = cache.key(display, path) if cache is not None else None
        hit = cache.get(key) if cache is not None else None
        if hit is not None:
            checked.append((hit[1].data, hit[1]))
            good.append(hit)
            continue
        data, doc, found = check_file(path, display, settings)
        if cache is not None and data is not None and doc is not None and not found:
            cache.put(key, (data, doc))
        problems += found
        if doc is not None and isinstance(doc.data, dict):
            checked.append((doc.data, doc))
        if data is not None and doc is not None:
            good.append((data, doc))
    if paths:
        shown = {doc.path for _, doc in checked}
        others = _clashing_records(root, checked, {p.resolve() for p in files})
        problems += [p for p in rules.registry_rules(others + checked) if p.path in shown]
    else:
        problems += rules.registry_rules(checked)
    if cache is not None:
        cache.save()
    return settings, good, sorted(set(problems))


def load_registry(root: Path, as_of: dt.date | None = None, *, cache_dir: Path | None = None,
                  progress: Progress | None = None) -> Registry:
    """Load and check the whole registry; raise :class:`InputError` with every problem.

    ``cache_dir`` and ``progress``: see :func:`validate`.
    """
    settings, good, problems = validate(root, cache_dir=cache_dir, progress=progress)
    if problems or settings is None:
        raise InputError(problems)
    from . import history  # history reads record files through this module

    committed = history.last_changed(root)
    certificates = [
        dataclasses.replace(cert, committed=committed.get(cert.source))
        for cert in (Certificate.from_data(data, doc.path) for data, doc in good)
    ]
    return Registry.create(settings, certificates, as_of or as_of_default())
