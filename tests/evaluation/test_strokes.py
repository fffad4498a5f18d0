"""The stroke models' path: a smoke training on traced MNIST digits, the fusion weight and the card;
the character stroke model's smoke run through the CLI on a tiny corpus; the shipped models against
their cards; and the digits drawn through the page with the mouse (the fixture
tests/api/test_page_strokes.py keeps), read from strokes, picture and both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rthdr.cli.main import main
from rthdr.core.charsets import CHARSETS, NONE
from rthdr.core.inference import (
    DEFAULT_CHARACTER_MODEL,
    DEFAULT_CHARACTER_STROKE_MODEL,
    DEFAULT_STROKE_MODEL,
    Classifier,
    StrokeClassifier,
    fuse,
)
from rthdr.core.strokes import features, parse_strokes
from rthdr.data import corpus as corpora
from rthdr.evaluation.strokes import (
    charset_accuracies,
    fusion_weight,
    measure,
    read_set,
    rendered_inputs,
    write_card,
)
from rthdr.training.config import StrokeConfig
from rthdr.training.strokes import hershey_glyphs, train_strokes
from tests.helpers.paths import ROOT

PAGE_DIGITS = ROOT / "tests" / "fixtures" / "strokes" / "page-digits.json"


def test_the_fusion_weight_is_the_one_that_reads_best() -> None:
    labels = np.array([0, 1])
    image = np.array([[0.9, 0.1], [0.6, 0.4]])  # the picture gets the second wrong ...
    strokes = np.array([[0.45, 0.55], [0.1, 0.9]])  # ... the strokes the first
    weight = fusion_weight(image, strokes, labels)
    assert 0 < weight < 1
    assert (fuse(image, strokes, weight).argmax(1) == labels).all()


def test_charset_accuracy_is_the_likeliest_of_the_charsets_classes() -> None:
    classes = ("0", "A", NONE)
    labels = np.array([0, 1, 1])
    # the first A is likeliest "none": wrong in alphanumeric (which still has its 0 and A), right in
    # letters, where only A competes
    probabilities = np.array([[0.6, 0.3, 0.1], [0.1, 0.3, 0.6], [0.2, 0.7, 0.1]])
    fake = {"alphanumeric": ("0", "A"), "letters": ("A",), "digits": ("0",)}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("rthdr.evaluation.strokes.CHARSETS", fake)
        figures = charset_accuracies(probabilities, labels, classes)
    assert figures["alphanumeric"] == {"accuracy": 1.0, "samples": 3}
    assert figures["letters"] == {"accuracy": 1.0, "samples": 2}
    assert figures["digits"] == {"accuracy": 1.0, "samples": 1}
    assert figures["per_class"] == {"0": 1.0, "A": 1.0}


@pytest.mark.slow
def test_the_character_stroke_model_is_trained_and_measured_from_the_cli(
    mnist_dir: Path, tmp_path: Path, corpus_fonts: None
) -> None:
    train_file = corpora.save(corpora.generate(6, progress=False), tmp_path / "train.npz", "test")
    held_out = corpora.save(
        corpora.generate(2, split="validation", progress=False), tmp_path / "val.npz", "test"
    )
    out = tmp_path / "strokenet-chars.onnx"
    flags = ["--corpus", str(train_file), "--held-out", str(held_out), "--epochs", "1", "--limit", "600"]
    assert (
        main(["train-strokes", *flags, "--threads", "2", "--out", str(out), "--data-dir", str(mnist_dir)])
        == 0
    )
    card = StrokeClassifier(out).card
    classes = (*CHARSETS["alphanumeric"], NONE)
    assert tuple(card["classes"]) == classes and StrokeClassifier(out).classes == classes
    fonts = card["held_out"]["held_out_fonts"]
    assert fonts["samples"] <= 2 * len(classes) and card["held_out"]["hershey_validation"]["samples"] > 100
    assert set(fonts) >= {"image", "strokes", "fused", "font_picture", "font_picture_fused"}
    assert "--corpus" in card["training"]["command"] and set(card["fusion"]["charsets"]) == {
        "letters",
        "alphanumeric",
    }
    assert (tmp_path / "strokenet-chars.card.md").read_text().startswith("# Model card: strokenet-chars")


@pytest.mark.slow
def test_a_smoke_training_exports_a_model_whose_card_serving_reads(
    mnist_dir: Path, tmp_path: Path, model_path: Path
) -> None:
    out = tmp_path / "strokenet.onnx"
    _, metrics = train_strokes(out, StrokeConfig(epochs=1, limit=600, threads=2), mnist_dir, progress=False)
    assert metrics["onnx_max_difference"] < 1e-4 and metrics["validation_samples"] > 0
    card = measure(out, Classifier(model_path), mnist_dir, {"data": "test", "command": "test"}, limit=300)
    write_card(card, tmp_path / "strokenet.card.json")
    assert set(card["traced_test"]) >= {"image", "strokes", "fused", "digits", "untraceable"}
    assert card["traced_test"]["digits"] + card["traced_test"]["untraceable"] == 300
    loaded = StrokeClassifier(out)
    assert loaded.image_weight == card["fusion"]["image_weight"]
    assert loaded.temperature == card["fusion"]["temperature"]
    assert (tmp_path / "strokenet.card.md").read_text().startswith("# Model card: strokenet")


@pytest.mark.slow
def test_the_shipped_stroke_model_measures_what_its_card_says(mnist_dir: Path, model_path: Path) -> None:
    shipped = StrokeClassifier(DEFAULT_STROKE_MODEL)
    said = shipped.card["traced_test"]
    again = measure(DEFAULT_STROKE_MODEL, Classifier(model_path), mnist_dir, shipped.card["training"])
    for source in ("image", "strokes", "fused"):
        assert again["traced_test"][source]["accuracy"] == pytest.approx(
            said[source]["accuracy"], abs=1e-6
        ), source
    assert again["fusion"]["image_weight"] == shipped.image_weight
    assert again["fusion"]["temperature"] == shipped.temperature
    ece = shipped.card["fusion"]["test_ece"]
    assert ece["calibrated"] < ece["fused"], ece
    assert said["fused"]["accuracy"] >= said["image"]["accuracy"], "fusing must not lose to the picture alone"


def test_the_shipped_character_stroke_model_reads_hersheys_fonts_as_its_card_says(corpus_fonts: None) -> None:
    """Hershey's validation fonts need no corpus: measured again in full, as the card gives them."""
    shipped = StrokeClassifier(DEFAULT_CHARACTER_STROKE_MODEL)
    characters = Classifier(DEFAULT_CHARACTER_MODEL)
    assert shipped.classes == characters.classes
    drawings, labels = hershey_glyphs(characters.classes, validation=True)
    weights = {charset: shipped.fusion_in(charset)[0] for charset in shipped.charsets}
    again = read_set(characters, shipped, drawings, labels, weights)
    said = shipped.card["held_out"]["hershey_validation"]
    for source in ("image", "strokes", "fused"):
        for charset in ("alphanumeric", "letters"):
            assert again[source][charset] == pytest.approx(said[source][charset], abs=1e-6), (source, charset)
    # what fusing buys in each charset, on the held-out fonts traced
    fonts = shipped.card["held_out"]["held_out_fonts"]
    for charset in ("alphanumeric", "letters"):
        assert fonts["fused"][charset]["accuracy"] >= fonts["image"][charset]["accuracy"], charset


def test_digits_drawn_through_the_page_are_read_from_strokes_and_picture(model_path: Path) -> None:
    drawn = {int(d): parse_strokes(s) for d, s in json.loads(PAGE_DIGITS.read_text()).items()}
    labels = np.array(sorted(drawn))
    strokes = StrokeClassifier(DEFAULT_STROKE_MODEL)
    stroke_p = strokes(np.stack([features(drawn[d]) for d in labels]))
    image_p = Classifier(model_path).probabilities(rendered_inputs([drawn[d] for d in labels]))
    fused = strokes.fused(image_p, stroke_p)
    assert (fused.argmax(1) == labels).sum() >= 9
    assert (stroke_p.argmax(1) == labels).sum() >= 8
