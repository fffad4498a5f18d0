"""Tracing MNIST's pictures into pen strokes: one stroke per path, drawn from the top as people write."""

from __future__ import annotations

import cv2
import numpy as np

from rthdr.data.trace import trace


def picture(
    *lines: tuple[tuple[int, int], tuple[int, int]], ring: tuple[int, int, int] | None = None
) -> np.ndarray:
    """A 28x28 ink-bright image of straight lines (and a circle), 2 px wide as MNIST's pens."""
    image = np.zeros((28, 28), np.uint8)
    for start, end in lines:
        cv2.line(image, start, end, 255, 2)
    if ring:
        cv2.circle(image, ring[:2], ring[2], 255, 2)
    return image


def test_a_one_is_one_stroke_drawn_downwards() -> None:
    (stroke,) = trace(picture(((14, 4), (14, 23))))
    assert stroke.shape[1] == 2 and len(stroke) > 10
    assert stroke[0, 1] < stroke[-1, 1]  # from the top
    assert np.abs(stroke[:, 0] - 14).max() < 1.5 and stroke[:, 1].min() < 6 and stroke[:, 1].max() > 21


def test_a_seven_starts_at_its_top_left_end() -> None:
    (stroke,) = trace(picture(((6, 5), (21, 5)), ((21, 5), (11, 23))))
    assert stroke[0, 0] < 9 and stroke[0, 1] < 7  # its bar's left end
    assert stroke[-1, 1] > 20  # it ends at the tail's foot


def test_a_ring_is_one_closed_stroke_from_its_top_going_left() -> None:
    (stroke,) = trace(picture(ring=(14, 14, 9)))
    assert stroke[0, 1] < 7  # from the top
    assert stroke[len(stroke) // 8, 0] < stroke[0, 0]  # going left first: counter-clockwise on the page
    assert np.hypot(*(stroke[-1] - stroke[0])) < 4  # back round to where it began


def test_a_cross_is_two_strokes_and_a_blank_nothing() -> None:
    strokes = trace(picture(((4, 14), (23, 14)), ((14, 4), (14, 23))))
    assert len(strokes) >= 2 and sum(len(s) for s in strokes) > 25
    assert trace(np.zeros((28, 28), np.uint8)) == []
