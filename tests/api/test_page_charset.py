"""The page's character sets: the "Read" menu (digits, letters, letters and digits, other scripts' digits),
sent as ?charset= on /api/v1/predict; letters drawn on the pad, read as letters, or as "not a digit" in
digits mode; Arabic-Indic digits read by the script model; and the parts that read fewer charsets
(whole numbers read digits, on device no other scripts), which say so. Debian's Chromium through
Playwright, against the session's real server (tests/conftest.py). Reading letters needs the character
model (charnet): without it those tests skip, or fail in CI. Screenshots go to reports/screenshots/."""

from __future__ import annotations

import itertools
import json
import math
import re
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.helpers.browser import Stroke, missing, screenshot, touch

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PREDICT = "/api/v1/predict"
EMPTY = "\N{EN DASH}"  # a bar label, and the answer, while there is none

Point = tuple[float, float]


# ---- the server and the browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def letters_served(live_server: str) -> None:
    """The server reads letters: it has a character model (it answers 422 charset_unavailable without)."""
    body = json.dumps(
        {"pixels": [[255 if 8 <= x <= 20 and 8 <= y <= 20 else 0 for x in range(28)] for y in range(28)]}
    )
    request = urllib.request.Request(
        f"{live_server}{PREDICT}?charset=letters", body.encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30):
            return
    except urllib.error.HTTPError as err:
        code = json.load(err).get("error", {}).get("code")
        if code != "charset_unavailable":
            raise
    missing("the server has no character model (src/rthdr/models/charnet.int8.onnx): letters cannot be read")


class Page:
    """The page in a fresh browser context, with what went wrong in it and every /predict URL asked."""

    def __init__(self, browser: object, base: str, **options: object) -> None:
        self.context = browser.new_context(**({"viewport": DESKTOP} | options))  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.asked: list[str] = []
        page = self.page
        page.on("console", lambda m: m.type == "error" and self.problems.append(m.text))
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        # An AbortController cancelling a superseded request is by design, not a failure.
        page.on(
            "requestfailed",
            lambda r: r.failure != "net::ERR_ABORTED" and self.problems.append(f"{r.url} {r.failure}"),
        )
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"{r.status} {r.url}"))
        page.on("request", lambda r: r.method == "POST" and "/api/v1/" in r.url and self.asked.append(r.url))
        page.goto(f"{base}/")
        page.wait_for_selector("html[data-ready=true]")


@pytest.fixture
def desktop(browser: object, live_server: str) -> Iterator[Page]:
    opened = Page(browser, live_server)
    yield opened
    opened.context.close()


@pytest.fixture
def phone(browser: object, live_server: str) -> Iterator[Page]:
    opened = Page(browser, live_server, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True)
    yield opened
    opened.context.close()


# ---- drawing ------------------------------------------------------------------------------------


def line(start: Point, end: Point, n: int = 12) -> Stroke:
    return [
        (start[0] + (end[0] - start[0]) * i / n, start[1] + (end[1] - start[1]) * i / n) for i in range(n + 1)
    ]


def path(*corners: Point) -> Stroke:
    """One stroke through the corners, in straight lines."""
    points = [corners[0]]
    for start, end in itertools.pairwise(corners):
        points += line(start, end)[1:]
    return points


# Capitals as a person draws them, large on the 280 x 280 pad: one list of strokes each. (An L and a Z
# drawn so are read as a 1 or a 2 even among letters, "not a letter": the shapes are a digit's too.)
LETTERS: dict[str, list[Stroke]] = {
    "A": [path((85, 245), (140, 35), (195, 245)), line((108, 165), (172, 165))],
    "H": [line((85, 40), (85, 240)), line((195, 40), (195, 240)), line((85, 140), (195, 140))],
    "N": [path((85, 240), (85, 40), (195, 240), (195, 40))],
    "T": [line((65, 50), (215, 50)), line((140, 50), (140, 240))],
    "X": [line((80, 45), (200, 240)), line((200, 45), (80, 240))],
}


def one() -> Stroke:
    return line((140, 45), (140, 235), 20)


def draw(page: object, points: Stroke) -> None:
    """Real pointer events along `points`, in the pad's logical pixels (280 high in either mode)."""
    box = page.locator("#canvas").bounding_box()
    scale = box["height"] / 280

    def at(p: Point) -> Point:
        return box["x"] + p[0] * scale, box["y"] + p[1] * scale

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(point), steps=2)
    page.mouse.up()


def draw_letter(page: object, letter: str, stroke: object = draw) -> dict:
    """The letter's strokes on a clear pad, each waited for as a person would see its answer; the
    /predict answer the page shows at the end: the one to the request after the last stroke (those
    made mid-stroke say X-Review: skip, and their answers are dropped)."""
    if stroke is draw:
        page.click("#clear")
    else:
        page.tap("#clear")
    for points in LETTERS[letter]:
        with page.expect_response(final_answer) as response:
            stroke(page, points)  # type: ignore[operator]
        wait_result(page)
    return response.value.json()


def final_answer(response: object) -> bool:
    """The answer to a /predict request made once a stroke has ended (not mid-stroke)."""
    request = response.request  # type: ignore[attr-defined]
    return PREDICT in request.url and request.method == "POST" and request.headers.get("x-review") != "skip"


def wait_result(page: object) -> None:
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)


def bars(page: object) -> list[tuple[str, str]]:
    """The chart's rows as (label, value) pairs."""
    return page.eval_on_selector_all(
        "#probabilities .bar",
        "rows => rows.map(r => [r.querySelector('.bar-label').textContent, r.querySelector('.bar-value').textContent])",
    )


def top_bar(page: object) -> str:
    top = page.locator("#probabilities .bar.is-top")
    assert top.count() == 1
    return top.locator(".bar-label").inner_text()


def choose(page: object, charset: str) -> None:
    page.select_option("#charset", charset)
    assert page.get_attribute("body", "data-charset") == charset


def no_horizontal_scroll(page: object) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow} px of horizontal scroll"


# ---- the tests ----------------------------------------------------------------------------------


def test_digits_by_default(desktop: Page) -> None:
    page = desktop.page
    menu = page.get_by_label("Read", exact=True)
    assert menu.count() == 1 and menu.evaluate("e => e.id") == "charset"
    assert page.input_value("#charset") == "digits"
    options = page.eval_on_selector_all("#charset option", "os => os.map(o => [o.value, o.textContent])")
    assert options[:3] == [
        ["digits", "Digits"],
        ["letters", "Letters"],
        ["alphanumeric", "Letters and digits"],
    ]
    assert [value for value, _ in options[3:]] == ["devanagari", "arabic-indic", "persian"]
    assert not page.locator("#charset-note").is_visible()  # nothing to say about digits
    assert page.locator("#mode-digit").inner_text() == "One digit"
    assert page.locator("#status").inner_text() == "Draw a digit"
    assert len(bars(page)) == 10

    draw(page, one())
    wait_result(page)
    assert re.fullmatch(r"\d", page.locator("#result-digit").inner_text())
    assert page.get_attribute("#result-digit", "aria-label") == "Predicted digit"
    assert [label for label, _ in bars(page)] == [str(d) for d in range(10)]
    assert top_bar(page) == page.locator("#result-digit").inner_text()
    assert page.locator("#probabilities-title").inner_text().lower() == "probabilities"
    # Digits are the server's default: the URL is what it was before charsets.
    assert desktop.asked and all(url.endswith(PREDICT) for url in desktop.asked), desktop.asked
    assert desktop.problems == []


def test_choosing_letters_asks_for_letters(desktop: Page, letters_served: None) -> None:
    page = desktop.page
    choose(page, "letters")
    assert page.locator("#status").inner_text() == "Draw a letter"
    assert page.locator("#mode-digit").inner_text() == "One letter"
    assert page.locator("#charset-note").inner_text().startswith("Capitals, and a b d e f g h n q r t")
    assert page.get_attribute("#canvas", "aria-label").startswith("Drawing area: draw one letter")
    assert [label for label, _ in bars(page)] == [EMPTY] * 5  # five rows waiting for candidates

    answer = draw_letter(page, "A")
    assert desktop.asked and all(url.endswith(f"{PREDICT}?charset=letters") for url in desktop.asked)
    assert answer["charset"] == "letters" and answer["probabilities"] is None
    shown = bars(page)
    assert len(shown) == 5
    assert [label for label, _ in shown] == [c["character"] for c in answer["candidates"]]
    assert all(re.fullmatch(r"[A-Za-z]", label) for label, _ in shown)
    assert all(re.fullmatch(r"\d+(\.\d)? %", value) for _, value in shown)
    assert top_bar(page) == shown[0][0] == page.locator("#result-digit").inner_text() == answer["character"]
    assert page.locator("#probabilities-title").inner_text().lower() == "five likeliest"
    assert page.get_attribute("#result-digit", "aria-label") == "Predicted letter"
    assert page.locator("#status").inner_text().startswith(f"Predicted {answer['character']}, ")

    # "Show why" keeps the charset in the URL, beside explain.
    with page.expect_request(lambda r: PREDICT in r.url) as request:
        page.check("#explain")
    assert request.value.url.endswith(f"{PREDICT}?explain=true&charset=letters")
    wait_result(page)
    assert page.locator("#explanation").is_visible()
    assert desktop.problems == []


@pytest.mark.parametrize("letter", list(LETTERS))
def test_a_letter_in_letters_mode_is_that_letter(desktop: Page, letters_served: None, letter: str) -> None:
    page = desktop.page
    choose(page, "letters")
    answer = draw_letter(page, letter)
    assert answer["character"] == letter, answer["candidates"]
    assert answer["reason"] in (None, "low_confidence"), (
        answer
    )  # read as a letter, not as "a 1, not a letter"
    assert page.locator("#result-digit").inner_text() == letter
    assert re.fullmatch(r"\d+(\.\d)? % confidence", page.locator("#result-confidence").inner_text())
    if letter == "A":
        screenshot(page, "charset-letters.png")
    assert desktop.problems == []


def test_a_letter_in_digits_mode_is_not_a_digit(desktop: Page, letters_served: None) -> None:
    page = desktop.page
    answer = draw_letter(page, "A")
    assert answer["charset"] == "digits" and answer["reason"] == "not_a_digit", answer
    uncertain = page.locator("#uncertain")
    assert uncertain.is_visible()
    assert "not a digit" in uncertain.inner_text()
    if answer["looks_like"]:
        assert f"This looks like the letter {answer['looks_like']}, not a digit." in uncertain.inner_text()
    # Marked uncertain: the warning colours on the answer, and said to screen readers.
    warn, plain = page.evaluate(
        """() => [getComputedStyle(document.getElementById("result-digit")).backgroundColor,
                  getComputedStyle(document.getElementById("uncertain")).backgroundColor]"""
    )
    assert warn == plain
    status = page.locator("#status").inner_text()
    assert status.startswith(f"Predicted {answer['digit']}, ") and ", uncertain: " in status
    assert status.endswith("not a digit")
    assert len(bars(page)) == 10  # still a digit answer: its ten probabilities
    screenshot(page, "charset-not-digit.png")
    assert desktop.problems == []


def test_letters_on_a_phone(phone: Page, letters_served: None) -> None:
    page = phone.page
    choose(page, "letters")
    draw_letter(page, "A", touch)
    assert page.locator("#result-digit").inner_text() == "A"
    assert len(bars(page)) == 5
    no_horizontal_scroll(page)
    screenshot(page, "charset-letters-phone.png")
    with page.expect_response(final_answer):
        choose(page, "digits")  # the same drawing, read again as a digit
    wait_result(page)
    assert (
        page.locator("#uncertain").is_visible() and "not a digit" in page.locator("#uncertain").inner_text()
    )
    no_horizontal_scroll(page)
    screenshot(page, "charset-not-digit-phone.png")
    assert phone.problems == []


def test_without_a_character_model_the_server_says_so(desktop: Page) -> None:
    """The server's 422 for letters it cannot read (faked here, so this runs with or without
    charnet): its message on the panel, no answer, and digits still work."""
    page = desktop.page
    message = "there is no character model (charnet: the service's RTHDR_CHARACTER_MODEL) for charset=letters; use charset=digits."
    page.route(
        lambda url: "charset=letters" in url,
        lambda route: route.fulfill(
            status=422,
            content_type="application/json",
            body=json.dumps({"error": {"code": "charset_unavailable", "message": message}}),
        ),
    )
    choose(page, "letters")
    draw(page, LETTERS["N"][0])
    page.wait_for_selector("#result[data-state=error]", timeout=15_000)
    assert page.locator("#status").inner_text() == f"Letters are not available on this server: {message}"
    assert page.locator("#result-digit").inner_text() == EMPTY
    assert not page.locator("#uncertain").is_visible()
    assert [label for label, _ in bars(page)] == [EMPTY] * 5

    choose(page, "digits")  # the same drawing, read as a digit
    wait_result(page)
    assert re.fullmatch(r"\d", page.locator("#result-digit").inner_text())
    assert len(bars(page)) == 10
    assert [p for p in desktop.problems if "422" not in p] == []


def test_numbers_read_digits_and_other_scripts_stay_on_the_server(desktop: Page) -> None:
    page = desktop.page
    page.wait_for_selector("html[data-on-device=off]", timeout=60_000)
    choose(page, "alphanumeric")
    assert page.locator("#mode-digit").inner_text() == "One character"
    assert page.locator("#status").inner_text() == "Draw a letter or digit"
    # On device reads letters too (where the server sends its character model, which it says with
    # the digit model), but never other scripts' digits: the switch is off for those, and says why.
    assert page.is_enabled("#on-device")
    choose(page, "devanagari")
    assert page.is_disabled("#on-device")
    assert page.locator("#on-device-note").inner_text() == "Other scripts' digits are read on the server."
    choose(page, "alphanumeric")

    # Whole numbers are digits: the menu says so, and /recognize is asked without a charset.
    page.click("#mode-number")
    assert page.is_disabled("#charset") and page.input_value("#charset") == "digits"
    assert page.locator("#charset-note").inner_text() == "Whole numbers are read as digits."
    with page.expect_request(lambda r: "/api/v1/recognize" in r.url) as request:
        draw(page, line((150, 45), (150, 235), 20))
    assert request.value.url.endswith("/api/v1/recognize")
    page.wait_for_selector("#result[data-state=result]", timeout=15_000)

    # Back to one character: the choice is still there, and remembered across a reload.
    page.click("#mode-digit")
    assert page.is_enabled("#charset") and page.input_value("#charset") == "alphanumeric"
    page.reload()
    page.wait_for_selector("html[data-ready=true]")
    assert page.input_value("#charset") == "alphanumeric"
    assert page.get_attribute("body", "data-charset") == "alphanumeric"
    choose(page, "digits")
    page.wait_for_selector("html[data-on-device=off]", timeout=60_000)
    assert page.is_enabled("#on-device")
    assert page.locator("#on-device-note").inner_text().startswith("Runs the model in this browser")
    assert desktop.problems == []


def test_on_device_answers_look_like_the_servers(desktop: Page) -> None:
    """The in-browser model's answer has the server's charset fields, so the panel treats both alike."""
    page = desktop.page
    page.wait_for_selector("html[data-on-device=off]", timeout=60_000)
    page.check("#on-device")
    page.wait_for_selector("html[data-on-device=ready]", timeout=60_000)
    draw(page, one())
    page.wait_for_function("document.getElementById('latency').textContent.startsWith('On device')")
    answer = page.evaluate(
        """async () => {
            const { predictCanvas } = await import("/static/ondevice.js");
            return predictCanvas(document.getElementById("canvas"));
        }"""
    )
    assert answer["charset"] == "digits" and answer["character"] == str(answer["digit"])
    assert answer["looks_like"] is None  # a clear 1: the character model agrees it is a digit, and which
    assert answer["reason"] == ("low_confidence" if answer["uncertain"] else None)
    candidates = answer["candidates"]
    assert len(candidates) == 5 and candidates[0]["character"] == answer["character"]
    probabilities = [c["probability"] for c in candidates]
    assert probabilities == sorted(probabilities, reverse=True)
    assert math.isclose(probabilities[0], answer["confidence"])
    assert len(bars(page)) == 10
    # Other scripts' digits go to the server, even with "On device" on (one without scriptnet
    # answers 422).
    with page.expect_request(lambda r: r.url.endswith(f"{PREDICT}?charset=devanagari")):
        choose(page, "devanagari")
    assert page.is_disabled("#on-device")
    assert [p for p in desktop.problems if "422" not in p] == []


# Arabic-Indic digits drawn as people draw them: a one is a stroke down, a seven a V, an eight a V upside down.
ARABIC_INDIC: dict[str, list[Stroke]] = {
    "١": [one()],
    "٧": [path((80, 50), (140, 240), (200, 50))],
    "٨": [path((80, 240), (140, 50), (200, 240))],
}


@pytest.fixture(scope="module")
def scripts_served(live_server: str) -> None:
    """The server reads other scripts' digits: it has a script model (else 422 charset_unavailable)."""
    request = urllib.request.Request(
        f"{live_server}{PREDICT}?charset=arabic-indic",
        json.dumps(
            {"pixels": [[255 if 12 <= x <= 15 else 0 for x in range(28)] for _ in range(28)]}
        ).encode(),
        {"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30):
            return
    except urllib.error.HTTPError as err:
        if json.load(err).get("error", {}).get("code") != "charset_unavailable":
            raise
    missing(
        "the server has no script model (src/rthdr/models/scriptnet.int8.onnx): other scripts cannot be read"
    )


@pytest.mark.parametrize("digit", list(ARABIC_INDIC))
def test_an_arabic_indic_digit_is_read_by_the_script_model(
    desktop: Page, scripts_served: None, digit: str
) -> None:
    page = desktop.page
    choose(page, "arabic-indic")
    assert page.locator("#status").inner_text() == "Draw an Arabic-Indic digit, \u0660 to \u0669"
    assert page.locator("#charset-note").inner_text().startswith("Learned from printed fonts only")
    page.click("#clear")
    for points in ARABIC_INDIC[digit]:
        with page.expect_response(final_answer) as response:
            draw(page, points)
        wait_result(page)
    answer = response.value.json()
    assert answer["charset"] == "arabic-indic" and answer["model"]["name"].startswith("scriptnet")
    assert answer["character"] == digit, answer["candidates"]
    assert answer["digit"] == "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669".index(digit)
    assert page.locator("#result-digit").inner_text() == digit
    assert [label for label, _ in bars(page)] == [c["character"] for c in answer["candidates"]]
    assert desktop.asked and all(url.endswith(f"{PREDICT}?charset=arabic-indic") for url in desktop.asked)
    if digit == "٧":
        screenshot(page, "charset-arabic-indic.png")
    assert desktop.problems == []
