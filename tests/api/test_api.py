"""REST API v1 against the real app and the shipped model: every input kind, every error."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from rthdr.core.inference import DEFAULT_ONE_DIGIT_CHECK
from tests.helpers.images import encode, render

PREDICT = "/api/v1/predict"


def data_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64," + base64.b64encode(data).decode()


def upload(client, data: bytes, name: str = "digit.png", mime: str = "image/png"):
    return client.post(PREDICT, files={"image": (name, data, mime)})


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code and body["error"]["message"]


def assert_still_serving(client, digit_samples) -> None:
    response = upload(client, encode(render(digit_samples[2])))
    assert response.status_code == 200 and response.json()["digit"] == 2


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_upload_formats(client, digit_samples, fmt: str) -> None:
    for digit in (0, 3, 7):
        response = upload(client, encode(render(digit_samples[digit]), fmt), f"d.{fmt.lower()}")
        assert response.status_code == 200, response.text
        assert response.json()["digit"] == digit


def test_answer_has_the_documented_shape(client, digit_samples, classifier) -> None:
    body = upload(client, encode(render(digit_samples[4]))).json()
    assert body["digit"] == 4 and 0.7 <= body["confidence"] <= 1 and body["uncertain"] is False
    assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-4
    assert body["confidence"] == max(body["probabilities"])
    assert body["model"] == {"name": classifier.name, "version": classifier.version}
    assert set(body["timing_ms"]) == {"decode", "preprocess", "inference", "total"}
    assert body["timing_ms"]["total"] >= body["timing_ms"]["inference"] > 0
    preview = Image.open(io.BytesIO(base64.b64decode(body["preprocessed"].split(",", 1)[1])))
    assert preview.size == (28, 28)


def test_canvas_data_url_with_transparent_background(client, digit_samples) -> None:
    """A canvas never painted white exports transparent pixels: they must read as paper, not ink."""
    ink = render(digit_samples[9], dark_on_light=False)  # ink intensity
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = ink  # black ink, opacity = ink; background fully transparent
    response = client.post(PREDICT, json={"image": data_url(encode(rgba))})
    assert response.status_code == 200 and response.json()["digit"] == 9


def test_pixels_json(client, mnist_test) -> None:
    images, labels = mnist_test
    for index in range(5):
        response = client.post(PREDICT, json={"pixels": images[index].tolist()})
        assert response.status_code == 200 and response.json()["digit"] == labels[index]


def test_raw_image_body(client, digit_samples) -> None:
    response = client.post(
        PREDICT, content=encode(render(digit_samples[6])), headers={"content-type": "image/png"}
    )
    assert response.status_code == 200 and response.json()["digit"] == 6


def test_real_world_variations(client, digit_samples) -> None:
    digit = digit_samples[8]
    light_on_dark = render(digit, dark_on_light=False)
    tiny_off_centre = render(digit, size=900, box=(40, 700, 90, 90))
    coloured = np.stack([render(digit)] * 3, -1).astype(np.float32)
    coloured = (coloured * [0.9, 0.85, 0.6] + [0, 0, 60] * (1 - coloured / 255)).clip(0, 255).astype(np.uint8)
    huge = Image.fromarray(render(digit)).resize((3000, 3000), Image.BICUBIC)
    rotated = Image.fromarray(render(digit)).rotate(90, expand=True)  # stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... with the EXIF flag that turns it upright
    cases = {
        "light on dark": encode(light_on_dark),
        "tiny, off centre": encode(tiny_off_centre),
        "coloured ink and paper": encode(coloured, "JPEG", quality=70),
        "huge photo": encode(huge, "JPEG"),
        "EXIF rotated": encode(rotated, "JPEG", exif=exif.tobytes()),
        "28x28": encode(digit),
    }
    for name, data in cases.items():
        response = upload(client, data)
        assert response.status_code == 200, f"{name}: {response.text}"
        assert response.json()["digit"] == 8, name


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"content": b"", "headers": {"content-type": "application/json"}}, 422, "invalid_request"),
        ({"files": {"image": ("d.png", b"", "image/png")}}, 422, "empty_image"),
        ({"files": {"image": ("d.png", b"hello, not an image", "image/png")}}, 422, "invalid_image"),
        (
            {"files": {"image": ("d.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml")}},
            415,
            "unsupported_media_type",
        ),
        ({"files": {"other": ("d.png", b"x", "image/png")}}, 422, "missing_image"),
        ({"content": b"abc", "headers": {"content-type": "text/plain"}}, 415, "unsupported_media_type"),
        ({"content": b"abc"}, 415, "unsupported_media_type"),
        ({"json": {"image": 12}}, 422, "invalid_request"),
        ({"json": {"image": "data:image/png;base64,@@@"}}, 422, "invalid_base64"),
        ({"json": {"image": "data:image/png,rawtext"}}, 422, "invalid_data_url"),
        ({"json": {}}, 422, "invalid_request"),
        ({"json": {"image": "aGk=", "pixels": [[0] * 28] * 28}}, 422, "invalid_request"),
        ({"json": {"pixels": [[0] * 28] * 27}}, 422, "invalid_request"),
        ({"json": {"pixels": [[0] * 27] * 28}}, 422, "invalid_request"),
        ({"json": {"pixels": [[300] * 28] * 28}}, 422, "invalid_request"),
        ({"json": {"pixels": [["a"] * 28] * 28}}, 422, "invalid_request"),
        ({"json": {"pixels": [[0] * 28] * 28}}, 422, "no_digit_found"),
        ({"json": [1, 2, 3]}, 422, "invalid_request"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, "invalid_request"),
        (
            {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
            422,
            "missing_image",
        ),
    ],
)
def test_bad_input_gets_a_clear_error_and_the_service_keeps_serving(
    client, digit_samples, kwargs, status, code
) -> None:
    assert_error(client.post(PREDICT, **kwargs), status, code)
    assert_still_serving(client, digit_samples)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_images(client, digit_samples, fmt: str) -> None:
    data = encode(render(digit_samples[1]), fmt)
    assert_error(upload(client, data[: len(data) // 2]), 422, "invalid_image")


def test_blank_canvas_says_no_digit_found(client) -> None:
    white = encode(np.full((280, 280), 255, np.uint8))
    assert_error(client.post(PREDICT, json={"image": data_url(white)}), 422, "no_digit_found")
    transparent = encode(np.zeros((280, 280, 4), np.uint8))
    assert_error(upload(client, transparent), 422, "no_digit_found")


def test_body_over_the_limit_is_refused_before_reading(client, digit_samples) -> None:
    limit = 10 * 1024 * 1024
    assert_error(
        client.post(PREDICT, content=b"0" * (limit + 1), headers={"content-type": "image/png"}),
        413,
        "payload_too_large",
    )

    def chunks():  # no Content-Length: the count must stop it
        for _ in range(12):
            yield b"0" * (1024 * 1024)

    assert_error(
        client.post(PREDICT, content=chunks(), headers={"content-type": "image/png"}),
        413,
        "payload_too_large",
    )
    assert_still_serving(client, digit_samples)


def test_decompression_bomb_is_refused(client, digit_samples) -> None:
    bomb = encode(Image.new("1", (20_000, 20_000)))  # 400 megapixels in a few kilobytes
    assert len(bomb) < 200_000
    assert_error(upload(client, bomb), 413, "image_too_large")
    assert_still_serving(client, digit_samples)


def test_unknown_routes_and_methods_answer_json(client) -> None:
    assert_error(client.get("/api/v1/nothing"), 404, "not_found")
    assert_error(client.get(PREDICT), 405, "method_not_allowed")


def test_health_readiness_and_model_card(client, classifier) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}
    card = client.get("/api/v1/model").json()
    assert card["name"] == classifier.name and card["sha256"] == classifier.sha256


def test_metrics_count_requests_errors_and_digits(client, digit_samples) -> None:
    upload(client, encode(render(digit_samples[5])))
    upload(client, b"junk")
    text = client.get("/metrics").text
    assert 'rthdr_http_requests_total{method="POST",route="/api/v1/predict",status="200"}' in text
    assert 'rthdr_http_errors_total{route="/api/v1/predict",status="422"}' in text
    assert 'rthdr_predictions_total{digit="5"}' in text
    assert "rthdr_http_request_duration_seconds_bucket" in text


def test_openapi_documents_every_body_kind(client) -> None:
    schema = client.get("/openapi.json").json()
    content = schema["paths"][PREDICT]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json", "image/png"} <= set(content)
    assert {"image", "pixels"} <= set(content["application/json"]["schema"]["properties"])


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=30) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=60,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(st.sampled_from(["image", "pixels", "other"]), json_values, max_size=2))
def test_fuzzed_json_never_breaks_the_server(client, body) -> None:
    response = client.post(PREDICT, json=body)
    assert (response.status_code < 500 and "error" in response.json()) or response.status_code == 200


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.binary(max_size=2000),
    prefix=st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"]),
)
def test_fuzzed_uploads_never_break_the_server(client, data: bytes, prefix: bytes) -> None:
    response = upload(client, prefix + data)
    assert response.status_code < 500, response.text


def test_recognize_reads_a_number_with_boxes(client, digit_samples) -> None:
    from tests.helpers.images import write_number

    page, lefts = write_number(digit_samples, "90210")
    response = client.post("/api/v1/recognize", files={"image": ("zip.png", encode(page), "image/png")})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["text"] == "90210" and body["uncertain"] is False
    assert [d["digit"] for d in body["digits"]] == [9, 0, 2, 1, 0]
    assert all(len(d["probabilities"]) == 10 and len(d["box"]) == 4 for d in body["digits"])
    assert [abs(d["box"][0] - left) <= 3 for d, left in zip(body["digits"], lefts, strict=True)] == [True] * 5
    assert set(body["timing_ms"]) == {"decode", "preprocess", "inference", "total"}


def test_recognize_uses_the_one_digit_check_and_works_without_it(model_path, digit_samples, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from rthdr.api.main import create_app
    from rthdr.api.settings import Settings
    from tests.helpers.images import write_number

    page, _ = write_number(digit_samples, "4071")
    for check, loaded in ((DEFAULT_ONE_DIGIT_CHECK, True), (tmp_path / "missing.onnx", False)):
        with TestClient(create_app(Settings(model=model_path, one_digit=check))) as client:
            assert (client.app.state.one_digit is not None) == loaded
            response = client.post("/api/v1/recognize", files={"image": ("n.png", encode(page), "image/png")})
            assert response.status_code == 200 and response.json()["text"] == "4071", response.text


def test_recognize_accepts_a_canvas_data_url_and_refuses_blanks(client, digit_samples) -> None:
    from tests.helpers.images import write_number

    page, _ = write_number(digit_samples, "314")
    response = client.post("/api/v1/recognize", json={"image": data_url(encode(page))})
    assert response.status_code == 200 and response.json()["text"] == "314"
    blank = encode(np.full((120, 400), 255, np.uint8))
    assert_error(client.post("/api/v1/recognize", json={"image": data_url(blank)}), 422, "no_digit_found")
    assert_error(
        client.post("/api/v1/recognize", content=b"junk", headers={"content-type": "image/png"}),
        422,
        "invalid_image",
    )


def test_region_locates_the_model_input_in_the_original(client, digit_samples) -> None:
    """Drawing the 28x28 input back at `region` must land on the digit: the heatmap overlay relies on it."""
    page = render(digit_samples[0], size=600, box=(300, 100, 200, 200))  # the digit's cell, 28 px -> 200 px
    body = upload(client, encode(page)).json()
    x, y, side = body["region"]
    assert abs(side - 200) < 20 and abs(x - 300) < 20 and abs(y - 100) < 20
