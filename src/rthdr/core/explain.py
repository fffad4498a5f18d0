"""Why the model said what it said: the class activation map of the predicted digit.

With a global-average-pooling head, Grad-CAM for class c is exactly ReLU(sum_k w_ck A_k): the
classifier's weights applied to the last convolution's output A. The ONNX graph returns that
weighted sum for every class (its "cam" output), so serving needs no gradients and no PyTorch.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import cv2
import numpy as np

DISPLAY = 112  # the overlay PNG's side: 4x the model input, for a smooth picture


@dataclass(frozen=True)
class Heatmap:
    values: np.ndarray  # (28, 28) float32 in [0, 1]: where the evidence for the digit lies
    overlay_png: bytes  # the map in colour over the model input, DISPLAY x DISPLAY

    def data_url(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.overlay_png).decode("ascii")


def grad_cam(cam: np.ndarray) -> np.ndarray:
    """(7, 7) weighted activations of one class -> (28, 28) Grad-CAM map scaled to [0, 1]."""
    positive = np.maximum(cam.astype(np.float32), 0)
    upsampled = cv2.resize(positive, (28, 28), interpolation=cv2.INTER_LINEAR)
    peak = float(upsampled.max())
    return upsampled / peak if peak > 0 else upsampled


def explain(cam: np.ndarray, model_input: np.ndarray) -> Heatmap:
    values = grad_cam(cam)
    base = cv2.resize(
        (model_input * 255).astype(np.uint8), (DISPLAY, DISPLAY), interpolation=cv2.INTER_NEAREST
    )
    heat = cv2.resize(values, (DISPLAY, DISPLAY), interpolation=cv2.INTER_CUBIC)
    colour = cv2.applyColorMap(np.clip(heat * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    grey = cv2.cvtColor(base, cv2.COLOR_GRAY2BGR)
    overlay = cv2.addWeighted(grey, 0.55, colour, 0.45, 0)
    ok, png = cv2.imencode(".png", overlay)
    assert ok, "PNG encoding of a small uint8 image cannot fail"
    return Heatmap(values, png.tobytes())
