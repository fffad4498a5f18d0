"""The script model's path from its corpus to a served file: a smoke training on a tiny scripts corpus
(no MNIST: other scripts' digits only), then its release (calibration, INT8, the card's held-out
figures per charset); and the shipped script model's own figures, measured again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rthdr.core.charsets import NONE, SCRIPT_CHARSETS, SCRIPT_DIGITS
from rthdr.core.inference import DEFAULT_SCRIPT_MODEL, Classifier
from rthdr.data import corpus as corpora
from rthdr.evaluation.scripts import CHARSET_ORDER, held_out_figures, release_scripts
from rthdr.training.config import TrainConfig
from rthdr.training.train import train

CLASSES = (*SCRIPT_DIGITS, NONE)


def shipped() -> Classifier:
    return Classifier(DEFAULT_SCRIPT_MODEL)


@pytest.mark.slow
def test_a_scripts_run_is_trained_without_mnist_released_and_measured(
    tmp_path: Path, corpus_fonts: None
) -> None:
    train_file = corpora.save(corpora.generate(8, "scripts", progress=False), tmp_path / "train.npz", "test")
    held_file = corpora.save(
        corpora.generate(3, "scripts", "validation", progress=False), tmp_path / "held.npz", "test"
    )
    metrics = train(
        TrainConfig(epochs=1, corpus=str(train_file), threads=2), tmp_path / "run", data_dir=tmp_path
    )
    assert tuple(metrics["classes"]) == CLASSES  # trained on the corpus alone: no MNIST digits
    assert metrics["train_size"] + metrics["val_size"] == len(CLASSES) * 8

    models, images = tmp_path / "models", tmp_path / "images"  # made by the release
    card = release_scripts(tmp_path / "run", held_file, models, images, "scripttest")
    assert card["classes"] == list(CLASSES) and 0.05 <= card["calibration"]["temperature"] <= 20
    charsets = card["held_out"]["charsets"]
    assert list(charsets) == list(CHARSET_ORDER) and set(CHARSET_ORDER) == SCRIPT_CHARSETS
    for name, figures in charsets.items():
        assert figures["samples"] == 10 * 3 and len(figures["per_class_accuracy"]) == 10, name
        assert 0 <= figures["accuracy"] <= 1
    assert set(card["held_out"]["none_answered_uncertain"]) == SCRIPT_CHARSETS
    assert (models / card["served_file"]).is_file() and (models / "scripttest.card.md").is_file()
    assert (images / "scripttest" / "reliability.png").stat().st_size > 10_000
    released = Classifier(models / card["served_file"])
    assert released.classes == CLASSES and released.temperature == card["calibration"]["temperature"]


@pytest.mark.slow
def test_the_shipped_script_model_measures_what_its_card_says(corpus_fonts: None) -> None:
    """The card's held-out figures, measured again on the same seeded corpus of held-out families."""
    served = shipped()
    card = served.card
    assert card["served_file"] == served.path.name, "serve the file `rthdr release` chose"
    held = corpora.generate(
        card["held_out"]["samples"] // len(CLASSES), "scripts", "validation", progress=False
    )
    stored = (
        np.round(held.images * 255).astype(np.uint8).astype(np.float32) / 255
    )  # as a saved corpus holds them
    figures = held_out_figures(served.predict_all(stored), held)
    for charset in CHARSET_ORDER:
        measured, said = figures["charsets"][charset], card["held_out"]["charsets"][charset]
        assert measured["accuracy"] == pytest.approx(said["accuracy"], abs=1e-6), charset
        assert measured["uncertain_share"] == pytest.approx(said["uncertain_share"], abs=1e-6), charset
        assert measured["accuracy"] >= 0.9, f"{charset}: {measured['accuracy']:.3f} held out"
