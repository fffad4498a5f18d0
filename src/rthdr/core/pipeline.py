"""image -> model input, timed: the one path every caller (API, CLI, evaluation) takes, and the
synchronous readings of a digit and of a number that the public API (`from rthdr import ...`) offers."""

from __future__ import annotations

import base64
import itertools
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from rthdr.core.charsets import DOT_ZERO_CHARSETS, charset_characters, class_of
from rthdr.core.decode import DEFAULT_MAX_PIXELS, DecodedImage, InputError, decode_image
from rthdr.core.inference import Classifier, Prediction, shipped_classifier
from rthdr.core.preprocess import Square, to_model_input
from rthdr.core.segment import Classify, Digit, OneDigit, segment
from rthdr.core.segment_params import DEFAULTS, SegmentParams
from rthdr.core.strokes import PEN, Group, Strokes, bounds, group_characters, placement, render

ImageSource = bytes | str | Path | np.ndarray  # file bytes, a file's path, or pixels (0 = background)


def _image_data(image: ImageSource) -> bytes | np.ndarray:
    return Path(image).read_bytes() if isinstance(image, str | Path) else image


@dataclass(frozen=True)
class Prepared:
    model_input: np.ndarray  # (28, 28) float32 in [0, 1]
    region: Square  # the square of the original image the model input shows
    decode_ms: float
    preprocess_ms: float


def scaled(square: Square, factor: float) -> Square:
    return (square[0] * factor, square[1] * factor, square[2] * factor)


def decode_timed(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[DecodedImage, float]:
    """The first stage of preparing image bytes: the decoded image, and how long it took (ms)."""
    start = time.perf_counter()
    decoded = decode_image(data, max_pixels)
    return decoded, (time.perf_counter() - start) * 1000


def prepare_decoded(decoded: DecodedImage, decode_ms: float) -> Prepared:
    """The second stage: a decoded image -> the model input, its region in the original's pixels."""
    start = time.perf_counter()
    model_input, square = to_model_input(decoded.grey)
    preprocess_ms = (time.perf_counter() - start) * 1000
    return Prepared(model_input, scaled(square, decoded.scale), decode_ms, preprocess_ms)


def _prepare_pixels(pixels: np.ndarray) -> Prepared:
    start = time.perf_counter()
    model_input, square = to_model_input(pixels, dark_ink=False)
    return Prepared(model_input, square, 0.0, (time.perf_counter() - start) * 1000)


def prepare_strokes(strokes: Strokes) -> tuple[Prepared, np.ndarray]:
    """Pen strokes drawn as a picture (rthdr.core.strokes.render) -> the model input, its region in
    the strokes' own coordinates; and the picture, for whatever keeps one (the review queue)."""
    start = time.perf_counter()
    page = render(strokes)
    drawn = time.perf_counter()
    model_input, (x, y, side) = to_model_input(page)
    scale, (dx, dy) = placement(strokes)
    region = ((x - dx) / scale, (y - dy) / scale, side / scale)
    return Prepared(model_input, region, (drawn - start) * 1000, (time.perf_counter() - drawn) * 1000), page


def prepare_stroke_number(strokes: Strokes) -> tuple[PreparedNumber, list[Group]]:
    """A number's strokes grouped into characters by the order they were drawn in
    (rthdr.core.strokes.group_characters), each group drawn and preprocessed: no cut is guessed.
    Boxes are in the strokes' own coordinates, around the ink of a pen of PEN of the number's height
    (the points' bounds would cut a thick stroke in half, and a 1 to a line); the groups, left to right."""
    start = time.perf_counter()
    groups = group_characters(strokes)
    _, _, width, height = bounds(strokes)
    ink = PEN * max(height, width / 8) / 2  # half the pen, beyond each point
    digits = []
    for group in groups:
        part = [strokes[i] for i in group.strokes]
        prepared, _ = prepare_strokes(part)
        x, y, w, h = group.box
        box = (round(x - ink), round(y - ink), max(1, round(w + 2 * ink)), max(1, round(h + 2 * ink)))
        digits.append(Digit(box, prepared.model_input, prepared.region))
    return PreparedNumber(digits, 1.0, 0.0, (time.perf_counter() - start) * 1000), groups


def prepare(image: bytes | np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS) -> Prepared:
    """Image file bytes, or a 28x28 pixel array (0 = background), -> the model input."""
    if isinstance(image, np.ndarray):
        return _prepare_pixels(image)
    return prepare_decoded(*decode_timed(image, max_pixels))


@dataclass(frozen=True)
class PreparedNumber:
    digits: list[Digit]  # left to right, boxes in the pixels of the processed image
    scale: float  # original image pixels per processed pixel (images are downscaled early)
    decode_ms: float
    preprocess_ms: float

    def original_boxes(self) -> list[tuple[int, int, int, int]]:
        return [tuple(round(v * self.scale) for v in d.box) for d in self.digits]  # type: ignore[misc]

    def original_regions(self) -> list[Square]:
        return [scaled(d.square, self.scale) for d in self.digits]


def prepare_number(
    image: bytes | np.ndarray,
    classify: Classify,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    one_digit: OneDigit | None = None,
    params: SegmentParams = DEFAULTS,
) -> PreparedNumber:
    """Image bytes or a pixel array (0 = background) -> the model inputs of each digit. `one_digit`:
    the one-digit check, which makes the choice of cuts between touching digits surer."""
    start = time.perf_counter()
    if isinstance(image, np.ndarray):
        grey, scale, dark_ink = np.clip(image, 0, 255).astype(np.uint8), 1.0, False
    else:
        decoded = decode_image(image, max_pixels)
        grey, scale, dark_ink = decoded.grey, decoded.scale, None
    decoded_at = time.perf_counter()
    digits = segment(grey, classify, dark_ink, one_digit, params)
    done = time.perf_counter()
    return PreparedNumber(digits, scale, (decoded_at - start) * 1000, (done - decoded_at) * 1000)


@dataclass(frozen=True)
class NumberReading:
    text: str
    predictions: list[Prediction]
    boxes: list[tuple[int, int, int, int]]  # in the original image's pixels

    @property
    def uncertain(self) -> bool:
        return any(p.uncertain for p in self.predictions)


def read_digit(image: ImageSource, classifier: Classifier | None = None) -> Prediction:
    """The digit in an image, synchronously; `classifier` defaults to the shipped model. The API
    batches requests instead."""
    classifier = classifier or shipped_classifier()
    (prediction,) = classifier.predict(prepare(_image_data(image)).model_input[np.newaxis])
    return prediction


def read_number(
    image: ImageSource,
    classifier: Classifier | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    one_digit: OneDigit | None = None,
) -> NumberReading:
    """The whole number in an image, synchronously (CLI, evaluation); the API batches instead.
    `classifier` defaults to the shipped model; `one_digit` (e.g. OneDigitCheck()) makes cuts
    between touching digits surer, as the service does."""
    classifier = classifier or shipped_classifier()
    prepared = prepare_number(_image_data(image), classifier.segmentation_scores, max_pixels, one_digit)
    predictions = classifier.predict(np.stack([d.model_input for d in prepared.digits]))
    return NumberReading("".join(str(p.digit) for p in predictions), predictions, prepared.original_boxes())


def character_segmentation(characters: Classifier, charset: str) -> tuple[Classify, SegmentParams]:
    """How a line of characters is cut: parts scored by the character model in the charset (the
    one-digit check knows only digits, so it is left out), each with the same broad width prior."""
    wanted = [characters.classes.index(class_of(c)) for c in charset_characters(charset)]
    params = replace(
        DEFAULTS,
        width_mean=(DEFAULTS.character_width,) * len(wanted),
        width_sd=(DEFAULTS.character_width_sd,) * len(wanted),
        fragment=DEFAULTS.dot_fragment if charset in DOT_ZERO_CHARSETS else DEFAULTS.fragment,
    )
    return (lambda images: characters.segmentation_scores(images)[:, wanted]), params


def line_text(
    characters: list[str], boxes: list[tuple[int, int, int, int]], params: SegmentParams = DEFAULTS
) -> str:
    """The characters of a line, left to right, with a space at each word gap (see SegmentParams)."""
    if len(characters) < 2:
        return "".join(characters)
    height = float(np.median([box[3] for box in boxes]))
    gaps = np.array([b[0] - (a[0] + a[2]) for a, b in itertools.pairwise(boxes)], dtype=float)
    wide = (gaps > params.word_gap * height) & (
        gaps > params.word_gap_ratio * max(float(np.median(gaps)), 1.0)
    )
    return characters[0] + "".join((" " if w else "") + c for w, c in zip(wide, characters[1:], strict=True))


def decode_data_url(url: str) -> bytes:
    """'data:image/png;base64,....' (what canvas.toDataURL gives) or bare base64 -> bytes."""
    header, _, payload = url.partition(",") if url.startswith("data:") else ("", "", url)
    if header and ";base64" not in header:
        raise InputError(
            "invalid_data_url", "The data URL must be base64-encoded (data:image/png;base64,...)."
        )
    try:
        return base64.b64decode(payload, validate=True)
    except ValueError as exc:
        raise InputError("invalid_base64", f"The image is not valid base64: {exc}") from exc


def png_data_url(image: np.ndarray) -> str:
    """A float image in [0, 1] (or uint8) as a PNG data URL, for showing what the model saw."""
    pixels = image if image.dtype == np.uint8 else np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8)
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok, "PNG encoding of a small uint8 array cannot fail"
    return "data:image/png;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")
