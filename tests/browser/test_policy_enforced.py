"""The Content-Security-Policy is enforced and the pages still work under it.

Every kind of page loads and runs its scripts without a single policy violation (the fixture
turns each ``securitypolicyviolation`` event into a console error, collected in
``page.problems``), and a script the policy does not allow is caught, so a violation would fail
these and every other browser test.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import OpenPage, Sample


def policy_of(page: Any) -> str:
    return str(page.get_attribute('meta[http-equiv="Content-Security-Policy"]', "content"))


@pytest.mark.parametrize("path", ["", "search/?q=ASC", "check/?q=ASC-2025-000123", "list/",
                                  "verify/", "404.html"])
def test_pages_run_under_their_policy_without_violations(open_page: OpenPage, path: str) -> None:
    page = open_page(path)
    assert "script-src 'self'" in policy_of(page)
    page.wait_for_timeout(300)  # deferred scripts have run
    assert [p for p in page.problems if "HTTP 404" not in p] == []


def test_certificate_pages_run_their_scripts_under_the_policy(
        open_page: OpenPage, samples: dict[str, Sample]) -> None:
    for sample in samples.values():
        page = open_page(sample.path)
        assert "'unsafe-inline'" not in policy_of(page).split("script-src", 1)[1]
        page.wait_for_timeout(200)
        assert page.problems == [], sample.path


def test_search_finds_a_certificate_under_the_policy(
        open_page: OpenPage, samples: dict[str, Sample]) -> None:
    cert = samples["valid"].cert
    page = open_page(f"search/?q={cert.number}")
    page.wait_for_selector(f"a[href*='{cert.number}']", timeout=10_000)
    assert page.problems == []


def test_a_script_the_policy_does_not_allow_is_a_violation(
        browser: Any, base_url: str, samples: dict[str, Sample]) -> None:
    """The page as built, with one inline handler and one inline script slipped in."""
    from conftest import CSP_LISTENER

    context = browser.new_context()
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: msg.type == "error" and errors.append(msg.text))
    url = base_url + samples["valid"].path

    def tamper(route: Any) -> None:
        body = route.fetch().text()
        body = body.replace("</body>", '<script>document.title="pwned"</script>'
                            '<img src="x.png" onerror="document.title=\'pwned\'"></body>')
        route.fulfill(body=body, content_type="text/html")

    page.route(url, tamper)
    page.goto(url)
    page.wait_for_timeout(300)
    assert page.title() != "pwned"
    assert len([e for e in errors if e.startswith("CSP violation: script-src")]) >= 2, errors
    context.close()
