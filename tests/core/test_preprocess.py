"""The MNIST recipe on inputs unlike MNIST: polarity, position, size, stroke, lighting."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from rthdr.core.decode import InputError
from rthdr.core.preprocess import CENTRE, extract_ink, ink_is_dark, stroke_width, to_model_input
from tests.helpers.images import render


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(image.shape)
    return float((ys * image).sum() / image.sum()), float((xs * image).sum() / image.sum())


def ink_box(image: np.ndarray, level: float = 0.1) -> tuple[int, int]:
    rows, cols = np.flatnonzero((image > level).any(1)), np.flatnonzero((image > level).any(0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def best_shifted_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation after the best shift of up to one pixel: MNIST centres on whole pixels too."""
    return max(correlation(np.roll(a, (dy, dx), axis=(0, 1)), b) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


def test_mnist_digits_pass_through_almost_unchanged(mnist_test: tuple[np.ndarray, np.ndarray]) -> None:
    images, _ = mnist_test
    scores = []
    for image in images[:300]:
        out = to_model_input(image, dark_ink=False)[0]
        assert out.shape == (28, 28) and out.dtype == np.float32
        scores.append(best_shifted_correlation(out, image / 255))
    assert min(scores) > 0.9 and np.median(scores) > 0.98


def test_polarity_is_detected(digit_samples: dict[int, np.ndarray]) -> None:
    digit = digit_samples[3]
    assert ink_is_dark(render(digit, dark_on_light=True))
    assert not ink_is_dark(render(digit, dark_on_light=False))
    dark, light = (
        model_input(render(digit, dark_on_light=True)),
        model_input(render(digit, dark_on_light=False)),
    )
    np.testing.assert_allclose(dark, light, atol=0.05)


def test_output_follows_the_mnist_layout(digit_samples: dict[int, np.ndarray]) -> None:
    for digit in digit_samples.values():
        out = model_input(render(digit, size=400))
        assert max(ink_box(out)) in (19, 20, 21)
        cy, cx = centre_of_mass(out)
        assert abs(cy - CENTRE) <= 0.75 and abs(cx - CENTRE) <= 0.75
        assert out.max() > 0.9 and out.min() == 0.0


def test_small_off_centre_digit_is_found_and_centred(digit_samples: dict[int, np.ndarray]) -> None:
    digit = digit_samples[5]
    page = render(digit, size=600, box=(420, 30, 60, 60))
    out = model_input(page)
    reference = model_input(render(digit, size=280))
    assert correlation(out, reference) > 0.9


def test_thin_strokes_are_thickened() -> None:
    page = np.full((400, 400), 255, np.uint8)
    page[60:340, 198:201] = 0  # a 3-pixel line: a thin pen on a large photo
    page[60:63, 150:201] = 0
    out = model_input(page)
    stroke = stroke_width((out > 0.5).astype(np.uint8))
    assert stroke >= 1.5, "a 1 drawn with a fine pen must not vanish at 28x28"


def test_shadows_and_grey_paper_are_flattened(digit_samples: dict[int, np.ndarray]) -> None:
    page = render(digit_samples[7], size=300).astype(np.float32)
    shadow = np.linspace(0.45, 1.0, 300, dtype=np.float32)[None, :]  # darker on the left
    photo = np.clip(page * shadow * 0.85 + 10, 0, 255).astype(np.uint8)
    out = model_input(photo)
    assert correlation(out, model_input(render(digit_samples[7], size=300))) > 0.9


def test_blank_and_near_blank_images_say_no_digit() -> None:
    for page in (
        np.full((100, 100), 255, np.uint8),
        np.zeros((28, 28), np.uint8),
        np.full((50, 80), 128, np.uint8),
    ):
        with pytest.raises(InputError) as caught:
            model_input(page)
        assert caught.value.code == "no_digit_found"
    noise = np.random.default_rng(0).integers(245, 256, (200, 200)).astype(np.uint8)
    with pytest.raises(InputError, match="No ink"):
        model_input(noise)


def test_extract_ink_mask_marks_strokes() -> None:
    page = np.full((100, 100), 250, np.uint8)
    page[20:80, 45:55] = 20
    ink = extract_ink(page)
    assert ink.mask[50, 50] == 1 and ink.mask[5, 5] == 0
    image = ink.intensity((0, 0, 100, 100))
    assert image[50, 50] == pytest.approx(1.0) and image[5, 5] == 0.0


@settings(max_examples=150, deadline=None)
@given(arrays(np.uint8, st.tuples(st.integers(1, 90), st.integers(1, 90))))
def test_any_grey_image_gives_a_valid_input_or_a_clear_error(page: np.ndarray) -> None:
    try:
        out = model_input(page)
    except InputError as exc:
        assert exc.code == "no_digit_found"
        return
    assert out.shape == (28, 28) and out.dtype == np.float32
    # [0, 1] up to float32 resampling's rounding: an area average of ones can come out at 1.0000001
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1 + 1e-6


def model_input(grey: np.ndarray) -> np.ndarray:
    return to_model_input(grey)[0]


def test_a_thin_upright_stroke_is_centred_like_any_digit() -> None:
    """A "1" drawn as one straight stroke fits 2 pixels wide, which cv2.moments takes for a list of
    points rather than an image: the model input must still have its ink's centre of mass at CENTRE."""
    page = np.full((280, 280), 255, np.uint8)
    cv2.line(page, (140, 40), (140, 240), 0, 18)
    out = model_input(page)
    rows, columns = np.indices(out.shape)
    centre = ((out * rows).sum() / out.sum(), (out * columns).sum() / out.sum())
    assert np.allclose(centre, CENTRE, atol=1.0), centre
