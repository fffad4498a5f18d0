"""The model at serving time: an ONNX Runtime session, no PyTorch.

The graph takes (N, 1, 28, 28) pixels in [0, 1] and returns the class probabilities and the class
activation maps (see rthdr.training.model); a batch of any size runs in one call.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from rthdr.core.charsets import DEFAULT_CHARSET, DIGITS
from rthdr.core.errors import ModelError

# The shipped models are package data (rthdr/models/), so that a wheel installed by pip serves them;
# `rthdr release` writes there in a checkout. The training checkpoints (.pt) stay out of the wheel.
MODELS_DIR = Path(str(resources.files("rthdr") / "models"))
# The shipped network as trained, exported from PyTorch: the reference that `rthdr export` and the
# comparisons start from.
FLOAT_MODEL = MODELS_DIR / "digitnet.onnx"
# Its PyTorch weights, for training from it, attacking it and timing PyTorch against ONNX Runtime.
SHIPPED_WEIGHTS = MODELS_DIR / "digitnet.pt"
# What is served and used by default (the Docker image sets RTHDR_MODEL instead): the same network
# quantised to INT8 by `rthdr release`, as accurate on validation and test digits and numbers, and
# about a sixth faster on one CPU thread (docs/speed.md).
DEFAULT_MODEL = FLOAT_MODEL.with_suffix(".int8.onnx")
# The character model: digits, letters and `none` (charsets other than digits, and the check that a
# drawing is a digit at all). Trained on MNIST and the generated corpus (docs/characters.md). Served
# in INT8, which `rthdr release` kept: within 0.1 points of the float file.
DEFAULT_CHARACTER_MODEL = FLOAT_MODEL.with_name("charnet.int8.onnx")
# The script model: the digits of Devanagari, Arabic-Indic and Persian, and `none`. Trained on
# fonts only (docs/characters.md). Served in INT8, which `rthdr release` kept: as accurate held out.
DEFAULT_SCRIPT_MODEL = FLOAT_MODEL.with_name("scriptnet.int8.onnx")
# The stroke model: a digit from its pen strokes (rthdr.core.strokes), and its card with the weight
# that fuses it with the image model (rthdr.training.strokes trains it, `rthdr train-strokes`).
DEFAULT_STROKE_MODEL = FLOAT_MODEL.with_name("strokenet.onnx")
# The character stroke model: the character model's classes from their strokes, fused with it in
# charsets letters and alphanumeric (`rthdr train-strokes --corpus`).
DEFAULT_CHARACTER_STROKE_MODEL = FLOAT_MODEL.with_name("strokenet-chars.onnx")
# The one-digit check that number reading scores its cuts with (rthdr.training.onedigit trains it).
DEFAULT_ONE_DIGIT_CHECK = FLOAT_MODEL.with_name("onedigit.onnx")
# ONNX Runtime rewrites that slow our graphs down. QDQ propagation moves the INT8 model's first
# quantisation above the first max-pooling, which then runs in a generic uint8 kernel: a fifth of
# the model's time (profiled: 39 us of ~200). Without it the outputs are bit for bit the same and the
# INT8 model takes 0.16 instead of 0.19 ms (float: 0.23 ms; interleaved rounds).
SLOWER_REWRITES = ["QDQPropagationTransformer"]
# Calibrated confidence under which an answer is flagged "uncertain": more than a 1-in-20 chance of
# being wrong. On the validation split it flags 0.8 % of the digit model's answers and 53 % of its
# errors (0.7 before calibration flagged 0.8 % and 47 %); `rthdr calibrate` prints the figures.
UNCERTAIN_BELOW = 0.95


@dataclass(frozen=True)
class Prediction:
    digit: int
    confidence: float
    probabilities: np.ndarray  # (10,)
    cam: np.ndarray  # (7, 7) class activation map of the predicted digit

    @property
    def uncertain(self) -> bool:
        return self.confidence < UNCERTAIN_BELOW


def calibrated(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """Temperature scaling (Guo et al. 2017) of a model's (N, C) probabilities: softmax(logits / T)
    is softmax(log p / T), because log p differs from the logits by one constant per image. T < 1
    sharpens what label smoothing left soft, T > 1 softens an overconfident model."""
    if temperature == 1.0:
        return probabilities
    scaled = np.log(np.clip(probabilities.astype(np.float64), 1e-30, None)) / temperature
    scaled = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return (scaled / scaled.sum(axis=1, keepdims=True)).astype(np.float32)


def predictions(probabilities: np.ndarray, cam: np.ndarray) -> list[Prediction]:
    """A model's outputs for a batch -> one Prediction (its likeliest class) per image."""
    best = probabilities.argmax(axis=1)
    return [
        Prediction(int(d), float(p[d]), p, c[d]) for d, p, c in zip(best, probabilities, cam, strict=True)
    ]


def as_batch(images: np.ndarray) -> np.ndarray:
    """(N, 28, 28) model inputs -> the (N, 1, 28, 28) float32 array the ONNX graphs take."""
    return np.ascontiguousarray(images, dtype=np.float32).reshape(-1, 1, 28, 28)


def _session(path: Path, threads: int, what: str, fix: str) -> tuple[ort.InferenceSession, str]:
    """An ONNX Runtime session for a model file, and its input's name; ModelError says what to do
    (`fix`) when the file is missing."""
    if not path.is_file():
        raise ModelError(f"{what} {path} not found: {fix}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads  # one thread per worker: workers scale, threads contend
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        session = ort.InferenceSession(
            str(path), options, providers=["CPUExecutionProvider"], disabled_optimizers=SLOWER_REWRITES
        )
    except Exception as exc:  # ORT raises its own exception types for a bad file
        raise ModelError(f"cannot load {path} as an ONNX model: {exc}") from exc
    return session, session.get_inputs()[0].name


class OneDigitCheck:
    """P(a 28x28 crop shows exactly one whole digit): what number reading weighs its cuts with."""

    def __init__(self, path: str | Path = DEFAULT_ONE_DIGIT_CHECK, threads: int = 1) -> None:
        self.path = Path(path)
        fix = "train it with `rthdr train-onedigit`"
        self.session, self.input_name = _session(self.path, threads, "one-digit check", fix)

    @classmethod
    def if_present(cls, path: str | Path = DEFAULT_ONE_DIGIT_CHECK) -> OneDigitCheck | None:
        """The check, or None where its file is missing (numbers are then read without it)."""
        return cls(path) if Path(path).is_file() else None

    @classmethod
    def from_flag(cls, value: str) -> OneDigitCheck | None:
        """The check a `--one-digit` flag names: "none" reads numbers without one, "" (not given)
        the shipped check where it exists, anything else the file given (which must exist)."""
        if value == "none":
            return None
        return cls(value) if value else cls.if_present(DEFAULT_ONE_DIGIT_CHECK)

    def __call__(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) float32 in [0, 1] -> (N,) probabilities."""
        (probability,) = self.session.run(None, {self.input_name: as_batch(images)})
        return probability.reshape(-1)


class StrokeClassifier:
    """P(class) from a drawing's stroke features (rthdr.core.strokes.features): a digit, or with a
    character stroke model the character model's classes; and the weight its card gives the image
    model's log-probabilities when the two are fused."""

    def __init__(self, path: str | Path = DEFAULT_STROKE_MODEL, threads: int = 1) -> None:
        self.path = Path(path)
        fix = "train it with `rthdr train-strokes`, or set RTHDR_STROKE_MODEL"
        self.session, self.input_name = _session(self.path, threads, "stroke model", fix)
        card_path = self.path.with_name(f"{network_name(self.path)}.card.json")
        self.card: dict[str, Any] = json.loads(card_path.read_text()) if card_path.is_file() else {}
        fusion = self.card.get("fusion", {})
        self.image_weight = float(fusion.get("image_weight", 0.5))
        self.temperature = float(fusion.get("temperature", 1.0))  # calibrates the fused probabilities
        # a character stroke model's weight and temperature, chosen for each charset it is fused in
        self.charsets: dict[str, dict[str, float]] = fusion.get("charsets", {})

    def fusion_in(self, charset: str) -> tuple[float, float]:
        """The image model's fusion weight and the fused temperature in a charset: its own where the
        card has them."""
        own = self.charsets.get(charset, {})
        return float(own.get("image_weight", self.image_weight)), float(
            own.get("temperature", self.temperature)
        )

    def fused(self, image: np.ndarray, strokes: np.ndarray, charset: str = DEFAULT_CHARSET) -> np.ndarray:
        """The image model's (calibrated) probabilities and this model's, fused and calibrated again:
        a weighted geometric mean is softer than either source, so its confidence needs its own
        temperature to mean what it says."""
        weight, temperature = self.fusion_in(charset)
        return calibrated(fuse(image, strokes, weight), temperature)

    @classmethod
    def if_present(cls, path: str | Path = DEFAULT_STROKE_MODEL, threads: int = 1) -> StrokeClassifier | None:
        return cls(path, threads) if Path(path).is_file() else None

    @property
    def name(self) -> str:
        return self.path.stem

    @cached_property
    def version(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:12]

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names, in output order: the card's, else the ten digits."""
        return tuple(self.card.get("classes", DIGITS))

    def __call__(self, strokes: np.ndarray) -> np.ndarray:
        """(N, CHANNELS, STEPS) float32 -> (N, classes) probabilities."""
        (probabilities,) = self.session.run(
            None, {self.input_name: np.ascontiguousarray(strokes, np.float32)}
        )
        return probabilities


def fuse(image: np.ndarray, strokes: np.ndarray, image_weight: float) -> np.ndarray:
    """Late fusion: probabilities proportional to image^w * strokes^(1-w), row by row."""
    logits = image_weight * np.log(np.clip(image, 1e-12, None)) + (1 - image_weight) * np.log(
        np.clip(strokes, 1e-12, None)
    )
    fused = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return fused / fused.sum(axis=-1, keepdims=True)


def network_name(path: Path) -> str:
    """The trained network a model file holds: digitnet for digitnet.onnx and digitnet.int8.onnx."""
    return path.name.split(".")[0]


class Classifier:
    def __init__(self, path: str | Path = DEFAULT_MODEL, threads: int = 1) -> None:
        self.path = Path(path)
        fix = "pass --model or set RTHDR_MODEL"
        self.session, self.input_name = _session(self.path, threads, "model file", fix)
        # The guided backpropagation graph beside it (rthdr.core.explain), loaded now so that a bad
        # file fails at start; None where there is none, and heatmaps are then Grad-CAM alone.
        self.explainer_path = self.path.with_name(f"{self.network}.explainer.onnx")
        fix = "delete it, or write it again with `rthdr export --explainer`"
        self.explainer = (
            _session(self.explainer_path, threads, "explainer file", fix)[0]
            if self.explainer_path.is_file()
            else None
        )

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def network(self) -> str:
        return network_name(self.path)

    @property
    def version(self) -> str:
        """The first 12 hex digits of the file's SHA-256: changes whenever the weights do."""
        return self.sha256[:12]

    @cached_property
    def card(self) -> dict[str, Any]:
        """The network's model card JSON beside the file (one card covers its float and INT8 files),
        or the facts the file itself gives."""
        card_path = self.path.with_name(f"{self.network}.card.json")
        card = json.loads(card_path.read_text()) if card_path.is_file() else {}
        facts = {"name": self.name, "version": self.version, "sha256": self.sha256}
        return {**card, **facts, "file_bytes": self.path.stat().st_size}

    @cached_property
    def classes(self) -> tuple[str, ...]:
        """The class names, in output order: the card's (a character model's), else the ten digits."""
        return tuple(self.card.get("classes", DIGITS))

    @cached_property
    def temperature(self) -> float:
        """The temperature its card was calibrated with (`rthdr calibrate`); 1 = as trained."""
        return float(self.card.get("calibration", {}).get("temperature", 1.0))

    def guided(self, model_input: np.ndarray, index: int) -> np.ndarray | None:
        """(28, 28) model input and a class index -> its (28, 28) guided gradients; None without an
        explainer, where the heatmap is Grad-CAM alone."""
        if self.explainer is None:
            return None
        feeds = {"image": as_batch(model_input), "class": np.array([index], np.int64)}
        return self.explainer.run(None, feeds)[0][0]

    def run(self, images: np.ndarray, calibrate: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """(N, 28, 28) float32 in [0, 1] -> probabilities (N, C), calibrated unless asked not to, and
        class maps (N, C, 7, 7)."""
        probabilities, cam = self.session.run(None, {self.input_name: as_batch(images)})
        return (calibrated(probabilities, self.temperature) if calibrate else probabilities), cam

    def probabilities(self, images: np.ndarray, calibrate: bool = True) -> np.ndarray:
        """(N, 28, 28) -> (N, C) probabilities only."""
        return self.run(images, calibrate)[0]

    def segmentation_scores(self, images: np.ndarray) -> np.ndarray:
        """(N, 28, 28) -> (N, C) probabilities as trained, uncalibrated: what number segmentation
        weighs its cuts with (rthdr.core.segment's parameters were fitted to these)."""
        return self.run(images, calibrate=False)[0]

    def predict(self, images: np.ndarray) -> list[Prediction]:
        return predictions(*self.run(images))

    def predict_all(self, images: np.ndarray, batch_size: int = 1000, calibrate: bool = True) -> np.ndarray:
        """Probabilities (N, C) for a large set, in batches to bound memory."""
        return np.concatenate(
            [
                self.probabilities(images[i : i + batch_size], calibrate)
                for i in range(0, len(images), batch_size)
            ]
        )


@lru_cache(maxsize=1)
def shipped_classifier() -> Classifier:
    """The shipped model, loaded once: the default of the public read_digit and read_number."""
    return Classifier(DEFAULT_MODEL)
