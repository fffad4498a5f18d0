"""Whole numbers: find each digit of a written number, left to right, and read them in one batch.

grey image -> ink (rthdr.preprocess) -> drop specks -> erase long straight lines (a form's box,
an underline) -> group the pieces of each digit (pieces stacked in the same columns) -> split
groups too wide for one digit where the classifier is most confident -> MNIST crops -> one batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from rthdr.decode import InputError
from rthdr.preprocess import Ink, Square, extract_ink, to_mnist

Box = tuple[int, int, int, int]  # x, y, w, h
Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N, 10) probabilities

SPECK_AREA = 0.02  # components under this share of the median digit's area are noise
LINE_LENGTH = 1.8  # straight runs longer than this many digit heights are rules, not strokes
WIDE = 0.9  # a group wider than this many digit heights may hold touching digits ...
ONE_OR_TWO = 1.2  # ... as likely as not at this width (99 % of single digits are narrower, measured)
SLOPES = (-0.25, 0.0, 0.25)  # cut lines leaning like handwriting, in columns per row
CROSSING_COST = 1.0  # log-confidence a split loses for each extra stroke its cut goes through
SHORT = 0.8  # a piece shorter than this many digit heights may be part of its neighbour
FRAGMENT = 0.55  # components shorter than this many digit heights are parts of a digit
NEAR = 0.4  # a fragment further than this many digit heights from every digit is a stray mark
MAX_DIGITS = 16


@dataclass(frozen=True)
class Piece:
    box: Box
    mask: np.ndarray  # uint8 (H, W) of the whole image: this digit's ink pixels


@dataclass(frozen=True)
class Digit:
    box: Box  # in the pixels of the image that was segmented
    model_input: np.ndarray  # (28, 28) float32
    square: Square  # the part of the image the model input shows


def _stats(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels, stats[1:]


def _digit_height(stats: np.ndarray, shape: tuple[int, int]) -> float:
    """Typical digit height: the median height of components that look like characters (not
    specks, not long rules, not a frame around everything)."""
    height, width = shape
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    big = area >= 0.1 * area.max()
    frame = (w > 0.8 * width) & (h > 0.8 * height) & (area < 0.2 * w * h)
    rule = (w > 4 * h) | (h > 8 * w)
    candidates = h[big & ~frame & ~rule]
    return float(np.median(candidates if len(candidates) else h[big]))


def remove_rules(mask: np.ndarray, digit_height: float) -> np.ndarray:
    """Erase horizontal and vertical straight runs much longer than a digit (borders, underlines)."""
    horizontal = max(3, round(LINE_LENGTH * digit_height))
    vertical = max(3, round(1.5 * digit_height))
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, horizontal), np.uint8))
    lines = np.maximum(lines, cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((vertical, 1), np.uint8)))
    if not lines.any():
        return mask
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))  # the rule's anti-aliased edges too
    return mask & (1 - lines)


def _group_pieces(stats: np.ndarray, digit_height: float) -> list[list[int]]:
    """Each component of about a digit's height is a digit of its own, even where slanted digits
    share columns. Shorter fragments (a 7's separate bar, a 4 written in two strokes, a broken
    stroke) join the nearest digit; a fragment far from every digit is a stray mark and is dropped."""
    x, w, h = stats[:, 0], stats[:, 2], stats[:, 3]
    full = np.flatnonzero(h >= FRAGMENT * digit_height)
    if not len(full):
        return [[int(i)] for i in np.argsort(x)]
    groups: dict[int, list[int]] = {int(i): [int(i)] for i in full}
    for fragment in np.flatnonzero(h < FRAGMENT * digit_height):
        overlap = np.minimum(x[full] + w[full], x[fragment] + w[fragment]) - np.maximum(x[full], x[fragment])
        nearest = int(np.argmax(overlap))  # the largest overlap, or else the smallest gap
        if -overlap[nearest] <= NEAR * digit_height:
            groups[int(full[nearest])].append(int(fragment))
    return list(groups.values())


def _bounding_box(mask: np.ndarray) -> Box:
    x, y, w, h = cv2.boundingRect(mask)
    return int(x), int(y), int(w), int(h)


def crop_input(ink: Ink, piece: Piece) -> tuple[np.ndarray, Square]:
    x, y, w, h = piece.box
    piece_mask = piece.mask[y : y + h, x : x + w]
    near = cv2.dilate(piece_mask, np.ones((3, 3), np.uint8))  # keep the strokes' soft edges
    model_input, (sx, sy, side) = to_mnist(ink.intensity(piece.box) * near, piece_mask)
    return model_input, (sx + x, sy + y, side)


def _cut(piece: Piece, column: int, slope: float) -> tuple[Piece, Piece, int] | None:
    """The piece's ink left and right of a line through (column, middle row) leaning by `slope`
    columns per row, like the writing, and how many strokes the line crosses."""
    x, y, w, h = piece.box
    rows, cols = np.indices((h, w))
    left_side = cols < column + slope * (rows - h / 2)
    ink = piece.mask[y : y + h, x : x + w]
    line_cols = np.clip(np.round(column + slope * (np.arange(h) - h / 2)).astype(int), 0, w - 1)
    on_line = ink[np.arange(h), line_cols].astype(np.int8)
    crossings = int(np.count_nonzero(np.diff(on_line, prepend=0) == 1))
    left_mask, right_mask = np.zeros_like(piece.mask), np.zeros_like(piece.mask)
    left_mask[y : y + h, x : x + w] = ink * left_side
    right_mask[y : y + h, x : x + w] = ink * ~left_side
    if not left_mask.any() or not right_mask.any():
        return None
    return Piece(_bounding_box(left_mask), left_mask), Piece(_bounding_box(right_mask), right_mask), crossings


def _split(ink: Ink, piece: Piece, digit_height: float, classify: Classify, depth: int = 0) -> list[Piece]:
    """Split a piece wide enough for two digits along the (possibly slanted) line where both halves
    read most confidently, if they read more confidently than the whole; recurse for three or more."""
    x, y, w, h = piece.box
    if w <= WIDE * digit_height or depth > 3:
        return [piece]
    profile = piece.mask[y : y + h, x : x + w].sum(axis=0).astype(np.float32)
    profile = np.convolve(profile, np.ones(3) / 3, mode="same")
    low, high = int(0.25 * w), int(0.75 * w)
    columns = sorted({int(c) for c in low + np.argsort(profile[low:high])[:6]})  # the thinnest columns
    options = [
        pair
        for c in columns
        for slope in SLOPES
        if (pair := _cut(piece, c, slope))
        and min(pair[0].box[3], pair[1].box[3]) >= FRAGMENT * digit_height  # both halves digit-sized
    ]
    if not options:
        return [piece]
    inputs = np.stack(
        [crop_input(ink, piece)[0]]
        + [crop_input(ink, part)[0] for left, right, _ in options for part in (left, right)]
    )
    log_confidence = np.log(classify(inputs).max(axis=1) + 1e-9)
    # Touching digits meet at one stroke: a cut through more strokes is probably cutting a digit.
    cut_cost = CROSSING_COST * np.array([max(0, crossings - 1) for _, _, crossings in options])
    whole, halves = log_confidence[0], log_confidence[1:].reshape(-1, 2).sum(axis=1) - cut_cost
    # The classifier reads a squeezed pair as one digit too readily, so the piece's width weighs in:
    # a prior that it is one digit, falling from ~1 below 1.05 digit heights to ~0 above 1.35.
    ratio = w / max(h, digit_height)
    single = 1 / (1 + np.exp((ratio - ONE_OR_TWO) / 0.05))
    if whole + np.log(single + 1e-9) >= halves.max() + np.log(1 - single + 1e-9):
        return [piece]  # one wide digit (a broad 0, a long-tailed 2) reads better whole
    left, right, _ = options[int(np.argmax(halves))]
    return [part for half in (left, right) for part in _split(ink, half, digit_height, classify, depth + 1)]


def _merge(ink: Ink, pieces: list[Piece], digit_height: float, classify: Classify) -> list[Piece]:
    """Join neighbours that read better as one digit than as two: a 4 written in two strokes whose
    parts both look tall enough, a broken 8. Only close pairs, one of them short, narrow enough
    together for one digit, are considered."""
    candidates = []
    for i, (a, b) in enumerate(itertools.pairwise(pieces)):
        gap = b.box[0] - (a.box[0] + a.box[2])
        width = max(a.box[0] + a.box[2], b.box[0] + b.box[2]) - a.box[0]
        short = min(a.box[3], b.box[3]) < SHORT * digit_height
        if gap <= 0.1 * digit_height and short and width <= WIDE * digit_height:
            candidates.append(i)
    if not candidates:
        return pieces
    joined = [Piece(_bounding_box(m), m) for m in (pieces[i].mask | pieces[i + 1].mask for i in candidates)]
    trio = [
        crop_input(ink, p)[0]
        for i, j in zip(candidates, joined, strict=True)
        for p in (pieces[i], pieces[i + 1], j)
    ]
    log_confidence = np.log(classify(np.stack(trio)).max(axis=1) + 1e-9).reshape(-1, 3)
    merged, skip = [], -1
    better = {i: j for i, j, (a, b, ab) in zip(candidates, joined, log_confidence, strict=True) if ab > a + b}
    for i, piece in enumerate(pieces):
        if i == skip:
            continue
        if i in better:
            merged.append(better[i])
            skip = i + 1
        else:
            merged.append(piece)
    return merged


def segment(grey: np.ndarray, classify: Classify, dark_ink: bool | None = None) -> list[Digit]:
    """The digits of a single-line number in a greyscale image, left to right."""
    ink = extract_ink(grey, dark_ink)
    stats = ink.stats
    if not len(stats):
        raise InputError(
            "no_digit_found", "No ink found: the image looks blank. Write or photograph a number."
        )
    digit_height = _digit_height(stats, ink.mask.shape)
    mask = remove_rules(ink.mask, digit_height)
    labels, stats = _stats(mask)
    if len(stats):
        digit_height = _digit_height(stats, mask.shape)
        tall = stats[:, 3] >= 0.5 * digit_height
        typical_area = float(np.median(stats[tall, 4])) if tall.any() else float(stats[:, 4].max())
        keep = np.flatnonzero(stats[:, 4] >= SPECK_AREA * typical_area)
    else:
        keep = np.array([], dtype=int)
    if not len(keep):
        raise InputError("no_digit_found", "No digits found: only lines or specks of ink. Write a number.")

    pieces = []
    for group in _group_pieces(stats[keep], digit_height):
        piece_mask = np.isin(labels, keep[group] + 1).astype(np.uint8)
        pieces.append(Piece(_bounding_box(piece_mask), piece_mask))
    pieces.sort(key=lambda p: p.box[0] + p.box[2] / 2)
    pieces = _merge(ink, pieces, digit_height, classify)
    digits = [part for piece in pieces for part in _split(ink, piece, digit_height, classify)]
    if not digits:
        raise InputError("no_digit_found", "No digits found: only small marks of ink. Write a number.")
    if len(digits) > MAX_DIGITS:
        raise InputError(
            "too_many_digits",
            f"Found {len(digits)} marks that look like digits; "
            f"at most {MAX_DIGITS} are read. Send one line of up to 12 digits.",
        )
    digits.sort(key=lambda p: p.box[0] + p.box[2] / 2)
    return [Digit(p.box, *crop_input(ink, p)) for p in digits]
