"""Browser tests of the page at /: the real server in a subprocess, Debian's Chromium through Playwright.

Set RTHDR_MODEL to test against another model than the shipped one; the digit checks that need a good
model (a "1" read as 1) only run against the shipped model. Screenshots go to reports/screenshots/."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import math
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rthdr.core.inference import DEFAULT_MODEL
from tests.helpers.browser import Stroke, missing, screenshot, touch
from tests.helpers.images import data_url_pixels, encode, render, write_number

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PREDICT = "**/api/v1/predict"
RECOGNIZE = "**/api/v1/recognize"
SERVER_LATENCY = r"Server \d+\.\d ms · round trip \d+ ms"
DEVICE_LATENCY = r"On device: \d+\.\d ms \(model \d+\.\d ms\)"
PEN = 20  # the pad's line width, in its logical pixels
PLACEHOLDER = "\N{EN DASH}"  # the digit shown while there is no answer


# ---- the server and the browser -----------------------------------------------------------------


@pytest.fixture(scope="module")
def model(model_path: Path) -> Path:
    if not model_path.is_file():
        missing(f"model {model_path} not found: train it or set RTHDR_MODEL")
    return model_path


@pytest.fixture(scope="module")
def shipped(model: Path) -> bool:
    """True when the tests run against the shipped model, good enough to read a drawn digit right."""
    return model.resolve() == DEFAULT_MODEL.resolve()


@pytest.fixture(scope="module")
def server(model: Path, live_server: str) -> str:
    """The session's real `rthdr serve` process (tests/conftest.py), which sends the production CSP:
    an inline script or style in the page would fail these tests."""
    return live_server


@dataclass
class Problems:
    """Everything that went wrong in the page: console errors, uncaught exceptions, failed requests."""

    console: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.console + self.exceptions + self.failed + self.statuses


def open_page(
    browser: object, base: str, before: Callable[[object], None] | None = None, **context_options: object
) -> tuple[object, Problems]:
    """A fresh context and page at `base`; `before(page)` runs before the page loads (routes)."""
    context = browser.new_context(**({"viewport": DESKTOP} | context_options))  # type: ignore[attr-defined]
    page = context.new_page()
    if before:
        before(page)
    problems = Problems()
    page.on("console", lambda m: m.type == "error" and problems.console.append(m.text))
    page.on("pageerror", lambda e: problems.exceptions.append(str(e)))
    # An AbortController cancelling a superseded request is by design, not a failure.
    page.on(
        "requestfailed",
        lambda r: r.failure != "net::ERR_ABORTED" and problems.failed.append(f"{r.url} {r.failure}"),
    )
    page.on("response", lambda r: r.status >= 400 and problems.statuses.append(f"{r.status} {r.url}"))
    page.goto(f"{base}/")
    page.wait_for_selector("html[data-ready=true]")
    return page, problems


@pytest.fixture
def desktop(browser: object, server: str) -> Iterator[tuple[object, Problems]]:
    page, problems = open_page(browser, server)
    yield page, problems
    page.context.close()


# ---- helpers ------------------------------------------------------------------------------------


def draw(page: object, points: list[tuple[float, float]], steps: int = 2) -> None:
    """Real pointer events along `points`, given in the pad's logical pixels: 280 x 280, or
    840 x 280 in number mode (the pad is 280 high in both)."""
    box = page.locator("#canvas").bounding_box()
    scale = box["height"] / 280

    def at(p: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + p[0] * scale, box["y"] + p[1] * scale

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*at(point), steps=steps)
    page.mouse.up()


def one() -> list[tuple[float, float]]:
    return [(140, 45 + 190 * i / 20) for i in range(21)]


def zero() -> list[tuple[float, float]]:
    return [(140 + 72 * math.sin(t), 140 - 92 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 48)]


def bar(start: tuple[float, float], end: tuple[float, float], n: int = 12) -> list[tuple[float, float]]:
    return [
        (start[0] + (end[0] - start[0]) * i / n, start[1] + (end[1] - start[1]) * i / n) for i in range(n + 1)
    ]


def ink(page: object) -> int:
    """Dark pixels on the pad's bitmap."""
    return page.evaluate(
        """() => {
            const c = document.getElementById("canvas");
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++;
            return n;
        }"""
    )


def wait_state(page: object, state: str) -> None:
    page.wait_for_selector(f"#result[data-state={state}]", timeout=10_000)


def wait_result(page: object) -> int:
    wait_state(page, "result")
    text = page.locator("#result-digit").inner_text()
    assert re.fullmatch(r"\d", text), text
    return int(text)


def assert_result_shown(page: object, digit: int, latency: str = SERVER_LATENCY) -> None:
    """Everything the result panel shows for an answer, consistent with `digit`."""
    assert re.fullmatch(r"\d+(\.\d)? % confidence", page.locator("#result-confidence").inner_text())
    assert page.locator("#probabilities .bar").count() == 10
    top = page.locator("#probabilities .bar.is-top")
    assert top.count() == 1 and top.get_attribute("data-digit") == str(digit)
    widths = page.eval_on_selector_all(
        "#probabilities .bar-fill", "els => els.map(e => parseFloat(e.style.width))"
    )
    assert max(widths) == widths[digit] and 99 <= sum(widths) <= 101
    preprocessed = page.locator("#preprocessed")
    assert preprocessed.is_visible()
    assert preprocessed.get_attribute("src").startswith("data:image/png;base64,")
    assert page.evaluate("document.getElementById('preprocessed').naturalWidth") == 28
    assert preprocessed.bounding_box()["width"] >= 100
    assert re.fullmatch(latency, page.locator("#latency").inner_text())
    assert page.locator("#status").inner_text().startswith(f"Predicted {digit}, ")


def assert_cleared(page: object) -> None:
    assert ink(page) == 0
    assert page.locator("#result").get_attribute("data-state") == "idle"
    assert page.locator("#result-digit").inner_text() == PLACEHOLDER
    assert page.locator("#status").inner_text() == "Draw a digit"
    assert page.locator("#probabilities .bar.is-top").count() == 0
    assert not page.locator("#preprocessed").is_visible()


def count_predictions(page: object) -> list[str]:
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and "/api/v1/predict" in r.url and sent.append(r.url))
    return sent


def png_data_url(pixels: np.ndarray) -> str:
    return "data:image/png;base64," + base64.b64encode(encode(pixels)).decode()


def fake_answer(digit: int, confidence: float, uncertain: bool = False, runner_up: int | None = None) -> str:
    """A /predict answer made up by the test, for states a real model will not produce on demand."""
    probabilities = [(1 - confidence) / 9] * 10
    if runner_up is not None:
        probabilities = [0.02] * 10
        probabilities[runner_up] = 1 - confidence - 0.16
    probabilities[digit] = confidence
    return json.dumps(
        {
            "digit": digit,
            "confidence": confidence,
            "probabilities": probabilities,
            "uncertain": uncertain,
            "preprocessed": png_data_url(np.zeros((28, 28), np.uint8)),
            "model": {"name": "fake", "version": "0"},
            "timing_ms": {"decode": 0.1, "preprocess": 0.2, "inference": 0.3, "total": 0.6},
        }
    )


def number_107() -> list[list[Stroke]]:
    """ "107" on the wide 840 x 280 pad, digits well apart: a 1, a 0 as an ellipse, a 7 in two strokes."""
    return [
        [[(150, 45 + 190 * i / 20) for i in range(21)]],
        [[(420 + 60 * math.sin(t), 140 - 92 * math.cos(t)) for t in np.linspace(0, 2 * math.pi, 48)]],
        [bar((590, 60), (730, 60)), bar((730, 60), (640, 240))],
    ]


def extent(strokes: list[Stroke]) -> tuple[float, float, float, float]:
    """[x0, y0, x1, y1] the ink of these strokes covers, in the pad's logical pixels."""
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    return min(xs) - PEN / 2, min(ys) - PEN / 2, max(xs) + PEN / 2, max(ys) + PEN / 2


def posted_area(strokes: list[Stroke], width: int = 280, height: int = 280) -> tuple[int, int, int, int]:
    """[x, y, w, h] of the pad the page posts for these strokes: the ink and a stroke's width of paper
    around it (canvas.js inkBounds), within the pad."""
    x0, y0, x1, y1 = extent(strokes)
    left, top = max(0, math.floor(x0 - PEN)), max(0, math.floor(y0 - PEN))
    return left, top, min(width, math.ceil(x1 + PEN)) - left, min(height, math.ceil(y1 + PEN)) - top


def marks(page: object, selector: str, picture: str, width: float, height: float) -> list[list[float]]:
    """The elements `selector` as the screen shows them, as [x, y, w, h] in a width x height frame laid
    over the content box of the element `picture` (the pad's logical pixels, an image's own)."""
    return page.evaluate(
        """([selector, picture, width, height]) => {
            const p = document.querySelector(picture);
            const frame = p.getBoundingClientRect();
            const sx = width / p.clientWidth, sy = height / p.clientHeight;
            const left = frame.left + p.clientLeft, top = frame.top + p.clientTop;
            return Array.from(document.querySelectorAll(selector), (e) => {
                const r = e.getBoundingClientRect();
                return [(r.left - left) * sx, (r.top - top) * sy, r.width * sx, r.height * sy];
            });
        }""",
        [selector, picture, width, height],
    )


def sent_picture_sizes(page: object) -> list[tuple[int, int]]:
    """Starts recording the (width, height) of every canvas PNG the page posts to the API."""
    sizes: list[tuple[int, int]] = []

    def record(request: object) -> None:
        if "/api/v1/" in request.url and request.method == "POST":
            png = base64.b64decode(json.loads(request.post_data)["image"].split(",", 1)[1])
            sizes.append(Image.open(io.BytesIO(png)).size)

    page.on("request", record)
    return sizes


def bar_values(page: object) -> list[float]:
    """The probabilities the bars show (their widths keep two decimals of a per cent)."""
    return page.eval_on_selector_all(
        "#probabilities .bar-fill", "els => els.map(e => parseFloat(e.style.width) / 100)"
    )


def wait_device(page: object, state: str) -> None:
    page.wait_for_selector(f"html[data-on-device={state}]", timeout=60_000)


# ---- the tests ----------------------------------------------------------------------------------


def test_page_loads_cleanly(desktop: tuple[object, Problems], server: str) -> None:
    page, problems = desktop
    page.wait_for_function("document.getElementById('model-info').textContent.startsWith('Model ')")
    with urllib.request.urlopen(f"{server}/api/v1/model") as response:
        card = json.load(response)
    footer = page.locator("#model-info").inner_text()
    assert card["name"] in footer and card["version"] in footer
    assert page.locator("footer a[href='/docs']").count() == 1
    assert page.locator("#probabilities .bar").count() == 10
    assert page.locator("#status").get_attribute("aria-live") == "polite"
    assert page.locator("#status").inner_text() == "Draw a digit"
    assert page.eval_on_selector("#canvas", "c => getComputedStyle(c).touchAction") == "none"
    # The page must work under CSP default-src 'self': nothing inline in the HTML.
    html = urllib.request.urlopen(f"{server}/").read().decode()
    assert "<style" not in html and "style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and not re.search(r"\son[a-z]+=", html)
    page.wait_for_load_state("networkidle")
    assert problems.all() == []


def test_drawing_shows_the_answer(desktop: tuple[object, Problems], shipped: bool) -> None:
    page, problems = desktop
    sent = count_predictions(page)
    started = time.monotonic()
    draw(page, one(), steps=4)  # 80 pointer moves
    stroke_s = time.monotonic() - started
    digit = wait_result(page)
    assert_result_shown(page, digit)
    # Debounced after the stroke and throttled during it: far fewer requests than pointer moves.
    assert 1 <= len(sent) <= 2 + stroke_s / 0.3, (len(sent), stroke_s)
    if shipped:
        assert digit == 1
    screenshot(page, "desktop-one.png")

    page.click("#clear")
    draw(page, zero())
    digit = wait_result(page)
    assert_result_shown(page, digit)
    if shipped:
        assert digit == 0
    screenshot(page, "desktop.png")
    assert problems.all() == []


def test_clear_and_undo(desktop: tuple[object, Problems]) -> None:
    page, problems = desktop
    draw(page, one())
    wait_result(page)
    one_ink = ink(page)
    assert one_ink > 1000
    draw(page, bar((80, 60), (200, 60)))
    wait_result(page)  # "result" means settled: nothing scheduled, nothing in flight
    assert ink(page) > one_ink

    sent = count_predictions(page)
    with page.expect_request(PREDICT):  # the remaining drawing is recognised again
        page.click("#undo")
    assert ink(page) == one_ink  # the last stroke went, the first is redrawn exactly
    wait_result(page)
    assert len(sent) == 1

    page.click("#undo")  # nothing left: back to the prompt, and no request for a blank pad
    assert_cleared(page)
    page.click("#undo")  # undo on an empty pad does nothing
    assert_cleared(page)
    page.wait_for_timeout(300)
    assert len(sent) == 1

    draw(page, one())
    wait_result(page)
    before = len(sent)
    page.click("#clear")
    assert_cleared(page)
    page.wait_for_timeout(300)
    assert len(sent) == before
    assert problems.all() == []


def test_upload_a_file(
    desktop: tuple[object, Problems], digit_samples: dict[int, np.ndarray], shipped: bool, tmp_path: Path
) -> None:
    page, problems = desktop
    path = tmp_path / "seven.png"
    path.write_bytes(encode(render(digit_samples[7])))
    with page.expect_request(PREDICT) as request:
        page.set_input_files("#file-input", str(path))
    assert request.value.headers["content-type"].startswith("multipart/form-data")
    digit = wait_result(page)
    assert_result_shown(page, digit)
    preview = page.locator("#upload-preview")
    assert preview.is_visible() and page.locator("#upload-name").inner_text() == "seven.png"
    assert page.evaluate("document.getElementById('upload-preview').naturalWidth") == 280
    if shipped:
        assert digit == 7
    screenshot(page, "upload.png")

    draw(page, one())  # drawing takes over from the upload
    wait_result(page)
    assert not preview.is_visible()
    assert problems.all() == []


@pytest.mark.parametrize("how", ["drop", "paste"])
def test_drop_and_paste(
    desktop: tuple[object, Problems], digit_samples: dict[int, np.ndarray], shipped: bool, how: str
) -> None:
    page, problems = desktop
    data = base64.b64encode(encode(render(digit_samples[3]))).decode()
    with page.expect_request(PREDICT):
        page.evaluate(
            """([data, how]) => {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], "three.png", { type: "image/png" }));
                const init = { bubbles: true, cancelable: true };
                if (how === "drop") {
                    const zone = document.getElementById("drop-zone");
                    zone.dispatchEvent(new DragEvent("dragenter", { ...init, dataTransfer: transfer }));
                    zone.dispatchEvent(new DragEvent("drop", { ...init, dataTransfer: transfer }));
                } else {
                    document.dispatchEvent(new ClipboardEvent("paste", { ...init, clipboardData: transfer }));
                }
            }""",
            [data, how],
        )
    digit = wait_result(page)
    assert_result_shown(page, digit)
    assert page.locator("#upload-preview").is_visible()
    assert "is-dragging" not in (page.locator("#drop-zone").get_attribute("class") or "")
    if shipped:
        assert digit == 3
    assert problems.all() == []


def test_unsupported_file_shows_the_error(desktop: tuple[object, Problems], tmp_path: Path) -> None:
    page, problems = desktop
    draw(page, one())
    wait_result(page)  # an earlier answer must not linger next to the error
    path = tmp_path / "notes.png"
    path.write_text("these are my shopping notes, not a picture\n")
    with page.expect_response(PREDICT) as response:
        page.set_input_files("#file-input", str(path))
    assert response.value.status == 422
    message = response.value.json()["error"]["message"]
    wait_state(page, "error")
    assert page.locator("#status").inner_text() == message
    assert page.locator("#result-digit").inner_text() == PLACEHOLDER
    assert page.locator("#probabilities .bar.is-top").count() == 0
    assert not page.locator("#preprocessed").is_visible()
    assert ink(page) == 0
    # No broken-image icon for a file the browser cannot show either, just its name.
    page.wait_for_selector("#upload-preview", state="hidden")
    assert page.locator("#upload-name").inner_text() == "notes.png (no preview)"
    screenshot(page, "error.png")

    draw(page, one())  # the page keeps working
    assert_result_shown(page, wait_result(page))
    # The only failures were the expected 422 and the browser's console line about it.
    assert [s.split()[0] for s in problems.statuses] == ["422"]
    assert problems.exceptions == [] and problems.failed == []
    assert all("422" in line for line in problems.console)


def test_too_large_file_shows_the_limit(desktop: tuple[object, Problems], tmp_path: Path) -> None:
    page, _ = desktop
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(11 * 1024 * 1024))  # over the default 10 MiB limit
    with page.expect_response(PREDICT) as response:
        page.set_input_files("#file-input", str(path))
    assert response.value.status == 413
    wait_state(page, "error")
    assert page.locator("#status").inner_text() == response.value.json()["error"]["message"]


def test_unreachable_server(desktop: tuple[object, Problems]) -> None:
    page, _ = desktop
    page.route(PREDICT, lambda route: route.abort("connectionrefused"))
    draw(page, one())
    wait_state(page, "error")
    assert page.locator("#status").inner_text().startswith("Can't reach the server.")
    page.unroute(PREDICT)
    draw(page, bar((100, 140), (180, 140)))
    wait_result(page)


def test_only_the_latest_answer_is_shown(desktop: tuple[object, Problems]) -> None:
    page, _ = desktop
    held: list[object] = []

    def answer(route: object) -> None:
        if not held:  # hold the first request back; answer the next one at once
            held.append(route)
        else:
            route.fulfill(status=200, content_type="application/json", body=fake_answer(5, 0.9))  # type: ignore[attr-defined]

    page.route(PREDICT, answer)
    with page.expect_request(PREDICT):
        draw(page, one())
    assert page.locator("#result").get_attribute("data-state") == "busy"
    draw(page, bar((100, 140), (180, 140)))
    assert wait_result(page) == 5
    # The stale answer arrives late (its request was aborted, so Playwright may refuse to send it).
    with contextlib.suppress(Exception):
        held[0].fulfill(status=200, content_type="application/json", body=fake_answer(3, 0.9))  # type: ignore[attr-defined]
    page.wait_for_timeout(300)
    assert page.locator("#result-digit").inner_text() == "5"


def test_uncertain_answer_says_so(desktop: tuple[object, Problems]) -> None:
    page, _ = desktop
    body = fake_answer(4, 0.52, uncertain=True, runner_up=9)
    page.route(PREDICT, lambda route: route.fulfill(status=200, content_type="application/json", body=body))
    draw(page, one())
    wait_result(page)
    uncertain = page.locator("#uncertain")
    assert uncertain.is_visible()
    assert "could also be a 9" in uncertain.inner_text()
    assert page.locator("#status").inner_text() == "Predicted 4, 52.0 % confidence, uncertain"
    screenshot(page, "uncertain.png")


def test_phone_layout_and_touch(browser: object, server: str) -> None:
    page, problems = open_page(
        browser, server, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        box = page.locator("#canvas").bounding_box()
        assert box["width"] >= 300  # the pad grows to the phone's width...
        assert page.eval_on_selector("#canvas", "c => c.width") == 280 * 3  # ...at the screen's density
        sent = sent_picture_sizes(page)  # ...but the server gets the drawing at its logical size
        # One column: the result comes below the drawing.
        pad = page.locator(".input-card").bounding_box()
        result = page.locator("#result").bounding_box()
        assert result["y"] >= pad["y"] + pad["height"]

        # A finger stroke, through the browser's touch input.
        cdp = page.context.new_cdp_session(page)
        points = [
            (box["x"] + box["width"] / 2, box["y"] + box["height"] * (0.15 + 0.7 * i / 20)) for i in range(21)
        ]
        for i, (x, y) in enumerate(points):
            kind = "touchStart" if i == 0 else "touchMove"
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": x, "y": y}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        assert_result_shown(page, wait_result(page))
        assert ink(page) > 0
        # Only the inked part of the pad: a stroke down the middle, with a stroke's width of paper around it.
        middle = [(140, 280 * (0.15 + 0.7 * i / 20)) for i in range(21)]
        assert sent and abs(np.subtract(sent[-1], posted_area([middle])[2:])).max() <= 2, sent

        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scroll"
        screenshot(page, "phone.png")
        assert problems.all() == []
    finally:
        page.context.close()


def test_keyboard(
    desktop: tuple[object, Problems], digit_samples: dict[int, np.ndarray], tmp_path: Path
) -> None:
    page, problems = desktop
    # Listen for the file picker from the start: Playwright turns on the interception without waiting
    # for the browser, so listening only just before the key press can miss it.
    choosers: list[object] = []
    page.on("filechooser", lambda chooser: choosers.append(chooser))
    reached = []
    for _ in range(15):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert {"undo", "clear", "choose-file"} <= set(reached), reached
    assert reached.index("undo") < reached.index("clear") < reached.index("choose-file")

    page.focus("#clear")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # keyboard focus: the ring must show
    assert page.evaluate("document.activeElement.id") == "clear"
    assert page.eval_on_selector("#clear", "b => getComputedStyle(b).outlineStyle") != "none"

    # Labelled controls.
    for selector in ("#canvas", "#file-input"):
        assert page.get_attribute(selector, "aria-label")
    for selector in ("#undo", "#clear", "#choose-file"):
        assert page.locator(selector).inner_text().strip()

    # Shortcuts: Ctrl+Z undoes, Escape clears.
    draw(page, one())
    draw(page, bar((100, 140), (180, 140)))
    single = ink(page)
    page.keyboard.press("Control+z")
    assert 0 < ink(page) < single
    page.keyboard.press("Escape")
    assert_cleared(page)

    # Enter on "Choose a file" opens the file picker.
    path = tmp_path / "two.png"
    path.write_bytes(encode(render(digit_samples[2])))
    page.focus("#choose-file")
    page.keyboard.press("Enter")
    deadline = time.monotonic() + 10
    while not choosers and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert choosers, "Enter on #choose-file did not open the file picker"
    choosers[0].set_files(str(path))  # type: ignore[attr-defined]
    wait_result(page)
    assert problems.all() == []


# ---- whole numbers ------------------------------------------------------------------------------


def test_number_mode_reads_a_written_number(desktop: tuple[object, Problems], shipped: bool) -> None:
    page, problems = desktop
    page.click("#mode-number")
    assert page.get_attribute("#mode-number", "aria-pressed") == "true"
    assert page.get_attribute("#mode-digit", "aria-pressed") == "false"
    assert page.locator("#status").inner_text() == "Write a number"
    pad = page.locator("#canvas").bounding_box()
    assert pad["width"] > 700 and abs(pad["width"] / pad["height"] - 3) < 0.02  # the wide pad
    assert page.eval_on_selector("#canvas", "c => [c.width, c.height]") == [840, 280]
    assert not page.locator("#probabilities").is_visible()  # one-digit details make no sense here
    sent: list[str] = []
    page.on("request", lambda r: r.method == "POST" and "/api/v1/" in r.url and sent.append(r.url))

    digits = number_107()
    for strokes in digits:
        for stroke in strokes:
            draw(page, stroke)
    wait_state(page, "result")
    text = page.locator("#number-text").inner_text()
    assert re.fullmatch(r"\d{3}", text), text
    if shipped:
        assert text == "107"
    assert sent and all(url.endswith("/api/v1/recognize") for url in sent), sent
    assert page.locator("#number-digits li").count() == 3
    assert page.locator("#status").inner_text().startswith(f"Read {text} (3 digits)")
    assert re.fullmatch(SERVER_LATENCY, page.locator("#latency").inner_text())

    # A box over each digit, where it was drawn, labelled with its digit and confidence.
    boxes = marks(page, "#pad-marks .digit-box", "#canvas", 840, 280)
    assert len(boxes) == 3
    for (x, y, w, h), strokes in zip(boxes, digits, strict=True):
        x0, y0, x1, y1 = extent(strokes)
        assert abs(x - x0) <= 15 and abs(x + w - x1) <= 15, ((x, w), (x0, x1))
        assert abs(y - y0) <= 15 and abs(y + h - y1) <= 15, ((y, h), (y0, y1))
    labels = page.locator("#pad-marks .digit-box-label").all_inner_texts()
    assert [label[0] for label in labels] == list(text)
    assert all(re.fullmatch(r"\d · \d+ %", label) for label in labels), labels
    screenshot(page, "number.png")

    # "Show why" in number mode: a heatmap over each digit.
    with page.expect_request(f"{RECOGNIZE}?explain=true"):
        page.check("#explain")
    wait_state(page, "result")
    assert page.locator("#pad-marks .heatmap").count() == 3
    assert page.locator("#pad-marks .digit-box").count() == 3
    screenshot(page, "number-why.png")

    page.click("#clear")
    assert ink(page) == 0 and page.locator("#pad-marks > *").count() == 0
    assert page.locator("#number-text").inner_text() == PLACEHOLDER
    assert page.locator("#status").inner_text() == "Write a number"

    # Back to one digit: the square pad and the one-digit answer, as before.
    page.click("#mode-digit")
    assert page.eval_on_selector("#canvas", "c => [c.width, c.height]") == [280, 280]
    assert page.locator("#status").inner_text() == "Draw a digit"
    draw(page, one())
    digit = wait_result(page)
    assert_result_shown(page, digit)
    assert page.locator("#pad-marks .digit-box").count() == 0
    assert problems.all() == []


def test_number_mode_upload(
    desktop: tuple[object, Problems], digit_samples: dict[int, np.ndarray], shipped: bool, tmp_path: Path
) -> None:
    page, problems = desktop
    page.click("#mode-number")
    image, lefts = write_number(digit_samples, "386")
    path = tmp_path / "number.png"
    path.write_bytes(encode(image))
    with page.expect_response(RECOGNIZE) as response:
        page.set_input_files("#file-input", str(path))
    assert response.value.request.headers["content-type"].startswith("multipart/form-data")
    answer = response.value.json()
    wait_state(page, "result")
    text = page.locator("#number-text").inner_text()
    assert re.fullmatch(r"\d{3}", text), text
    if shipped:
        assert text == "386"

    # The boxes go over the preview (once it has loaded), at the digits' places in the image.
    page.wait_for_function("document.querySelectorAll('#upload-marks .digit-box').length === 3")
    height, width = image.shape
    boxes = marks(page, "#upload-marks .digit-box", "#upload-preview", width, height)
    for mark, reading, left in zip(boxes, answer["digits"], lefts, strict=True):
        assert np.allclose(mark, reading["box"], atol=1), (mark, reading["box"])  # the answer's boxes ...
        assert abs(mark[0] - left) <= 4, (mark, left)  # ... where the digits are
        assert height / 4 <= mark[1] and mark[1] + mark[3] <= height * 3 / 4, mark
    assert page.locator("#upload-preview").bounding_box()["width"] > 150  # large enough to show them
    assert page.locator("#pad-marks > *").count() == 0
    screenshot(page, "upload-number.png")
    assert problems.all() == []


# ---- "Show why" ---------------------------------------------------------------------------------


def test_show_why_draws_the_heatmap_over_the_drawing(desktop: tuple[object, Problems]) -> None:
    page, problems = desktop
    assert not page.is_checked("#explain")  # off by default
    sent = count_predictions(page)
    draw(page, zero())
    wait_result(page)
    assert sent and not any("explain" in url for url in sent)
    assert page.locator("#pad-marks .heatmap").count() == 0 and not page.locator("#explanation").is_visible()

    # On: the drawing is read again with the heatmap, which goes over the drawing at the answer's region.
    with page.expect_response(f"{PREDICT}?explain=true") as response:
        page.check("#explain")
    answer = response.value.json()
    wait_result(page)
    [heatmap] = marks(page, "#pad-marks .heatmap", "#canvas", 280, 280)
    x, y, side = answer["region"]  # in the posted part of the pad, which starts here:
    left, top, _, _ = posted_area([zero()])
    assert np.allclose(heatmap, [left + x, top + y, side, side], atol=1.5), (heatmap, answer["region"])
    assert page.locator("#pad-marks .heatmap").is_visible()
    # ... and next to the model's input, as the server drew it.
    assert page.locator("#explanation").is_visible()
    assert page.get_attribute("#heatmap-preview", "src") == answer["heatmap"]["image"]
    screenshot(page, "why.png")

    # Every prediction carries it while the switch is on.
    with page.expect_request(f"{PREDICT}?explain=true"):
        draw(page, bar((110, 150), (170, 150)))
    wait_result(page)
    assert page.locator("#pad-marks .heatmap").count() == 1

    # Off: gone at once, without asking again, and the next request is a plain one.
    before = len(sent)
    page.uncheck("#explain")
    assert page.locator("#pad-marks .heatmap").count() == 0 and not page.locator("#explanation").is_visible()
    assert page.locator("#result").get_attribute("data-state") == "result"
    page.wait_for_timeout(300)
    assert len(sent) == before
    with page.expect_request(PREDICT):
        draw(page, bar((110, 120), (170, 120)))
    wait_result(page)
    assert page.locator("#pad-marks .heatmap").count() == 0
    assert problems.all() == []


# ---- on device ----------------------------------------------------------------------------------


def device_answer(page: object) -> tuple[int, float]:
    wait_state(page, "result")
    page.wait_for_function("document.getElementById('latency').textContent.startsWith('On device')")
    digit = wait_result(page)
    assert_result_shown(page, digit, latency=DEVICE_LATENCY)
    return digit, bar_values(page)[digit]


@pytest.mark.parametrize("variant", ["served", "best"])
def test_on_device_matches_the_server(browser: object, server: str, shipped: bool, variant: str) -> None:
    """The browser's preprocessing and model against the server's, on the same drawings. "served":
    the browser gets the very model the server runs (a test-only redirect to ?variant=served), so
    the answers must agree to rounding; "best": what the page loads by itself, the INT8 model (the
    served one, or one beside a float served model, which may differ by a little more)."""

    def served_model(page: object) -> None:
        page.route(
            "**/api/v1/model/file",
            lambda route: route.continue_(url=route.request.url + "?variant=served"),
        )

    page, problems = open_page(browser, server, served_model if variant == "served" else None)
    try:
        answers: list[object] = []
        page.on("response", lambda r: r.url.endswith("/api/v1/predict") and answers.append(r))
        wait_device(page, "off")
        assert page.is_enabled("#on-device") and not page.is_checked("#on-device")  # off by default

        # Server first, then the same drawing on device.
        draw(page, zero())
        wait_result(page)
        expected = answers[-1].json()
        # Both fuse the picture with the strokes the page sends (ondevice.js runs the stroke model too).
        with page.expect_response("**/api/v1/model/file*") as model_file:
            page.check("#on-device")
        wait_device(page, "ready")
        with urllib.request.urlopen(f"{server}/api/v1/model") as response:
            served_file = json.load(response)["name"] + ".onnx"
        downloaded = re.search(r'filename="?([^";]+)', model_file.value.headers["content-disposition"])
        same_model = downloaded is not None and downloaded.group(1) == served_file
        assert same_model or variant == "best"
        tolerance = 0.005 if same_model else 0.05  # the INT8 file, where the server runs a float one
        digit, confidence = device_answer(page)
        assert digit == expected["digit"]
        assert abs(confidence - expected["confidence"]) <= tolerance, (confidence, expected["confidence"])
        if shipped:
            assert digit == 0
        # The same 28 x 28 input: the browser's preprocessing is the server's.
        mine = data_url_pixels(page.get_attribute("#preprocessed", "src"))
        assert np.abs(mine - data_url_pixels(expected["preprocessed"])).max() <= 1
        if variant == "served":
            screenshot(page, "on-device.png")
            # "Show why" on device: the same Guided Grad-CAM map as the server's, over the same square.
            page.check("#explain")
            device_answer(page)
            [heatmap] = marks(page, "#pad-marks .heatmap", "#canvas", 280, 280)
            x, y, side = expected["region"]  # in the inked part of the pad, which starts here:
            left, top, _, _ = posted_area([zero()])
            expected_square = [left + x, top + y, side, side]
            assert np.allclose(heatmap, expected_square, atol=1.5), (heatmap, expected_square)
            assert page.locator("#explanation").is_visible()
            difference, methods = page.evaluate(
                """async () => {
                    const { predictCanvas } = await import("/static/ondevice.js");
                    const canvas = document.getElementById("canvas");
                    const mine = (await predictCanvas(canvas, { explain: true })).heatmap;
                    const response = await fetch("/api/v1/predict?explain=true", {
                        method: "POST",
                        headers: { "Content-Type": "application/json" },
                        body: JSON.stringify({ image: canvas.toDataURL("image/png") }),
                    });
                    const theirs = (await response.json()).heatmap;
                    const values = theirs.values.flat();
                    const difference = Math.max(...mine.values.flat().map((v, i) => Math.abs(v - values[i])));
                    return [difference, [mine.method, theirs.method]];
                }"""
            )
            assert methods == ["guided-grad-cam", "guided-grad-cam"], methods
            assert difference < 0.01, difference
            page.uncheck("#explain")

            # A small digit on the whole pad, which the server reads a second time at a finer scale: so
            # does the page's preprocessing (the page itself sends only the inked part).
            page.click("#clear")
            draw(page, [(120, 100), (105, 150), (160, 150)])
            draw(page, [(145, 110), (145, 180)])
            device_answer(page)
            mine, theirs = page.evaluate(
                """async () => {
                    const { predictCanvas } = await import("/static/ondevice.js");
                    const canvas = document.getElementById("canvas");
                    const response = await fetch("/api/v1/predict", {
                        method: "POST",
                        headers: { "Content-Type": "application/json" },
                        body: JSON.stringify({ image: canvas.toDataURL("image/png") }),
                    });
                    return [await predictCanvas(canvas), await response.json()];
                }"""
            )
            assert mine["digit"] == theirs["digit"]
            assert abs(mine["confidence"] - theirs["confidence"]) <= tolerance
            pixels = data_url_pixels(mine["preprocessed"])
            assert np.abs(pixels - data_url_pixels(theirs["preprocessed"])).max() <= 1

        # On device first, then the same drawing on the server.
        page.click("#clear")
        draw(page, bar((80, 60), (200, 60)))
        draw(page, bar((200, 60), (120, 240)))
        digit, confidence = device_answer(page)
        with page.expect_response(PREDICT) as response:
            page.uncheck("#on-device")
        expected = response.value.json()
        assert wait_result(page) == digit == expected["digit"]
        assert abs(confidence - expected["confidence"]) <= tolerance, (confidence, expected["confidence"])
        if shipped:
            assert digit == 7
        assert problems.all() == []
    finally:
        page.context.close()


def test_on_device_keeps_working_without_the_server(desktop: tuple[object, Problems], shipped: bool) -> None:
    page, problems = desktop
    wait_device(page, "off")
    page.check("#on-device")
    wait_device(page, "ready")  # the runtime and the model are loaded
    assert page.locator("#on-device-note").inner_text().startswith("Drawings are read in this browser")

    api: list[str] = []
    page.on("request", lambda r: "/api/v1/" in r.url and api.append(r.url))
    page.route("**/api/v1/**", lambda route: route.abort())
    page.click("#clear")
    draw(page, one())
    digit, _ = device_answer(page)
    if shipped:
        assert digit == 1
    assert page.locator("#status").inner_text().startswith(f"Predicted {digit}, ")
    assert api == []  # nothing asked of the server ...
    assert problems.all() == []  # ... and no error anywhere
    screenshot(page, "on-device-offline.png")

    # The cut is real: the server path now fails, and says so.
    page.uncheck("#on-device")
    wait_state(page, "error")
    assert page.locator("#status").inner_text().startswith("Can't reach the server.")


def test_on_device_heatmap_on_a_phone(browser: object, server: str) -> None:
    """On a 3x screen the in-browser model reads the same logical-size picture the server would, so
    its heatmap lands over the drawing, not three times too far and too big."""
    page, problems = open_page(
        browser, server, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        wait_device(page, "off")
        page.tap("#on-device")
        wait_device(page, "ready")
        page.tap("#explain")
        touch(page, zero())
        device_answer(page)
        [heatmap] = marks(page, "#pad-marks .heatmap", "#canvas", 280, 280)
        x0, y0, x1, y1 = extent([zero()])
        x, y, side, _ = heatmap  # the model's 28 x 28 view: the digit fills its middle 20 x 20
        assert x < x0 < x1 < x + side and y < y0 < y1 < y + side, (heatmap, (x0, y0, x1, y1))
        assert side < 1.6 * max(x1 - x0, y1 - y0), (side, (x0, y0, x1, y1))
        assert problems.all() == []
    finally:
        page.context.close()


def test_page_works_without_the_on_device_runtime(browser: object, server: str, shipped: bool) -> None:
    page, problems = open_page(
        browser, server, lambda p: p.route("**/vendor/ort/**", lambda route: route.fulfill(status=404))
    )
    try:
        wait_device(page, "unavailable")
        assert page.is_disabled("#on-device") and not page.is_checked("#on-device")
        assert page.locator("#on-device-note").inner_text().startswith("Not available")
        assert page.get_attribute("#on-device", "aria-describedby") == "on-device-note"

        draw(page, one())  # the server path is untouched
        digit = wait_result(page)
        assert_result_shown(page, digit)
        if shipped:
            assert digit == 1
        # The only failure is the runtime's missing file, and the browser's console line about it.
        assert len(problems.statuses) == 1 and problems.statuses[0].startswith("404 ")
        assert "/vendor/ort/" in problems.statuses[0]
        assert problems.exceptions == [] and problems.failed == []
        assert all("404" in line for line in problems.console)
        screenshot(page, "no-on-device.png")
    finally:
        page.context.close()


# ---- the controls: keyboard, labels, remembered -------------------------------------------------


def test_mode_and_switches_by_keyboard(desktop: tuple[object, Problems]) -> None:
    page, problems = desktop
    wait_device(page, "off")
    reached = []
    for _ in range(8):
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    order = ["mode-digit", "mode-number", "explain", "on-device", "undo"]
    assert all(name in reached for name in order), reached
    assert [reached.index(name) for name in order] == sorted(reached.index(name) for name in order)
    assert page.get_by_role("group", name="What to recognise").count() == 1
    assert page.get_by_role("switch", name="Show why").count() == 1
    assert page.get_by_role("switch", name="On device").count() == 1

    page.focus("#mode-digit")
    page.keyboard.press("Tab")  # keyboard focus: the ring must show
    assert page.evaluate("document.activeElement.id") == "mode-number"
    assert page.eval_on_selector("#mode-number", "b => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.get_attribute("body", "data-mode") == "number"
    assert page.get_attribute("#mode-number", "aria-pressed") == "true"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "explain"
    assert page.eval_on_selector("#explain", "b => getComputedStyle(b).outlineStyle") != "none"
    page.keyboard.press("Space")
    assert page.is_checked("#explain")
    # In number mode "On device" does not apply, and says so.
    assert page.is_disabled("#on-device")
    assert page.locator("#on-device-note").inner_text().startswith("Whole numbers are read on the server")

    page.reload()  # the choices are remembered
    page.wait_for_selector("html[data-ready=true]")
    assert page.get_attribute("body", "data-mode") == "number" and page.is_checked("#explain")
    assert page.eval_on_selector("#canvas", "c => c.width") == 840
    page.focus("#mode-digit")
    page.keyboard.press("Space")
    assert page.get_attribute("body", "data-mode") == "digit"
    wait_device(page, "off")
    assert page.is_enabled("#on-device")
    assert problems.all() == []


def test_phone_number_mode(browser: object, server: str, shipped: bool) -> None:
    page, problems = open_page(
        browser, server, viewport=PHONE, device_scale_factor=3, is_mobile=True, has_touch=True
    )
    try:
        page.tap("#mode-number")
        pad = page.locator("#canvas").bounding_box()
        assert 300 <= pad["width"] <= PHONE["width"] - 32  # the wide pad shrinks to the phone ...
        assert abs(pad["width"] / pad["height"] - 3) < 0.02  # ... keeping its shape
        assert page.eval_on_selector("#canvas", "c => c.width") == 840 * 3
        sent = sent_picture_sizes(page)
        digits = number_107()
        for strokes in digits:
            for stroke in strokes:
                touch(page, stroke)
        wait_state(page, "result")
        text = page.locator("#number-text").inner_text()
        assert re.fullmatch(r"\d{3}", text), text
        if shipped:
            assert text == "107"
        # The inked part of the pad at its logical size: a fraction of the screen's 2520 x 840 bitmap.
        drawn = posted_area([stroke for strokes in digits for stroke in strokes], 840, 280)
        assert sent and abs(np.subtract(sent[-1], drawn[2:])).max() <= 2, (sent, drawn)
        boxes = marks(page, "#pad-marks .digit-box", "#canvas", 840, 280)
        for (x, _, w, _), strokes in zip(boxes, digits, strict=True):
            x0, _, x1, _ = extent(strokes)
            assert abs(x - x0) <= 15 and abs(x + w - x1) <= 15, ((x, w), (x0, x1))
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{overflow} px of horizontal scroll"
        screenshot(page, "phone-number.png")
        assert problems.all() == []
    finally:
        page.context.close()
