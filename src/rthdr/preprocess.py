"""The MNIST recipe, applied to any greyscale image so the model sees what it was trained on.

    grey image -> ink (bright ink on black, background and shadows removed, contrast stretched)
               -> the digit's pixels (specks dropped) -> crop to their bounding box
               -> strokes thickened if much thinner than MNIST's -> fit into 20x20, aspect kept
               -> centre of mass at the centre of 28x28 -> float32 in [0, 1]

The CLI, the API, the multi-digit reader and the evaluation all call these functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from rthdr.decode import InputError

SIZE = 28  # the model's input side
FIT = 20  # MNIST fits each digit's bounding box into 20x20 ...
CENTRE = 14.0  # ... and puts its centre of mass here (index coordinates, measured on MNIST)
MIN_CONTRAST = 24  # grey levels between paper and ink below which we say "no digit"
MNIST_STROKE = 0.12  # median stroke width / bounding-box side on MNIST (2.4 px of 20)
THIN_STROKE = 0.05  # thinner strokes than this (rarer than 1 in 100 MNIST digits) are thickened
SPECK = 0.01  # ink components under this share of all ink are noise


@dataclass(frozen=True)
class Ink:
    """An image made ready for finding digits."""

    image: np.ndarray  # float32 (H, W) in [0, 1]; 1 = full ink, 0 = paper
    mask: np.ndarray  # uint8 (H, W), 1 where there is ink

    def components(self) -> tuple[np.ndarray, np.ndarray]:
        """Connected ink components: a label image and (N, 5) stats [x, y, w, h, area] without the
        background row, in label order (component k has label k + 1)."""
        _, labels, stats, _ = cv2.connectedComponentsWithStats(self.mask, connectivity=8)
        return labels, stats[1:]


def ink_is_dark(grey: np.ndarray) -> bool:
    """Paper fills the border; ink is the side of the paper's grey level with more pixels far from
    it (so a tiny digit on a big page counts, and a speck of noise does not)."""
    border = max(1, min(grey.shape) // 20)
    edge = np.concatenate(
        [grey[:border].ravel(), grey[-border:].ravel(), grey[:, :border].ravel(), grey[:, -border:].ravel()]
    )
    paper = int(np.median(edge))
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
    threshold, _ = cv2.threshold(flat, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    threshold = max(threshold, MIN_CONTRAST / 2)
    strong = flat > threshold
    ink_level = float(np.percentile(flat[strong], 90)) if strong.any() else contrast
    # Paper noise (JPEG, grain) sets the floor under which pixels count as paper; on clean images
    # the floor stays low so MNIST's soft anti-aliased edges survive.
    sample, sample_strong = flat[::4, ::4], strong[::4, ::4]
    noise = float(np.percentile(sample[~sample_strong], 99)) if (~sample_strong).any() else 0.0
    floor = min(max(noise, 4.0), threshold * 0.75)
    mask = _hysteresis(flat > max(floor, threshold / 2), strong)
    image = np.clip((flat.astype(np.float32) - floor) / max(ink_level - floor, 1.0), 0.0, 1.0)
    return Ink(image, mask)


def _hysteresis(weak: np.ndarray, strong: np.ndarray) -> np.ndarray:
    """Weak ink pixels connected to strong ones: faint, thin or blurred strokes stay in one piece
    where a single threshold would break them, and faint noise away from the strokes stays out."""
    count, labels = cv2.connectedComponents(weak.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strong])] = True
    keep[0] = False
    return keep[labels].astype(np.uint8)


def _background(bright: np.ndarray) -> np.ndarray:
    """The paper's level everywhere, as a smooth quadratic surface fitted to the paper pixels of a
    thumbnail: it follows shadows and gradients, and no blob of ink, however thick, can pass for
    paper. Two rounds: the second fits the pixels the first one's flattening calls paper."""
    height, width = bright.shape
    factor = max(1.0, max(height, width) / 32)
    small = cv2.resize(
        bright, (max(1, round(width / factor)), max(1, round(height / factor))), interpolation=cv2.INTER_AREA
    ).astype(np.float32)
    ys, xs = np.indices(small.shape, dtype=np.float32)
    ys, xs = ys / max(small.shape[0] - 1, 1) - 0.5, xs / max(small.shape[1] - 1, 1) - 0.5
    terms = np.stack([np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys], axis=-1)
    surface = np.full_like(small, float(np.median(small)))
    for _ in range(2):
        residual = np.clip(small - surface, 0, 255).astype(np.uint8)
        threshold, _ = cv2.threshold(residual, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        paper = residual <= threshold / 2  # clear of the ink and of its soft edges
        if paper.sum() < terms.shape[-1] * 2:
            break
        a, b = terms[paper].astype(np.float64), small[paper].astype(np.float64)
        try:  # normal equations: a 6x6 solve, far cheaper than LAPACK's least squares here
            coefficients = np.linalg.solve(a.T @ a, a.T @ b)
        except np.linalg.LinAlgError:  # paper pixels all on one line: keep the flat level
            break
        surface = (terms @ coefficients).astype(np.float32)
        surface += float(np.median(small[paper] - surface[paper]))  # least squares -> robust level
    paper_level = np.clip(surface, 0, 255).astype(np.uint8)
    return cv2.resize(paper_level, (width, height), interpolation=cv2.INTER_LINEAR)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels: ink area over half the outline's length."""
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    outline = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * float(mask.sum()) / max(outline, 1.0)


def to_mnist(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A crop around one digit (ink in [0, 1] and its mask) -> the 28x28 model input."""
    height, width = image.shape
    side = max(height, width)
    width_ratio = stroke_width(mask) / side
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

    total = float(fitted.sum())
    ys, xs = np.indices(fitted.shape)
    com_y = float((ys * fitted).sum()) / total if total else fitted.shape[0] / 2
    com_x = float((xs * fitted).sum()) / total if total else fitted.shape[1] / 2
    top = int(np.clip(round(CENTRE - com_y), 0, SIZE - fitted.shape[0]))
    left = int(np.clip(round(CENTRE - com_x), 0, SIZE - fitted.shape[1]))
    out = np.zeros((SIZE, SIZE), np.float32)
    out[top : top + fitted.shape[0], left : left + fitted.shape[1]] = fitted
    return out


def digit_box(ink: Ink) -> tuple[int, int, int, int]:
    """Bounding box (x, y, w, h) of all ink but specks, soft edges included (as MNIST's box is):
    the single-digit view of an image."""
    labels, stats = ink.components()
    areas = stats[:, 4]
    kept = np.flatnonzero(areas >= max(2, SPECK * areas.sum())) + 1
    if not len(kept):
        raise InputError("no_digit_found", "Only specks of ink found: draw or photograph a digit.")
    strokes = np.isin(labels, kept).astype(np.uint8)
    near_strokes = cv2.dilate(strokes, np.ones((3, 3), np.uint8))
    x, y, w, h = cv2.boundingRect(((ink.image > 0) & (near_strokes > 0)).astype(np.uint8))
    return x, y, w, h


def crop_to_mnist(ink: Ink, box: tuple[int, int, int, int]) -> np.ndarray:
    x, y, w, h = box
    return to_mnist(ink.image[y : y + h, x : x + w], ink.mask[y : y + h, x : x + w])


def preprocess(grey: np.ndarray, dark_ink: bool | None = None) -> np.ndarray:
    """Any greyscale image of one digit -> (28, 28) float32 in [0, 1], MNIST style."""
    ink = extract_ink(grey, dark_ink)
    return crop_to_mnist(ink, digit_box(ink))


def from_pixels(pixels: np.ndarray) -> np.ndarray:
    """A 28x28 array of 0-255 with 0 = background (MNIST's convention) -> model input."""
    return preprocess(np.clip(pixels, 0, 255).astype(np.uint8), dark_ink=False)
