"""Markup typed into a record or a setting is shown as text by every output that shows it.

A name like ``<b>粗</b>&…`` must reach the reader as those very characters: not as bold text,
not as an element, and never as a script. One test per output that shows a field: certificate
pages (and their head), listings, feeds, JSON-LD, the not-found page and the footer. (Search
results: tests/test_search.py::test_show_more_and_markup_is_text, in a real browser.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2
import pytest
from bs4 import BeautifulSoup

from generator import feeds, listings, notfound, pages
from generator.load import load_registry
from generator.model import Certificate, Registry

REPO = Path(__file__).resolve().parent.parent
THEME = REPO / "generator" / "theme"
AS_OF = dt.date(2026, 11, 27)

# Each is different, so a test can tell which field leaked.
NAME = '示例<b id="name">粗</b>&amp;"\'<script>alert(1)</script>有限公司'
NAME_EN = 'Example <i id="name-en">Italic</i> & "Sons" Co.'
SCOPE = '维修<img src=x onerror="alert(2)">服务'
REASON = "监督审核未通过<em id=reason>强调</em>"
BODY = '华信<u id="body">示例</u>认证&中心'


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    """The sample registry with markup in every free-text field of every certificate."""
    root = tmp_path_factory.mktemp("markup")
    shutil.copytree(REPO / "registry", root / "registry")
    shutil.copytree(REPO / "tests" / "fixtures" / "golden" / "certificates", root / "certificates")
    loaded = load_registry(root, AS_OF)
    body = dataclasses.replace(loaded.settings.body, name=BODY, phone="400<b>0</b>",
                               icp='京ICP备<b id="icp">1</b>号')
    settings = dataclasses.replace(loaded.settings, body=body)

    def hostile(cert: Certificate) -> Certificate:
        org = cert.organization._replace(name=NAME, name_en=NAME_EN, address=f"地址{SCOPE}")
        events = tuple(e._replace(reason=REASON, reason_en=NAME_EN) for e in cert.events)
        return cert._replace(organization=org, scope_zh=SCOPE, scope_en=NAME_EN, events=events)

    return Registry.create(settings, [hostile(c) for c in loaded.certificates], AS_OF)


def assert_text_only(html: str, *texts: str) -> None:
    """No element came from a field, and each text is there, character for character."""
    soup = BeautifulSoup(html, "html.parser")
    for tag in ("b", "i", "u", "em", "img"):
        assert not soup.find_all(tag), f"<{tag}> from a field: {soup.find_all(tag)}"
    for script in soup.find_all("script"):
        assert "alert" not in script.get_text(), f"script from a field: {script}"
    assert not soup.find_all(attrs={"onerror": True})
    text = soup.get_text()
    for expected in texts:
        assert expected in text, f"{expected!r} is not shown as text"


def test_certificate_page(registry: Registry) -> None:
    for cert in registry.certificates:
        page = pages.render_page(cert, registry)
        assert_text_only(page.content, NAME, NAME_EN, SCOPE, BODY)
        head = BeautifulSoup(page.head, "html.parser")
        title = head.find("meta", attrs={"property": "og:title"})
        assert title is not None and NAME in title["content"]
        assert not head.find_all(("b", "i", "img"))
    suspended = next(c for c in registry.certificates if c.status == "suspended")
    assert_text_only(pages.render_page(suspended, registry).content, REASON)


def test_listing_pages(registry: Registry) -> None:
    rendered = list(listings.render_listings(registry))
    assert rendered
    for page in rendered:
        assert_text_only(page.content, NAME)


def test_feeds(registry: Registry) -> None:
    for text in (feeds.registry_feed(registry),
                 *(feeds.certificate_feed(c, registry) for c in registry.certificates)):
        root = ET.fromstring(text)  # well-formed: every field escaped
        assert not any(el.tag.endswith(("}b", "}script", "}em")) for el in root.iter())
        titles = [el.text or "" for el in root.iter() if el.tag.endswith("}title")]
        assert any(NAME in t for t in titles), titles


def test_json_ld(registry: Registry) -> None:
    for cert in registry.certificates:
        text = pages.json_ld(cert, registry)
        assert "<" not in text and ">" not in text, "raw markup inside a script element"
        data = json.loads(text)
        assert data["about"]["name"] == NAME and data["issuedBy"]["name"] == BODY


def test_not_found_page(registry: Registry) -> None:
    assert_text_only(notfound.notfound_html(registry), "400<b>0</b>")


def test_footer(registry: Registry) -> None:
    """The theme's footer, rendered the way mkdocs renders it (no autoescape)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(THEME))
    config = {"extra": {"starmark": {"body": registry.settings.body, "as_of": AS_OF,
                                     "report_url": "mailto:verify@example.org"}},
              "copyright": None}
    html = env.get_template("partials/copyright.html").render(config=config)
    assert_text_only(html, BODY, "京ICP备<b id=\"icp\">1</b>号", AS_OF.isoformat(), "举报假冒证书")
