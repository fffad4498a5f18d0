"""On device, a drawing is read from its strokes too and the two readings fused, as the server does:
each drawing of tests/fixtures/strokes/page-digits.json drawn with the mouse and read in the browser
with the server's API cut off, then read by the server from the picture and strokes the page sends
for it, when On device is switched off. The browser gets the very model the server runs (a
test-only redirect to ?variant=served, as in test_page.py), so the answers agree to rounding.
Debian's Chromium through Playwright; a screenshot goes to reports/screenshots/."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from tests.api.test_page_ondevice import on_device_offline
from tests.api.test_page_strokes import FIXTURE, PREDICT, draw
from tests.helpers.browser import opened_page, screenshot

pytestmark = pytest.mark.browser

DRAWINGS: dict[str, list] = json.loads(FIXTURE.read_text())
API, MODEL_FILE = "**/api/v1/**", "**/api/v1/model/file"
STROKE_MODEL_FILE = "/api/v1/model/strokes/file"  # the digit stroke model (the characters' is another)
SOURCES = re.compile(r"Picture (\d) \(.+\), strokes (\d) \(")


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[tuple[object, list[str]]]:
    """The page (On device off: no model loaded yet), and everything that went wrong in it."""
    with opened_page(browser, f"{live_server}/") as opened:
        yield opened


def shown(page: object) -> dict:
    """The answer on the result panel: the digit, its probability (the bar keeps two decimals of a
    per cent) and the digits #sources says the picture and the strokes read."""
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)  # type: ignore[attr-defined]
    digit = int(page.locator("#result-digit").inner_text())  # type: ignore[attr-defined]
    widths = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#probabilities .bar-fill", "els => els.map(e => parseFloat(e.style.width) / 100)"
    )
    said = SOURCES.match(page.locator("#sources").inner_text())  # type: ignore[attr-defined]
    assert said, page.locator("#sources").inner_text()  # type: ignore[attr-defined]
    return {"digit": digit, "confidence": widths[digit], "image": int(said[1]), "strokes": int(said[2])}


def test_drawings_read_on_device_get_the_servers_fused_answers(page: tuple[object, list[str]]) -> None:
    page, problems = page
    page.route(MODEL_FILE, lambda route: route.continue_(url=route.request.url + "?variant=served"))
    for name, strokes in DRAWINGS.items():
        page.click("#clear")
        asked = on_device_offline(page)
        draw(page, strokes, dx=40)
        mine = shown(page)
        assert page.locator("#latency").inner_text().startswith("On device") and asked == [], name
        if name == "4":  # two strokes
            screenshot(page, "on-device-strokes.png")

        # The same drawing, its picture and strokes sent by the page, read by the server.
        page.unroute(API)
        with page.expect_response(lambda r: PREDICT in r.url and r.request.method == "POST") as response:
            page.uncheck("#on-device")
        sent, served = json.loads(response.value.request.post_data), response.value.json()
        assert sent["image"].startswith("data:image/png") and len(sent["strokes"]) == len(strokes), name
        sources = served["sources"]
        theirs = {
            "digit": served["digit"],
            "image": sources["image"]["digit"],
            "strokes": sources["strokes"]["digit"],
        }
        assert {k: mine[k] for k in theirs} == theirs, name
        assert sources["fused"]["digit"] == served["digit"] and sources["image_sent"] is True, name
        assert abs(mine["confidence"] - served["confidence"]) <= 1e-3, (name, mine, served["confidence"])
        assert shown(page)["confidence"] == pytest.approx(served["confidence"], abs=1e-4)  # its bars, read so
    assert problems == []


def test_without_a_stroke_model_on_device_reads_the_picture_alone(page: tuple[object, list[str]]) -> None:
    """A server that names no stroke model with its model file (as one without one): the page asks
    for none, and reads the picture alone, saying so as that server would (STROKES_UNREAD)."""
    page, problems = page

    def unnamed(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        headers = {k: v for k, v in response.headers.items() if k != "x-stroke-model"}
        route.fulfill(response=response, headers=headers)  # type: ignore[attr-defined]

    page.route(MODEL_FILE, unnamed)
    asked: list[str] = []
    page.on("request", lambda r: r.url.endswith(STROKE_MODEL_FILE) and asked.append(r.url))
    on_device_offline(page)
    draw(page, DRAWINGS["7"], dx=40)
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)
    assert page.locator("#result-digit").inner_text() == "7"
    said = page.locator("#sources").inner_text()
    assert said == "Picture only: the service has no stroke model for this charset", said
    assert asked == [] and problems == []
