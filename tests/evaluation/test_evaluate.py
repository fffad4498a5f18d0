"""Accuracy through the serving preprocessing: the figures, the report files, and number reading's
edit distance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rthdr.core.inference import Classifier
from rthdr.evaluation.evaluate import confusion_matrix, edit_distance, evaluate, write_report


def test_confusion_matrix_counts_truth_by_prediction() -> None:
    matrix = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), classes=3)
    assert matrix.tolist() == [[1, 1, 0], [0, 1, 0], [0, 0, 1]]


def test_edit_distance() -> None:
    assert edit_distance("90210", "90210") == 0
    assert edit_distance("90210", "9021") == 1
    assert edit_distance("905127", "905727") == 1
    assert edit_distance("", "123") == 3


def test_evaluation_of_the_shipped_model_on_the_first_test_images(mnist_dir: Path, tmp_path: Path) -> None:
    evaluation, images, labels, inputs = evaluate(Classifier(), mnist_dir, limit=300, progress=False)
    assert evaluation.test_images == len(labels) == len(inputs) == 300
    assert evaluation.accuracy >= 0.99 and evaluation.errors == round((1 - evaluation.accuracy) * 300)
    assert np.array(evaluation.confusion).sum() == 300
    assert len(evaluation.misclassified) == evaluation.errors
    again, *_ = evaluate(Classifier(), mnist_dir, limit=300, progress=False, inputs=inputs)
    assert again.accuracy == evaluation.accuracy
    paths = write_report(evaluation, images, tmp_path)
    assert [p.name for p in paths] == ["report.json", "confusion_matrix.png", "misclassified.png"]
    assert json.loads(paths[0].read_text())["test_images"] == 300
    assert all(p.stat().st_size > 1000 for p in paths[1:])
