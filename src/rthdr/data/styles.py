"""Pen-drawn shapes that no font or Hershey glyph gives often enough: the digit styles MNIST
under-represents, and the negatives of the rejection class.

MNIST's American writers rarely draw a 1 with a flag and a foot, a 7 with a bar, an open 4, a 9
with a straight tail or a crossed zero, so today's model reads a European 1 as a 7. Each style is a
small set of polyline templates (unit square, y down) drawn with a random pen, the control points
jittered per sample. The negatives (scribbles, smudges) teach the model what is not a character.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from rthdr.data.hershey import Stroke, draw_strokes


def _arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float) -> list[tuple[float, float]]:
    """Points on an ellipse from `start` to `end` degrees (0 = right, growing clockwise on screen)."""
    angles = np.deg2rad(np.linspace(start, end, 24))
    return [(cx + rx * np.cos(a), cy + ry * np.sin(a)) for a in angles]


Template = list[list[tuple[float, float]]]
Negative = Callable[[np.random.Generator, int], np.ndarray]  # (rng, canvas) -> image

# digit -> its templates, each a list of strokes (pen-down polylines).
TEMPLATES: dict[str, list[Template]] = {
    "1": [
        [[(0.3, 0.3), (0.55, 0.05), (0.55, 0.95)], [(0.3, 0.95), (0.8, 0.95)]],  # flag and foot
        [[(0.3, 0.25), (0.55, 0.05), (0.5, 0.95)]],  # flag only, the European 1
        [[(0.25, 0.35), (0.6, 0.05), (0.6, 0.95)]],  # a long flag
    ],
    "7": [
        [[(0.2, 0.08), (0.8, 0.08), (0.4, 0.95)], [(0.35, 0.52), (0.75, 0.5)]],  # with a bar
        [[(0.2, 0.2), (0.22, 0.08), (0.8, 0.08), (0.45, 0.95)], [(0.38, 0.5), (0.78, 0.5)]],
    ],
    "4": [
        [[(0.3, 0.05), (0.2, 0.62), (0.85, 0.62)], [(0.65, 0.15), (0.65, 0.95)]],  # open top
        [[(0.35, 0.05), (0.15, 0.6), (0.8, 0.6)], [(0.6, 0.3), (0.6, 0.95)]],
    ],
    "9": [
        [[*_arc(0.45, 0.3, 0.25, 0.22, 0, 360), (0.7, 0.3), (0.7, 0.95)]],  # straight tail
        [[*_arc(0.45, 0.28, 0.24, 0.22, -20, 345), (0.68, 0.3), (0.6, 0.95)]],
    ],
    "0": [
        [_arc(0.5, 0.5, 0.3, 0.45, 0, 360), [(0.75, 0.1), (0.25, 0.9)]],  # slashed
        [_arc(0.5, 0.5, 0.28, 0.45, -90, 270), [(0.5, 0.4), (0.5, 0.6)]],  # dotted (a short bar)
    ],
}


def pen_width(rng: np.random.Generator, canvas: int) -> float:
    """A random pen, hairline to marker: 1 pixel to a sixth of the glyph's height."""
    return float(np.exp(rng.uniform(np.log(1.0), np.log(canvas * 0.6 / 6))))


def draw_template(digit: str, rng: np.random.Generator, canvas: int) -> np.ndarray:
    """One of the digit's templates, its control points jittered, drawn with a random pen."""
    template = TEMPLATES[digit][int(rng.integers(len(TEMPLATES[digit])))]
    strokes: list[Stroke] = []
    for stroke in template:
        points = np.array(stroke, np.float32)
        strokes.append(points + rng.normal(0, 0.03, points.shape).astype(np.float32))
    return draw_strokes(strokes, canvas, pen_width(rng, canvas), rng)


def _smooth(points: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Chaikin's corner cutting: a polyline through random points becomes a pen-like curve."""
    for _ in range(rounds):
        a, b = points[:-1], points[1:]
        points = np.concatenate(
            [points[:1], np.stack([0.75 * a + 0.25 * b, 0.25 * a + 0.75 * b], 1).reshape(-1, 2), points[-1:]]
        )
    return points


def line_like(image: np.ndarray) -> bool:
    """Whether the ink is close to one straight stroke (its spread 5 times longer than wide):
    such a fragment looks like a 1, or an I, and must not be labelled `none`."""
    ys, xs = np.nonzero(image > 0.5)
    if len(xs) < 3:
        return True
    low, high = np.linalg.eigvalsh(np.cov(np.stack([xs, ys]).astype(np.float64)))
    return bool(high > 25 * max(low, 1e-6))


def scribble(rng: np.random.Generator, canvas: int) -> np.ndarray:
    """A scribble: one or two smooth random curves, a zigzag, or a tangle, with a random pen; drawn
    again while it is nearly one straight stroke (that is a 1)."""
    for _ in range(5):
        strokes = [
            _smooth(rng.uniform(0, 1, (int(rng.integers(4, 12)), 2)).astype(np.float32))
            for _ in range(int(rng.integers(1, 3)))
        ]
        image = draw_strokes(strokes, canvas, pen_width(rng, canvas), rng)
        if not line_like(image):
            break
    return image


def smudge(rng: np.random.Generator, canvas: int) -> np.ndarray:
    """A smudge: uneven soft blots and grain, as a thumb, an eraser or a drop of ink leaves on
    paper: irregular, so that it does not look like a blurred O."""
    image = np.zeros((canvas, canvas), np.float32)
    for _ in range(int(rng.integers(2, 7))):
        centre = tuple(int(v) for v in rng.uniform(0.25, 0.75, 2) * canvas)
        axes = tuple(int(v) for v in rng.uniform(0.03, 0.18, 2) * canvas + 1)
        cv2.ellipse(image, centre, axes, rng.uniform(0, 180), 0, 360, rng.uniform(0.4, 1.0), -1)
    grain = cv2.GaussianBlur(rng.uniform(0, 1, image.shape).astype(np.float32), (0, 0), canvas / 32)
    image *= np.clip(grain * 2.5 - 0.5, 0, 1)
    return cv2.GaussianBlur(image, (0, 0), canvas / rng.uniform(30, 60))


def partial(glyph: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A glyph with most of it erased: only the ink within a disc round one of its points, the
    disc a fifth to a third of the glyph's size, so that what is left is no longer the character:
    at most 40 % of its ink, and not one straight stroke (the first of a few tries that is both;
    else the smallest curved part)."""
    ys, xs = np.nonzero(glyph > 0.5)
    if not len(xs):
        return glyph
    size = max(xs.max() - xs.min(), ys.max() - ys.min()) + 1
    best = glyph
    for _ in range(6):
        pick = int(rng.integers(len(xs)))
        mask = np.zeros_like(glyph)
        cv2.circle(mask, (int(xs[pick]), int(ys[pick])), max(2, int(size * rng.uniform(0.2, 0.35))), 1.0, -1)
        part = glyph * mask
        if line_like(part):
            continue
        if part.sum() < best.sum():
            best = part
        if best.sum() <= 0.4 * glyph.sum():
            break
    return best
