"""axe-core (npm axe-core, injected into the page) finds no violations on the pages people use:
home, a certificate (one in force, one withdrawn), listings, and search with results."""

from __future__ import annotations

import json

import pytest
from browser_helpers import NODE_MODULES, screenshot, unavailable

AXE = NODE_MODULES / "axe-core" / "axe.min.js"


def axe_violations(page) -> list[dict]:
    if not AXE.exists():
        unavailable(f"{AXE.relative_to(NODE_MODULES.parent)} is missing (run npm ci)")
    # Evaluated by the test driver, not added as a <script>: the page's policy (rightly)
    # refuses inline scripts it does not list.
    page.evaluate(AXE.read_text("utf-8"))
    # Every rule axe runs by default: WCAG 2.0-2.2 A and AA, and its best practices.
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""")
    return result


def describe(violations: list[dict]) -> str:
    return json.dumps(violations, ensure_ascii=False, indent=1)


@pytest.mark.parametrize("page_name", ["home", "certificate-valid", "certificate-withdrawn",
                                       "listing-all", "listing-index", "search-results"])
def test_no_axe_violations(open_page, samples, page_name):
    path = {
        "home": "",
        "certificate-valid": samples["valid"].path,
        "certificate-withdrawn": samples["withdrawn"].path,
        "listing-all": "list/all/",
        "listing-index": "list/",
        "search-results": "search/?q=" + samples["valid"].cert.organization.name[2:4],
    }[page_name]
    page = open_page(path)
    if page_name == "search-results":
        page.wait_for_selector(".sm-search__count", timeout=10_000)
    screenshot(page, f"{page_name}-360x640")
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_no_axe_violations_on_a_wide_screen(open_page, samples):
    """The desktop layout (sidebars, header title) is checked too."""
    page = open_page(samples["valid"].path, width=1280, height=800, scale=1)
    violations = axe_violations(page)
    assert not violations, describe(violations)
