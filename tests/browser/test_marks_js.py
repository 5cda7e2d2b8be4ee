"""The artwork that marks.js assembles in Chromium is, byte for byte, the Python reference.

The Python renderer (generator/marks/) is the reference: its files are checked by
tests/test_marks.py (QR codes read by two decoders at 15 mm, PNG decoding, PDF page size...).
Here a real browser clicks each download that is not a file on the site, and what it saves
must equal the reference file; so does a download asked for by the address (#download=).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import AS_OF, REPO

from generator import marks
from generator.model import Registry


@pytest.fixture(scope="module")
def reference(registry: Registry) -> dict[str, dict[str, bytes]]:
    """Every file of two certificates in force (of different levels), as Python makes them."""
    style = marks.load_style(REPO)
    chosen: dict[str, dict[str, bytes]] = {}
    levels: set[str] = set()
    for cert in marks.marked(registry):
        if cert.level not in levels and len(chosen) < 2:
            levels.add(cert.level)
            info = marks.MarkInfo.of(cert, registry)
            chosen[cert.number] = marks.render_files(info, style, as_of=AS_OF)
    return chosen


def test_every_assembled_download_equals_the_reference(
    open_page: Any, reference: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    for number, files in reference.items():
        page = open_page(f"c/{number}/", width=1280, height=900)
        links = page.locator("a[data-sm-assemble]")
        names = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert sorted(names) == sorted(marks.ASSEMBLED)
        for name in names:
            with page.expect_download() as event:
                page.locator(f'a[data-sm-assemble][href="{name}"]').click()
            download = event.value
            assert download.suggested_filename == name
            saved = tmp_path / f"{number}-{name}"
            download.save_as(saved)
            assert saved.read_bytes() == files[name], f"{number} {name} differs from the reference"
        # The files published whole are the reference too.
        for name in marks.STATIC:
            body = page.request.get(page.url + name).body()
            assert body == files[name], f"{number} {name}"
        assert page.problems == []


def saved_after_visiting(context: Any, url: str, folder: Path) -> tuple[Any, bytes]:
    """Open ``url`` in a new page of ``context``; the page, and the bytes it downloads."""
    page = context.new_page()
    with page.expect_download() as event:
        page.goto(url)
    saved = folder / event.value.suggested_filename
    event.value.save_as(saved)
    return page, saved.read_bytes()


def test_a_download_named_in_the_address_starts_by_itself(
    reference: dict[str, dict[str, bytes]], browser: Any, base_url: str, tmp_path: Path
) -> None:
    number, files = next(iter(reference.items()))
    context = browser.new_context(accept_downloads=True)
    url = f"{base_url}c/{number}/#download=display.pdf"
    _page, data = saved_after_visiting(context, url, tmp_path)
    assert data == files["display.pdf"]
    context.close()


def test_nothing_is_fetched_for_artwork_until_asked(
    browser: Any, base_url: str, reference: dict[str, dict[str, bytes]]
) -> None:
    """A consumer who checks a certificate downloads none of the artwork parts."""
    number = next(iter(reference))
    context = browser.new_context()
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{base_url}c/{number}/", wait_until="networkidle")
    assert any(url.endswith("/marks.js") for url in requested)
    assert not [url for url in requested if "parts.bin" in url or "/assets/marks/" in url]
    context.close()


def test_an_assembled_file_opened_by_its_address_is_downloaded(
    browser: Any, base_url: str, site: Path, reference: dict[str, dict[str, bytes]],
    tmp_path: Path,
) -> None:
    """/c/<NUMBER>/mark-mono.svg is not a file: the host answers with the site's 404 page (as
    GitHub Pages, object storage and the sample nginx config do), which hands the address to
    the certificate page, which downloads the file."""
    number, files = next(iter(reference.items()))
    not_found = (site / "404.html").read_bytes()
    context = browser.new_context(accept_downloads=True)
    context.route(f"**/c/{number}/mark-mono.svg", lambda route: route.fulfill(
        status=404, body=not_found, content_type="text/html; charset=utf-8"))
    page, data = saved_after_visiting(context, f"{base_url}c/{number}/mark-mono.svg", tmp_path)
    assert data == files["mark-mono.svg"]
    assert page.url.endswith(f"c/{number}/#download=mark-mono.svg")
    context.close()
