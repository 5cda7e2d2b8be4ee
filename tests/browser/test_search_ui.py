"""Searching as a person does: the header box on the home page, a bit of a name or a sloppy
number, then a click on the result; and an honest "nothing found" for nonsense."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import screenshot

RESULTS = "[data-starmark-results]"


def search_from_home(open_page, query: str) -> Any:
    page = open_page("")
    box = page.locator("#sm-header-q")
    assert box.is_visible(), "the header search box is not visible on a phone"
    box.click()
    box.type(query)
    box.press("Enter")
    page.wait_for_url("**/search/?q=*")
    page.wait_for_selector(".sm-search__count", timeout=10_000)
    return page


def result_link(page: Any, number: str) -> Any:
    return page.locator(f'{RESULTS} a[href$="/c/{number}/"]')


def name_fragment(name: str) -> str:
    """Four characters from the middle of a Chinese name: neither its start nor its end."""
    core = name.removesuffix("有限公司").removesuffix("股份")
    start = max(1, len(core) // 2 - 2)
    return core[start:start + 4]


def test_part_of_a_chinese_name_finds_the_certificate(open_page, samples):
    sample = samples["valid"]
    fragment = name_fragment(sample.cert.organization.name)
    assert fragment and fragment in sample.cert.organization.name
    page = search_from_home(open_page, fragment)
    screenshot(page, "search-name-360x640")
    link = result_link(page, sample.cert.number)
    assert link.count() == 1, page.locator(RESULTS).inner_text()
    link.click()
    page.wait_for_url(f"**/c/{sample.cert.number}/")
    assert page.locator("h1").inner_text().startswith(sample.cert.organization.name)
    assert sample.zh in page.locator(".sm-verdict:not([hidden])").inner_text()


@pytest.mark.parametrize("style", ["lower case, spaces", "full width", "last digits"])
def test_a_sloppily_typed_number_finds_the_certificate(open_page, samples, style):
    sample = samples["suspended"]
    number = sample.cert.number  # e.g. ASC-2025-000123
    typed = {
        "lower case, spaces": " " + number.lower().replace("-", " ") + " ",
        "full width": "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in number),
        "last digits": number.rsplit("-", 1)[-1],
    }[style]
    page = search_from_home(open_page, typed)
    link = result_link(page, number)
    assert link.count() == 1, (typed, page.locator(RESULTS).inner_text())
    link.click()
    page.wait_for_url(f"**/c/{number}/")
    assert sample.zh in page.locator(".sm-verdict:not([hidden])").inner_text()


def test_nonsense_says_nothing_was_found(open_page):
    page = search_from_home(open_page, "夔龘靐 qqxzj")
    screenshot(page, "search-nothing-360x640")
    text = page.locator(RESULTS).inner_text()
    assert "没有找到" in text and "Nothing found" in text, text
    assert page.locator(f"{RESULTS} a.sm-search__link").count() == 0
    assert not page.problems, page.problems
