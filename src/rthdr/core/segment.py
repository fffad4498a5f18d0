"""Whole numbers: find each digit of a written number, left to right, and read them in one batch.

grey image -> ink (rthdr.core.preprocess) -> drop specks -> erase long straight lines (a form's box,
an underline) -> group the pieces of each digit (pieces stacked in the same columns) -> split
groups too wide for one digit (or that the one-digit check, where there is one, doubts) where the
classifier and the check are most confident -> MNIST crops -> one batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from rthdr.core.decode import InputError
from rthdr.core.preprocess import Ink, Square, extract_ink, to_mnist
from rthdr.core.segment_params import DEFAULTS, SegmentParams

Box = tuple[int, int, int, int]  # x, y, w, h
Classify = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N, 10) probabilities
OneDigit = Callable[[np.ndarray], np.ndarray]  # (N, 28, 28) inputs -> (N,) P(one whole digit)


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
    specks, not long rules, not a frame around everything) and are at least half as tall as the
    tallest: with only a digit or two on the page, a loose bar would otherwise halve the median."""
    height, width = shape
    w, h, area = stats[:, 2], stats[:, 3], stats[:, 4]
    big = area >= 0.1 * area.max()
    frame = (w > 0.8 * width) & (h > 0.8 * height) & (area < 0.2 * w * h)
    rule = (w > 4 * h) | (h > 8 * w)
    candidates = h[big & ~frame & ~rule]
    candidates = candidates if len(candidates) else h[big]
    return float(np.median(candidates[candidates >= 0.5 * candidates.max()]))


def remove_rules(mask: np.ndarray, digit_height: float, params: SegmentParams = DEFAULTS) -> np.ndarray:
    """Erase horizontal and vertical straight runs much longer than a digit (borders, underlines)."""
    horizontal = max(3, round(params.line_length * digit_height))
    vertical = max(3, round(1.5 * digit_height))
    lines = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((1, horizontal), np.uint8))
    lines = np.maximum(lines, cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((vertical, 1), np.uint8)))
    if not lines.any():
        return mask
    lines = cv2.dilate(lines, np.ones((3, 3), np.uint8))  # the rule's anti-aliased edges too
    return mask & (1 - lines)


def _column_runs(indices: np.ndarray, stats: np.ndarray, gap: float) -> list[np.ndarray]:
    """Components grouped into runs whose column ranges overlap or lie less than `gap` apart."""
    order = indices[np.argsort(stats[indices, 0], kind="stable")]
    runs: list[list[int]] = []
    right = -np.inf
    for i in order:
        x, w = stats[i, 0], stats[i, 2]
        if x > right + gap:
            runs.append([])
        runs[-1].append(int(i))
        right = max(right, x + w) if x <= right + gap else x + w
    return [np.array(run) for run in runs]


def _group_pieces(stats: np.ndarray, digit_height: float, params: SegmentParams) -> list[list[int]]:
    """Each component of about a digit's height is a digit of its own, even where slanted digits
    share columns. Shorter fragments (a 7's separate bar, a 4 written in two strokes, a broken
    stroke) join the nearest digit. Fragments far from every digit are stray marks and are dropped,
    unless, stacked in the same columns, they are together that tall: a 5 whose bar stands apart."""
    x, y, w, h = stats[:, 0], stats[:, 1], stats[:, 2], stats[:, 3]
    tall = params.fragment * digit_height
    full = np.flatnonzero(h >= tall)
    if not len(full):
        return [[int(i)] for i in np.argsort(x)]
    groups: list[list[int]] = [[int(i)] for i in full]
    stray = []
    for fragment in np.flatnonzero(h < tall):
        overlap = np.minimum(x[full] + w[full], x[fragment] + w[fragment]) - np.maximum(x[full], x[fragment])
        nearest = int(np.argmax(overlap))  # the largest overlap, or else the smallest gap
        if -overlap[nearest] <= params.near * digit_height:
            groups[nearest].append(int(fragment))
        else:
            stray.append(int(fragment))
    for run in _column_runs(np.array(stray, int), stats, params.gap * digit_height):
        if (y[run] + h[run]).max() - y[run].min() >= tall:
            groups.append(run.tolist())
    return groups


def _bounding_box(mask: np.ndarray) -> Box:
    x, y, w, h = cv2.boundingRect(mask)
    return int(x), int(y), int(w), int(h)


def crop_input(ink: Ink, piece: Piece) -> tuple[np.ndarray, Square]:
    x, y, w, h = piece.box
    piece_mask = piece.mask[y : y + h, x : x + w]
    near = cv2.dilate(piece_mask, np.ones((3, 3), np.uint8))  # keep the strokes' soft edges
    model_input, (sx, sy, side) = to_mnist(ink.intensity(piece.box) * near, piece_mask)
    return model_input, (sx + x, sy + y, side)


def _cut_paths(ink: np.ndarray, params: SegmentParams) -> list[np.ndarray]:
    """Where touching digits may part, as a column per row of the piece: straight and slanted lines
    through its thinnest columns, and the paths that cross the least ink, which bend around the
    stroke of one digit where two overlap."""
    h, w = ink.shape
    rows = np.arange(h)
    low, high = max(1, int(params.edge * w)), min(w - 1, int((1 - params.edge) * w))
    profile = np.convolve(ink.sum(axis=0).astype(np.float32), np.ones(3) / 3, mode="same")
    columns: list[int] = []
    for column in low + np.argsort(profile[low:high], kind="stable"):
        if len(columns) < params.thin_columns and all(
            abs(column - c) >= w * params.column_spacing for c in columns
        ):
            columns.append(int(column))
    paths = [np.round(c + slope * (rows - h / 2)).astype(int) for c in columns for slope in params.slopes]
    cost = ink.astype(np.float32)
    total, moves = cost[0].copy(), np.zeros((h, w), np.int8)
    for row in range(1, h):
        options = np.stack(
            [np.r_[np.inf, total[:-1]] + params.step_cost, total, np.r_[total[1:], np.inf] + params.step_cost]
        )
        moves[row] = options.argmin(axis=0) - 1
        total = options.min(axis=0) + cost[row]
    window = max(1, w // 10)
    for end in range(low, high):
        if total[end] <= total[max(0, end - window) : end + window + 1].min():  # a local minimum
            path = np.empty(h, int)
            path[-1] = end
            for row in range(h - 1, 0, -1):
                path[row - 1] = path[row] + moves[row, path[row]]
            paths.append(path)
    return paths


Stretch = tuple[int, int, Piece]  # the ink between two of a piece's cuts (their indices)


def _stretches(piece: Piece, digit_height: float, params: SegmentParams) -> tuple[list[Stretch], list[float]]:
    """The candidate digits of a piece: its ink between any two of its cuts (or its sides), sorted
    by where they end, and what each cut costs: a cut through more than one stroke is probably
    cutting a digit, since touching digits meet at one stroke."""
    x, y, w, h = piece.box
    local = piece.mask[y : y + h, x : x + w]
    cols = np.arange(w)[None, :]
    total_ink = int(local.sum())
    options = []
    for path in _cut_paths(local, params):
        inside = (path >= 0) & (path < w)
        on_path = local[np.arange(h), np.clip(path, 0, w - 1)] * inside
        crossings = int(np.count_nonzero(np.diff(on_path.astype(np.int8), prepend=0) == 1))
        left = int((local * (cols < path[:, None])).sum())
        options.append((params.crossing_cost * max(0, crossings - 1), int(on_path.sum()), left, path))
    chosen: list[tuple[float, int, int, np.ndarray]] = []
    for option in sorted(options, key=lambda o: o[:2]):  # the cheapest first
        distinct = all(abs(option[2] - c[2]) > params.same_cut * total_ink for c in chosen)
        if distinct and len(chosen) < params.max_cuts:
            chosen.append(option)
    chosen.sort(key=lambda o: o[2])
    cuts = [np.full(h, -1), *(o[3] for o in chosen), np.full(h, w)]
    costs = [0.0, *(o[0] for o in chosen), 0.0]
    stretches = []
    for j in range(1, len(cuts)):
        for i in range(j):
            part = local * ((cols >= cuts[i][:, None]) & (cols < cuts[j][:, None]))
            if not part.any():
                continue
            px, py, pw, ph = _bounding_box(part)
            whole = i == 0 and j == len(cuts) - 1
            if not whole and (ph < params.fragment * digit_height or pw > params.max_width * digit_height):
                continue
            mask = np.zeros_like(piece.mask)
            mask[y : y + h, x : x + w] = part
            stretches.append((i, j, Piece((x + px, y + py, pw, ph), mask)))
    return stretches, costs


def _digit_scores(
    ink: Ink, parts: list[Piece], digit_height: float, classify: Classify, params: SegmentParams
) -> np.ndarray:
    """How well each part reads as one digit: the classifier's log-confidence plus how usual the
    part's width and height are for the digit it reads as (the classifier alone reads a squeezed
    pair as one digit too readily), less a cost per digit."""
    probabilities = classify(np.stack([crop_input(ink, p)[0] for p in parts]))
    widths = np.array([p.box[2] for p in parts]) / digit_height
    heights = np.array([p.box[3] for p in parts]) / digit_height
    shape = (
        0.5 * ((widths[:, None] - np.array(params.width_mean)) / np.array(params.width_sd)) ** 2
        + np.log(np.array(params.width_sd))
        + 0.5 * ((heights[:, None] - 1.0) / params.height_sd) ** 2
    )
    fit = np.log(probabilities + 1e-9) - params.prior_weight * shape
    return fit.max(axis=1) - params.digit_cost


def _best_reading(stretches: list[Stretch], scores: np.ndarray, costs: list[float]) -> list[Piece]:
    """Dynamic programming over the cuts: the run of stretches from side to side with the highest
    total score."""
    best: dict[int, tuple[float, list[Piece]]] = {0: (0.0, [])}
    for (i, j, part), score in zip(stretches, scores, strict=True):
        total = best[i][0] + score - costs[i] if i in best else -np.inf
        if total > best.get(j, (-np.inf, []))[0]:
            best[j] = (total, [*best[i][1], part])
    return best[len(costs) - 1][1]


def _may_hold_two(
    ink: Ink, pieces: list[Piece], digit_height: float, one_digit: OneDigit | None, params: SegmentParams
) -> list[bool]:
    """Which pieces may be touching digits: those wider than `wide` digit heights and, where there is a
    one-digit check, narrower ones it gives P(one digit) < `doubt`: a narrow "1" touching its neighbour."""
    may_cut = [p.box[2] > params.wide * digit_height for p in pieces]
    narrow = [
        i
        for i, p in enumerate(pieces)
        if params.narrow * digit_height < p.box[2] <= params.wide * digit_height
    ]
    if one_digit is None or not narrow:
        return may_cut
    doubted = one_digit(np.stack([crop_input(ink, pieces[i])[0] for i in narrow])) < params.doubt
    for i, doubt in zip(narrow, doubted, strict=True):
        may_cut[i] = bool(doubt)
    return may_cut


def _split(
    ink: Ink,
    pieces: list[Piece],
    digit_height: float,
    classify: Classify,
    to_cut: list[bool],
    params: SegmentParams,
) -> list[Piece]:
    """Segmentation by recognition: each piece that may hold touching digits is cut along candidate
    paths, every stretch between two cuts is read (all pieces' stretches in one batch), and the
    reading of each piece with the best total score is kept."""
    plans = [
        _stretches(piece, digit_height, params) if cut else None
        for piece, cut in zip(pieces, to_cut, strict=True)
    ]
    parts = [part for plan in plans if plan for _, _, part in plan[0]]
    if not parts:
        return pieces
    scores = _digit_scores(ink, parts, digit_height, classify, params)
    result, start = [], 0
    for piece, plan in zip(pieces, plans, strict=True):
        if plan is None:
            result.append(piece)
            continue
        stretches, costs = plan
        result.extend(_best_reading(stretches, scores[start : start + len(stretches)], costs))
        start += len(stretches)
    return result


def _merge(
    ink: Ink, pieces: list[Piece], digit_height: float, classify: Classify, params: SegmentParams
) -> list[Piece]:
    """Join neighbours that read better as one digit than as two: a 4 written in two strokes whose
    parts both look tall enough, a broken 8. Only close pairs, one of them short, narrow enough
    together for one digit, are considered."""
    candidates = []
    for i, (a, b) in enumerate(itertools.pairwise(pieces)):
        gap = b.box[0] - (a.box[0] + a.box[2])
        width = max(a.box[0] + a.box[2], b.box[0] + b.box[2]) - a.box[0]
        short = min(a.box[3], b.box[3]) < params.short * digit_height
        if gap <= 0.1 * digit_height and short and width <= params.wide * digit_height:
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


def find_pieces(ink: Ink, params: SegmentParams = DEFAULTS) -> tuple[list[Piece], float]:
    """The number's pieces of ink, left to right (a digit, its parts joined, or touching digits), and
    the typical digit height. Raises InputError(no_digit_found) when there are none."""
    stats = ink.stats
    if not len(stats):
        raise InputError(
            "no_digit_found", "No ink found: the image looks blank. Write or photograph a number."
        )
    digit_height = _digit_height(stats, ink.mask.shape)
    mask = remove_rules(ink.mask, digit_height, params)
    labels, stats = _stats(mask)
    if len(stats):
        digit_height = _digit_height(stats, mask.shape)
        tall = stats[:, 3] >= 0.5 * digit_height
        typical_area = float(np.median(stats[tall, 4])) if tall.any() else float(stats[:, 4].max())
        keep = np.flatnonzero(stats[:, 4] >= params.speck_area * typical_area)
    else:
        keep = np.array([], dtype=int)
    if not len(keep):
        raise InputError("no_digit_found", "No digits found: only lines or specks of ink. Write a number.")

    pieces = []
    for group in _group_pieces(stats[keep], digit_height, params):
        piece_mask = np.isin(labels, keep[group] + 1).astype(np.uint8)
        pieces.append(Piece(_bounding_box(piece_mask), piece_mask))
    pieces.sort(key=lambda p: p.box[0] + p.box[2] / 2)
    return pieces, digit_height


def candidate_parts(
    pieces: list[Piece], digit_height: float, params: SegmentParams = DEFAULTS
) -> list[Piece]:
    """The parts the reader may take for one digit: each piece, and the ink between any two cuts of
    the pieces wide enough for two digits (what the one-digit check learns from; the narrower pieces
    the reader also cuts when the check doubts them are left out, as that choice needs the check)."""
    parts = list(pieces)
    for piece in pieces:
        if piece.box[2] > params.wide * digit_height:
            parts.extend(part for _, _, part in _stretches(piece, digit_height, params)[0])
    return parts


def checked(classify: Classify, one_digit: OneDigit | None, params: SegmentParams = DEFAULTS) -> Classify:
    """The digit probabilities segmentation scores parts by: the classifier's, times the one-digit
    check's P(one whole digit) to the power `check_weight`. The classifier alone reads a squeezed
    pair, or half of a digit, as one digit with its usual confidence."""
    if one_digit is None:
        return classify
    return lambda images: classify(images) * one_digit(images)[:, None] ** params.check_weight


def segment(
    grey: np.ndarray,
    classify: Classify,
    dark_ink: bool | None = None,
    one_digit: OneDigit | None = None,
    params: SegmentParams = DEFAULTS,
) -> list[Digit]:
    """The digits of a single-line number in a greyscale image, left to right. `one_digit`, if given,
    maps (N, 28, 28) inputs to P(one whole digit) (rthdr.inference.OneDigitCheck)."""
    ink = extract_ink(grey, dark_ink)
    pieces, digit_height = find_pieces(ink, params)
    score = checked(classify, one_digit, params)
    pieces = _merge(ink, pieces, digit_height, score, params)
    to_cut = _may_hold_two(ink, pieces, digit_height, one_digit, params)
    digits = _split(ink, pieces, digit_height, score, to_cut, params)
    if not digits:
        raise InputError("no_digit_found", "No digits found: only small marks of ink. Write a number.")
    if len(digits) > params.max_digits:
        raise InputError(
            "too_many_digits",
            f"Found {len(digits)} marks that look like digits; "
            f"at most {params.max_digits} are read: send one line of at most {params.max_digits} digits.",
        )
    digits.sort(key=lambda p: p.box[0] + p.box[2] / 2)
    return [Digit(p.box, *crop_input(ink, p)) for p in digits]
