"""Write build outputs by content: an unchanged file is not rewritten, a stale one is removed.

Every renderer writes through :class:`Output`, so the build knows every file it produced; files
in the folders it owns that were not produced this time (a certificate that stopped being valid
loses its marks) are pruned.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path, PurePosixPath


def safe_relpath(rel: str) -> PurePosixPath:
    """Refuse any output path that could leave the output folder."""
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or "\\" in rel:
        raise ValueError(f"unsafe output path: {rel!r}")
    return path


class Output:
    """A site folder written to by content hash, remembering what this build wrote."""

    def __init__(self, site_dir: Path) -> None:
        self.site_dir = site_dir
        self.written: set[str] = set()
        self.changed: set[str] = set()
        self._lock = threading.Lock()

    def path(self, rel: str) -> Path:
        return self.site_dir.joinpath(*safe_relpath(rel).parts)

    def write(self, rel: str, content: bytes | str) -> bool:
        """Write ``content`` at ``rel`` unless the same bytes are there; True if written."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        target = self.path(rel)
        with self._lock:
            self.written.add(rel)
        try:
            if target.stat().st_size == len(data) and _digest(target.read_bytes()) == _digest(data):
                return False
        except OSError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        with self._lock:
            self.changed.add(rel)
        return True

    def claim(self, rel: str) -> None:
        """Record that ``rel`` belongs to this build although it was written by someone else."""
        with self._lock:
            self.written.add(rel)

    def prune(self, owned: Iterable[str]) -> list[str]:
        """Remove files under the ``owned`` folders that this build did not write."""
        removed = []
        for prefix in owned:
            base = self.path(prefix)
            if not base.is_dir():
                continue
            for dirpath, _dirs, files in os.walk(base, topdown=False):
                for name in files:
                    full = Path(dirpath) / name
                    rel = full.relative_to(self.site_dir).as_posix()
                    if rel not in self.written:
                        full.unlink()
                        removed.append(rel)
                if not os.listdir(dirpath):
                    os.rmdir(dirpath)
        return sorted(removed)


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()
