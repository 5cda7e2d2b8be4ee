"""The bulk check (/check/) and "valid on a given date?" in a real browser, with a pinned clock.

The site is the sample registry built as of AS_OF; the browser's clock is pinned to a day after
it. The expected answers come from generator/periods.py, which ``starmark status`` prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pikepdf
import pytest
from browser_helpers import AS_OF, screenshot
from bs4 import BeautifulSoup
from test_accessibility import axe_violations, describe

from generator import check, csp, periods
from generator.model import Registry
from generator.search import compact_number

NOW = "2026-12-01T10:00:00+08:00"  # the viewer's clock: 4 days after the data's as-of date
TODAY = dt.date(2026, 12, 1)
ON = dt.date(2025, 5, 20)  # the bid deadline asked about


def sloppy(number: str, i: int) -> str:
    """The number as staff might have typed or copied it."""
    forms = [
        number.lower(),
        number.replace("-", ""),
        "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in number),  # full width
        number.replace("-", " "),
        number,
    ]
    return forms[i % len(forms)]


@pytest.fixture(scope="module")
def mixed(registry: Registry) -> dict[str, Any]:
    """21 numbers: 15 registry numbers in sloppy forms (two of them twice), 2 unknown numbers,
    1 reported counterfeit and a formula-looking line, pasted as an Excel column with a heading
    and commas."""
    certs = registry.certificates[::3][:15]
    typed = [sloppy(c.number, i) for i, c in enumerate(certs)]
    lines = ["证书编号", *typed[:10], "ASC-2099-000001, asc2099000002", typed[0].upper(),
             *typed[10:], "asc-2025-009999", certs[1].number, "=HYPERLINK(\"x\") 2025"]
    return {"text": "\n".join(lines), "certs": certs}


@pytest.fixture
def check_page(browser: Any, base_url: str) -> Any:
    """A phone-sized page at /check/ with the clock pinned to NOW (before any script ran)."""
    contexts = []

    def open_(query: str = "", *, width: int = 360) -> Any:
        context = browser.new_context(viewport={"width": width, "height": 740},
                                      device_scale_factor=1, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", accept_downloads=True)
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.asked = []  # every request's URL
        page.on("request", lambda request: page.asked.append(request.url))
        page.on("pageerror", lambda err: page.problems.append(f"page error: {err}"))
        page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
        page.clock.install(time=NOW)
        page.goto(base_url + "check/" + query)
        return page

    yield open_
    for context in contexts:
        context.close()


def paste(page: Any, text: str, day: dt.date) -> None:
    """Paste a list and a day into the form, and ask."""
    page.fill("#sm-check-q", text)
    page.fill("#sm-check-on", day.isoformat())
    page.click(".sm-check__form button[type=submit]")


def expected(registry: Registry, number: str, day: dt.date) -> str:
    found = periods.periods(registry.get(number), registry.settings)
    return periods.on(found, day).status


def test_a_pasted_list_is_answered_for_the_day_and_today(check_page, registry, mixed) -> None:
    page = check_page()
    paste(page, mixed["text"], ON)
    page.wait_for_selector("[data-check-summary]", timeout=15_000)
    screenshot(page, "check-360x740")
    rows = page.locator(".sm-check__row")
    found = page.locator(".sm-check__row[data-number]:not([data-counterfeit])")
    numbers = [found.nth(i).get_attribute("data-number") for i in range(found.count())]
    assert numbers == [c.number for c in mixed["certs"]], "each once, in the order pasted"
    for i, number in enumerate(numbers):
        row = found.nth(i)
        assert row.get_attribute("data-on") == expected(registry, number, ON), number
        assert row.get_attribute("data-today") == expected(registry, number, TODAY), number
        org = registry.get(number).organization.name
        assert org in row.inner_text()
        assert row.locator("a").get_attribute("href").endswith(f"/c/{number}/")
    missing = page.locator(".sm-check__row--missing")
    assert missing.count() == 3  # two unknown numbers and the formula-looking line
    first_missing = missing.first.inner_text()
    assert "未找到" in first_missing and "not in the registry" in first_missing
    fake = page.locator(".sm-check__row--counterfeit")
    assert fake.count() == 1 and fake.get_attribute("data-number") == "ASC-2025-009999"
    assert "假冒证书编号" in fake.inner_text()
    assert page.get_by_role("alert").count() == 1
    assert rows.count() == 15 + 3 + 1
    summary = page.locator("[data-check-summary]").inner_text()
    assert "已合并重复 2 个" in summary and "2025-05-20" in summary
    query = parse_qs(urlsplit(page.url).query)
    assert query["on"] == ["2025-05-20"]
    assert len(query["q"][0].split(",")) == 21  # every line pasted, repeats included
    assert not page.problems


def test_a_shared_link_gives_the_same_table(check_page, registry) -> None:
    numbers = [c.number for c in registry.certificates[:4]]
    q = ",".join([numbers[0].lower(), *numbers[1:], "ASC-2099-000001"])
    page = check_page(f"?on={ON}&q={q}")
    page.wait_for_selector("[data-check-summary]", timeout=15_000)
    assert page.input_value("#sm-check-on") == ON.isoformat()
    assert page.input_value("#sm-check-q").splitlines()[0] == numbers[0].lower()
    found = page.locator(".sm-check__row[data-number]")
    assert [found.nth(i).get_attribute("data-number") for i in range(4)] == numbers
    assert page.locator(".sm-check__row--missing").count() == 1


def test_a_shared_link_reads_each_index_file_it_needs_once(check_page, site, mixed) -> None:
    """The head's inline script (check.early_script, a copy of check.js's own code) starts the
    index requests of a sloppy shared list; check.js takes them over: no file is asked twice and
    none that the check does not read."""
    meta = json.loads((site / check.INDEX_DIR / "meta.json").read_text("utf-8"))
    wanted = {f"{check.shard_of(compact_number(n), meta['shards'])}.json"
              for n in check.split_list(mixed["text"], meta["example"])}
    page = check_page(f"?on={ON}&q={quote(mixed['text'])}")
    page.wait_for_selector("[data-check-summary]", timeout=15_000)
    asked = page.asked
    shards = [urlsplit(a).path.rsplit("/", 1)[1] for a in asked
              if f"/{check.INDEX_DIR}/" in a and "meta.json" not in a]
    assert sorted(shards) == sorted(wanted)
    assert sum("meta.json" in a for a in asked) == 1
    assert sum("checkpoint.json" in a for a in asked) == 1
    head = (site / "check" / "index.html").read_text("utf-8").split("</head>", 1)[0]
    assert f'"shards": {meta["shards"]}' in head  # what the page knows agrees with the index
    assert not page.problems


def test_without_a_date_only_today_is_answered(check_page, registry) -> None:
    cert = registry.certificates[0]
    page = check_page(f"?q={cert.number}")
    page.wait_for_selector("[data-check-summary]", timeout=15_000)
    row = page.locator(".sm-check__row").first
    assert row.get_attribute("data-on") == ""
    assert row.get_attribute("data-today") == expected(registry, cert.number, TODAY)
    assert page.locator(".sm-check__table th").count() == 4


def test_csv_export_opens_in_excel_and_runs_no_formula(check_page, mixed, registry) -> None:
    page = check_page()
    paste(page, mixed["text"], ON)
    page.wait_for_selector("[data-check-csv]", timeout=15_000)
    with page.expect_download() as info:
        page.click("[data-check-csv]")
    raw = Path(info.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert len(table) == 19
    first = mixed["certs"][0]
    row = next(r for r in table if r["number"] == first.number)
    assert row["organisation"] == first.organization.name
    assert row["status_on_date"] == expected(registry, first.number, ON)
    assert row["status_today"] == expected(registry, first.number, TODAY)
    assert row["date_checked"] == "2025-05-20" and row["today"] == "2026-12-01"
    assert row["as_of"] == AS_OF.isoformat()
    formula = next(r for r in table if "HYPERLINK" in r["input"])
    assert formula["input"].startswith("'="), "a cell starting with = is written as text"
    for cells in table:
        for value in cells.values():
            assert not value or value[0] not in "=+-@", value
    assert any(r["counterfeit"].startswith("reported") for r in table)


def test_print_is_a4_and_names_the_registry_time_and_checkpoint(check_page, site,
                                                                 registry) -> None:
    page = check_page("?on=2025-05-20&q=ASC-2025-000123,ASC-2099-000001")
    page.wait_for_selector("[data-check-evidence]", timeout=15_000)
    point = json.loads((site / "api" / "v1" / "checkpoint.json").read_text("utf-8"))
    evidence = page.locator("[data-check-evidence]").inner_text()
    for value in (str(point["tree_size"]), point["root_hash"], point["as_of"]):
        assert value in evidence
    assert "2026-12-01 10:00" in evidence, "the date and time of the check"
    page.emulate_media(media="print")
    assert page.locator(".sm-check__print-title").is_visible()
    assert registry.settings.body.name in page.locator(".sm-check__print-title").inner_text()
    assert not page.locator(".sm-check__form").is_visible()
    assert not page.locator(".md-header").is_visible()
    pdf = pikepdf.open(io.BytesIO(page.pdf(prefer_css_page_size=True, print_background=True)))
    width, height = (float(v) for v in pdf.pages[0].mediabox[2:])
    assert abs(width - 595.3) < 2 and abs(height - 841.9) < 2, "A4"


def test_check_page_is_axe_clean_and_fits_360px(check_page) -> None:
    page = check_page("?on=2025-05-20&q=ASC-2025-000123,asc2024000052,ASC-2099-000001,"
                      "ASC-2025-009999")
    page.wait_for_selector("[data-check-summary]", timeout=15_000)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_no_inline_script_or_handler_in_the_check_page(site) -> None:
    """A Content-Security-Policy without 'unsafe-inline' must not break the page."""
    soup = BeautifulSoup((site / "check" / "index.html").read_text("utf-8"), "html.parser")
    article = soup.select_one("article")
    assert article is not None and article.select_one("[data-starmark-check]") is not None
    assert not article.find_all("script")  # check.js and its early requests are in the head
    head = soup.select_one("head")
    assert head is not None
    assert [s["src"] for s in head.find_all("script", src=True)] == ["../assets/starmark/check.js"]
    inline = [s.string for s in head.find_all("script", src=False) if "starmarkCheck" in s.text]
    assert len(inline) == 1
    policy = head.select_one('meta[http-equiv="Content-Security-Policy"]')
    assert policy is not None and csp.source_hash(inline[0]) in policy["content"]
    handlers = [(t.name, a) for t in article.find_all(True) for a in t.attrs
                if a.lower().startswith("on")]
    assert not handlers


# --- the certificate page: "Valid on a given date?" ---------------------------------------------


def test_picking_a_day_on_a_certificate_page_shows_its_status_then(browser, base_url,
                                                                    registry) -> None:
    cert = next(c for c in registry.certificates if c.number == "ASC-2024-000052")
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="zh-CN",
                                  timezone_id="Asia/Shanghai")
    try:
        page = context.new_page()
        page.clock.install(time=NOW)
        page.goto(base_url + f"c/{cert.number}/")
        answer = page.locator("[data-sm-periods-answer]")
        assert page.input_value("#sm-periods-day") == TODAY.isoformat()
        today = page.locator("[data-sm-periods] li[aria-current=true]")
        assert today.get_attribute("data-status") == "withdrawn"
        assert answer.inner_text() == ""  # filled when a day is picked: nothing moves by itself
        page.fill("#sm-periods-day", "2025-05-20")
        assert answer.get_attribute("data-status") == "suspended"
        assert answer.get_attribute("data-level") == cert.level
        text = answer.inner_text()
        assert "暂停 Suspended" in text and "2025-03-10" in text and "监督审核未通过" in text
        page.fill("#sm-periods-day", "2024-01-01")
        assert answer.get_attribute("data-status") == "not-issued"
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        violations = axe_violations(page)
        assert not violations, describe(violations)
    finally:
        context.close()


def test_without_javascript_the_periods_are_listed(open_page, registry) -> None:
    page = open_page("c/ASC-2024-000052/", js=False)
    assert not page.locator("[data-sm-periods-ask]").is_visible()
    items = page.locator("[data-sm-periods] li[data-period]")
    assert items.count() == 4
    assert "2025-03-10 – 2025-09-09" in items.nth(2).inner_text()
    assert "暂停 Suspended" in items.nth(2).inner_text()


def test_sloppy_number_forms_are_distinct_forms(mixed) -> None:
    """The list really is sloppy: most lines differ from the number they stand for."""
    typed = [line for line in mixed["text"].splitlines()[1:11]]
    assert sum(t != c.number for t, c in zip(typed, mixed["certs"], strict=False)) >= 7
    assert all(compact_number(t) == compact_number(c.number)
               for t, c in zip(typed, mixed["certs"], strict=False))
