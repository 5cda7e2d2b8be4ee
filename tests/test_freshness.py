"""The page's client-side verdict (freshness.js) and the 404 number check (notfound.js), under Node.

The JavaScript tests live in tests/js/freshness.test.mjs; here they run against certificate pages
rendered from the real template, and the JS verdict is compared with generator.model.standing()
for every sample certificate on many days, so that the two can never drift apart.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup, NavigableString, Tag
from needs import needs

from generator import notfound, pages
from generator.load import load_registry
from generator.model import Registry, standing

REPO = Path(__file__).resolve().parent.parent
ASSETS = REPO / "generator" / "theme" / "assets" / "starmark"
AS_OF = dt.date(2026, 11, 27)
NODE = shutil.which("node")

pytestmark = needs(NODE is not None, "node (Node.js)")

# Load a classic script the way a browser does (its own global scope) and answer JSON cases.
RUNNER = """
const fs = require("fs"), vm = require("vm");
const sandbox = { module: { exports: {} } };
vm.runInNewContext(fs.readFileSync(process.argv[1], "utf8"), sandbox);
const api = sandbox.module.exports;
const cases = JSON.parse(fs.readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map((c) => %s)));
"""


def run_js(script: str, expression: str, cases: list[Any]) -> list[Any]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", RUNNER % expression, str(ASSETS / script)],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry(REPO, AS_OF)


def cert_element(registry: Registry, number: str) -> Tag:
    page = pages.render_page(registry.get(number), registry)
    found = BeautifulSoup(page.content, "html.parser").select_one(".sm-cert")
    assert isinstance(found, Tag)
    return found


def attrs_of(element: Tag) -> dict[str, str]:
    """The data attributes freshness.js reads, as starmarkVerdict takes them."""
    names = {
        "verdict": "verdict",
        "status": "status",
        "expires": "expires",
        "nextSurveillance": "next-surveillance",
        "graceDays": "grace-days",
        "asOf": "as-of",
        "staleDays": "stale-days",
    }
    return {key: str(element.get(f"data-{attr}", "")) for key, attr in names.items()}


def tree(node: Tag) -> dict[str, Any]:
    children: list[Any] = []
    for child in node.children:
        if isinstance(child, Tag):
            children.append(tree(child))
        elif isinstance(child, NavigableString) and type(child) is NavigableString:
            children.append(str(child))
    attrs = {k: " ".join(v) if isinstance(v, list) else str(v) for k, v in node.attrs.items()}
    return {"tag": node.name, "attrs": attrs, "children": children}


def test_node_tests_pass_on_pages_rendered_from_the_template(
    registry: Registry, tmp_path: Path
) -> None:
    valid = next(
        c
        for c in registry.certificates
        if registry.standing(c).verdict == "valid"
        and registry.standing(c).next_surveillance
        and not registry.standing(c).surveillance_overdue
    )
    suspended = next(
        c for c in registry.certificates if registry.standing(c).verdict == "suspended"
    )
    trees = {
        "valid": tree(cert_element(registry, valid.number)),
        "suspended": tree(cert_element(registry, suspended.number)),
    }
    (tmp_path / "trees.json").write_text(json.dumps(trees, ensure_ascii=False), "utf-8")
    done = subprocess.run(
        [str(NODE), "--test", str(REPO / "tests" / "js" / "freshness.test.mjs")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "STARMARK_PAGE_TREES": str(tmp_path / "trees.json")},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout


def _days(registry: Registry) -> list[dt.date]:
    days = {
        AS_OF + dt.timedelta(days=n) for n in (0, 1, 7, 8, 30, 90, 200, 365, 500, 800, 1200, 2000)
    }
    grace = dt.timedelta(days=registry.settings.lifecycle.surveillance_grace_days)
    for cert in registry.certificates:
        for day in (cert.expires, registry.standing(cert).next_surveillance):
            if day:
                days |= {
                    day,
                    day + dt.timedelta(days=1),
                    day + grace,
                    day + grace + dt.timedelta(days=1),
                }
    return sorted(d for d in days if d >= AS_OF)


def test_the_page_agrees_with_the_generator_on_every_day(registry: Registry) -> None:
    """What the page says in the viewer's future is what a build on that day would say."""
    cases, expected = [], []
    stale_after = registry.settings.stale_after_days
    for cert in registry.certificates:
        attrs = attrs_of(cert_element(registry, cert.number))
        assert attrs["asOf"] == AS_OF.isoformat()
        for day in _days(registry):
            later = standing(cert, registry.settings, day)
            cases.append({"attrs": attrs, "now": day.isoformat()})
            expected.append(
                {
                    "number": cert.number,
                    "day": day.isoformat(),
                    "verdict": later.verdict,
                    "overdue": later.surveillance_overdue,
                    "stale": (day - AS_OF).days > stale_after,
                }
            )
    answers = run_js("freshness.js", "api.starmarkVerdict(c.attrs, c.now)", cases)
    wrong = [
        (e, {k: a[k] for k in ("verdict", "overdue", "stale")})
        for e, a in zip(expected, answers, strict=True)
        if (e["verdict"], e["overdue"], e["stale"]) != (a["verdict"], a["overdue"], a["stale"])
    ]
    assert not wrong, wrong[:5]
    assert {e["verdict"] for e in expected} >= {"valid", "expired", "suspended"}
    assert any(e["overdue"] for e in expected)


def test_the_page_carries_every_attribute_freshness_reads(registry: Registry) -> None:
    source = (ASSETS / "freshness.js").read_text("utf-8")
    read = set(re.findall(r"get\('([a-z-]+)'\)", source))
    element = cert_element(registry, "ASC-2025-000123")
    missing = {name for name in read if not element.has_attr(f"data-{name}")}
    assert not missing
    # Every switch the script can make has both sides on a valid page.
    for name in ("expired", "overdue", "stale"):
        assert element.select(f'[data-sm-show="{name}"]'), f"nothing to show when {name}"
    for name in ("expired", "stale"):
        assert element.select(f'[data-sm-hide="{name}"]'), f"nothing to hide when {name}"


def test_the_404_pattern_means_the_same_in_javascript(registry: Registry) -> None:
    pattern = registry.settings.number.pattern
    js = notfound.js_pattern(pattern)
    assert js is not None
    samples = [
        "ASC-2025-000123",
        "ASC-2025-00123",
        "asc-2025-000123",
        "ASC-2025-0001234",
        "ASC-2025-000123\n",
        "XASC-2025-000123",
        "ASC2025-00123",
        "",
    ]
    cases = [{"pattern": js, "s": s} for s in samples]
    answers = run_js("notfound.js", "new RegExp(c.pattern).test(c.s)", cases)
    assert answers == [re.fullmatch(pattern, s) is not None for s in samples]
