"""How much of a heatmap's heat lies on the ink, whether it is evidence the model uses and whether it
depends on the class: the measures, and the shipped model's figures."""

from __future__ import annotations

import cv2
import numpy as np

from rthdr.core.inference import Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.evaluation.explanations import (
    class_overlap,
    deletion_drop,
    heat_near_ink,
    heatmaps,
    median_heat_near_ink,
)


def test_heat_on_the_stroke_counts_and_heat_far_from_it_does_not() -> None:
    stroke = np.zeros((28, 28), np.float32)
    stroke[4:24, 13:15] = 1  # a thin upright 1
    heat = np.zeros((28, 28), np.float32)
    heat[10, 14] = 3  # on the stroke
    heat[10, 16] = 1  # 2 px beside it: near
    heat[10, 20] = 4  # 6 px beside it: far
    assert heat_near_ink(heat, stroke) == 0.5
    assert heat_near_ink(heat, stroke, distance=6) == 1.0
    assert heat_near_ink(np.zeros((28, 28)), stroke) == 1.0  # no heat: nothing misplaced


def test_the_shipped_models_heat_lies_on_the_ink(classifier: Classifier, mnist_test) -> None:
    """Measured (median over the first 1,000 MNIST test digits, within 2 px): Guided Grad-CAM 97.9 %,
    Grad-CAM alone 76.4 % (98.2 % and 78.1 % over all 10,000). The issue's aim is 80 %."""
    inputs = preprocess_all(mnist_test[0][:1000], progress=False)
    share = median_heat_near_ink(classifier, inputs)
    assert share >= 0.80, f"{100 * share:.1f} % of the heat within 2 px of the ink"
    assert median_heat_near_ink(classifier, inputs, guided=False) < share


def test_the_heat_is_evidence_for_the_class_not_just_the_ink(classifier: Classifier, mnist_test) -> None:
    """Measured on the first 1,000: erasing the hottest 20 % of the ink lowers the answer's
    probability by 0.245 with Guided Grad-CAM's choice, 0.182 with Grad-CAM's and 0.189 with the
    blurred ink's own (its thickest parts); the maps of the answer and of the runner-up correlate at
    0.17 (a map of the ink alone: 1)."""
    inputs = preprocess_all(mnist_test[0][:1000], progress=False)
    ink = np.stack([cv2.GaussianBlur(x, (9, 9), 1.5) for x in inputs])
    guided = deletion_drop(classifier, inputs, heatmaps(classifier, inputs))
    assert guided > deletion_drop(classifier, inputs, heatmaps(classifier, inputs, guided=False))
    assert guided > deletion_drop(classifier, inputs, ink)
    assert class_overlap(classifier, inputs) < 0.5
