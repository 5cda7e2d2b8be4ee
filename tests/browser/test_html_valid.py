"""The pages' HTML is valid by the W3C Nu checker (npm vnu-jar, run with the system Java).

mkdocs-material's own markup is checked too; what cannot be fixed without forking the theme is
in ALLOWED, each entry narrow and with its reason. Our own templates get no allowance.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_helpers import NODE_MODULES, unavailable

VNU = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"

# (message pattern, extract pattern or None, why it is allowed)
ALLOWED: list[tuple[str, str | None, str]] = [
    (
        r"^Attribute “autocomplete” is only allowed when the input type is",
        r'class="md-toggle"',
        "mkdocs-material's base.html puts autocomplete=off on its two hidden toggle checkboxes "
        "(drawer, search) so that Firefox does not restore them; they sit outside every template "
        "block, so removing the attribute means forking the theme's base.html.",
    ),
]


def allowed(message: dict) -> bool:
    for pattern, extract, _why in ALLOWED:
        if re.search(pattern, message.get("message", "")) and (
            extract is None or re.search(extract, message.get("extract", ""))
        ):
            return True
    return False


def pages(site: Path, samples: dict) -> list[Path]:
    chosen = [site / "index.html", site / "list" / "index.html",
              site / "list" / "all" / "index.html", site / "search" / "index.html",
              site / "check" / "index.html",
              site / "404.html"]
    chosen += [site / "c" / s.cert.number / "index.html" for s in samples.values()]
    return [p for p in chosen if p.exists()]


def test_pages_are_valid_html(site, samples):
    java = shutil.which("java")
    if java is None:
        unavailable("no java for the Nu HTML checker (apt-get install default-jre-headless)")
    if not VNU.exists():
        unavailable(f"{VNU} is missing (run npm ci)")
    files = pages(site, samples)
    assert len(files) >= 8
    run = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json",
                          *map(str, files)], capture_output=True, text=True, timeout=300)
    report = json.loads(run.stderr or run.stdout or '{"messages": []}')
    errors = [m for m in report["messages"] if m.get("type") in ("error", "non-document-error")]
    left = [m for m in errors if not allowed(m)]
    shown = "\n".join(
        f"{Path(m.get('url', '')).parent.name}/{Path(m.get('url', '')).name}:{m.get('lastLine')}: "
        f"{m['message']}  [{m.get('extract', '').strip()[:100]}]" for m in left)
    assert not left, f"{len(left)} HTML errors:\n{shown}"


@pytest.mark.parametrize("entry", ALLOWED, ids=[e[0][:40] for e in ALLOWED])
def test_every_allowance_is_explained(entry):
    pattern, _extract, why = entry
    assert pattern and len(why) > 20
