"""The browser tests' Chromium: one per test module, and a fresh page of the live server per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.helpers.browser import chromium


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched
