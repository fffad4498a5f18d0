"""The ONNX models at serving time: what a Classifier says about its file, and what it answers."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from rthdr.core.errors import ModelError
from rthdr.core.inference import (
    DEFAULT_MODEL,
    DEFAULT_ONE_DIGIT_CHECK,
    FLOAT_MODEL,
    MODELS_DIR,
    Classifier,
    OneDigitCheck,
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
