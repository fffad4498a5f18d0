"""The shipped model, measured for real: the full MNIST test set through the serving preprocessing,
for the float network and for the INT8 file the service runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rthdr.core.inference import DEFAULT_MODEL, FLOAT_MODEL, Classifier
from rthdr.evaluation.evaluate import TEST_ACCURACY_TARGET, evaluate, write_report

pytestmark = pytest.mark.slow  # the whole MNIST test set, twice

CARD = FLOAT_MODEL.with_suffix(".card.json")


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD.read_text())


@pytest.mark.parametrize(
    "path, part", [(FLOAT_MODEL, "metrics"), (DEFAULT_MODEL, "int8")], ids=["float", "int8"]
)
def test_shipped_model_reaches_its_accuracy_on_the_full_test_set(
    path: Path, part: str, card: dict, mnist_dir: Path, tmp_path: Path
) -> None:
    evaluation, images, _, _ = evaluate(Classifier(path), mnist_dir, progress=False)
    assert evaluation.test_images == 10_000
    assert evaluation.accuracy >= TEST_ACCURACY_TARGET, f"{100 * evaluation.accuracy:.2f} % < 99.6 %"
    assert min(evaluation.per_class_accuracy) > 0.985
    # The card reports exactly what this measures.
    assert card[part]["test_accuracy"] == pytest.approx(evaluation.accuracy, abs=1e-5)
    assert card[part]["test_errors"] == evaluation.errors
    paths = write_report(evaluation, images, tmp_path)
    assert all(path.stat().st_size > 1000 for path in paths)


def test_card_describes_both_files(card: dict) -> None:
    network, served = Classifier(FLOAT_MODEL), Classifier(DEFAULT_MODEL)
    assert card["sha256"] == network.sha256 and card["version"] == network.version
    assert card["file_bytes"] == FLOAT_MODEL.stat().st_size
    assert card["int8"]["file"] == DEFAULT_MODEL.name and card["int8"]["sha256"] == served.sha256
    assert card["int8"]["file_bytes"] < card["file_bytes"] / 2
    assert 100_000 <= card["architecture"]["parameters"] <= 500_000 * card["architecture"]["members"]
    assert "rthdr train" in card["training"]["command"]
    markdown = FLOAT_MODEL.with_suffix(".card.md").read_text()
    assert f"{100 * card['metrics']['test_accuracy']:.2f} %" in markdown and card["sha256"] in markdown
    assert card["int8"]["sha256"] in markdown


def test_the_served_file_answers_with_the_networks_card_and_its_own_identity(card: dict) -> None:
    served = Classifier(DEFAULT_MODEL).card
    assert served["name"] == "digitnet.int8" and served["sha256"] == card["int8"]["sha256"]
    assert served["file_bytes"] == DEFAULT_MODEL.stat().st_size
    assert served["architecture"] == card["architecture"] and served["int8"] == card["int8"]
