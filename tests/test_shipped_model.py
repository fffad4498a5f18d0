"""The shipped model, measured for real: the full MNIST test set through the serving preprocessing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rthdr.evaluate import TEST_ACCURACY_TARGET, evaluate, write_report
from rthdr.inference import DEFAULT_MODEL, Classifier

CARD = DEFAULT_MODEL.with_suffix(".card.json")


@pytest.fixture(scope="module")
def shipped() -> Classifier:
    return Classifier(DEFAULT_MODEL)


def test_shipped_model_reaches_its_accuracy_on_the_full_test_set(
    shipped, mnist_dir: Path, tmp_path: Path
) -> None:
    evaluation, images, _, _ = evaluate(shipped, mnist_dir, progress=False)
    assert evaluation.test_images == 10_000
    assert evaluation.accuracy >= TEST_ACCURACY_TARGET, f"{100 * evaluation.accuracy:.2f} % < 99.6 %"
    assert min(evaluation.per_class_accuracy) > 0.985
    # The card reports exactly what this measures.
    card = json.loads(CARD.read_text())
    assert card["metrics"]["test_accuracy"] == pytest.approx(evaluation.accuracy, abs=1e-5)
    assert card["metrics"]["test_errors"] == evaluation.errors
    paths = write_report(evaluation, images, tmp_path)
    assert all(path.stat().st_size > 1000 for path in paths)


def test_card_describes_this_file(shipped) -> None:
    card = json.loads(CARD.read_text())
    assert card["sha256"] == shipped.sha256 and card["version"] == shipped.version
    assert card["file_bytes"] == DEFAULT_MODEL.stat().st_size
    assert 100_000 <= card["architecture"]["parameters"] <= 500_000 * card["architecture"]["members"]
    assert "rthdr train" in card["training"]["command"]
    markdown = DEFAULT_MODEL.with_suffix(".card.md").read_text()
    assert f"{100 * card['metrics']['test_accuracy']:.2f} %" in markdown and card["sha256"] in markdown


def test_int8_variant_ships_beside_it() -> None:
    int8 = DEFAULT_MODEL.with_suffix(".int8.onnx")
    assert int8.is_file() and int8.stat().st_size < DEFAULT_MODEL.stat().st_size / 2
    Classifier(int8)
