"""End to end: build the sample registry with mkdocs and check what a visitor and a robot get."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from generator import data, search
from generator.load import load_registry
from generator.publish import build_site

REPO = Path(__file__).resolve().parent.parent
AS_OF = dt.date(2026, 11, 27)
ATOM = "{http://www.w3.org/2005/Atom}"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The sample registry built once into a temporary folder (artwork cache kept apart)."""
    root = tmp_path_factory.mktemp("registry")
    for name in ("registry", "certificates", "docs"):
        shutil.copytree(REPO / name, root / name)
    shutil.copy(REPO / "mkdocs.yml", root / "mkdocs.yml")
    site = root / "site"
    build_site(root, as_of=AS_OF, site_dir=site, quiet=True)
    return site, load_registry(root, AS_OF)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text("utf-8"), "html.parser")


def test_every_record_has_its_page_json_feed_and_search_entry(built) -> None:
    site, registry = built
    numbers = [c.number for c in registry.certificates]
    assert len(numbers) >= 40
    for number in numbers:
        assert (site / "c" / number / "index.html").is_file(), number
        assert (site / "api/v1/certificates" / f"{number}.json").is_file(), number
        assert (site / "c" / number / "feed.xml").is_file(), number
    listed = json.loads((site / "api/v1/certificates.json").read_text("utf-8"))
    assert [e["record"]["number"] for e in listed["certificates"]] == numbers
    assert listed["as_of"] == AS_OF.isoformat() and listed["schema_version"] == data.SCHEMA_VERSION
    index = {p.relative_to(site).as_posix(): p.read_bytes()
             for p in (site / "search").rglob("*") if p.is_file()}
    assert search.entry_count(index) == len(numbers)


def test_certificate_page_shows_verdict_level_and_facts_first(built) -> None:
    site, registry = built
    for cert in registry.certificates:
        page = soup(site / "c" / cert.number / "index.html")
        verdict = registry.verdict(cert)
        banner = page.select_one(".sm-cert .sm-verdict")
        assert banner is not None, cert.number
        assert verdict.zh in banner.get_text() and verdict.en in banner.get_text()
        assert f"sm-verdict--{verdict.key}" in banner["class"]
        article_text = page.select_one("article").get_text()
        assert article_text.index(verdict.zh) < article_text.index(cert.organization.name)
        assert cert.scope_zh in article_text
        assert registry.settings.body.name in article_text
        title = page.title.get_text()
        assert cert.number in title and cert.organization.name in title and verdict.zh in title
        canonical = page.find("link", rel="canonical")["href"]
        assert canonical == registry.settings.certificate_url(cert.number)
        description = page.find("meta", attrs={"name": "description"})["content"]
        assert description.startswith(cert.organization.name)
        assert page.select_one(".md-sidebar--primary nav") is None or "hidden" in str(
            page.select_one(".md-sidebar--primary")
        )


def test_page_frame_has_no_leftover_markers_or_shells(built) -> None:
    site, _ = built
    assert not (site / "_starmark_shell").exists()
    pages = list((site / "c").glob("*/index.html"))[:10] + list((site / "list").rglob("index.html"))
    for path in pages:
        text = path.read_text("utf-8")
        assert "@@STARMARK" not in text and "_starmark_shell" not in text, path


def test_certificate_pages_are_not_in_the_nav(built) -> None:
    site, registry = built
    home = (site / "index.html").read_text("utf-8")
    if 'class="md-nav' in home:
        assert registry.certificates[0].number not in home.split('class="md-nav')[1]
    nav = soup(site / "index.html").select(".md-nav__link")
    assert all("/c/" not in (a.get("href") or "") for a in nav)


def test_listings_are_paginated_counted_and_link_every_certificate(built) -> None:
    site, registry = built
    linked: set[str] = set()
    pages = sorted((site / "list" / "all").rglob("index.html"))
    for path in pages:
        page = soup(path)
        assert f"共 {len(registry.certificates)} 个证书" in page.get_text()
        rows = page.select("table.sm-list tbody tr")
        assert 0 < len(rows) <= registry.settings.listing_page_size
        linked |= {a["href"].rstrip("/").rsplit("/", 1)[-1] for a in page.select("table.sm-list a")}
    assert linked == {c.number for c in registry.certificates}
    index = soup(site / "list" / "index.html").get_text()
    for level in registry.settings.levels:
        assert level.zh in index


def test_csv_opens_in_excel_and_holds_every_record(built) -> None:
    site, registry = built
    raw = (site / "api/v1/certificates.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["number"] for r in rows] == [c.number for c in registry.certificates]
    assert rows[0]["organization_name"] == registry.certificates[0].organization.name


def test_feeds_are_atom_with_every_event(built) -> None:
    site, registry = built
    cert = max(registry.certificates, key=lambda c: len(c.events))
    feed = ET.parse(site / "c" / cert.number / "feed.xml").getroot()
    assert feed.tag == f"{ATOM}feed"
    assert len(feed.findall(f"{ATOM}entry")) == len(cert.events)
    top = ET.parse(site / "feed.xml").getroot()
    events = sum(len(c.events) for c in registry.certificates)
    assert len(top.findall(f"{ATOM}entry")) == min(200, events)


@pytest.mark.parametrize("size", [1, 5, 17, 40])
def test_the_registry_feed_holds_the_newest_events(built, monkeypatch: pytest.MonkeyPatch,
                                                    size: int) -> None:
    """The newest events of the whole registry by (date, id), however many share a day."""
    from generator import feeds

    _, registry = built
    monkeypatch.setattr(feeds, "REGISTRY_FEED_SIZE", size)
    top = ET.fromstring(feeds.registry_feed(registry))
    shown = [e.findtext(f"{ATOM}id") for e in top.findall(f"{ATOM}entry")]
    every = sorted(((e.date, f"{registry.settings.certificate_url(c.number)}#event-{i}")
                    for c in registry.certificates for i, e in enumerate(c.events)),
                   reverse=True)
    assert [entry_id.rsplit("/c/", 1)[1] for entry_id in shown] == [
        url.rsplit("/c/", 1)[1] for _, url in every[:size]]


def test_sitemap_lists_certificates_and_no_shell(built) -> None:
    site, registry = built
    text = (site / "sitemap.xml").read_text("utf-8")
    for cert in registry.certificates:
        assert registry.settings.certificate_url(cert.number) in text
    assert "_starmark_shell" not in text
    assert gzip.decompress((site / "sitemap.xml.gz").read_bytes()).decode("utf-8") == text


def test_record_schema_is_published(built) -> None:
    site, _ = built
    schema = json.loads((site / "api/v1/record.schema.json").read_text("utf-8"))
    assert schema["properties"]["number"]


def test_sample_data_is_labelled(built) -> None:
    site, registry = built
    for cert in registry.certificates[:5]:
        assert "示例数据" in (site / "c" / cert.number / "index.html").read_text("utf-8")
