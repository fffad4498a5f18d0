"""Pen trajectories traced from MNIST's images, for training and validating the stroke model.

MNIST has pictures, not strokes. As the public "MNIST stroke sequences" set was made, each digit is
thinned to a one-pixel skeleton and walked the way people write: from the top-most pen end (or, for
a closed shape, its top, going left as a 0 is drawn), keeping straight on at crossings, and lifting
the pen when the path runs out, to start again at the next top-most unvisited end. The result is a
plausible stroke order, not the writer's own; augmentation (rthdr.training.strokes) varies it.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from tqdm import tqdm

UPSCALE = 2  # the skeleton is taken at twice MNIST's size: smoother paths, fewer spurs
INK = 0.35  # share of the image's brightest value above which a pixel is ink
NEIGHBOURS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]  # (dy, dx)


def skeleton(image: np.ndarray) -> np.ndarray:
    """The one-pixel-wide centre lines of a square ink-bright image (an MNIST digit, a corpus
    glyph), at UPSCALE times its size. scikit-image comes with the train extra, imported here so
    that the CLI (which lists the corpus options) still starts where only serving is installed."""
    from skimage.morphology import skeletonize

    size = image.shape[0] * UPSCALE
    big = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BILINEAR), np.float32)
    return skeletonize(big > INK * max(float(big.max()), 1.0))


def _neighbours(on: set[tuple[int, int]], p: tuple[int, int]) -> list[tuple[int, int]]:
    return [(p[0] + dy, p[1] + dx) for dy, dx in NEIGHBOURS if (p[0] + dy, p[1] + dx) in on]


def _start(left: set[tuple[int, int]], on: set[tuple[int, int]]) -> tuple[int, int]:
    """Where the pen goes down next: the top-most (then left-most) pen end among the pixels left,
    else the top-most pixel left (a closed loop)."""
    ends = [p for p in left if len(_neighbours(on, p)) == 1]
    return min(ends or left)


def _next(path: list[tuple[int, int]], options: list[tuple[int, int]]) -> tuple[int, int]:
    """The unvisited neighbour that keeps the pen's heading best; from a fresh start, left then down
    (a closed 0 is drawn from its top, counter-clockwise)."""
    if len(path) < 2:
        return min(options, key=lambda q: (q[1], -q[0]))
    back = path[max(0, len(path) - 4)]
    heading = np.array(path[-1], float) - back
    return max(options, key=lambda q: float(np.dot(heading, np.array(q, float) - path[-1])))


def trace(image: np.ndarray) -> list[np.ndarray]:
    """A square ink-bright image's strokes, in drawing order: float (n, 2) x, y arrays in the
    image's pixel coordinates. Paths of under three pixels (skeleton spurs) are dropped."""
    on = {(int(y), int(x)) for y, x in zip(*np.nonzero(skeleton(image)), strict=True)}
    left = set(on)
    strokes = []
    while left:
        path = [_start(left, on)]
        left.discard(path[0])
        while options := [q for q in _neighbours(on, path[-1]) if q in left]:
            path.append(_next(path, options))
            left.discard(path[-1])
        if len(path) >= 3:
            yx = np.array(path, np.float64) / UPSCALE
            strokes.append(yx[:, ::-1].copy())
    return strokes


def trace_all(images: np.ndarray, progress: bool = True) -> list[list[np.ndarray]]:
    """Every image's strokes (an empty list where nothing could be traced)."""
    return [trace(image) for image in tqdm(images, desc="tracing", disable=not progress, unit="digit")]
