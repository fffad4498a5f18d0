"""The one path from an image to model inputs, and the helpers at its ends."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from rthdr.core.errors import InputError
from rthdr.core.pipeline import decode_data_url, png_data_url, prepare, prepare_number
from rthdr.core.preprocess import to_model_input
from tests.helpers.images import encode, render, write_number


def test_bytes_and_pixels_give_the_same_input_as_the_preprocessing(digit_samples) -> None:
    page = render(digit_samples[3])
    from_bytes = prepare(encode(page))
    assert np.array_equal(from_bytes.model_input, to_model_input(page)[0])
    assert from_bytes.decode_ms > 0 and from_bytes.preprocess_ms > 0
    brighter = digit_samples[3].astype(np.float32) * 1.5  # pixels as JSON sends them, out of range
    from_pixels = prepare(brighter)
    clipped = np.clip(brighter, 0, 255).astype(np.uint8)
    assert np.array_equal(from_pixels.model_input, to_model_input(clipped, dark_ink=False)[0])
    assert from_pixels.decode_ms == 0.0


def test_region_is_in_the_original_pixels_of_a_downscaled_image(digit_samples) -> None:
    """A 2048-pixel photo is decoded at 1024: the region must still be in the file's pixels."""
    small, large = render(digit_samples[5], size=512), render(digit_samples[5], size=2048)
    x, y, side = prepare(encode(small)).region
    big_x, big_y, big_side = prepare(encode(large)).region
    assert big_side == pytest.approx(4 * side, rel=0.05)
    assert (big_x, big_y) == pytest.approx((4 * x, 4 * y), abs=8)


def test_numbers_keep_their_boxes_in_original_pixels(digit_samples, classifier) -> None:
    page, lefts = write_number(digit_samples, "42", height=600)
    prepared = prepare_number(encode(page), classifier.segmentation_scores)
    assert prepared.scale > 1
    boxes = prepared.original_boxes()
    assert [abs(box[0] - left) < 40 for box, left in zip(boxes, lefts, strict=True)] == [True, True]


def test_data_urls_round_trip_and_bad_ones_say_why() -> None:
    model_input = np.linspace(0, 1, 784, dtype=np.float32).reshape(28, 28)
    url = png_data_url(model_input)
    assert url.startswith("data:image/png;base64,")
    decoded = cv2.imdecode(np.frombuffer(decode_data_url(url), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert np.abs(decoded / 255 - model_input).max() <= 0.5 / 255 + 1e-6
    assert decode_data_url(base64.b64encode(b"abc").decode()) == b"abc"  # bare base64 too
    for bad, code in (
        ("data:image/png,abc", "invalid_data_url"),
        ("data:image/png;base64,@@", "invalid_base64"),
    ):
        with pytest.raises(InputError) as caught:
            decode_data_url(bad)
        assert caught.value.code == code
