"""Deploy to a server over SSH (or an rsync daemon, or a local folder) with the rsync program.

rsync compares each file's content with the server's copy (``--checksum``) and sends only what
differs, writing each file under a temporary name and renaming it, so a visitor gets a whole
old file or a whole new one. One rsync run per phase keeps the order of :mod:`.plan`; a last run
deletes what the site no longer has. SSH keys, ``RSYNC_RSH`` and ``RSYNC_PASSWORD`` are rsync's
and ssh's own; nothing here prints them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from .errors import DeployError, one_line
from .plan import LocalFile, Outcome, Phase, Progress

COMMON = [
    "--copy-links",  # a site built as links to the artwork cache is sent as files
    "--exclude=.*",  # never send dot-files, and never delete the server's own (.well-known/)
    "--out-format=%i %n",
]
BY_CONTENT = "--checksum"  # by content, not by time: every build writes fresh files
SEND = [
    "--times",
    "--perms",
    "--chmod=D755,F644",  # readable by the web server whatever the build's umask was
    "--from0",
]
DELETE_ONLY = ["--recursive", "--delete", "--existing", "--ignore-existing"]


def destination(dest: str) -> str:
    """``dest`` ending in a slash: the site's files go into it, not into a subfolder."""
    return dest if dest.endswith("/") else dest + "/"


def deploy(site: Path, files: list[LocalFile], dest: str, *, dry_run: bool,
           progress: Progress, resend: bool = False) -> Outcome:
    """Send what differs (everything with ``resend``), phase by phase, then delete what the
    site lacks."""
    program = shutil.which("rsync")
    if program is None:
        raise DeployError(dest, "rsync is not installed (Debian: apt-get install rsync)")
    source, target = f"{site}/", destination(dest)
    flags = COMMON + (["--dry-run"] if dry_run else [])
    sizes = {f.path: f for f in files}
    progress.reset(total=None)  # rsync alone knows which files differ: bytes sent, no total
    sent: list[LocalFile] = []

    def seen(line: str) -> None:
        change, _, path = line.partition(" ")
        # ">f…" a file sent; "cd…"/".d…" directories, ".f…" a file whose time alone was set
        if change.startswith((">f", "<f")) and path in sizes:
            sent.append(sizes[path])
            progress.update(sizes[path].size)

    for phase in Phase:
        group = [f.path for f in files if f.phase == phase]
        if not group:
            continue
        with tempfile.NamedTemporaryFile("wb", suffix=".list") as listing:
            listing.write(b"\0".join(p.encode() for p in group) + b"\0")
            listing.flush()
            compare = "--ignore-times" if resend else BY_CONTENT
            _run([program, *flags, compare, *SEND, f"--files-from={listing.name}", source, target],
                 dest, seen)

    deleted: list[str] = []

    def gone(line: str) -> None:
        if line.startswith("*deleting"):
            path = line.removeprefix("*deleting").strip()
            if not path.endswith("/"):
                deleted.append(path)

    _run([program, *flags, *DELETE_ONLY, source, target], dest, gone)
    return Outcome(uploaded=sent, deleted=sorted(deleted), unchanged=len(files) - len(sent))


def _run(command: list[str], dest: str, each: Callable[[str], None]) -> None:
    """Run rsync, handing every line it prints to ``each``; a failure is one DeployError line."""
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        for line in process.stdout:
            each(line.rstrip("\n"))
        errors = process.stderr.read()
    if process.returncode != 0:
        lines = [one_line(line) for line in errors.splitlines() if line.strip()]
        # rsync names the file and the cause first ("rsync: [receiver] … failed: …"), then
        # sums up ("rsync error: … (code 23)").
        cause = next((line for line in lines if not line.startswith("rsync error")), None)
        fallback = lines[-1] if lines else f"rsync exit {process.returncode}"
        raise DeployError(dest, cause or fallback)
