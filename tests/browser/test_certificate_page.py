"""A certificate page as the shopper who scanned the QR code sees it, on a small phone.

The question "is this mark real and in force?" must be answered by the first screen: the verdict
banner, with its word and its colour, fully visible without scrolling; and it must stay that way
with JavaScript off, with text at 200 %, and without anything jumping when scripts run.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_helpers import (
    AS_OF,
    PHONES,
    VERDICTS,
    YEAR_LATER,
    add_style,
    contrast,
    distance,
    is_amber,
    is_green,
    is_red,
    parse,
    pinned_context,
    screenshot,
)
from PIL import Image

from generator import pages
from generator.model import standing

BANNER = ".sm-cert .sm-verdict:not([hidden])"  # the shown one (see freshness.js)

# What the shopper must be able to tell apart by colour as well as by word and icon.
HUES = {
    "valid": ("green", is_green),
    "suspended": ("amber", is_amber),
    "withdrawn": ("red", is_red),
    "cancelled": ("grey", lambda rgb: not is_green(rgb) and not is_red(rgb) and not is_amber(rgb)),
    "expired": ("not green", lambda rgb: not is_green(rgb)),
}


def banner_facts(page: Any) -> dict[str, Any]:
    return page.eval_on_selector(BANNER, """el => {
        const r = el.getBoundingClientRect();
        const header = document.querySelector('.md-header').getBoundingClientRect();
        const word = el.querySelector('.sm-verdict__word');
        const icon = el.querySelector('.sm-verdict__icon');
        const cx = r.left + r.width / 2, cy = r.top + Math.min(r.height / 2, 20);
        const hit = document.elementFromPoint(cx, cy);
        const style = getComputedStyle(el);
        return {
          top: r.top, bottom: r.bottom, left: r.left, right: r.right,
          headerBottom: header.bottom,
          vw: document.documentElement.clientWidth, vh: window.innerHeight,
          scrollY: window.scrollY,
          word: word ? word.innerText : '',
          wordColor: getComputedStyle(word).color,
          background: style.backgroundColor,
          icon: icon ? {hidden: icon.getAttribute('aria-hidden'),
                        width: icon.getBoundingClientRect().width,
                        display: getComputedStyle(icon).display} : null,
          onTop: hit !== null && el.contains(hit),
        };
    }""")


@pytest.mark.parametrize("phone", PHONES)
@pytest.mark.parametrize("verdict", VERDICTS)
def test_verdict_banner_is_fully_visible_with_word_and_colour(open_page, samples, verdict, phone):
    sample = samples[verdict]
    width, height = PHONES[phone]
    page = open_page(sample.path, width=width, height=height)
    facts = banner_facts(page)
    screenshot(page, f"certificate-{verdict}-{phone}-first-screen", full_page=False)

    assert facts["scrollY"] == 0
    assert facts["top"] >= facts["headerBottom"] - 0.5, "the header covers the verdict"
    assert facts["left"] >= 0 and facts["right"] <= facts["vw"] + 0.5, facts
    assert facts["bottom"] <= facts["vh"], f"verdict banner runs below the first screen: {facts}"
    assert facts["onTop"], "something is drawn over the verdict banner"

    word = " ".join(facts["word"].split())
    assert sample.zh in word and sample.en in word, word
    assert facts["icon"] and facts["icon"]["hidden"] == "true" and facts["icon"]["width"] >= 24, \
        "the verdict needs its icon as well as its colour and word"

    background = parse(facts["background"])
    name, check = HUES[verdict]
    assert check(background), f"{verdict} banner should be {name}, is {facts['background']}"
    assert contrast(background, parse(facts["wordColor"])) >= 4.5


def test_verdict_colours_are_distinct(open_page, samples):
    colours = {}
    for verdict in VERDICTS:
        page = open_page(samples[verdict].path)
        background = page.eval_on_selector(BANNER, "el => getComputedStyle(el).backgroundColor")
        colours[verdict] = parse(background)
    for a in VERDICTS:
        for b in VERDICTS:
            if a < b:
                assert distance(colours[a], colours[b]) > 100, f"{a} and {b} look alike: {colours}"


# The last largest-contentful-paint candidate once the page has settled.
LCP = """() => new Promise(resolve => {
    let last = null;
    new PerformanceObserver(list => { const e = list.getEntries(); last = e[e.length - 1]; })
        .observe({type: 'largest-contentful-paint', buffered: true});
    setTimeout(() => resolve(last && {
        inBanner: !!(last.element && last.element.closest('.sm-verdict')),
        tag: last.element ? last.element.outerHTML.slice(0, 120) : null,
        size: last.size}), 250);
})"""

# What Chrome's LCP compares, computed from the final layout: text is measured per block (the
# nearest ancestor that is not inline) as the bounding box of its text within the viewport;
# images by their visible box. Returns the largest candidate and the banner's own.
LARGEST_BLOCK = """() => {
    const vw = document.documentElement.clientWidth, vh = window.innerHeight;
    const clip = r => Math.max(0, Math.min(r.right, vw) - Math.max(r.left, 0)) *
                      Math.max(0, Math.min(r.bottom, vh) - Math.max(r.top, 0));
    const boxes = new Map();
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        if (!n.textContent.trim()) continue;
        let block = n.parentElement;
        if (block.closest('script, style, noscript, template')) continue;
        if (getComputedStyle(block).visibility !== 'visible') continue;
        while (block !== document.body && getComputedStyle(block).display.startsWith('inline')
               && getComputedStyle(block).display !== 'inline-block') block = block.parentElement;
        const range = document.createRange();
        range.selectNodeContents(n);
        for (const r of range.getClientRects()) {
            if (!r.width || !r.height) continue;
            const none = {left: Infinity, top: Infinity, right: -Infinity, bottom: -Infinity};
            const b = boxes.get(block) || none;
            b.left = Math.min(b.left, r.left); b.top = Math.min(b.top, r.top);
            b.right = Math.max(b.right, r.right); b.bottom = Math.max(b.bottom, r.bottom);
            boxes.set(block, b);
        }
    }
    for (const img of document.querySelectorAll('img')) boxes.set(img, img.getBoundingClientRect());
    let best = null, bestArea = -1, banner = 0;
    for (const [el, b] of boxes) {
        const area = clip(b);
        if (el.closest('.sm-verdict')) banner = Math.max(banner, area);
        if (area > bestArea) { best = el; bestArea = area; }
    }
    return {inBanner: !!best.closest('.sm-verdict'), banner: Math.round(banner),
            largest: Math.round(bestArea), tag: best.outerHTML.slice(0, 100)};
}"""


@pytest.mark.parametrize("phone", PHONES)
def test_verdict_is_the_largest_block_on_the_first_screen(browser, base_url, registry, phone):
    """For every sample certificate, whatever the length of a name, a scope or a reason: the
    verdict is the largest thing on the first screen (what LCP measures)."""
    width, height = PHONES[phone]
    context = pinned_context(browser, viewport={"width": width, "height": height},
                             device_scale_factor=1, is_mobile=True, java_script_enabled=False)
    try:
        page = context.new_page()
        wrong = {}
        for cert in registry.certificates:
            page.goto(f"{base_url}c/{cert.number}/")
            found = page.evaluate(LARGEST_BLOCK)
            if not found["inBanner"]:
                wrong[cert.number] = found
        assert not wrong, f"the verdict is not the largest block: {wrong}"
    finally:
        context.close()


def test_largest_contentful_paint_is_the_verdict(open_page, samples):
    """The browser's own LCP entry. Under heavy CPU load Chrome may paint a page in two frames
    (the parser yields mid-banner), and the banner's size is then taken from its first part:
    a load that shows the banner as LCP in any of three tries passes."""
    tries = []
    for _ in range(3):
        page = open_page(samples["valid"].path, scale=1)
        found = page.evaluate(LCP)
        tries.append(found)
        if found and found["inBanner"]:
            return
    pytest.fail(f"largest contentful paint is not the verdict: {tries}")


def test_skip_link_and_in_page_links_lead_somewhere(open_page, samples):
    for path in (samples["valid"].path, "list/all/", ""):
        page = open_page(path)
        broken = page.evaluate("""() => [...document.querySelectorAll('a[href^="#"]')]
            .map(a => a.getAttribute('href').slice(1))
            .filter(id => id && !document.getElementById(decodeURIComponent(id)))""")
        assert not broken, f"{path or 'home'}: links to missing ids {broken}"
    # A link to a section of a certificate page lands on it, under the header.
    page = open_page(samples["valid"].path + "#history")
    page.wait_for_timeout(300)
    top = page.eval_on_selector("#history", "h => h.getBoundingClientRect().top")
    header = page.eval_on_selector(".md-header", "h => h.getBoundingClientRect().bottom")
    assert header - 1 <= top <= header + 40, (top, header)


# Every layout-shift entry since the page started loading.
SHIFTS = """() => new Promise(resolve => {
    const total = [];
    new PerformanceObserver(list => list.getEntries().forEach(e => total.push(e.value)))
        .observe({type: 'layout-shift', buffered: true});
    setTimeout(() => resolve(total), 200);
})"""

BOX = "el => { const r = el.getBoundingClientRect(); return [r.top, r.height]; }"

# The verdict banners a visitor sees (the page also holds hidden ones freshness.js may show).
SHOWN_BANNERS = """() => [...document.querySelectorAll('.sm-verdict')]
    .filter(b => getComputedStyle(b).visibility === 'visible')
    .map(b => ({cls: b.className, top: b.getBoundingClientRect().top,
                height: b.getBoundingClientRect().height, text: b.innerText}))"""


# Whether gold stars (or the tick of the compliant level) are on show.
VISIBLE_STARS = """() => [...document.querySelectorAll('.sm-stars')]
    .some(e => getComputedStyle(e).visibility === 'visible' && e.getClientRects().length > 0)"""


@pytest.mark.parametrize("today", (AS_OF, YEAR_LATER), ids=("on-the-build-day", "a-year-later"))
@pytest.mark.parametrize("verdict", VERDICTS)
def test_no_layout_shift_when_scripts_run(open_page, samples, verdict, today):
    """Whatever freshness.js changes for the viewer's date (a stale page, a verdict that has
    expired since the build) moves nothing: no layout shift, the same boxes as without it."""
    path = samples[verdict].path
    with_js = open_page(path, today=today)
    with_js.wait_for_timeout(300)
    shifts = with_js.evaluate(SHIFTS)
    assert sum(shifts) == 0, f"layout shifts: {shifts}"
    without_js = open_page(path, js=False, today=today)
    for selector in (".sm-cert > .sm-stack", ".sm-fresh", "h1.sm-org", ".sm-facts"):
        assert with_js.eval_on_selector(selector, BOX) == without_js.eval_on_selector(selector, BOX)
    assert len(with_js.evaluate(SHOWN_BANNERS)) == 1, "one verdict banner is shown"
    assert not with_js.problems, with_js.problems


def test_a_year_after_the_build_every_page_says_what_a_build_that_day_would(
        browser, base_url, registry):
    """The viewer's clock a year after the build: each page shows the verdict a build on that
    day would give, says that its data is old, and shows one banner."""
    context = pinned_context(browser, YEAR_LATER, viewport={"width": 360, "height": 640},
                             is_mobile=True)
    try:
        page = context.new_page()
        wrong = {}
        for cert in registry.certificates:
            page.goto(f"{base_url}c/{cert.number}/")
            expected = standing(cert, registry.settings, YEAR_LATER).verdict
            live = page.eval_on_selector(".sm-cert", "el => el.dataset.liveVerdict")
            banners = page.evaluate(SHOWN_BANNERS)
            stale = page.eval_on_selector(
                '[data-sm-show="stale"]', "el => getComputedStyle(el).visibility")
            stars = page.evaluate(VISIBLE_STARS)
            if (live != expected or len(banners) != 1
                    or f"sm-verdict--{expected}" not in banners[0]["cls"] or stale != "visible"
                    or stars != (expected == "valid")):
                wrong[cert.number] = (expected, live, banners, stale, stars)
        assert not wrong, wrong
    finally:
        context.close()


@pytest.mark.parametrize("verdict", ("valid", "withdrawn"))
def test_works_with_javascript_off(open_page, samples, registry, verdict):
    sample = samples[verdict]
    page = open_page(sample.path, js=False)
    screenshot(page, f"certificate-{verdict}-nojs")
    banner = page.locator(BANNER)
    assert banner.is_visible()
    assert sample.zh in banner.inner_text() and sample.en in banner.inner_text()
    assert page.locator("h1").inner_text().startswith(sample.cert.organization.name)
    history = page.locator(".sm-timeline li")
    assert history.count() == len(pages.history(sample.cert))
    assert history.first.is_visible()
    # The details and the links are there and lead somewhere.
    assert page.locator(".sm-facts").first.is_visible()
    for href in page.eval_on_selector_all(".sm-cert a[href]", "as => as.map(a => a.href)"):
        assert href.startswith(("http://127.0.0.1", "https://", "mailto:")), href
    # Search degrades to a form that posts to the search page, which points to the listings.
    page.fill("#sm-header-q", sample.cert.number)
    page.press("#sm-header-q", "Enter")
    page.wait_for_load_state()
    assert "/search/" in page.url and "q=" in page.url
    assert page.locator("noscript, .sm-search__noscript").count() >= 1
    assert page.locator('a[href$="list/"]').count() >= 1


def test_text_at_200_percent_loses_nothing(open_page, samples):
    """Android's font-size setting at 200 %: still no sideways scrolling, nothing cut off."""
    page = open_page(samples["suspended"].path)
    add_style(page, "html { font-size: 250% !important; }")  # the theme's 125 % × 2
    page.wait_for_timeout(100)
    screenshot(page, "certificate-suspended-text-200", full_page=False)
    overflow = page.evaluate("""() => {
        const vw = document.documentElement.clientWidth;
        const bad = [];
        const width = document.documentElement.scrollWidth;
        if (width > vw + 1) bad.push('page scrolls sideways: ' + width);
        for (const el of document.querySelectorAll('.sm-cert *, .sm-header-search *')) {
            const r = el.getBoundingClientRect();
            const s = getComputedStyle(el);
            if (!r.width || s.visibility === 'hidden') continue;
            if (el.closest('.sm-visually-hidden')) continue;
            const what = el.outerHTML.slice(0, 80);
            const scrolls = el.closest('.md-typeset__scrollwrap');
            if (r.right > vw + 1 && !scrolls) bad.push('past the edge: ' + what);
            const cut = s.overflow === 'hidden' || s.textOverflow === 'ellipsis';
            const hidden = el.scrollWidth > el.clientWidth + 1;
            if (cut && hidden && el.innerText.trim()) bad.push('clipped: ' + what);
        }
        return bad;
    }""")
    assert not overflow, overflow
    word = page.locator(BANNER + " .sm-verdict__word")
    assert word.is_visible()
    lines = page.eval_on_selector(BANNER + " .sm-verdict__zh", "el => el.getClientRects().length")
    assert lines == 1, "the verdict word is broken over lines"
    size = page.eval_on_selector(BANNER + " .sm-verdict__word",
                                 "el => parseFloat(getComputedStyle(el).fontSize)")
    assert size >= 40


def test_head_says_what_the_page_is(open_page, samples, registry):
    sample = samples["valid"]
    cert = sample.cert
    level = registry.level(cert)
    page = open_page(sample.path)
    title = page.title()
    assert cert.number in title and cert.organization.name in title and sample.zh in title
    assert page.evaluate("document.documentElement.lang") in ("zh-CN", "zh-Hans", "zh-Hans-CN")

    def meta(selector: str) -> str:
        return page.eval_on_selector(selector, "m => m.content")

    description = meta('meta[name="description"]')
    for part in (cert.organization.name, sample.zh, cert.number):
        assert part in description, (part, description)
    og_title = meta('meta[property="og:title"]')
    for part in (cert.organization.name, level.zh, sample.zh):
        assert part in og_title, (part, og_title)
    assert sample.zh in meta('meta[property="og:description"]')
    assert meta('meta[property="og:url"]') == registry.settings.certificate_url(cert.number)
    assert meta('meta[property="og:image"]').endswith("/mark.png")


def test_every_image_has_alt_text_and_english_is_marked(open_page, samples):
    for verdict in ("valid", "withdrawn"):
        page = open_page(samples[verdict].path)
        assert page.eval_on_selector_all("img:not([alt])", "imgs => imgs.length") == 0
        empty = page.eval_on_selector_all(".sm-cert img",
                                          "imgs => imgs.filter(i => !i.alt.trim()).length")
        assert empty == 0
        unmarked = page.evaluate(r"""() => {
            const out = [];
            const content = document.querySelector('.md-content');
            const walker = document.createTreeWalker(content, NodeFilter.SHOW_TEXT);
            for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                const text = n.textContent.trim();
                if (!/[A-Za-z]{3,}[\s,.;:-]+[A-Za-z]{2,}/.test(text)) continue;
                const el = n.parentElement;
                if (el.closest('code, .sm-mono, script, style, [href^="mailto:"]')) continue;
                const lang = (el.closest('[lang]') || document.documentElement).lang;
                if (!lang.startsWith('en')) out.push(text.slice(0, 60));
            }
            return out;
        }""")
        assert not unmarked, f"English text without lang=en: {unmarked}"


def test_no_console_errors_or_broken_requests(open_page, samples):
    for verdict in VERDICTS:
        page = open_page(samples[verdict].path)
        page.wait_for_timeout(200)
        assert not page.problems, page.problems


def test_menu_opens_without_javascript(open_page, samples):
    """The theme's drawer is a CSS checkbox: the site's pages are a tap away even with JS off."""
    page = open_page(samples["valid"].path, js=False)
    nav_link = page.locator('.md-sidebar--primary a.md-nav__link[href$="list/"]').first

    def on_screen() -> bool:
        box = nav_link.bounding_box()
        inside = bool(box and box["x"] >= 0 and box["x"] + box["width"] <= 360)
        return inside and nav_link.is_visible()

    assert not on_screen()
    page.click('label.md-header__button[for="__drawer"]')
    page.wait_for_timeout(400)  # the drawer slides in
    assert on_screen()
    screenshot(page, "certificate-menu-nojs", full_page=False)
    source = page.locator(".md-sidebar--primary .md-source__repository")
    if source.count():
        assert source.first.inner_text().strip() not in ("", "None")


# Every colour a box paints in the first screen: text, background, borders, SVG fill.
FIRST_SCREEN_PAINT = """height => {
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        const s = getComputedStyle(el);
        if (!r.width || !r.height || r.top >= height || r.bottom <= 0) continue;
        if (s.visibility !== 'visible' || s.display === 'none' || +s.opacity === 0) continue;
        if (el.closest('.md-header, .md-sidebar, [hidden], .sm-visually-hidden')) continue;
        const own = [...el.childNodes].filter(n => n.nodeType === 3)
            .map(n => n.textContent).join('').trim();
        const paints = [];
        if (own) paints.push(['color', s.color]);
        if (s.backgroundColor !== 'rgba(0, 0, 0, 0)')
            paints.push(['background', s.backgroundColor]);
        for (const side of ['Top', 'Right', 'Bottom', 'Left']) {
            if (parseFloat(s['border' + side + 'Width']) > 0)
                paints.push(['border', s['border' + side + 'Color']]);
        }
        if (el instanceof SVGElement && s.fill !== 'none') paints.push(['fill', s.fill]);
        for (const [what, colour] of paints)
            out.push({what, colour, text: own.slice(0, 30), tag: el.outerHTML.slice(0, 80)});
    }
    return out;
}"""

FIRST_SCREEN_TEXT = """height => {
    const parts = [];
    const walker = document.createTreeWalker(document.querySelector('.md-content'),
                                             NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const el = n.parentElement;
        if (getComputedStyle(el).visibility !== 'visible' || !el.getClientRects().length) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        if ([...range.getClientRects()].some(r => r.top < height && r.bottom > 0))
            parts.push(n.textContent);
    }
    return parts.join('');
}"""

# The cases the issue looked at on a phone: every verdict, and a lapse after a suspension.
FIRST_SCREENS = (*VERDICTS, "lapsed-while-suspended")


@pytest.fixture(scope="session")
def first_screen_samples(samples, registry):
    found = {verdict: sample.cert for verdict, sample in samples.items()}
    found["lapsed-while-suspended"] = next(
        c for c in registry.certificates
        if registry.standing(c).verdict == "expired" and c.status == "suspended")
    return found


@pytest.mark.parametrize("case", FIRST_SCREENS)
def test_first_screen_is_honest(open_page, first_screen_samples, registry, case):
    """At 360×640 the first screen holds the verdict, a short banner and the enterprise's name;
    a page that is not valid paints nothing green, no star and no tick."""
    cert = first_screen_samples[case]
    page = open_page(f"c/{cert.number}/")
    screenshot(page, f"first-screen-{case}-360x640", full_page=False)
    banner = page.eval_on_selector(BANNER, BOX)
    assert banner[1] <= 200, f"the banner is {banner[1]} px tall: keep it to the verdict"
    org = page.eval_on_selector("h1.sm-org", "el => el.getBoundingClientRect().bottom")
    assert org <= 640, f"the enterprise's name ends at {org} px, below the first screen"
    text = page.evaluate(FIRST_SCREEN_TEXT, 640)
    assert cert.organization.name in text
    if case == "valid":
        assert "★" in text or "✓" in text
        return
    assert "★" not in text and "✓" not in text, text
    level = registry.level(cert)
    assert level.zh in text and "前星级" in text, "the level is shown as the one held before"
    painted = page.evaluate(FIRST_SCREEN_PAINT, 640)
    green = [p for p in painted if is_green(parse(p["colour"]))]
    assert not green, f"green on a page that is not valid: {green}"
    gold = [p for p in painted if is_amber(parse(p["colour"])) and "sm-verdict" not in p["tag"]
            and "sm-sample" not in p["tag"] and "sm-fresh" not in p["tag"]]
    assert not gold, f"gold on a page that is not valid: {gold}"
    if case == "lapsed-while-suspended":
        assert "暂停" in text and "届满" in text, "a lapse after a suspension says both"
    if case in ("withdrawn", "cancelled"):
        validity = page.locator(".sm-facts > div").nth(1).inner_text()
        assert "提前终止" in validity and "Ended early" in validity, validity


@pytest.mark.parametrize("case", FIRST_SCREENS)
def test_full_page_screenshots(open_page, first_screen_samples, registry, case):
    """The whole page as a PNG for people to look at, and checked by its pixels: the banner is
    painted in its verdict's colour, and a page that is not valid has no green pixel in its
    first screen."""
    cert = first_screen_samples[case]
    verdict = registry.standing(cert).verdict
    page = open_page(f"c/{cert.number}/")
    path = screenshot(page, f"certificate-{case}-360x640")
    assert re.search(rf"c/{cert.number}/$", page.url)
    assert page.locator("h1").inner_text().startswith(cert.organization.name)
    scale = page.evaluate("devicePixelRatio")
    with Image.open(path) as shot:
        image = shot.convert("RGB")
    assert image.width == round(360 * scale)
    box = page.eval_on_selector(BANNER, "el => el.getBoundingClientRect().toJSON()")
    # Inside the banner's padding, right of the icon: nothing but the banner's own colour.
    x, y = round((box["right"] - 6) * scale), round((box["top"] + 4) * scale)
    painted = image.getpixel((x, y))
    expected = parse(page.eval_on_selector(BANNER, "el => getComputedStyle(el).backgroundColor"))
    assert distance(painted, expected) < 10, (painted, expected)
    if verdict != "valid":
        first = image.crop((0, 0, image.width, round(640 * scale))).reduce(2)
        green = [rgb for _count, rgb in first.getcolors(1 << 20) if is_green(rgb)]
        assert not green, f"green pixels on a {case} page: {green[:5]}"
