"""The first screen of a small phone (360×640) on the home, search and listing pages, labels
that never break inside a word, headings that read, and the body's footer."""

from __future__ import annotations

from typing import Any

import pytest
from browser_helpers import VERDICTS, contrast, is_green, parse, screenshot

SCREEN = 640

# Line breaks inside a text node between two Chinese characters: the label's words are
# separated by <wbr> (or a space) in the template, so a break there is inside a word.
MID_WORD_BREAKS = """selector => {
    const bad = [];
    for (const el of document.querySelectorAll(selector)) {
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let n = walker.nextNode(); n; n = walker.nextNode()) {
            let lastTop = null;
            for (let i = 0; i < n.length; i++) {
                const range = document.createRange();
                range.setStart(n, i);
                range.setEnd(n, i + 1);
                const rect = range.getClientRects()[0];
                if (!rect) continue;
                const ch = n.data[i], prev = n.data[i - 1];
                const cjk = c => c && /[\\u3400-\\u9fff]/.test(c);
                if (lastTop !== null && rect.top > lastTop + 2 && cjk(ch) && cjk(prev))
                    bad.push(n.data);
                lastTop = rect.top;
            }
        }
    }
    return bad;
}"""


@pytest.mark.parametrize("verdict", VERDICTS)
def test_labels_never_break_inside_a_word(open_page, samples, verdict):
    page = open_page(samples[verdict].path)
    broken = page.evaluate(MID_WORD_BREAKS, ".sm-facts dt")
    assert not broken, f"labels broken inside a word: {broken}"


def test_home_first_screen_has_the_verify_box(open_page):
    page = open_page("")
    screenshot(page, "home-360x640-first-screen", full_page=False)
    box = page.eval_on_selector("#starmark-q", "el => el.getBoundingClientRect().bottom")
    button = page.eval_on_selector("#verify button", "el => el.getBoundingClientRect().bottom")
    assert box <= SCREEN and button <= SCREEN, (box, button)


def heading_facts(page: Any) -> dict[str, Any]:
    return page.eval_on_selector(".md-typeset h1", """h => {
        const s = getComputedStyle(h);
        let bg = 'rgb(255, 255, 255)';
        for (let e = h; e; e = e.parentElement) {
            const c = getComputedStyle(e).backgroundColor;
            if (c !== 'rgba(0, 0, 0, 0)') { bg = c; break; }
        }
        return {color: s.color, weight: parseInt(s.fontWeight, 10), background: bg};
    }""")


@pytest.mark.parametrize("path", ("", "search/", "list/all/"))
def test_headings_are_bold_and_dark(open_page, path):
    facts = heading_facts(open_page(path))
    assert facts["weight"] >= 600, facts
    assert contrast(parse(facts["color"]), parse(facts["background"])) >= 7, facts


def search(open_page, query: str) -> Any:
    page = open_page(f"search/?q={query}")
    page.wait_for_selector(".sm-search__count", timeout=10_000)
    return page


def test_search_first_screen_shows_results_and_one_box(open_page):
    page = search(open_page, "有限公司")
    screenshot(page, "search-360x640-first-screen", full_page=False)
    assert page.locator("#sm-header-q").count() == 0, "the header repeats the page's box"
    first = page.eval_on_selector(".sm-search__result", "el => el.getBoundingClientRect()")
    assert first["top"] < SCREEN - 60, f"the first result starts at {first['top']} px"


BADGES = """() => [...document.querySelectorAll('.sm-badge')].map(b => {
    const s = getComputedStyle(b);
    let key = [...b.classList].find(c => c.startsWith('sm-badge--')).slice(10);
    return {key, text: b.innerText, bg: s.backgroundColor, color: s.color};
})"""


@pytest.mark.parametrize("where", ("search", "listing"))
def test_every_status_has_a_coloured_badge_with_words(open_page, registry, where):
    if where == "search":
        page = search(open_page, "有限")
        while page.get_by_role("button", name="显示更多").count():
            page.get_by_role("button", name="显示更多").click()
            page.wait_for_timeout(300)
    else:
        page = open_page("list/all/")
    badges = page.evaluate(BADGES)
    seen = {b["key"] for b in badges}
    assert seen == set(VERDICTS), seen
    for badge in badges:
        status = registry.settings.status(badge["key"])
        words = " ".join(badge["text"].split())
        assert status.zh in words and status.en in words, badge
        bg = parse(badge["bg"])
        assert contrast(bg, parse(badge["color"])) >= 4.5, badge
        assert (status.key == "valid") == is_green(bg), badge
    colours = {b["key"]: b["bg"] for b in badges}
    assert len(set(colours.values())) == len(colours), f"two statuses share a colour: {colours}"


@pytest.mark.parametrize("path", ("", "search/", "list/all/"))
def test_footer_is_the_certification_bodys(open_page, registry, path):
    page = open_page(path)
    footer = " ".join(page.locator(".md-footer").inner_text().split())
    body = registry.settings.body
    for part in (body.name, body.phone, "数据截至 " + registry.as_of.isoformat(), "举报假冒证书"):
        assert part in footer, (part, footer)
    if body.icp:
        assert body.icp in footer
    assert "Material for MkDocs" not in footer
    assert page.locator(".md-footer a[href^='mailto:']").count() >= 1
