"""Every generated page carries a Content-Security-Policy that allows exactly its own scripts.

(The browser tests in ``tests/browser/test_policy_enforced.py`` check that the pages work under it.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import test_incremental as small
from test_incremental import build

from generator import csp

pytestmark = pytest.mark.slow
registry_root = small.registry_root
cache_dir = small.cache_dir
fixed_code = small.fixed_code
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)


def test_every_page_allows_exactly_its_inline_scripts(registry_root: Path) -> None:
    site = registry_root / "site"
    build(registry_root, site)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    every: set[str] = set()
    for path in pages:
        text = path.read_text("utf-8")
        meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', text)
        assert meta is not None, path
        assert meta.start() < text.find("<script"), f"{path}: the policy must come first"
        policy = meta.group(1).replace("&#x27;", "'")
        scripts = policy.split("script-src ", 1)[1].split(";")[0].split()
        hashes = {csp.source_hash(s) for s in csp.inline_scripts(text)}
        assert set(scripts) == {"'self'"} | hashes, path
        assert not HANDLER.search(text), f"{path}: an inline event handler"
        assert "javascript:" not in text, path
        every |= hashes
    headers = (site / csp.HEADERS_FILE).read_text("utf-8")
    header = re.search(r"(?m)^  Content-Security-Policy: (.*)$", headers)
    assert header is not None and "frame-ancestors 'none'" in header.group(1)
    allowed = set(header.group(1).split("script-src ", 1)[1].split(";")[0].split())
    assert every <= allowed  # (the page shells, not published themselves, may add a variant)


def test_an_inline_script_changes_the_policy() -> None:
    page = '<html><head><meta charset="utf-8"><script>a()</script></head></html>'
    protected, hashes = csp.protect(page)
    assert hashes == [csp.source_hash("a()")]
    assert protected.index("Content-Security-Policy") < protected.index("<script>")
    assert csp.inline_scripts('<script type="application/ld+json">{}</script>'
                              '<script src="x.js"></script>') == []
