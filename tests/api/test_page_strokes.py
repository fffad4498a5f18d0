"""The page sends the pen's strokes with the picture: a digit drawn with the mouse is read from both and
fused, the panel says what each source said, and "Whole number" groups the strokes into digits.

The ten digits below are drawn through the real page with the mouse; the strokes the page sends for
them are kept in tests/fixtures/strokes/page-digits.json (RTHDR_WRITE_FIXTURES=1 rewrites it), which
tests/evaluation/test_strokes.py measures the models on. Debian's Chromium through Playwright."""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Iterator

import pytest

from rthdr.core.strokes import MAX_STROKES
from tests.helpers.browser import Stroke, opened_page, screenshot
from tests.helpers.paths import ROOT

pytestmark = pytest.mark.browser

FIXTURE = ROOT / "tests" / "fixtures" / "strokes" / "page-digits.json"
PREDICT, RECOGNIZE = "/api/v1/predict", "/api/v1/recognize"


def ring(cx: float, cy: float, rx: float, ry: float, n: int = 28) -> Stroke:
    """From the top, counter-clockwise, back to the top: a 0 as most people draw it."""
    return [
        (cx - rx * math.sin(2 * math.pi * i / n), cy - ry * math.cos(2 * math.pi * i / n))
        for i in range(n + 1)
    ]


# Each digit as a person draws it on the 280 x 280 pad, in the usual stroke order: corners of
# straight runs (the drawing below fills them in).
DIGITS: dict[int, list[Stroke]] = {
    0: [ring(140, 140, 60, 95)],
    1: [[(130, 60), (150, 40), (150, 240)]],
    2: [[(90, 95), (110, 55), (150, 45), (185, 70), (185, 110), (95, 235), (200, 235)]],
    3: [[(90, 60), (140, 40), (185, 70), (140, 135), (190, 175), (160, 230), (90, 225)]],
    4: [[(140, 40), (80, 170), (200, 170)], [(165, 90), (165, 245)]],
    5: [[(195, 45), (105, 45), (98, 130), (160, 120), (195, 165), (170, 225), (95, 225)]],
    6: [[(185, 50), (120, 100), (95, 180), (130, 235), (180, 215), (180, 160), (105, 165)]],
    7: [[(75, 50), (205, 50), (120, 245)]],
    8: [[(180, 75), (140, 40), (100, 75), (180, 185), (140, 240), (100, 185), (180, 75)]],
    9: [[(185, 90), (140, 50), (95, 95), (140, 135), (185, 95), (185, 245)]],
}


def filled(corners: Stroke, step: float = 6) -> Stroke:
    """The corners joined by points every `step` pixels, as a mouse moving at a steady speed reports them."""
    points = [corners[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(corners):
        n = max(1, round(math.hypot(x1 - x0, y1 - y0) / step))
        points += [(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n) for i in range(1, n + 1)]
    return points


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[object]:
    with opened_page(browser, f"{live_server}/") as (opened, problems):
        yield opened
        assert problems == []


def draw(page: object, strokes: list[Stroke], dx: float = 0) -> None:
    """Each stroke with real mouse events, the pad's logical pixels mapped onto its box."""
    box = page.locator("#canvas").bounding_box()  # type: ignore[attr-defined]
    scale = box["height"] / 280
    for stroke in strokes:
        points = [(box["x"] + (x + dx) * scale, box["y"] + y * scale) for x, y in filled(stroke)]
        page.mouse.move(*points[0])  # type: ignore[attr-defined]
        page.mouse.down()  # type: ignore[attr-defined]
        for point in points[1:]:
            page.mouse.move(*point)  # type: ignore[attr-defined]
        page.mouse.up()  # type: ignore[attr-defined]


def final(path: str, strokes: int):
    """Matches the answer to the request made once all `strokes` are drawn (not a mid-stroke one, nor
    one about fewer strokes that was still on its way)."""

    def matches(response: object) -> bool:
        request = response.request  # type: ignore[attr-defined]
        if path not in request.url or request.method != "POST" or request.headers.get("x-review") == "skip":
            return False
        return len(json.loads(request.post_data).get("strokes", [])) == strokes

    return matches


def read(page: object, strokes: list[Stroke], path: str = PREDICT) -> tuple[dict, dict]:
    """Draw on a clear pad; the JSON body of the request made after the last stroke, and its answer."""
    page.click("#clear")  # type: ignore[attr-defined]
    with page.expect_response(final(path, len(strokes))) as response:  # type: ignore[attr-defined]
        draw(page, strokes)
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)  # type: ignore[attr-defined]
    return json.loads(response.value.request.post_data), response.value.json()


def test_a_drawn_digit_is_sent_with_its_strokes_and_both_sources_are_shown(page) -> None:
    body, answer = read(page, DIGITS[7])
    assert body["image"].startswith("data:image/png;base64,")
    (stroke,) = body["strokes"]
    assert len(stroke) > 20 and all(len(p) == 2 for p in stroke)
    sources = answer["sources"]
    assert sources["image_sent"] is True and sources["strokes"]["digit"] == 7 and answer["digit"] == 7
    said = page.locator("#sources")
    assert said.is_visible() and said.inner_text().startswith(f"Picture {sources['image']['digit']} (")
    assert ", strokes 7 (" in said.inner_text()
    screenshot(page, "strokes-fused.png")


def test_a_letter_drawn_in_letters_mode_is_read_from_both_sources(page) -> None:
    page.select_option("#charset", "letters")
    a = [[(80, 240), (140, 40), (200, 240)], [(105, 160), (175, 160)]]
    _, answer = read(page, a)
    sources = answer["sources"]
    assert answer["character"] == "A" and sources["strokes"]["character"] == "A", sources
    assert page.locator("#sources").inner_text().startswith(f"Picture {sources['image']['character']} (")
    screenshot(page, "strokes-letter.png")


def test_a_drawing_of_more_strokes_than_the_server_takes_is_read_from_its_picture(page) -> None:
    """A 1 of 70 dashes, over MAX_STROKES: the page sends the picture alone, not an error-bound request."""
    dashes = [[(140, 40 + 3 * i), (140, 42 + 3 * i)] for i in range(MAX_STROKES + 6)]
    page.click("#clear")
    with page.expect_response(final(PREDICT, 0)) as response:  # the first request without strokes
        draw(page, dashes)
    assert response.value.status == 200 and "strokes" not in json.loads(response.value.request.post_data)
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)
    assert page.locator("#result-digit").inner_text() == "1" and not page.locator("#sources").is_visible()


def test_another_scripts_digit_says_its_strokes_are_not_read(page) -> None:
    page.select_option("#charset", "devanagari")
    _, answer = read(page, DIGITS[1])
    assert answer["sources"]["strokes"] is None
    assert page.locator("#sources").inner_text() == "Picture only: no stroke model reads devanagari"


def test_the_ten_digits_drawn_with_the_mouse_are_read_and_kept_as_fixtures(page) -> None:
    sent: dict[str, list] = {}
    right = 0
    for digit, strokes in DIGITS.items():
        body, answer = read(page, strokes)
        sent[str(digit)] = body["strokes"]
        right += answer["digit"] == digit
    if os.environ.get("RTHDR_WRITE_FIXTURES"):
        FIXTURE.parent.mkdir(parents=True, exist_ok=True)
        FIXTURE.write_text(json.dumps(sent) + "\n")
    assert FIXTURE.is_file(), "run once with RTHDR_WRITE_FIXTURES=1 to keep the drawn strokes"
    assert sent == json.loads(FIXTURE.read_text()), "the page sends other strokes than the fixture holds"
    assert right >= 9, f"{right} of 10 digits drawn with the mouse read right"


def test_whole_number_mode_groups_the_strokes_into_digits(page) -> None:
    page.click("#mode-number")
    # the pad widens to 840 x 280: draw once it has
    page.wait_for_function(
        "() => { const r = document.querySelector('#canvas').getBoundingClientRect(); return r.width > 2.9 * r.height; }"
    )
    # 1, an open 4 in two strokes and a 7, each 100 pixels on from the last: the 4's bar touches the 7
    number = (
        [DIGITS[1][0]]
        + [[(x + 100, y) for x, y in s] for s in DIGITS[4]]
        + [[(x + 200, y) for x, y in DIGITS[7][0]]]
    )
    body, answer = read(page, number, RECOGNIZE)
    assert len(body["strokes"]) == 4 and answer["segmented_by"] == "strokes"
    assert answer["text"] == "147", answer["text"]
    assert page.locator("#number-text").inner_text() == "147"
    screenshot(page, "strokes-number.png")
