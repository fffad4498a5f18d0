"""The ONNX models at serving time: what a Classifier says about its file, and what it answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.special import softmax

from rthdr.core.errors import ModelError
from rthdr.core.inference import (
    DEFAULT_MODEL,
    DEFAULT_ONE_DIGIT_CHECK,
    DEFAULT_STROKE_MODEL,
    FLOAT_MODEL,
    MODELS_DIR,
    Classifier,
    OneDigitCheck,
    StrokeClassifier,
    calibrated,
    fuse,
    network_name,
)


def test_the_served_models_are_package_data() -> None:
    assert DEFAULT_MODEL.parent == FLOAT_MODEL.parent == MODELS_DIR == DEFAULT_ONE_DIGIT_CHECK.parent
    assert MODELS_DIR.parent.name == "rthdr" and DEFAULT_MODEL.is_file() and DEFAULT_ONE_DIGIT_CHECK.is_file()


def test_a_classifier_names_its_file_and_reads_its_card(tmp_path: Path) -> None:
    classifier = Classifier(DEFAULT_MODEL)
    assert (classifier.name, classifier.network) == ("digitnet.int8", "digitnet")
    assert classifier.version == classifier.sha256[:12] and len(classifier.sha256) == 64
    assert classifier.card["name"] == "digitnet.int8" and classifier.card["file_bytes"] > 0
    assert "metrics" in classifier.card  # from digitnet.card.json beside it
    alone = tmp_path / "mine.onnx"
    shutil.copy(DEFAULT_MODEL, alone)
    assert set(Classifier(alone).card) == {"name", "version", "sha256", "file_bytes"}
    assert network_name(Path("a/b.int8.onnx")) == "b"


def test_answers_for_a_batch_agree_with_single_answers(digit_samples) -> None:
    classifier = Classifier(DEFAULT_MODEL)
    inputs = np.stack([digit_samples[d] for d in range(10)]).astype(np.float32) / 255
    probabilities, cam = classifier.run(inputs)
    assert probabilities.shape == (10, 10) and cam.shape == (10, 10, 7, 7)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    predictions = classifier.predict(inputs)
    assert [p.digit for p in predictions] == list(range(10))
    assert all(p.cam.shape == (7, 7) and not p.uncertain for p in predictions)
    assert np.allclose(classifier.predict_all(inputs, batch_size=3), probabilities, atol=1e-6)


def test_a_missing_or_broken_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="RTHDR_MODEL"):
        Classifier(tmp_path / "missing.onnx")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="cannot load"):
        Classifier(broken)
    with pytest.raises(ModelError, match="train-onedigit"):
        OneDigitCheck(tmp_path / "missing.onnx")
    assert OneDigitCheck.if_present(tmp_path / "missing.onnx") is None


def test_the_one_digit_check_gives_one_probability_per_input(digit_samples) -> None:
    check = OneDigitCheck()
    inputs = np.stack([digit_samples[d] for d in range(10)]).astype(np.float32) / 255
    probability = check(inputs)
    assert probability.shape == (10,) and ((probability >= 0) & (probability <= 1)).all()
    assert probability.mean() > 0.5  # clear single digits


# --- calibration ----------------------------------------------------------------------------------

logit_batches = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 6), st.integers(2, 48)),
    elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(logits=logit_batches, temperature=st.floats(0.25, 4.0).filter(lambda t: t != 1.0))
def test_calibrated_is_the_softmax_of_the_logits_over_the_temperature(
    logits: np.ndarray, temperature: float
) -> None:
    """From the model's float32 softmax(z) alone, calibrated() gives softmax(z / T) to within 1e-6, as
    float32 rows that sum to 1."""
    probabilities = softmax(logits, axis=1).astype(np.float32)
    result = calibrated(probabilities, temperature)
    assert result.shape == probabilities.shape and result.dtype == np.float32
    np.testing.assert_allclose(result, softmax(logits / temperature, axis=1), rtol=0, atol=1e-6)
    np.testing.assert_allclose(result.astype(np.float64).sum(axis=1), 1.0, rtol=0, atol=1e-6)


def test_calibrated_sharpens_under_one_and_softens_over_one() -> None:
    """A known case by hand: logits (2, 1, 0) at T = 0.5 are logits (4, 2, 0), at T = 2 (1, 0.5, 0)."""
    probabilities = softmax(np.array([[2.0, 1.0, 0.0]]), axis=1).astype(np.float32)
    sharp, soft = calibrated(probabilities, 0.5), calibrated(probabilities, 2.0)
    np.testing.assert_allclose(sharp, softmax(np.array([[4.0, 2.0, 0.0]]), axis=1), atol=1e-6)
    np.testing.assert_allclose(soft, softmax(np.array([[1.0, 0.5, 0.0]]), axis=1), atol=1e-6)
    assert sharp[0, 0] > probabilities[0, 0] > soft[0, 0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_temperature_one_leaves_the_probabilities_as_they_are(dtype: type) -> None:
    probabilities = softmax(np.random.default_rng(0).normal(size=(4, 10)), axis=1).astype(dtype)
    assert calibrated(probabilities, 1.0) is probabilities


@settings(max_examples=200, deadline=None)
@given(logits=logit_batches, temperature=st.floats(0.1, 10.0))
def test_calibration_never_changes_the_answer(logits: np.ndarray, temperature: float) -> None:
    """Temperature scaling is monotone: each row's likeliest class stays its likeliest. (Classes whose
    float32 probabilities are one rounding apart are left out where T > 1 softens them: rounded back
    to float32 they may become equal, a tie, not a different answer.)"""
    probabilities = softmax(logits, axis=1).astype(np.float32)
    if temperature > 1:
        top_two = np.sort(logits, axis=1)[:, -2:]
        assume(bool((np.diff(top_two, axis=1) > 1e-3).all()))
    assume(bool((np.sort(probabilities, axis=1)[:, -1] > np.sort(probabilities, axis=1)[:, -2]).all()))
    result = calibrated(probabilities, temperature)
    np.testing.assert_array_equal(result.argmax(axis=1), probabilities.argmax(axis=1))


def test_sharpening_keeps_the_answer_between_neighbouring_probabilities() -> None:
    """T < 1 (the shipped model's calibration) keeps even one float32 step between two classes."""
    a = np.float32(0.45)
    probabilities = np.array([[a, np.nextafter(a, np.float32(1)), 1 - 2 * a - 1e-7]], np.float32)
    for temperature in (0.3, 0.4984, 0.9):
        assert calibrated(probabilities, temperature).argmax() == 1


# --- the calibration and classes a model file's card gives -------------------------------------------


def some_inputs() -> np.ndarray:
    """Four (28, 28) inputs the digit model is unsure of in different degrees: noise, faint noise, a
    blank, a bar. No MNIST needed."""
    rng = np.random.default_rng(0)
    images = rng.random((4, 28, 28), dtype=np.float32)
    images[1] *= 0.3
    images[2:] = 0
    images[3, 4:24, 13:16] = 1
    return images


def copy_model(model_path: Path, folder: Path, name: str = "tmpnet.onnx") -> Path:
    return Path(shutil.copy(model_path, folder / name))


def test_the_temperature_comes_from_the_networks_card(model_path: Path, tmp_path: Path) -> None:
    """tmpnet.card.json beside tmpnet.onnx (and tmpnet.int8.onnx: one card per network) sets the
    temperature its answers are calibrated with; uncalibrated answers are the model's own."""
    path = copy_model(model_path, tmp_path)
    int8 = copy_model(model_path, tmp_path, "tmpnet.int8.onnx")
    (tmp_path / "tmpnet.card.json").write_text(json.dumps({"calibration": {"temperature": 0.5}}))
    images = some_inputs()
    for file in (path, int8):
        classifier = Classifier(file)
        assert classifier.temperature == 0.5 and classifier.classes == tuple("0123456789")
        raw, raw_cam = classifier.run(images, calibrate=False)
        probabilities, cam = classifier.run(images)
        np.testing.assert_allclose(probabilities, calibrated(raw, 0.5), rtol=0, atol=1e-6)
        assert np.abs(probabilities - raw).max() > 0.01  # the card made a difference
        np.testing.assert_array_equal(cam, raw_cam)  # the maps are not calibrated
        np.testing.assert_array_equal(classifier.probabilities(images), probabilities)
        np.testing.assert_allclose(classifier.predict_all(images, batch_size=3), probabilities, atol=1e-6)
        np.testing.assert_allclose(
            classifier.predict_all(images, batch_size=3, calibrate=False), raw, atol=1e-6
        )
        confidences = [p.confidence for p in classifier.predict(images)]
        np.testing.assert_allclose(confidences, probabilities.max(axis=1), atol=1e-7)


def test_segmentation_scores_are_the_uncalibrated_probabilities(model_path: Path, tmp_path: Path) -> None:
    path = copy_model(model_path, tmp_path)
    (tmp_path / "tmpnet.card.json").write_text(json.dumps({"calibration": {"temperature": 0.5}}))
    classifier, images = Classifier(path), some_inputs()
    scores = classifier.segmentation_scores(images)
    np.testing.assert_array_equal(scores, classifier.run(images, calibrate=False)[0])
    assert np.abs(scores - classifier.run(images)[0]).max() > 0.01


def test_without_a_card_the_model_is_as_trained_over_the_ten_digits(model_path: Path, tmp_path: Path) -> None:
    path = copy_model(model_path, tmp_path)
    (tmp_path / "othernet.card.json").write_text(json.dumps({"calibration": {"temperature": 0.5}}))
    classifier, images = Classifier(path), some_inputs()
    assert classifier.temperature == 1.0 and classifier.classes == tuple(str(d) for d in range(10))
    raw = classifier.run(images, calibrate=False)[0]
    np.testing.assert_array_equal(classifier.run(images)[0], raw)
    np.testing.assert_array_equal(classifier.segmentation_scores(images), raw)


def test_a_card_without_calibration_is_as_trained(model_path: Path, tmp_path: Path) -> None:
    path = copy_model(model_path, tmp_path)
    (tmp_path / "tmpnet.card.json").write_text(json.dumps({"task": "digits"}))
    assert Classifier(path).temperature == 1.0


def test_the_class_names_come_from_the_card(model_path: Path, tmp_path: Path) -> None:
    """A character model's card lists its classes, in output order."""
    path = copy_model(model_path, tmp_path)
    names = list("ABCDEFGHIJ")
    (tmp_path / "tmpnet.card.json").write_text(json.dumps({"classes": names}))
    classifier = Classifier(path)
    assert classifier.classes == tuple(names) and classifier.temperature == 1.0


def test_a_stroke_model_fuses_and_calibrates_with_its_cards_figures_per_charset(tmp_path: Path) -> None:
    shutil.copy(DEFAULT_STROKE_MODEL, tmp_path / "strokes.onnx")
    fusion = {"image_weight": 0.2, "temperature": 0.5, "charsets": {"letters": {"image_weight": 0.6}}}
    (tmp_path / "strokes.card.json").write_text(json.dumps({"fusion": fusion}))
    model = StrokeClassifier(tmp_path / "strokes.onnx")
    image, strokes = np.array([[0.7, 0.2, 0.1]]), np.array([[0.3, 0.6, 0.1]])
    assert model.fusion_in("digits") == (0.2, 0.5)
    assert model.fusion_in("letters") == (0.6, 0.5)  # its own weight, the card's temperature
    np.testing.assert_allclose(
        model.fused(image, strokes), calibrated(fuse(image, strokes, 0.2), 0.5), rtol=1e-6
    )
    np.testing.assert_allclose(
        model.fused(image, strokes, "letters"), calibrated(fuse(image, strokes, 0.6), 0.5), rtol=1e-6
    )
    sharper = model.fused(image, strokes)
    assert sharper.max() > fuse(image, strokes, 0.2).max()  # T < 1 sharpens
