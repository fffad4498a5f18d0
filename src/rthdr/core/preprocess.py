"""The MNIST recipe, applied to any greyscale image so the model sees what it was trained on.

    grey image -> ink (bright ink on black, background and shadows removed, contrast stretched)
               -> the digit's pixels (specks dropped) -> crop to their bounding box
               -> strokes thickened if much thinner than MNIST's -> fit into 20x20, aspect kept
               -> centre of mass at the centre of 28x28 -> float32 in [0, 1]

The CLI, the API, the multi-digit reader and the evaluation all call these functions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from tqdm import tqdm

from rthdr.core.decode import InputError

SIZE = 28  # the model's input side
FIT = 20  # MNIST fits each digit's bounding box into 20x20 ...
CENTRE = 14.0  # ... and puts its centre of mass here (index coordinates, measured on MNIST)
MIN_CONTRAST = 24  # grey levels between paper and ink below which we say "no digit"
MNIST_STROKE = 0.12  # median stroke width / bounding-box side on MNIST (2.4 px of 20)
THIN_STROKE = 0.05  # thinner strokes than this (rarer than 1 in 100 MNIST digits) are thickened
SPECK = 0.01  # ink components under this share of all ink are noise
Square = tuple[float, float, float]  # x, y, side: the part of an image a 28x28 model input shows
WORKING_SIDE = 128  # images are read at most this many pixels large ...
DETAIL = 2 * FIT  # ... unless the digit then spans fewer pixels than this


@dataclass(frozen=True)
class Ink:
    """An image made ready for finding digits: ink brightness above the paper, and its strokes."""

    flat: np.ndarray  # uint8 (H, W): how much brighter than the paper each pixel is
    floor: float  # flat levels up to this are paper (noise)
    level: float  # the flat level of solid ink
    mask: np.ndarray  # uint8 (H, W): 1 on the strokes, 0 = paper
    stats: np.ndarray  # (N, 5): [x, y, w, h, area] of each stroke

    def intensity(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """float32 ink in [0, 1] inside box (x, y, w, h): 1 = solid ink, 0 = paper. Computed per
        crop, since only the digits' boxes are ever needed."""
        x, y, w, h = box
        crop = self.flat[y : y + h, x : x + w].astype(np.float32)
        return np.clip((crop - self.floor) / max(self.level - self.floor, 1.0), 0.0, 1.0)


def _percentile(image: np.ndarray, q: float, where: np.ndarray) -> float:
    """Percentile of a uint8 image's values where `where` (uint8) is non-zero, from their histogram:
    linear time, where np.percentile sorts."""
    counts = np.cumsum(cv2.calcHist([image], [0], where, [256], [0, 256]).ravel())
    return float(np.searchsorted(counts, q / 100 * counts[-1])) if counts[-1] else 0.0


def _median(values: np.ndarray) -> float:
    """np.median of a small array, without its overhead (several are taken per request)."""
    ordered = np.sort(values, axis=None)
    return (float(ordered[(ordered.size - 1) // 2]) + float(ordered[ordered.size // 2])) / 2


def ink_is_dark(grey: np.ndarray) -> bool:
    """Paper fills the border; ink is the side of the paper's grey level with more pixels far from
    it (so a tiny digit on a big page counts, and a speck of noise does not)."""
    border = max(1, min(grey.shape) // 20)
    edge = np.concatenate(
        [grey[:border].ravel(), grey[-border:].ravel(), grey[:, :border].ravel(), grey[:, -border:].ravel()]
    )
    paper = int(_median(edge))
    far = 2 * MIN_CONTRAST
    darker = np.count_nonzero(grey < paper - far)
    brighter = np.count_nonzero(grey > paper + far)
    return bool(darker > brighter)


def extract_ink(grey: np.ndarray, dark_ink: bool | None = None) -> Ink:
    """Bright ink on a black background, whatever the input's polarity, lighting and paper.

    `dark_ink` None means detect it. Raises InputError(no_digit_found) for a blank image."""
    bright = 255 - grey if (ink_is_dark(grey) if dark_ink is None else dark_ink) else grey
    if min(bright.shape) >= 64:
        bright = cv2.medianBlur(bright, 3)  # JPEG noise and paper grain, at photo resolutions only
    flat = cv2.subtract(bright, _background(bright))
    contrast = float(flat.max())
    if contrast < MIN_CONTRAST:
        raise InputError("no_digit_found", "No ink found: the image looks blank. Draw or photograph a digit.")
    threshold, strong = cv2.threshold(flat, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if threshold < MIN_CONTRAST / 2:
        threshold, strong = cv2.threshold(flat, MIN_CONTRAST / 2, 1, cv2.THRESH_BINARY)
    level = _percentile(flat, 90, where=strong)
    # Paper noise (JPEG, grain) sets the floor under which pixels count as paper; on clean images
    # the floor stays low so MNIST's soft anti-aliased edges survive.
    sample, sample_strong = flat[::4, ::4], strong[::4, ::4]
    floor = min(max(_percentile(sample, 99, where=1 - sample_strong), 4.0), threshold * 0.75)
    mask, stats = _hysteresis(flat > max(floor, threshold / 2), strong)
    return Ink(flat, floor, level, mask, stats)


def _hysteresis(weak: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Strokes = components of the weak ink pixels that hold a strong one: faint, thin or blurred
    strokes stay in one piece where a single threshold would break them, and faint noise away from
    the strokes stays out. Returns their mask (uint8) and stats."""
    # OpenCV labels 2.5x faster into 16 bits; an image has at most a quarter of its pixels' worth
    # of 8-connected components (rounded up), which must fit.
    height, width = weak.shape
    label_type = cv2.CV_16U if (height + 1) * (width + 1) // 4 < 2**16 else cv2.CV_32S
    count, labels, stats, _ = cv2.connectedComponentsWithStats(
        weak.astype(np.uint8), connectivity=8, ltype=label_type
    )
    keep = np.zeros(count, np.uint8)
    keep[labels[strong > 0]] = 1
    keep[0] = 0
    return keep[labels], stats[keep > 0]


@lru_cache(maxsize=32)
def _quadratic_terms(height: int, width: int) -> np.ndarray:
    """(H, W, 6) values of 1, x, y, x^2, xy, y^2 on a grid over [-0.5, 0.5]^2."""
    ys, xs = np.indices((height, width), dtype=np.float64)
    ys, xs = ys / max(height - 1, 1) - 0.5, xs / max(width - 1, 1) - 0.5
    return np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)


def _background(bright: np.ndarray) -> np.ndarray:
    """The paper's level everywhere, as a smooth quadratic surface fitted to the paper pixels of a
    thumbnail: it follows shadows and gradients, and no blob of ink, however thick, can pass for
    paper. Two rounds: the second fits the pixels the first one's flattening calls paper. Even
    paper (a canvas, a clean scan) skips the fit."""
    height, width = bright.shape
    factor = max(1.0, max(height, width) / 32)
    size = (max(1, round(width / factor)), max(1, round(height / factor)))
    small = cv2.resize(bright, size, interpolation=cv2.INTER_AREA)
    edges = [_median(strip) for strip in (small[0], small[-1], small[:, 0], small[:, -1])]
    if max(edges) - min(edges) <= 4:  # the paper is even along all four borders: no shadow to follow
        return np.full_like(bright, int(_median(np.array(edges))))
    terms = _quadratic_terms(small.shape[0], small.shape[1])
    values = small.astype(np.float64)
    surface = np.full_like(values, float(np.median(values)))
    for _ in range(2):
        residual = np.clip(values - surface, 0, 255).astype(np.uint8)
        threshold, _ = cv2.threshold(residual, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        on_paper = residual <= threshold / 2  # clear of the ink and of its soft edges
        if on_paper.sum() < terms.shape[-1] * 2:
            break
        a, b = terms[on_paper], values[on_paper]
        try:  # normal equations: a 6x6 solve, far cheaper than LAPACK's least squares here
            coefficients = np.linalg.solve(a.T @ a, a.T @ b)
        except np.linalg.LinAlgError:  # paper pixels all on one line: keep the flat level
            break
        surface = terms @ coefficients
        surface += float(np.median(b - surface[on_paper]))  # least squares -> robust level
    paper_level = np.clip(surface, 0, 255).astype(np.uint8)
    return cv2.resize(paper_level, (width, height), interpolation=cv2.INTER_LINEAR)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the outline's length."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(outline, 1.0)


def to_mnist(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, Square]:
    """A crop around one digit (ink in [0, 1] and its mask) -> the 28x28 model input, and the
    square of the crop's pixels it shows (for drawing explanations over the original)."""
    height, width = image.shape
    side = max(height, width)
    width_ratio = stroke_width(mask) / side
    pad = 0
    if width_ratio < THIN_STROKE:
        grow = max(1, round((MNIST_STROKE - width_ratio) * side))
        pad = grow // 2 + 1
        image = cv2.dilate(np.pad(image, pad), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow, grow)))
        height, width = image.shape
        side = max(height, width)
    scale = FIT / side
    fitted_size = (max(1, round(width * scale)), max(1, round(height * scale)))
    shrinking = side > FIT
    fitted = cv2.resize(image, fitted_size, interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)

    # cv2.moments takes a float array exactly 2 columns wide for a list of (x, y) points, not an image,
    # so a thin upright "1" fitted to 2 pixels was placed by that polygon, far off centre. A column
    # of zeros changes no moment.
    moments = cv2.moments(np.pad(fitted, ((0, 0), (0, 1))) if fitted.shape[1] == 2 else fitted)
    total = moments["m00"]
    com_y = moments["m01"] / total if total else fitted.shape[0] / 2
    com_x = moments["m10"] / total if total else fitted.shape[1] / 2
    top = min(max(round(CENTRE - com_y), 0), SIZE - fitted.shape[0])
    left = min(max(round(CENTRE - com_x), 0), SIZE - fitted.shape[1])
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return out, (-left / scale - pad, -top / scale - pad, SIZE / scale)


def digit_box(ink: Ink) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of all ink but specks, with MNIST's soft edges (one pixel around
    the strokes): the single-digit view of an image."""
    areas = ink.stats[:, 4]
    keep = ink.stats[areas >= max(2, SPECK * areas.sum())] if len(areas) else areas
    if not len(keep):
        raise InputError("no_digit_found", "Only specks of ink found: draw or photograph a digit.")
    height, width = ink.flat.shape
    x0, y0 = max(0, keep[:, 0].min() - 1), max(0, keep[:, 1].min() - 1)
    x1 = min(width, (keep[:, 0] + keep[:, 2]).max() + 1)
    y1 = min(height, (keep[:, 1] + keep[:, 3]).max() + 1)
    x, y, w, h = cv2.boundingRect((ink.flat[y0:y1, x0:x1] > ink.floor).astype(np.uint8))
    return int(x0 + x), int(y0 + y), int(w), int(h)


def crop_to_mnist(ink: Ink, box: tuple[int, int, int, int]) -> tuple[np.ndarray, Square]:
    x, y, w, h = box
    model_input, (sx, sy, side) = to_mnist(ink.intensity(box), ink.mask[y : y + h, x : x + w])
    return model_input, (sx + x, sy + y, side)


def shrink(grey: np.ndarray, side: int) -> tuple[np.ndarray, float]:
    """The image scaled down by a whole factor (area averaging) so its longer side is at most
    `side`, and the factor."""
    height, width = grey.shape
    factor = math.ceil(max(height, width) / side)
    if factor <= 1:
        return grey, 1.0
    # Whole output pixels only: the last few rows and columns (fewer than `factor`) are dropped, as
    # OpenCV's fast path needs the sizes to divide exactly (a fractional scale costs 4x).
    width, height = max(1, width // factor), max(1, height // factor)
    return cv2.resize(
        grey[: height * factor, : width * factor], (width, height), interpolation=cv2.INTER_AREA
    ), factor


def to_model_input(grey: np.ndarray, dark_ink: bool | None = None) -> tuple[np.ndarray, Square]:
    """The (28, 28) float32 model input, MNIST style, of the digit in a greyscale image, and the
    square of the image it shows. `dark_ink` None detects the polarity; MNIST's own arrays (0 =
    background) are dark_ink=False. Values outside 0-255 are clipped.

    The image is read at most WORKING_SIDE pixels large: the model sees 20 pixels of digit, so more
    only costs time. Where the digit is small in a big image, its region is read again from the
    full image, so it keeps at least DETAIL pixels."""
    grey = grey if grey.dtype == np.uint8 else np.clip(grey, 0, 255).astype(np.uint8)
    small, factor = shrink(grey, WORKING_SIDE)
    dark_ink = ink_is_dark(small) if dark_ink is None else dark_ink
    ink = extract_ink(small, dark_ink)
    box = digit_box(ink)
    x0 = y0 = 0
    if factor > 1 and max(box[2], box[3]) < DETAIL:
        x, y, w, h = (round(v * factor) for v in box)
        margin = max(w, h) // 4 + 2
        x0, y0 = max(0, x - margin), max(0, y - margin)
        small, factor = shrink(grey[y0 : y + h + margin, x0 : x + w + margin], WORKING_SIDE)
        ink = extract_ink(small, dark_ink)
        box = digit_box(ink)
    model_input, (sx, sy, side) = crop_to_mnist(ink, box)
    return model_input, (x0 + sx * factor, y0 + sy * factor, side * factor)


def preprocess_all(images: np.ndarray, progress: bool = True) -> np.ndarray:
    """Many MNIST-style arrays (0 = background) -> their model inputs, with a progress bar."""
    return np.stack(
        [
            to_model_input(im, dark_ink=False)[0]
            for im in tqdm(images, desc="preprocess", disable=not progress)
        ]
    )
