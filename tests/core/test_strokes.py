"""Pen strokes: checking what a client sends, drawing it for the image model, resampling it for the
stroke model, and grouping a number's strokes into characters by the order they were drawn in."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rthdr.core.errors import InputError
from rthdr.core.inference import fuse
from rthdr.core.strokes import (
    CHANNELS,
    MAX_POINTS,
    MAX_STROKES,
    STEPS,
    features,
    group_characters,
    parse_strokes,
    render,
    resample,
)

SEVEN = [[[40, 35], [120, 35], [70, 130]]]
FOUR = [[[70, 10], [50, 70], [100, 70]], [[90, 30], [90, 110]]]  # two strokes: an open 4


def shifted(strokes: list, dx: float) -> list:
    return [[[x + dx, y] for x, y in stroke] for stroke in strokes]


def test_points_may_carry_a_time_and_are_read_as_floats() -> None:
    (stroke,) = parse_strokes([[[1, 2, 0], [3.5, 4, 16]]])
    assert stroke.dtype == np.float64 and stroke.tolist() == [[1, 2], [3.5, 4]]


@pytest.mark.parametrize(
    ("strokes", "said"),
    [
        ([], "not a non-empty list"),
        ("0,0 1,1", "not a non-empty list"),
        ([[]], "stroke 0 is not a non-empty list"),
        ([[[1, 2]], [[1]]], "stroke 1 has a point that is not"),
        ([[[1, 2, 3, 4]]], "stroke 0 has a point that is not"),
        ([[["1", 2]]], "stroke 0 has a point that is not"),
        ([[[True, 2]]], "stroke 0 has a point that is not"),
        ([[[float("nan"), 2]]], "finite number"),
        ([[[float("inf"), 2]]], "finite number"),
        ([[[1e308, 2]]], "finite number"),
        ([[[0, 0]]] * (MAX_STROKES + 1), f"{MAX_STROKES + 1} strokes"),
        ([[[0, 0]] * (MAX_POINTS // 2 + 1)] * 2, f"more than {MAX_POINTS} points"),
    ],
)
def test_bad_strokes_are_the_callers_error_saying_what_is_wrong(strokes: object, said: str) -> None:
    with pytest.raises(InputError) as raised:
        parse_strokes(strokes)
    assert raised.value.code == "invalid_strokes" and said in raised.value.message
    assert "[x, y]" in raised.value.message  # and what to send instead


def test_a_drawing_is_rendered_dark_on_white_fitted_to_the_page() -> None:
    page = render(parse_strokes(SEVEN), size=280)
    ink = np.argwhere(page < 128)
    assert page.dtype == np.uint8 and page[0, 0] == 255 and len(ink) > 500
    top, bottom = ink[:, 0].min(), ink[:, 0].max()
    assert 15 <= top <= 40 and 240 <= bottom <= 265  # 80 % of the page, plus the pen
    a_dot = render(parse_strokes([[[5, 5]]]), size=280)
    assert (a_dot < 128).any()  # a single point is drawn too


def test_features_are_resampled_centred_scaled_and_mark_pen_lifts() -> None:
    drawn = features(parse_strokes(FOUR))
    assert drawn.shape == (CHANNELS, STEPS) and drawn.dtype == np.float32
    x, y, dx, dy, lifted = drawn
    assert np.isclose(max(np.abs(x).max(), np.abs(y).max()), 1, atol=1e-6)  # the larger side spans [-1, 1]
    assert lifted[0] == 0 and lifted.sum() == 1  # one lift: between the 4's two strokes
    start = int(np.flatnonzero(lifted)[0])
    assert dx[start - 1] == 0 and dy[start - 1] == 0  # no step across the lift
    # the same drawing anywhere, at any size: the same features
    moved = [[[3 * px + 500, 3 * py - 40] for px, py in s] for s in FOUR]
    np.testing.assert_allclose(features(parse_strokes(moved)), drawn, atol=1e-5)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.floats(-1e3, 1e3), st.floats(-1e3, 1e3)), min_size=1, max_size=30),
        min_size=1,
        max_size=MAX_STROKES,
    )
)
def test_any_drawing_gives_finite_features_of_the_one_shape(strokes: list) -> None:
    drawn = features(parse_strokes([[list(p) for p in s] for s in strokes]))
    assert drawn.shape == (CHANNELS, STEPS) and np.isfinite(drawn).all()
    assert drawn[4].sum() <= len(strokes) - 1


def test_resampling_keeps_the_ends_and_spaces_points_evenly() -> None:
    line = np.array([[0.0, 0.0], [1.0, 0.0], [10.0, 0.0]])
    points = resample(line, 11)
    np.testing.assert_allclose(points[:, 0], np.arange(11))
    assert resample(line[:1], 3).tolist() == [[0, 0]] * 3


def test_strokes_group_into_characters_by_drawing_order_and_place() -> None:
    """A 1, a 4 in two strokes, a 7: three characters, the 4's second stroke joining its first."""
    one = [[[20, 10], [20, 110]]]
    strokes = parse_strokes(one + shifted(FOUR, 60) + shifted(SEVEN, 150))
    groups = group_characters(strokes)
    assert [g.strokes for g in groups] == [(0,), (1, 2), (3,)]
    assert [round(g.box[0]) for g in groups] == [20, 110, 190]


def test_touching_digits_are_still_two_when_drawn_one_after_the_other() -> None:
    """Ink that touches (the image reader must guess a cut) is two characters by its strokes."""
    zero = [[[40, 10], [10, 60], [40, 110], [70, 60], [40, 10]]]
    strokes = parse_strokes(zero + shifted(zero, 58))  # overlapping by 2 px of 60
    assert [g.strokes for g in group_characters(strokes)] == [(0,), (1,)]


def test_a_character_drawn_later_is_still_placed_left_to_right() -> None:
    strokes = parse_strokes(shifted(SEVEN, 200) + SEVEN)
    assert [g.strokes for g in group_characters(strokes)] == [(1,), (0,)]


def test_fusion_weighs_log_probabilities() -> None:
    image = np.array([[0.7, 0.3]])
    strokes = np.array([[0.2, 0.8]])
    np.testing.assert_allclose(fuse(image, strokes, 1.0), image)
    np.testing.assert_allclose(fuse(image, strokes, 0.0), strokes)
    even = fuse(image, strokes, 0.5)
    expected = np.sqrt(image * strokes) / np.sqrt(image * strokes).sum()
    np.testing.assert_allclose(even, expected)
