"""mkdocs' part of a build, kept for the next build: the hand-written pages, the theme's assets
and the page frames (shells) every generated page is put in.

mkdocs renders the same bytes from the same inputs, so a build whose inputs to mkdocs are all
unchanged need not run it (a third of a one-record rebuild at 10,000 certificates): its
files are linked from the last site as one unit (``build.MKDOCS_UNIT``), and the shells, the inline
scripts' hashes (for the security headers) and the pages' URLs (for the sitemap) come from
the record kept here. The key covers everything mkdocs reads or is given:

* the generator's code, templates and theme, and everything under ``registry/``
  (:func:`build.settings_inputs`), and every installed distribution and its version
  (mkdocs, mkdocs-material, Markdown, their extensions and any other plugin);
* ``mkdocs.yml`` (with what it inherits, its hook modules and the environment variables its
  ``!ENV`` tags read), the docs folder and a theme folder of its own (``custom_dir``);
* what the plugin writes into mkdocs' pages, as the plugin makes it (counts by verdict, the
  listings index, the counterfeits page, the check page's head, the not-found page's block);
* the as-of date and the day of the build (as mkdocs dates it: ``SOURCE_DATE_EPOCH``'s day,
  else today's).

A record that cannot be read, or is of another format, is ignored: mkdocs runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .build import settings_inputs, tree_digest
from .model import Registry
from .output import digest_parts, read_cache, write_cache
from .shell import Shell

FORMAT = 1


@dataclass
class Frames:
    """What a build takes from mkdocs besides its files."""

    key: bytes
    shells: dict[int, Shell]
    script_hashes: set[str]
    outputs: set[str]  # the site paths of mkdocs' pages (kept by a --dirty prune)
    docs_urls: list[str]  # the URLs of mkdocs' pages, for the sitemap


@cache
def _distributions() -> bytes:
    """Every installed distribution and its version: the names of the metadata folders on the
    import path (``mkdocs_material-9.7.0.dist-info``); reading each one's metadata would cost
    a tenth of a second."""
    names: set[str] = set()
    for entry in sys.path:
        with contextlib.suppress(OSError), os.scandir(entry or ".") as listing:
            names.update(e.name for e in listing if e.name.endswith((".dist-info",
                                                                     ".egg-info")))
    return "\n".join(sorted(names)).encode()


# What mkdocs.yml can take from elsewhere: another file it inherits, hook modules, variables.
_INHERIT = re.compile(r"(?m)^INHERIT:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$")
_ENV = re.compile(r"!ENV\s+(\[[^\]]*\]|[A-Za-z_][A-Za-z0-9_]*)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _config_inputs(config_file: Path, hooks: Iterable[str]) -> list[bytes]:
    """mkdocs.yml, the files it inherits, its hook modules and the environment variables its
    ``!ENV`` tags read."""
    found: list[bytes] = []
    seen: set[Path] = set()
    pending = [config_file]
    names: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            text = path.read_bytes()
        except OSError:
            found.append(f"{path}: -".encode())
            continue
        found.append(text)
        decoded = text.decode("utf-8", "replace")
        pending += [path.parent / m.group(1).strip() for m in _INHERIT.finditer(decoded)]
        for tag in _ENV.finditer(decoded):
            names.update(_NAME.findall(tag.group(1)))
    for hook in hooks:
        path = config_file.parent / hook
        try:
            found.append(path.read_bytes())
        except OSError:
            found.append(f"{hook}: -".encode())
    found += [f"{name}={os.environ.get(name)!r}".encode() for name in sorted(names)]
    return found


def key(registry: Registry, config_file: Path, folders: Iterable[Path],
        injected: Iterable[str], today: dt.date, hooks: Iterable[str] = ()) -> bytes:
    """The digest of every input of mkdocs' part of a build (see the module's text):
    ``folders``: the docs folder and any theme folder of the registry's own; ``injected``:
    what the plugin writes into mkdocs' pages; ``today``: the day of the build as mkdocs
    dates it (``SOURCE_DATE_EPOCH``'s, else the clock's); ``hooks``: the hook modules
    mkdocs.yml names."""
    return digest_parts(
        settings_inputs(registry), _distributions(), *_config_inputs(config_file, hooks),
        *(tree_digest(folder) if folder.is_dir() else b"-" for folder in folders),
        registry.as_of.isoformat().encode(), today.isoformat().encode(),
        *(text.encode("utf-8") for text in injected),
    )


def _path(cache_dir: Path, site: str) -> Path:
    return cache_dir / "frames" / f"{site}.marshal"


def load(cache_dir: Path, site: str) -> Frames | None:
    """The record kept for the site named ``site`` (its manifest's name), or None."""
    found = read_cache(_path(cache_dir, site), FORMAT)
    try:
        shells = {int(depth): Shell(tuple(parts), tuple(slots))
                  for depth, (parts, slots) in found["shells"].items()}
        return Frames(bytes(found["key"]), shells, set(found["script_hashes"]),
                      set(found["outputs"]), list(found["docs_urls"]))
    except (KeyError, TypeError, ValueError):
        return None


def save(cache_dir: Path, site: str, frames: Frames) -> None:
    """Keep the record of this build's mkdocs part (one that cannot be written is no error)."""
    write_cache(_path(cache_dir, site), FORMAT, {
        "key": frames.key,
        "shells": {depth: (shell.parts, shell.slots) for depth, shell in frames.shells.items()},
        "script_hashes": sorted(frames.script_hashes),
        "outputs": sorted(frames.outputs),
        "docs_urls": list(frames.docs_urls),
    })
