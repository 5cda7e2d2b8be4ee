"""Golden tests: a rendered certificate page and its JSON, compared with committed expected output.

Any change in what the public sees shows as a diff of tests/golden/ in review. To accept an
intended change: STARMARK_UPDATE_GOLDEN=1 make test, then review and commit the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import pytest

from generator import data, feeds, pages
from generator.load import load_registry

REPO = Path(__file__).resolve().parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "golden"
GOLDEN = Path(__file__).parent / "golden"
AS_OF = dt.date(2026, 11, 27)
UPDATE = os.environ.get("STARMARK_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("golden")
    shutil.copytree(REPO / "registry", root / "registry")
    shutil.copytree(FIXTURE / "certificates", root / "certificates")
    return load_registry(root, AS_OF)


def check(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, "utf-8")
        if not UPDATE:
            pytest.fail(f"golden file {name} did not exist; written now — review and commit it")
    assert actual == path.read_text("utf-8"), f"output differs from tests/golden/{name}"


@pytest.mark.parametrize("number", ["ASC-2025-000123", "ASC-2024-000042"])
def test_certificate_page_matches_golden(registry, number: str) -> None:
    cert = registry.get(number)
    page = pages.render_page(cert, registry, (("mark.svg", "矢量标志", "Vector mark"),))
    check(f"{number}.content.html", page.content)
    check(f"{number}.head.html", page.head)


@pytest.mark.parametrize("number", ["ASC-2025-000123", "ASC-2024-000042"])
def test_certificate_json_matches_golden(registry, number: str) -> None:
    cert = registry.get(number)
    text = json.dumps(data.certificate_json(cert, registry), ensure_ascii=False, indent=2,
                      sort_keys=True)
    check(f"{number}.json", text + "\n")


def test_certificate_feed_matches_golden(registry) -> None:
    check("ASC-2024-000042.feed.xml",
          feeds.certificate_feed(registry.get("ASC-2024-000042"), registry))


def test_markup_in_a_name_is_shown_as_text(registry) -> None:
    cert = registry.get("ASC-2024-000042")
    page = pages.render_page(cert, registry)
    assert "<script>alert(1)" not in page.content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.content
    assert "<script>alert" not in page.head
    assert ("Example &amp; Sons &#34;Tech&#34;" in page.head
            or "Example &amp; Sons &quot;Tech&quot;" in page.head)


def test_suspended_page_says_since_when_and_why_and_offers_no_mark(registry) -> None:
    page = pages.render_page(registry.get("ASC-2024-000042"), registry,
                             (("mark.svg", "矢量标志", "Vector mark"),))
    assert "sm-verdict--suspended" in page.content
    assert "自 <time>2026-05-20</time> 起暂停" in page.content
    assert "监督审核未通过" in page.content
    assert 'href="mark.svg"' not in page.content
    assert "无权使用认证标志" in page.content
