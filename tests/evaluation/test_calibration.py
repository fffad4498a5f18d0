"""Calibration and ROC on synthetic data where the right answer is known, and their pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from scipy.special import softmax

from rthdr.core.inference import calibrated
from rthdr.evaluation.calibration import (
    expected_calibration_error,
    fit_temperature,
    plot_reliability,
    plot_roc,
    reliability,
    roc,
    threshold_for_false_positive_rate,
)


def honest_and_model(sharpness: float, n: int = 20_000, seed: int = 0) -> tuple[np.ndarray, ...]:
    """True class probabilities softmax(z), labels drawn from them, and a model's softmax(sharpness * z)."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(scale=2.0, size=(n, 10))
    honest = softmax(logits, axis=1)
    labels = (honest.cumsum(axis=1) < rng.random((n, 1))).sum(axis=1).clip(max=9)
    return honest, labels, softmax(sharpness * logits, axis=1)


@pytest.mark.parametrize("sharpness", [0.4, 1.0, 3.0])
def test_fitted_temperature_undoes_a_known_sharpening(sharpness: float) -> None:
    _, labels, model = honest_and_model(sharpness)
    assert fit_temperature(model, labels) == pytest.approx(sharpness, rel=0.1)


def test_temperature_is_a_rounded_float_inside_the_bounds() -> None:
    _, labels, model = honest_and_model(100.0, n=2_000)  # far sharper than the range can undo
    temperature = fit_temperature(model, labels)
    assert isinstance(temperature, float) and temperature == round(temperature, 4)
    assert 15 < temperature <= 20


def test_applying_the_fitted_temperature_recovers_the_honest_probabilities() -> None:
    honest, labels, model = honest_and_model(3.0)
    recovered = calibrated(model, fit_temperature(model, labels))
    assert recovered.dtype == np.float32
    np.testing.assert_allclose(recovered.sum(axis=1), 1.0, atol=1e-5)
    assert np.abs(recovered - honest).max() < 0.05 < np.abs(model - honest).max()


def test_ece_is_near_zero_when_honest_and_large_when_overconfident() -> None:
    honest, labels, model = honest_and_model(3.0)
    assert expected_calibration_error(honest, labels) < 0.02
    assert expected_calibration_error(model, labels) > 0.15


def test_calibration_lowers_ece() -> None:
    _, labels, model = honest_and_model(3.0)
    before = expected_calibration_error(model, labels)
    after = expected_calibration_error(calibrated(model, fit_temperature(model, labels)), labels)
    assert after < 0.02 < before / 5


def test_ece_by_hand() -> None:
    # (0.8, 0.9]: two at 0.85, one right: |0.5 - 0.85|; (0.5, 0.6]: two at 0.55, one right: |0.5 - 0.55|
    probabilities = np.array([[0.85, 0.15], [0.85, 0.15], [0.55, 0.45], [0.55, 0.45]])
    labels = np.array([0, 1, 0, 1])
    assert expected_calibration_error(probabilities, labels, bins=10) == pytest.approx((0.35 + 0.05) / 2)


def test_reliability_bins() -> None:
    honest, labels, model = honest_and_model(3.0, n=5_000)
    for probabilities in (honest, model):
        table = reliability(probabilities, labels)
        assert sum(row["count"] for row in table) == len(labels)
        assert all(row["count"] > 0 and row["low"] < row["confidence"] <= row["high"] for row in table)
        assert [row["low"] for row in table] == sorted(row["low"] for row in table)
        assert all(0 <= row["accuracy"] <= 1 for row in table)
    assert reliability(model, labels)[-1]["accuracy"] < reliability(model, labels)[-1]["confidence"] - 0.1


def test_reliability_edges_belong_to_the_bin_below_and_empty_bins_are_left_out() -> None:
    probabilities = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]])
    table = reliability(probabilities, np.array([0, 0, 0]), bins=2)
    assert table == [
        {"low": 0.0, "high": 0.5, "count": 1, "accuracy": 1.0, "confidence": 0.5},
        {"low": 0.5, "high": 1.0, "count": 2, "accuracy": 0.5, "confidence": 1.0},
    ]
    assert len(reliability(probabilities[1:], np.array([0, 0]), bins=4)) == 1


def test_roc_separable_random_and_reversed() -> None:
    rng = np.random.default_rng(1)
    positives = rng.random(20_000) < 0.3
    separable = np.where(positives, 0.6 + 0.4 * rng.random(20_000), 0.5 * rng.random(20_000))
    assert roc(separable, positives)["auroc"] == 1.0
    assert roc(1 - separable, positives)["auroc"] == 0.0
    curve = roc(rng.random(20_000), positives)
    assert abs(curve["auroc"] - 0.5) < 0.02
    assert curve["fpr"][0] == curve["tpr"][0] == 0 and curve["fpr"][-1] == curve["tpr"][-1] == 1
    assert len(curve["fpr"]) == len(curve["tpr"]) == len(curve["thresholds"])


def test_threshold_keeps_exactly_to_the_rate() -> None:
    negatives = np.linspace(0.05, 0.5, 10)  # ten distinct digit scores
    scores = np.concatenate([negatives, [0.9, 0.95]])
    positives = np.arange(12) >= 10
    t = threshold_for_false_positive_rate(scores, positives, 0.3)
    assert t == negatives[-3] and (negatives >= t).sum() == 3
    assert (
        threshold_for_false_positive_rate(scores, positives, 0.0) == 0.9
    )  # the lowest score that flags no digit
    assert threshold_for_false_positive_rate(scores, positives, 1.0) == 0.05


def test_threshold_with_ties_moves_up_past_the_tie() -> None:
    scores = np.array([0.1, 0.5, 0.5, 0.5, 0.9, 0.7])
    positives = np.array([False, False, False, False, False, True])
    # 0.5 would flag 4 of 5 digits; 0.7 flags one (0.9): 20 % <= 40 %
    assert threshold_for_false_positive_rate(scores, positives, 0.4) == 0.7
    assert threshold_for_false_positive_rate(scores, positives, 0.8) == 0.5
    assert threshold_for_false_positive_rate(scores, positives, 0.79) == 0.7


def test_threshold_flags_nothing_when_the_top_score_is_a_digit() -> None:
    scores, positives = np.array([0.2, 1.0, 1.0]), np.array([True, False, False])
    t = threshold_for_false_positive_rate(scores, positives, 0.1)
    assert t > 1.0 and not (scores >= t).any()
    with pytest.raises(ValueError, match="negatives"):
        threshold_for_false_positive_rate(scores, np.ones(3, dtype=bool), 0.1)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 10), st.booleans()), min_size=1, max_size=40),
    st.floats(0, 1),
)
def test_threshold_is_the_lowest_observed_score_within_the_rate(pairs: list, rate: float) -> None:
    scores = np.array([s / 10 for s, _ in pairs])
    positives = np.array([p for _, p in pairs])
    if positives.all():
        return
    negatives = scores[~positives]
    t = threshold_for_false_positive_rate(scores, positives, rate)
    assert (negatives >= t).mean() <= rate
    assert all((negatives >= s).mean() > rate for s in scores if s < t)


def png_size(path: Path) -> tuple[int, int]:
    assert path.stat().st_size > 10_000
    with Image.open(path) as image:
        assert image.format == "PNG"
        return image.size


def test_plot_reliability_writes_a_png(tmp_path: Path) -> None:
    _, labels, model = honest_and_model(3.0, n=3_000)
    after = calibrated(model, 3.0)
    path = plot_reliability(
        {"before (T = 1)": (model, labels), "after (T = 3)": (after, labels)}, tmp_path / "reliability.png"
    )
    assert path == tmp_path / "reliability.png"
    width, height = png_size(path)
    assert 500 < width < 2_000 and 500 < height < 2_000


def test_plot_roc_writes_a_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    positives = rng.random(2_000) < 0.5
    scores = np.clip(positives * 0.3 + rng.random(2_000) * 0.7, 0, 1)
    curves = {"mixed": (scores, positives), "random": (rng.random(2_000), positives)}
    for mark_rate in (None, 0.05):
        width, height = png_size(plot_roc(curves, tmp_path / f"roc-{mark_rate}.png", mark_rate=mark_rate))
        assert 500 < width < 2_000 and 400 < height < 2_000
