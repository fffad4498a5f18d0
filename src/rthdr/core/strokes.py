"""Pen strokes: what a drawing page records (each stroke's points, in order), checked, drawn as an
image for the image model, turned into the stroke model's input, and grouped into characters.

A stroke is a list of [x, y] or [x, y, t_ms] points in canvas pixels (y down, any scale and offset).
The stroke model reads the drawing as STEPS points resampled along the pen's path (rthdr.training
.strokes trains it on the same features): its position, its step to the next point, and whether
the pen was lifted before it. Grouping uses what an image cannot give: the order in which the
strokes were drawn.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from rthdr.core.errors import InputError

MAX_STROKES = 64  # more than any digit, letter or number of 16 characters needs
MAX_POINTS = 10_000  # in all strokes together: a minute of drawing at 160 points a second
MAX_COORDINATE = 1e6  # canvas pixels; anything larger is not a drawing
STEPS = 64  # points the stroke model reads
CHANNELS = 5  # x, y, dx, dy, pen lifted before this point
CANVAS = 280  # the page's pad: strokes are drawn at this size for the image model
PEN = 0.09  # pen width, a share of the drawing's height (the page's pen on its pad)

Strokes = list[np.ndarray]  # each float64 (n, 2): x, y


def parse_strokes(value: object) -> Strokes:
    """`{"strokes": ...}`'s value as float arrays, or InputError("invalid_strokes") saying what is wrong."""

    def fail(why: str) -> InputError:
        return InputError(
            "invalid_strokes",
            f"strokes: {why}. Send a list of strokes, each a list of [x, y] or [x, y, t_ms] points "
            f"(at most {MAX_STROKES} strokes and {MAX_POINTS} points in all).",
        )

    if not isinstance(value, list) or not value:
        raise fail("not a non-empty list")
    if len(value) > MAX_STROKES:
        raise fail(f"{len(value)} strokes")
    strokes, total = [], 0
    for i, stroke in enumerate(value):
        if not isinstance(stroke, list) or not stroke:
            raise fail(f"stroke {i} is not a non-empty list of points")
        total += len(stroke)
        if total > MAX_POINTS:
            raise fail(f"more than {MAX_POINTS} points")
        points = []
        for point in stroke:
            if (
                not isinstance(point, list)
                or len(point) not in (2, 3)
                or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            ):
                raise fail(f"stroke {i} has a point that is not [x, y] or [x, y, t_ms] numbers")
            if not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in point):
                raise fail(f"stroke {i} has a point that is not a finite number under {MAX_COORDINATE:g}")
            points.append(point[:2])
        strokes.append(np.array(points, np.float64))
    return strokes


def bounds(strokes: Sequence[np.ndarray]) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the points of all strokes."""
    points = np.concatenate(strokes)
    low, high = points.min(axis=0), points.max(axis=0)
    return float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1])


def placement(strokes: Sequence[np.ndarray], size: int = CANVAS) -> tuple[float, np.ndarray]:
    """How `render` puts the strokes on its page: page = points * scale + offset."""
    x, y, w, h = bounds(strokes)
    scale = 0.8 * size / max(w, h, 1e-6)
    return scale, np.array([size / 2 - (x + w / 2) * scale, size / 2 - (y + h / 2) * scale])


def render(strokes: Sequence[np.ndarray], size: int = CANVAS) -> np.ndarray:
    """The strokes drawn dark on a white size x size page, the drawing fitted to 80 % of it with a pen
    of PEN of its height: what the page's pad would show, for the image model."""
    _, _, w, h = bounds(strokes)
    scale, offset = placement(strokes, size)
    page = np.full((size, size), 255, np.uint8)
    width = max(2, round(PEN * max(h, w / 8, 1e-6) * scale))  # a number's height; a dash's length
    shift = 4  # sub-pixel precision for cv2's lines
    for stroke in strokes:
        points = np.round((stroke * scale + offset) * (1 << shift)).astype(np.int32)
        if len(points) == 1:
            cv2.circle(page, tuple(points[0]), width << (shift - 1), 0, -1, cv2.LINE_AA, shift)
        else:
            cv2.polylines(page, [points], False, 0, width, cv2.LINE_AA, shift)
    return page


def features(strokes: Sequence[np.ndarray], steps: int = STEPS) -> np.ndarray:
    """(CHANNELS, steps) float32: the drawing resampled to `steps` points evenly along its strokes
    (each stroke at least one), centred and scaled by its larger side; with each point's step to the
    next (0 at a stroke's end) and 1 where the pen was lifted before it."""
    lengths = np.array([np.linalg.norm(np.diff(s, axis=0), axis=1).sum() for s in strokes])
    share = lengths + 1e-3 * max(lengths.sum(), 1e-6)  # a dot still gets a point
    counts = np.maximum(1, np.floor(share / share.sum() * steps).astype(int))
    while counts.sum() > steps:  # more strokes than a point each would leave: the longest give way
        counts[int(np.argmax(counts))] -= 1
    counts[int(np.argmax(lengths))] += steps - counts.sum()
    points, lifted, ends = [], [], []
    for i, (stroke, count) in enumerate(zip(strokes, counts, strict=True)):
        if count <= 0:
            continue
        resampled = resample(stroke, int(count))
        points.append(resampled)
        lifted += [i > 0] + [False] * (len(resampled) - 1)
        ends += [False] * (len(resampled) - 1) + [True]
    xy = np.concatenate(points)
    x, y, w, h = bounds([xy])
    xy = (xy - [x + w / 2, y + h / 2]) / (max(w, h, 1e-6) / 2)
    step = np.diff(xy, axis=0, append=xy[-1:])
    step[np.array(ends)] = 0
    out = np.concatenate([xy, step, np.array(lifted, np.float64)[:, None]], axis=1)
    return out.T.astype(np.float32)


def resample(stroke: np.ndarray, count: int) -> np.ndarray:
    """`count` points evenly spaced along the stroke's path (its ends kept)."""
    if count == 1 or len(stroke) == 1:
        return np.repeat(stroke[:1], count, axis=0) if count > 1 else stroke[:1]
    along = np.concatenate([[0], np.cumsum(np.linalg.norm(np.diff(stroke, axis=0), axis=1))])
    if along[-1] == 0:
        return np.repeat(stroke[:1], count, axis=0)
    wanted = np.linspace(0, along[-1], count)
    return np.stack([np.interp(wanted, along, stroke[:, k]) for k in range(2)], axis=1)


@dataclass(frozen=True)
class Group:
    """The strokes of one character, in drawing order, and their bounds."""

    strokes: tuple[int, ...]  # indices into the drawing's strokes
    box: tuple[float, float, float, float]  # x, y, width, height


def group_characters(
    strokes: Sequence[np.ndarray], overlap: float = 0.25, stub: float = 0.4, touch: float = 0.12
) -> list[Group]:
    """The strokes of a number grouped into characters by the order they were drawn in. A stroke joins
    the character before it when their horizontal extents overlap by at least `overlap` of the
    narrower of the two, or one holds the other (a 4's second stroke, a 7's bar); when it starts or
    ends on the character's ink, within its extent (within `touch` of its height: drawn on from a
    junction); or
    when it is short (under `stub` of the height: a 5's flag, a tick) and within a third of the height
    of it. Any other stroke begins a new character, even where its ink touches the last one. Returns
    the characters left to right."""
    groups: list[list[int]] = []
    for i, stroke in enumerate(strokes):
        left, right = float(stroke[:, 0].min()), float(stroke[:, 0].max())
        if groups:
            drawn = np.concatenate([strokes[j] for j in groups[-1]])
            g_left, _, g_width, g_height = bounds([drawn])
            g_right = g_left + g_width
            shared = min(right, g_right) - max(left, g_left)
            within = (g_left <= left and right <= g_right) or (left <= g_left and g_right <= right)
            overlapping = shared >= overlap * min(right - left, g_width) and (shared > 0 or within)
            ends = stroke[[0, -1]]
            ends = ends[ends[:, 0] <= g_right]  # an end right of the character starts the next one
            gap = (
                np.sqrt(((ends[:, None, :] - drawn[None, :, :]) ** 2).sum(-1)).min() if len(ends) else np.inf
            )
            length = float(np.linalg.norm(np.diff(stroke, axis=0), axis=1).sum())
            near = left <= g_right + g_height / 3 and right >= g_left - g_height / 3
            if overlapping or gap <= touch * g_height or (length < stub * g_height and near):
                groups[-1].append(i)
                continue
        groups.append([i])
    found = [Group(tuple(g), bounds([strokes[i] for i in g])) for g in groups]
    return sorted(found, key=lambda g: g.box[0] + g.box[2] / 2)
