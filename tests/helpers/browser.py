"""Debian's Chromium through Playwright, for the browser tests: launching it, and listening for what
goes wrong in a page (console errors, uncaught exceptions, failed requests, error statuses)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers.paths import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "reports" / "screenshots"


def missing(message: str) -> None:
    """Missing prerequisites fail in CI and skip elsewhere, as the MNIST fixture does."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium for the duration of the block."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} not found: `make system` installs Debian's chromium")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def listen_for_problems(page: object) -> list[str]:
    """Starts collecting what goes wrong in `page`; the list grows as it happens. An aborted request
    (superseded by a newer one, or a HEAD probe) is by design, not a failure."""
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))  # type: ignore[attr-defined]
    page.on("pageerror", lambda e: problems.append(str(e)))  # type: ignore[attr-defined]
    page.on(  # type: ignore[attr-defined]
        "requestfailed", lambda r: r.failure != "net::ERR_ABORTED" and problems.append(f"{r.url} {r.failure}")
    )
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))  # type: ignore[attr-defined]
    return problems


@contextmanager
def opened_page(
    browser: object, url: str, before: Callable[[object], None] | None = None
) -> Iterator[tuple[object, list[str]]]:
    """A page of its own at `url`, once the page says it is ready, and what goes wrong in it
    (listen_for_problems); `before(page)` runs first, to route its requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    problems = listen_for_problems(page)
    if before is not None:
        before(page)
    page.goto(url)
    page.wait_for_selector("html[data-ready=true]")
    try:
        yield page, problems
    finally:
        context.close()


def screenshot(page: object, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


Stroke = list[tuple[float, float]]  # points in the pad's logical pixels (280 x 280)


def touch(page: object, points: Stroke) -> None:
    """A finger stroke through the browser's touch input, `points` in the pad's logical pixels."""
    box = page.locator("#canvas").bounding_box()
    scale = box["height"] / 280
    cdp = page.context.new_cdp_session(page)
    for i, (x, y) in enumerate(points):
        point = {"x": box["x"] + x * scale, "y": box["y"] + y * scale}
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove" if i else "touchStart", "touchPoints": [point]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()
