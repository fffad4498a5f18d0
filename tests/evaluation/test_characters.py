"""The character model's path from a corpus to a served file: a smoke training on MNIST and a tiny
generated corpus, then its release (calibration, INT8, the card's held-out figures), and the
evaluation in a charset; and the shipped character model's own figures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rthdr.core.charsets import CHARSETS, NONE
from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, Classifier
from rthdr.data import corpus as corpora
from rthdr.evaluation.characters import evaluate_charset, release_characters
from rthdr.training.config import TrainConfig
from rthdr.training.train import train

CLASSES = (*CHARSETS["alphanumeric"], NONE)


@pytest.fixture(scope="module")
def corpus_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("corpus")
    train_file = corpora.save(corpora.generate(6, progress=False), folder / "train.npz", "test")
    held_out = corpora.generate(3, split="validation", progress=False)
    return train_file, corpora.save(held_out, folder / "validation.npz", "test")


@pytest.mark.slow
def test_a_corpus_run_is_trained_released_and_measured(
    mnist_dir: Path, tmp_path: Path, corpus_files: tuple[Path, Path]
) -> None:
    train_file, held_out_file = corpus_files
    cfg = TrainConfig(epochs=1, limit=600, corpus=str(train_file), threads=2)
    metrics = train(cfg, tmp_path / "run", mnist_dir)
    assert tuple(metrics["classes"]) == CLASSES
    assert metrics["config"]["model"]["num_classes"] == len(CLASSES)
    # 600 MNIST images and the whole tiny corpus (fewer than 600), each 1/12 held out
    assert metrics["train_size"] + metrics["val_size"] == 600 + len(CLASSES) * 6

    models, images = tmp_path / "models", tmp_path / "images"  # made by the release
    card = release_characters(tmp_path / "run", held_out_file, models, images, mnist_dir, "chartest")
    assert card["classes"] == list(CLASSES)
    assert 0.05 <= card["calibration"]["temperature"] <= 20
    assert set(card["held_out"]["per_class_accuracy"]) == set(CLASSES)
    assert card["held_out"]["samples"] == len(CLASSES) * 3
    check = card["not_a_digit"]
    assert 0 <= check["auroc"] <= 1 and set(check["flagged_per_class"]) == set(CLASSES[10:])
    served = models / card["served_file"]
    assert served.is_file() and (models / "chartest.card.md").is_file()
    assert (images / "chartest" / "roc.png").stat().st_size > 10_000
    assert (images / "chartest" / "reliability.png").stat().st_size > 10_000

    # Serving reads the class names and the temperature from the card beside the file.
    released = Classifier(served)
    assert released.classes == CLASSES and released.temperature == card["calibration"]["temperature"]
    probabilities = released.predict_all(corpora.load(held_out_file).images)
    assert probabilities.shape == (len(CLASSES) * 3, len(CLASSES))
    np.testing.assert_allclose(probabilities.sum(1), 1, atol=1e-5)


def test_a_charset_is_measured_on_its_own_classes_only(corpus_files: tuple[Path, Path]) -> None:
    if not DEFAULT_CHARACTER_MODEL.is_file():
        pytest.fail(f"the shipped character model {DEFAULT_CHARACTER_MODEL} is missing")
    held_out = corpora.load(corpus_files[1])
    report = evaluate_charset(Classifier(DEFAULT_CHARACTER_MODEL), held_out, "letters")
    assert report["samples"] == len(CHARSETS["letters"]) * 3  # no digits, no none
    assert set(report["per_class_accuracy"]) == set(CHARSETS["letters"])
    assert "pen scribbles" not in report["families"]  # the families of letters only
    assert 0 <= report["accuracy"] <= 1


@pytest.mark.slow
def test_the_shipped_character_model_measures_what_its_card_says(mnist_test) -> None:
    """The card's held-out figures, measured again on the same seeded corpus of held-out families,
    and its not-a-digit rate on MNIST's test digits."""
    from rthdr.core.characters import NOT_A_DIGIT_ABOVE, not_a_digit_scores
    from rthdr.core.preprocess import preprocess_all
    from rthdr.evaluation.characters import held_out_figures

    served = Classifier(DEFAULT_CHARACTER_MODEL)
    card = served.card
    assert card["served_file"] == DEFAULT_CHARACTER_MODEL.name
    held = corpora.generate(card["held_out"]["samples"] // len(CLASSES), split="validation", progress=False)
    stored = (
        np.round(held.images * 255).astype(np.uint8).astype(np.float32) / 255
    )  # as a saved corpus holds them
    figures = held_out_figures(served.predict_all(stored), held.labels, served.classes)
    for name in ("alphanumeric_accuracy", "digits_accuracy", "letters_accuracy", "none_recall"):
        assert figures[name] == pytest.approx(card["held_out"][name], abs=1e-6), name
    images, _ = mnist_test
    scores = not_a_digit_scores(served.predict_all(preprocess_all(images, progress=False)), served.classes)
    flagged = float((scores > NOT_A_DIGIT_ABOVE).mean())
    assert flagged == pytest.approx(card["not_a_digit"]["mnist_test_digits_flagged"], abs=1e-6)
    assert flagged <= 0.01, "the issue's bar: at most 1 % of real digits answered not a digit"


@pytest.mark.slow
def test_digits_mode_as_served_keeps_the_digit_models_answers(
    mnist_dir: Path, mnist_test: tuple[np.ndarray, np.ndarray], corpus_files
) -> None:
    """charset=digits: the digit model answers (its card's test accuracy, exactly), the character
    model only flags: most letters and none are flagged, few MNIST answers are."""
    from rthdr.core.inference import DEFAULT_MODEL
    from rthdr.evaluation.characters import evaluate_digits_mode

    digits = Classifier(DEFAULT_MODEL)
    report = evaluate_digits_mode(
        digits, Classifier(DEFAULT_CHARACTER_MODEL), corpora.load(corpus_files[1]), mnist_dir
    )
    mnist = report["MNIST test"]
    assert mnist["accuracy"] == pytest.approx(digits.card["int8"]["test_accuracy"], abs=1e-9)
    by_digit = mnist["not_a_digit_by_digit"]  # the digits' shares, adding up to the reason's count
    per_digit = np.bincount(mnist_test[1], minlength=10)
    assert list(by_digit) == list("0123456789")
    assert sum(by_digit[d] * per_digit[i] for i, d in enumerate(by_digit)) == pytest.approx(
        mnist["reasons"].get("not_a_digit", 0)
    )
    assert mnist["uncertain_share"] < 0.02 and mnist["errors_flagged"] > 0.5
    others = report["corpus letters and none"]
    assert (
        others["images"] == len(CLASSES[10:]) * 3
        and others["reasons"].get("not_a_digit", 0) > others["images"] / 2
    )
