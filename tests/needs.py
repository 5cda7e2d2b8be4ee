"""What a test needs from the machine: skipped (loudly) on a developer's machine without it,
a failure under CI (the ``CI`` environment variable set), where a skip would hide a broken setup.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    """True under CI, where every tool the tests use must be installed."""
    return bool(os.environ.get("CI"))


def needs(available: bool, what: str) -> pytest.MarkDecorator:
    """A mark for a test (or ``pytestmark``) that needs ``what``; ``available`` says if it is."""
    if not available and in_ci():
        pytest.fail(f"CI: {what} is missing: these tests cannot run", pytrace=False)
    return pytest.mark.skipif(not available, reason=f"{what} is missing — NOT RUN")


def skip_unless(available: bool, what: str) -> None:
    """Inside a test or fixture: go on if ``available``, else skip (fail under CI)."""
    if available:
        return
    if in_ci():
        pytest.fail(f"CI: {what} is missing", pytrace=False)
    pytest.skip(f"{what} is missing — NOT RUN")
