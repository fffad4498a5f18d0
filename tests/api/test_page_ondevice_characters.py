"""On device, the character model checks digits and reads letters in the browser, as the server does:
a letter drawn in digits mode is "not a digit" and names the letter it looks like, and one drawn in
letters mode is that letter, read from its strokes too and fused as the server fuses them, with the
server's API cut off; then the same picture and strokes read by the server give the same answer. The browser gets the very models the server runs (a test-only
redirect to ?variant=served, as in test_page.py). Debian's Chromium through Playwright; screenshots
go to reports/screenshots/."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator

import numpy as np
import pytest

from rthdr.core.inference import DEFAULT_CHARACTER_STROKE_MODEL, StrokeClassifier
from rthdr.core.strokes import render
from rthdr.data import hershey
from tests.api.test_page_charset import LETTERS, bars, choose, letters_served  # noqa: F401 (a fixture)
from tests.api.test_page_ondevice import on_device_offline
from tests.api.test_page_strokes import PREDICT, draw
from tests.helpers.browser import opened_page, screenshot
from tests.helpers.images import encode

# Letters need the server's character model: without it these skip, or fail in CI (letters_served).
pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("letters_served")]

API = "**/api/v1/**"
MODEL_FILES = ("**/api/v1/model/file", "**/api/v1/model/characters/file")

# In the page: the picture the page sent the server, read on device as the page read it, and explained.
READ_ON_DEVICE = """async ([url, strokes, charset]) => {
    const { predictCanvas } = await import("/static/ondevice.js");
    const picture = new Image();
    picture.src = url;
    await picture.decode();
    const canvas = document.createElement("canvas");
    [canvas.width, canvas.height] = [picture.width, picture.height];
    canvas.getContext("2d").drawImage(picture, 0, 0);
    return predictCanvas(canvas, { strokes, charset, explain: true });
}"""


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[tuple[object, list[str]]]:
    """The page with the served models' files (On device off: none loaded yet), and what went wrong."""

    def served_files(page: object) -> None:
        for url in MODEL_FILES:
            page.route(url, lambda route: route.continue_(url=route.request.url + "?variant=served"))  # type: ignore[attr-defined]

    with opened_page(browser, f"{live_server}/", served_files) as opened:
        yield opened


def offline_answer(page: object, letter: str) -> tuple[dict, list[str]]:
    """The letter drawn and read on device with the API cut off: the answer on the panel (the
    character, and its probability as its bar shows it, to two decimals of a per cent), and the
    requests made to the API (none)."""
    asked = on_device_offline(page)
    page.click("#clear")  # type: ignore[attr-defined]
    draw(page, LETTERS[letter])
    page.wait_for_selector("#result[data-state=result]", timeout=30_000)  # type: ignore[attr-defined]
    assert page.locator("#latency").inner_text().startswith("On device")  # type: ignore[attr-defined]
    top = page.locator("#probabilities .bar.is-top .bar-fill")  # type: ignore[attr-defined]
    character = page.locator("#result-digit").inner_text()  # type: ignore[attr-defined]
    return {"character": character, "confidence": top.evaluate("e => parseFloat(e.style.width) / 100")}, asked


def predicted(response: object) -> bool:
    request = response.request  # type: ignore[attr-defined]
    return PREDICT in request.url and request.method == "POST"


def compared_with_the_server(page: object, live_server: str, charset: str, shown: dict) -> tuple[dict, dict]:
    """On device switched off: the page's request to the server, its picture and strokes read on
    device again (the answer `shown` on the panel), and what the server says of them: the server reads
    the picture and strokes the page sent, fusing them as the page did (in digits with the digit
    stroke model, in letters with the character stroke model). In letters the server is asked for its
    heatmap too, which must be the page's."""
    page.unroute(API)  # type: ignore[attr-defined]
    with page.expect_response(predicted) as response:  # type: ignore[attr-defined]
        page.uncheck("#on-device")  # type: ignore[attr-defined]
    sent, served = json.loads(response.value.request.post_data), response.value.json()
    mine = page.evaluate(READ_ON_DEVICE, [sent["image"], sent["strokes"], charset])  # type: ignore[attr-defined]
    assert mine["character"] == shown["character"] and abs(mine["confidence"] - shown["confidence"]) <= 1e-4
    if charset != "digits":
        request = urllib.request.Request(
            f"{live_server}{PREDICT}?charset={charset}&explain=true",
            json.dumps({"image": sent["image"], "strokes": sent["strokes"]}).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            served = json.load(answer)
        theirs, ours = (np.array(answer["heatmap"]["values"]) for answer in (served, mine))
        assert mine["heatmap"]["method"] == served["heatmap"]["method"] == "guided-grad-cam"
        # The page's model input is the server's to within a grey level, and guided gradients follow
        # such differences: noise of half a grey level moves a map's largest value by 0.03 at the
        # median (0.12 at the 95th percentile) on the server itself. Measured here: "A" 5e-5, "H"
        # 0.035 at most, 0.0017 on average.
        difference = np.abs(ours - theirs)
        assert difference.max() < 0.15 and difference.mean() < 0.01, (difference.max(), difference.mean())
    for key in ("charset", "character", "digit", "reason", "looks_like", "uncertain"):
        assert mine[key] == served[key], (key, mine, served)
    assert abs(mine["confidence"] - served["confidence"]) <= 1e-3, (mine["confidence"], served["confidence"])
    return mine, served


def test_a_letter_in_digits_mode_is_not_a_digit_on_device(
    page: tuple[object, list[str]], live_server: str
) -> None:
    page, problems = page
    shown, asked = offline_answer(page, "A")
    assert page.locator("#result-confidence").inner_text() == "Not a digit"
    uncertain = page.locator("#uncertain")
    assert uncertain.is_visible() and "This looks like the letter A, not a digit." in uncertain.inner_text()
    assert page.locator("#status").inner_text().endswith("this looks like the letter A, not a digit")
    assert len(bars(page)) == 10 and asked == []  # still a digit answer: its ten probabilities
    screenshot(page, "on-device-not-a-digit.png")

    mine, served = compared_with_the_server(page, live_server, "digits", shown)
    assert served["reason"] == "not_a_digit" and served["looks_like"] == "A"
    assert mine["sources"]["fused"]["digit"] == served["sources"]["fused"]["digit"]
    assert problems == []


def test_in_digits_a_pen_drawn_letter_is_checked_from_its_strokes_on_device_too(
    page: tuple[object, list[str]], live_server: str, corpus_fonts: None
) -> None:
    """A Q in Hershey's scriptc, its picture and strokes: the picture alone passes for a digit, the
    strokes make it "not a digit" (CHECK_IMAGE_WEIGHT), in the browser as on the server."""
    page, problems = page
    on_device_offline(page)
    page.unroute(API)  # the explainer graph loads when first asked for
    strokes = [[[float(x), float(y)] for x, y in s] for s in hershey.load("scriptc")["Q"].strokes]
    picture = render([np.array(s) for s in strokes])
    url = "data:image/png;base64," + base64.b64encode(encode(picture)).decode()
    mine = page.evaluate(READ_ON_DEVICE, [url, strokes, "digits"])
    request = urllib.request.Request(
        f"{live_server}{PREDICT}", json.dumps({"image": url, "strokes": strokes}).encode(),
        {"Content-Type": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as answer:
        served = json.load(answer)
    assert served["reason"] == "not_a_digit" and served["looks_like"] == "Q", served
    for key in ("digit", "reason", "looks_like", "uncertain"):
        assert mine[key] == served[key], (key, mine, served)
    assert problems == []


@pytest.mark.parametrize("letter", ["A", "H"])
def test_a_letter_in_letters_mode_is_that_letter_on_device(
    page: tuple[object, list[str]], live_server: str, letter: str
) -> None:
    page, problems = page
    choose(page, "letters")
    shown, asked = offline_answer(page, letter)
    assert shown["character"] == letter
    assert page.get_attribute("#result-digit", "aria-label") == "Predicted letter"
    assert page.locator("#on-device-note").inner_text().startswith("Drawings are read in this browser")
    assert "charnet" in page.locator("#on-device-note").inner_text()  # the model that answers
    chart = bars(page)
    assert len(chart) == 5 and chart[0][0] == letter and asked == []
    if letter == "A":
        screenshot(page, "on-device-letters.png")

    mine, served = compared_with_the_server(page, live_server, "letters", shown)
    assert served["character"] == letter and mine["probabilities"] is None
    # read from the strokes too and fused, as on the server: each source said what the server's said
    ours, theirs = mine["sources"], served["sources"]
    assert theirs["strokes"] is not None and theirs["fused"]["character"] == letter, theirs
    for source in ("image", "strokes", "fused"):
        assert ours[source]["character"] == theirs[source]["character"], (source, ours, theirs)
        assert ours[source]["digit"] == theirs[source]["digit"] is None, (source, ours, theirs)
        assert abs(ours[source]["confidence"] - theirs[source]["confidence"]) <= 1e-3, (source, ours, theirs)
    assert ours["image_weight"] == theirs["image_weight"] and ours["image_sent"] == theirs["image_sent"]
    assert [label for label, _ in chart] == [c["character"] for c in mine["candidates"]]
    assert problems == []


def test_without_a_character_model_letters_stay_on_the_server(page: tuple[object, list[str]]) -> None:
    """A server that names no character model with its model file (as one without one): the page asks
    for none, its digits go unchecked, as that server's, and letters are read on the server."""
    page, problems = page

    def unnamed(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        headers = {k: v for k, v in response.headers.items() if k != "x-character-model"}
        route.fulfill(response=response, headers=headers)  # type: ignore[attr-defined]

    page.unroute(MODEL_FILES[0])
    page.route(MODEL_FILES[0], unnamed)
    asked: list[str] = []
    page.on("request", lambda r: "/characters/" in r.url and asked.append(r.url))
    page.wait_for_selector("html[data-on-device=off]", timeout=60_000)
    page.check("#on-device")
    page.wait_for_selector("html[data-on-device=ready]", timeout=60_000)
    draw(page, LETTERS["A"])
    page.wait_for_selector("#result[data-state=result]", timeout=30_000)
    assert page.locator("#latency").inner_text().startswith("On device")
    assert page.locator("#result-confidence").inner_text().endswith("% confidence")  # not "Not a digit"
    with page.expect_request(lambda r: r.url.endswith(f"{PREDICT}?charset=letters")):
        choose(page, "letters")
    assert page.is_disabled("#on-device") and page.is_checked("#on-device")
    note = page.locator("#on-device-note").inner_text()
    assert note == "Letters are read on the server. On device reads digits only."
    assert asked == [] and problems == []


def test_alphanumeric_is_fused_on_device_as_on_the_server(
    page: tuple[object, list[str]], live_server: str
) -> None:
    """Alphanumeric fuses with the strokes' weight of its own: the card's, not letters'."""
    page, problems = page
    choose(page, "alphanumeric")
    shown, asked = offline_answer(page, "H")
    assert asked == []
    mine, served = compared_with_the_server(page, live_server, "alphanumeric", shown)
    ours, theirs = mine["sources"], served["sources"]
    card = StrokeClassifier(DEFAULT_CHARACTER_STROKE_MODEL)
    weight = card.fusion_in("alphanumeric")[0]
    assert weight != card.fusion_in("letters")[0]
    assert theirs["strokes"] is not None and ours["image_weight"] == theirs["image_weight"] == weight
    for source in ("image", "strokes", "fused"):
        assert ours[source]["character"] == theirs[source]["character"], (source, ours, theirs)
        assert abs(ours[source]["confidence"] - theirs[source]["confidence"]) <= 1e-3, (source, ours, theirs)
    assert problems == []
