"""Why the model said what it said: where in the picture the evidence for its answer lies.

With a global-average-pooling head, Grad-CAM for class c is exactly ReLU(sum_k w_ck A_k): the
classifier's weights applied to the last convolution's output A. The ONNX graph returns that
weighted sum for every class (its "cam" output), so serving needs no gradients and no PyTorch.

That map is 7x7: upsampled, its heat spreads beside thin strokes and into a 0's hole. Guided
Grad-CAM (Selvaraju et al. 2017) multiplies it by the guided backpropagation of the same class, a
map of single pixels, which the explainer graph beside the model computes (NETWORK.explainer.onnx,
rthdr.training.export.GuidedBackprop): the same evidence, on the strokes that carry it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:
    from rthdr.core.characters import CharacterReading
    from rthdr.core.inference import Classifier

DISPLAY = 112  # the overlay PNG's side: 4x the model input, for a smooth picture
# Guided Grad-CAM's pixel map is smoothed by a Gaussian of this sigma (px) and side, so that it reads
# as strokes rather than speckles (reflected borders, OpenCV's default: static/heatmap.js does the same).
GUIDED_BLUR_SIGMA = 1.0
GUIDED_BLUR_SIDE = 9
GRAD_CAM, GUIDED_GRAD_CAM = "grad-cam", "guided-grad-cam"


@dataclass(frozen=True)
class Heatmap:
    values: np.ndarray  # (28, 28) float32 in [0, 1]: where the evidence for the digit lies
    overlay_png: bytes  # the map in colour over the model input, DISPLAY x DISPLAY
    method: str  # GUIDED_GRAD_CAM where the model has an explainer graph, else GRAD_CAM

    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.overlay_png).decode("ascii")


def grad_cam(cam: np.ndarray) -> np.ndarray:
    """(7, 7) weighted activations of one class -> (28, 28) Grad-CAM map scaled to [0, 1]."""
    positive = np.maximum(cam.astype(np.float32), 0)
    upsampled = cv2.resize(positive, (28, 28), interpolation=cv2.INTER_LINEAR)
    peak = float(upsampled.max())
    return upsampled / peak if peak > 0 else upsampled


def guided_grad_cam(cam: np.ndarray, guided: np.ndarray) -> np.ndarray:
    """(7, 7) weighted activations and (28, 28) guided gradients of one class -> (28, 28) Guided
    Grad-CAM map, smoothed, scaled to [0, 1]."""
    product = np.maximum(grad_cam(cam) * guided.astype(np.float32), 0)
    side = (GUIDED_BLUR_SIDE, GUIDED_BLUR_SIDE)
    smooth = cv2.GaussianBlur(product, side, GUIDED_BLUR_SIGMA, borderType=cv2.BORDER_REFLECT_101)
    peak = float(smooth.max())
    return smooth / peak if peak > 0 else smooth


def heat(cam: np.ndarray, guided: np.ndarray | None) -> np.ndarray:
    """Guided Grad-CAM where the class's guided gradients are given, else Grad-CAM: (28, 28) in [0, 1]."""
    return grad_cam(cam) if guided is None else guided_grad_cam(cam, guided)


def explain(cam: np.ndarray, model_input: np.ndarray, guided: np.ndarray | None = None) -> Heatmap:
    """The heatmap of one answer (see heat), in colour over its model input."""
    values = heat(cam, guided)
    base = cv2.resize(
        (model_input * 255).astype(np.uint8), (DISPLAY, DISPLAY), interpolation=cv2.INTER_NEAREST
    )
    shown = cv2.resize(values, (DISPLAY, DISPLAY), interpolation=cv2.INTER_CUBIC)
    colour = cv2.applyColorMap(np.clip(shown * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    grey = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    overlay = cv2.addWeighted(grey, 0.55, colour, 0.45, 0)
    ok, png = cv2.imencode(".png", overlay)
    assert ok, "PNG encoding of a small uint8 image cannot fail"
    return Heatmap(values, png.tobytes(), GRAD_CAM if guided is None else GUIDED_GRAD_CAM)


def explain_reading(reading: CharacterReading, model_input: np.ndarray, classifier: Classifier) -> Heatmap:
    """The heatmap of one answer, from the model that gave it: Guided Grad-CAM where it has an explainer."""
    return explain(reading.cam, model_input, classifier.guided(model_input, reading.index))
