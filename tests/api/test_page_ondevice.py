"""On device, the page reads uploaded pictures itself: the browser decodes the file, runs the server's
preprocessing ported to JavaScript (static/preprocess.js) and the model, with the server's API cut
off. Debian's Chromium through Playwright, against the session's real server (tests/conftest.py).
Screenshots go to reports/screenshots/."""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.helpers.browser import missing, opened_page, screenshot
from tests.helpers.images import data_url_pixels
from tests.helpers.paths import ROOT

GOLDEN = ROOT / "tests" / "fixtures" / "golden"
EXPECTED: dict[str, dict] = json.loads((GOLDEN / "expected.json").read_text())
# Pictures people upload (photos and files of every format), not the drawing pad's canvases.
UPLOADS = [name for name, e in EXPECTED.items() if "digit" in e and name.startswith(("photo-", "upload-"))]
PHOTO = "photo-2-shadow.jpg"
ONE_LEVEL = 1 / 255

# In the page: the file through the page's own decoding and preprocessing, as on-device mode reads it.
READ_IN_THE_PAGE = """async ([name, bytes]) => {
    const { decodeFile } = await import("/static/decode.js");
    const { toModelInput } = await import("/static/preprocess.js");
    const { grey, scale } = await decodeFile(new File([new Uint8Array(bytes)], name));
    const read = toModelInput(grey);
    return { input: Array.from(read.input), region: read.square.map((v) => v * scale) };
}"""


def floats(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), np.float32)


@pytest.fixture
def page(browser: object, live_server: str) -> Iterator[tuple[object, list[str]]]:
    """The page, and everything that went wrong in it: console errors, exceptions, failed requests."""
    with opened_page(browser, f"{live_server}/") as opened:
        yield opened


def on_device_offline(page: object) -> list[str]:
    """On device on (runtime and model loaded), then the server's API cut off; returns the list
    that records any request still made to it."""
    page.wait_for_selector("html[data-on-device=off]", timeout=60_000)
    page.check("#on-device")
    page.wait_for_selector("html[data-on-device=ready]", timeout=60_000)
    asked: list[str] = []
    page.on("request", lambda r: "/api/v1/" in r.url and asked.append(r.url))
    page.route("**/api/v1/**", lambda route: route.abort())
    return asked


@pytest.mark.browser
def test_an_uploaded_photo_is_read_without_the_server(
    page: tuple[object, list[str]], live_server: str
) -> None:
    page, problems = page
    expected = EXPECTED[PHOTO]
    photo = GOLDEN / "inputs" / PHOTO
    asked = on_device_offline(page)
    page.set_input_files("#file-input", str(photo))
    page.wait_for_selector("#result[data-state=result]", timeout=10_000)
    assert page.locator("#result-digit").inner_text() == str(expected["digit"])
    assert page.locator("#latency").inner_text().startswith("On device")
    assert page.locator("#on-device-note").inner_text().startswith("Drawings are read in this browser")
    screenshot(page, "on-device-photo.png")

    # The 28 x 28 input the page shows is the server's, to a grey level ...
    request = urllib.request.Request(
        f"{live_server}/api/v1/predict", photo.read_bytes(), {"Content-Type": "image/jpeg"}
    )
    with urllib.request.urlopen(request) as response:  # from here, not the browser: its API is cut off
        served = json.load(response)
    shown = data_url_pixels(page.get_attribute("#preprocessed", "src"))
    assert np.abs(shown - data_url_pixels(served["preprocessed"])).max() <= 1
    # ... and so is the float input itself, read by the page's own code.
    mine = page.evaluate(READ_IN_THE_PAGE, [PHOTO, list(photo.read_bytes())])
    assert np.abs(np.array(mine["input"]) - floats(expected["model_input"])).max() <= ONE_LEVEL
    assert np.allclose(mine["region"], expected["region"])
    assert asked == [] and problems == []


@pytest.mark.browser
@pytest.mark.parametrize("name", UPLOADS)
def test_uploads_read_in_the_browser_as_on_the_server(page: tuple[object, list[str]], name: str) -> None:
    """Every golden upload through the browser's decoder (JPEG, WebP, GIF, transparent PNG ...) and
    the page's preprocessing: the model input within one grey level of the server's."""
    page, problems = page
    expected = EXPECTED[name]
    mine = page.evaluate(READ_IN_THE_PAGE, [name, list((GOLDEN / "inputs" / name).read_bytes())])
    difference = float(np.abs(np.array(mine["input"]) - floats(expected["model_input"])).max())
    print(f"{name}: max |browser - server| = {difference:.2e}")
    assert difference <= ONE_LEVEL
    assert np.allclose(mine["region"], expected["region"], atol=1.0)
    assert problems == []


@pytest.mark.browser
def test_a_file_the_browser_cannot_read_says_so(page: tuple[object, list[str]], tmp_path: Path) -> None:
    page, problems = page
    asked = on_device_offline(page)
    fake = tmp_path / "not-an-image.png"
    fake.write_text("just text")
    page.set_input_files("#file-input", str(fake))
    page.wait_for_selector("#result[data-state=error]", timeout=10_000)
    assert page.locator("#status").inner_text().startswith("This browser cannot read the file as an image")
    assert asked == []
    # The only complaint is the browser's about the preview it could not show, not the page's.
    assert all("not-an-image" not in p and "Uncaught" not in p for p in problems), problems


@pytest.mark.browser
def test_without_the_runtime_the_page_never_asks_for_it(browser: object, live_server: str) -> None:
    """A server without ONNX Runtime Web says so, and the page asks it for no file of it: no 404, no
    console error; the switch is off, disabled, and its tooltip says how to install the runtime."""
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    vendor: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"{r.status} {r.url}"))
    page.on("request", lambda r: "/vendor/ort/" in r.url and vendor.append(r.url))
    page.route(
        "**/api/v1/on-device",
        lambda route: route.fulfill(json={"available": False}),
    )
    try:
        page.goto(f"{live_server}/")
        page.wait_for_selector("html[data-on-device=unavailable]", timeout=10_000)
        assert page.is_disabled("#on-device") and not page.is_checked("#on-device")
        assert page.locator("#on-device-note").inner_text().startswith("Not available")
        assert "npm ci" in page.locator("label:has(#on-device)").get_attribute("title")
        assert vendor == [] and problems == []
    finally:
        context.close()


def test_the_server_says_whether_it_has_the_runtime(model_path: Path, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from rthdr.api.main import create_app
    from rthdr.api.settings import ORT_WEB_DIR, Settings

    with TestClient(create_app(Settings(model=model_path, ort_web_dir=tmp_path / "none"))) as client:
        assert client.get("/api/v1/on-device").json() == {"available": False}
        assert client.get("/vendor/ort/ort.wasm.min.mjs").status_code == 404
    if not (ORT_WEB_DIR / "ort.wasm.min.mjs").is_file():
        missing(f"ONNX Runtime Web is not in {ORT_WEB_DIR}: `npm ci` copies it there")
    with TestClient(create_app(Settings(model=model_path))) as client:  # the package's own copy
        assert client.get("/api/v1/on-device").json() == {"available": True}
        module = client.get("/vendor/ort/ort.wasm.min.mjs")
        assert module.status_code == 200 and "javascript" in module.headers["content-type"]


@pytest.mark.browser
def test_a_blank_upload_says_what_to_send_in_the_charsets_words(
    page: tuple[object, list[str]], tmp_path: Path
) -> None:
    page, _ = page
    page.select_option("#charset", "letters")
    asked = on_device_offline(page)
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    page.set_input_files("#file-input", str(blank))
    page.wait_for_selector("#result[data-state=error]", timeout=10_000)
    assert page.locator("#status").inner_text().endswith("Draw a letter, or photograph one.")
    assert asked == []
