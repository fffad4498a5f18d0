"""Reading whole numbers: separate, touching and broken digits, rules around them, blank pages."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, replace

import cv2
import numpy as np
import pytest

from rthdr.core.decode import InputError
from rthdr.core.inference import OneDigitCheck
from rthdr.core.pipeline import read_number
from rthdr.core.preprocess import extract_ink
from rthdr.core.segment import (
    DEFAULTS,
    Piece,
    _best_reading,
    _cut_paths,
    _digit_height,
    find_pieces,
    segment,
)
from rthdr.evaluation.evaluate import edit_distance, evaluate_numbers
from tests.helpers.images import encode, write_number


def test_separate_digits_read_left_to_right_with_boxes(digit_samples, classifier) -> None:
    page, lefts = write_number(digit_samples, "90210")
    reading = read_number(encode(page), classifier)
    assert reading.text == "90210"
    assert [box[0] for box in reading.boxes] == sorted(box[0] for box in reading.boxes)
    for box, left in zip(reading.boxes, lefts, strict=True):
        assert abs(box[0] - left) <= 3 and 40 <= box[3] <= 70


def test_boxes_are_in_original_pixels_after_downscaling(digit_samples, classifier) -> None:
    page, lefts = write_number(digit_samples, "47", height=600)  # wider than the 1024-pixel working size
    assert page.shape[1] > 1024
    reading = read_number(encode(page), classifier)
    assert reading.text == "47"
    assert (
        abs(reading.boxes[1][0] - lefts[1]) <= 15 and reading.boxes[1][3] > 380
    )  # the ink is 20/28 of the 600-pixel cell


def test_light_on_dark_and_all_ten_digits(digit_samples, classifier) -> None:
    page, _ = write_number(digit_samples, "0123456789")
    assert read_number(encode(255 - page), classifier).text == "0123456789"


def test_touching_digits_are_split(digit_samples, classifier) -> None:
    page, _ = write_number(digit_samples, "2468", gaps=[-3, 12, -3])
    assert read_number(encode(page), classifier).text == "2468"


def test_overlapping_pair_is_read_as_two_digits(digit_samples, classifier) -> None:
    """The 4's tail runs under the 0: read whole, the pair passes for a 6."""
    page, _ = write_number(digit_samples, "40", gaps=[-6])
    assert read_number(encode(page), classifier).text == "40"


def test_narrow_touching_pair_the_check_doubts_is_cut(digit_samples, classifier) -> None:
    """A "1" touching a 7, written narrow: the pair is no wider than one digit, so only the one-digit
    check's doubt gets it cut (the classifier alone reads it as a 7)."""
    page, _ = write_number(digit_samples, "17", gaps=[-4])
    page = cv2.resize(page, (round(page.shape[1] * 0.7), page.shape[0]), interpolation=cv2.INTER_AREA)
    (pair,), digit_height = find_pieces(extract_ink(page))
    assert DEFAULTS.narrow * digit_height < pair.box[2] <= DEFAULTS.wide * digit_height
    assert read_number(encode(page), classifier, one_digit=OneDigitCheck()).text == "17"


def test_wide_single_digit_stays_whole(digit_samples, classifier) -> None:
    page, _ = write_number(digit_samples, "707")
    wide = cv2.resize(page, (round(page.shape[1] * 1.3), page.shape[0]))  # every digit 1.3 times as wide
    assert read_number(encode(wide), classifier).text == "707"


def test_least_ink_cut_bends_between_digits_that_share_columns() -> None:
    """The left digit's foot reaches under the right one's top bar: no line, straight or leaning,
    parts them; a cut path that bends between them does, crossing no ink."""
    left, right = np.zeros((40, 30), np.uint8), np.zeros((40, 30), np.uint8)
    left[0:25, 4:10] = 1  # stem
    left[25:40, 4:16] = 1  # foot, reaching right
    right[0:15, 11:24] = 1  # top bar, reaching left
    right[15:40, 19:24] = 1  # stem
    mask = left | right
    cols = np.arange(30)[None, :]
    partings = [
        path
        for path in _cut_paths(mask, DEFAULTS)
        if (mask * (cols < path[:, None]) == left).all()
        and not mask[np.arange(40), np.clip(path, 0, 29)].any()
    ]
    assert partings


def test_best_reading_finds_the_best_count() -> None:
    """Cuts 0 (left side), 1, 2 and 3 (right side): the whole, two halves or three thirds."""
    blank = Piece((0, 0, 1, 1), np.zeros((1, 1), np.uint8))
    parts = {(i, j): Piece((i, 0, j - i, 1), blank.mask) for i in range(4) for j in range(i + 1, 4)}
    stretches = [(i, j, parts[i, j]) for (i, j) in sorted(parts, key=lambda ij: (ij[1], ij[0]))]

    def read(scores: dict[tuple[int, int], float], costs: list[float]) -> list[tuple[int, int]]:
        chosen = _best_reading(stretches, np.array([scores[i, j] for i, j, _ in stretches]), costs)
        return [(p.box[0], p.box[0] + p.box[2]) for p in chosen]

    scores = {(0, 3): -3.0, (0, 1): -1.0, (1, 3): -1.0, (0, 2): -1.5, (2, 3): -0.2, (1, 2): -5.0}
    assert read(scores, [0, 0, 0, 0]) == [(0, 2), (2, 3)]  # -1.7 beats -2.0 and -3.0
    assert read(scores, [0, 0, 2, 0]) == [(0, 1), (1, 3)]  # a costly cut 2 tips it
    assert read(scores, [0, 2, 2, 0]) == [(0, 3)]  # every cut too costly: one digit


def test_broken_digit_is_one_digit(digit_samples, classifier) -> None:
    page, lefts = write_number(digit_samples, "357")
    five = slice(lefts[1], lefts[2] - 12)
    band = page[:, five]
    rows = np.flatnonzero((band < 128).any(axis=1))
    band[rows[0] + 9 : rows[0] + 13] = 255  # cut the 5's top bar off its body
    assert cv2.connectedComponents((page < 128).astype(np.uint8))[0] - 1 > 3
    assert read_number(encode(page), classifier).text == "357"


def test_digit_in_short_strokes_apart_from_the_others_is_read(digit_samples, classifier) -> None:
    """A 5 broken across its middle, set apart: each of its pieces is too short and too far from
    the 3 to count, but stacked they are a digit, not stray marks."""
    broken = digit_samples[5].copy()
    broken[13:15] = 0
    page, _ = write_number({**digit_samples, 5: broken}, "35", gaps=[30])
    ink = extract_ink(page)
    heights = cv2.connectedComponentsWithStats(ink.mask)[2][1:, 3]
    assert len(heights) >= 3 and sorted(heights)[-2] < DEFAULTS.fragment * max(heights)
    assert read_number(encode(page), classifier).text == "35"


def test_lone_digit_with_a_loose_bar_is_one_digit(digit_samples, classifier) -> None:
    """With one digit on the page there is no crowd of digits to take the typical height from: the
    loose bar must not count as a digit of its own."""
    page, _ = write_number(digit_samples, "5")
    rows = np.flatnonzero((page < 128).any(axis=1))
    page[rows[0] + 9 : rows[0] + 13] = 255
    assert cv2.connectedComponents((page < 128).astype(np.uint8))[0] - 1 >= 2
    assert read_number(encode(page), classifier).text == "5"


def test_digit_height_ignores_fragments() -> None:
    """(x, y, w, h, area) of a 5's loose bar and of its body: the body's height is the digit's."""
    stats = np.array([[52, 40, 22, 10, 145], [30, 48, 28, 40, 449]])
    assert _digit_height(stats, (200, 200)) == 40


def test_box_border_and_underline_are_ignored(digit_samples, classifier) -> None:
    page, _ = write_number(digit_samples, "8015")
    framed = page.copy()
    cv2.rectangle(framed, (6, 12), (framed.shape[1] - 7, framed.shape[0] - 12), 0, 3)
    assert read_number(encode(framed), classifier).text == "8015"
    underlined = page.copy()
    cv2.line(underlined, (10, 100), (underlined.shape[1] - 10, 100), 0, 3)
    assert read_number(encode(underlined), classifier).text == "8015"


def test_specks_are_not_digits(digit_samples, classifier) -> None:
    page, _ = write_number(digit_samples, "63")
    rng = np.random.default_rng(0)
    for y, x in zip(rng.integers(0, page.shape[0], 12), rng.integers(0, page.shape[1], 12), strict=True):
        page[y : y + 2, x : x + 2] = 0
    assert read_number(encode(page), classifier).text == "63"


def test_blank_page_says_no_digit_found(classifier) -> None:
    with pytest.raises(InputError) as caught:
        segment(np.full((100, 300), 250, np.uint8), classifier.probabilities)
    assert caught.value.code == "no_digit_found"


def test_edit_distance() -> None:
    assert edit_distance("90210", "90210") == 0
    assert edit_distance("90210", "9021") == 1
    assert edit_distance("90210", "902100") == 1
    assert edit_distance("123", "321") == 2


def test_synthetic_number_evaluation_runs(mnist_dir, classifier) -> None:
    (result,) = evaluate_numbers(classifier, mnist_dir, lengths=(5,), per_length=40, progress=False)
    assert result.numbers == 40 and 0.5 <= result.string_accuracy <= 1.0 and result.digit_accuracy > 0.85


def test_parameters_are_one_object_whose_limits_apply(digit_samples, classifier) -> None:
    """The tuned constants come as one frozen object; another one changes what is read, and the
    refusal names the limit that applies."""
    page, _ = write_number(digit_samples, "2468")
    with pytest.raises(InputError) as caught:
        segment(page, classifier.probabilities, params=replace(DEFAULTS, max_digits=3))
    assert caught.value.code == "too_many_digits"
    assert "at most 3 digits" in caught.value.message
    assert len(segment(page, classifier.probabilities)) == 4
    with pytest.raises(FrozenInstanceError):
        DEFAULTS.max_digits = 3  # type: ignore[misc]
