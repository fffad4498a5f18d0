"""The stroke model's path: a smoke training on traced MNIST digits, the fusion weight and the card;
the shipped model against its card; and the digits drawn through the page with the mouse (the
fixture tests/api/test_page_strokes.py keeps), read from strokes, picture and both."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rthdr.core.inference import DEFAULT_STROKE_MODEL, Classifier, StrokeClassifier, fuse
from rthdr.core.strokes import features, parse_strokes
from rthdr.evaluation.strokes import fusion_weight, measure, rendered_inputs, write_card
from rthdr.training.config import StrokeConfig
from rthdr.training.strokes import train_strokes
from tests.helpers.paths import ROOT

PAGE_DIGITS = ROOT / "tests" / "fixtures" / "strokes" / "page-digits.json"


def test_the_fusion_weight_is_the_one_that_reads_best() -> None:
    labels = np.array([0, 1])
    image = np.array([[0.9, 0.1], [0.6, 0.4]])  # the picture gets the second wrong ...
    strokes = np.array([[0.45, 0.55], [0.1, 0.9]])  # ... the strokes the first
    weight = fusion_weight(image, strokes, labels)
    assert 0 < weight < 1
    assert (fuse(image, strokes, weight).argmax(1) == labels).all()


@pytest.mark.slow
def test_a_smoke_training_exports_a_model_whose_card_serving_reads(
    mnist_dir: Path, tmp_path: Path, model_path: Path
) -> None:
    out = tmp_path / "strokenet.onnx"
    _, metrics = train_strokes(out, StrokeConfig(epochs=1, limit=600, threads=2), mnist_dir, progress=False)
    assert metrics["onnx_max_difference"] < 1e-4 and metrics["validation_digits"] > 0
    card = measure(out, Classifier(model_path), mnist_dir, {"data": "test", "command": "test"}, limit=300)
    write_card(card, tmp_path / "strokenet.card.json")
    assert set(card["traced_test"]) >= {"image", "strokes", "fused", "digits", "untraceable"}
    assert card["traced_test"]["digits"] + card["traced_test"]["untraceable"] == 300
    loaded = StrokeClassifier(out)
    assert loaded.image_weight == card["fusion"]["image_weight"]
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
    assert said["fused"]["accuracy"] >= said["image"]["accuracy"], "fusing must not lose to the picture alone"


def test_digits_drawn_through_the_page_are_read_from_strokes_and_picture(model_path: Path) -> None:
    drawn = {int(d): parse_strokes(s) for d, s in json.loads(PAGE_DIGITS.read_text()).items()}
    labels = np.array(sorted(drawn))
    strokes = StrokeClassifier(DEFAULT_STROKE_MODEL)
    stroke_p = strokes(np.stack([features(drawn[d]) for d in labels]))
    image_p = Classifier(model_path).probabilities(rendered_inputs([drawn[d] for d in labels]))
    fused = fuse(image_p, stroke_p, strokes.image_weight)
    assert (fused.argmax(1) == labels).sum() >= 9
    assert (stroke_p.argmax(1) == labels).sum() >= 8
