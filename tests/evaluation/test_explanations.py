"""How much of Grad-CAM's heat lies on the ink: the measure, and the shipped model's figure."""

from __future__ import annotations

import numpy as np

from rthdr.core.inference import Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.evaluation.explanations import heat_near_ink, median_heat_near_ink


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


def test_the_shipped_models_heat_lies_mostly_on_the_ink(classifier: Classifier, mnist_test) -> None:
    """Measured: 76.4 % (median over the first 1,000 MNIST test digits, within 2 px; 78.1 % over all
    10,000); the issue's aim is 80 %, not reached. This holds the figure from falling back."""
    images, _ = mnist_test
    share = median_heat_near_ink(classifier, preprocess_all(images[:1000], progress=False))
    assert 0.74 <= share <= 1.0, f"{100 * share:.1f} % of the heat within 2 px of the ink"
