"""The one-digit check: its training data, a smoke training run, and what the shipped check says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from rthdr.cli.main import main
from rthdr.core.inference import DEFAULT_ONE_DIGIT_CHECK, OneDigitCheck
from rthdr.core.preprocess import to_mnist
from rthdr.core.segment import checked
from rthdr.training.export import INPUT_NAME
from rthdr.training.onedigit import NOT_ONE, ONE, OUTPUT_NAME, labelled_parts, part_label


def test_parts_are_labelled_from_the_digits_that_drew_them(mnist_test: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = mnist_test
    inputs, targets = labelled_parts(
        images[:500], labels[:500], numbers=30, seed=1, touching=0.4, progress=False
    )
    assert inputs.shape == (len(targets), 28, 28) and inputs.dtype == np.float32
    assert set(np.unique(targets)) == {ONE, NOT_ONE}  # whole digits and cut-up or joined ones
    assert inputs.min() >= 0.0 and inputs.max() <= 1.0 + 1e-5  # resampling rounds a hair over
    # At least the pieces of ink that are one digit each: every number holds 2 to 7 of them.
    assert (targets == ONE).sum() >= 30


@pytest.mark.parametrize(
    "counts, ink_of, label",
    [
        ([1000, 20], [1000, 150], ONE),  # a digit with a sliver of its neighbour
        (
            [850, 150],
            [850, 150],
            NOT_ONE,
        ),  # a wide digit with a whole narrow "1": 85 % of the ink is one digit
        ([500, 0], [1000, 100], NOT_ONE),  # half a digit
        ([850, 0], [1000, 100], None),  # most of a digit: too close to call
    ],
)
def test_parts_are_one_digit_when_they_hold_one_whole_digit_and_no_other(
    counts: list[int], ink_of: list[int], label: float | None
) -> None:
    assert part_label(np.array(counts), np.array(ink_of)) == label


@pytest.mark.slow
def test_smoke_training_writes_a_check_the_service_can_load(mnist_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "onedigit.onnx"
    arguments = ["--numbers", "40", "--digits", "300", "--epochs", "1", "--out", str(out)]
    assert main(["train-onedigit", "--data-dir", str(mnist_dir), *arguments]) == 0
    metrics = json.loads(out.with_suffix(".json").read_text())
    assert metrics["validation_parts"] > 0 and 0.0 <= metrics["validation"]["accuracy"] <= 1.0
    assert metrics["onnx_max_difference"] < 1e-4
    probability = OneDigitCheck(out)(np.random.default_rng(0).random((3, 28, 28), np.float32))
    assert probability.shape == (3,) and ((probability >= 0) & (probability <= 1)).all()
    assert signature(out) == signature(DEFAULT_ONE_DIGIT_CHECK), "the shipped check's names and shapes"


def signature(path: Path) -> list[tuple[str, list[int | str]]]:
    """An ONNX file's inputs and outputs: names and shapes (the batch axis named)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return [(value.name, value.shape) for value in [*session.get_inputs(), *session.get_outputs()]]


def test_the_shipped_check_reads_image_and_answers_one_digit() -> None:
    assert signature(DEFAULT_ONE_DIGIT_CHECK) == [
        (INPUT_NAME, ["batch", 1, 28, 28]),
        (OUTPUT_NAME, ["batch", 1]),
    ]


def squeezed_pair(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Two MNIST digits side by side, touching, as the model input segmentation would make of them."""
    pair = np.zeros((28, 50), np.float32)
    pair[:, :28] = left / 255
    pair[:, 22:] = np.maximum(pair[:, 22:], right / 255)
    columns = np.flatnonzero(pair.max(axis=0) > 0.1)
    pair = pair[:, columns[0] : columns[-1] + 1]
    return to_mnist(pair, (pair > 0.2).astype(np.uint8))[0]


def test_shipped_check_tells_single_digits_from_touching_pairs(
    mnist_test: tuple[np.ndarray, np.ndarray],
) -> None:
    """On test digits it never saw: single digits are one digit, squeezed pairs are not."""
    check = OneDigitCheck(DEFAULT_ONE_DIGIT_CHECK)
    images = mnist_test[0][:400]
    singles = check(images.astype(np.float32) / 255)
    pairs = check(np.stack([squeezed_pair(images[i], images[i + 1]) for i in range(0, 400, 2)]))
    assert (singles >= 0.5).mean() >= 0.95, (singles >= 0.5).mean()
    assert (pairs < 0.5).mean() >= 0.8, (pairs < 0.5).mean()


def test_check_weighs_the_classifiers_probabilities() -> None:
    def classify(images: np.ndarray) -> np.ndarray:
        return np.full((len(images), 10), 0.1)

    def half_sure(images: np.ndarray) -> np.ndarray:
        return np.full(len(images), 0.5)

    images = np.zeros((2, 28, 28), np.float32)
    assert checked(classify, None) is classify
    assert np.allclose(checked(classify, half_sure)(images), 0.1 * 0.5**0.3)


@pytest.mark.parametrize("option, expected", [("none", None), ("", DEFAULT_ONE_DIGIT_CHECK)])
def test_cli_reads_numbers_with_the_shipped_check_unless_told_not_to(
    option: str, expected: Path | None
) -> None:
    check = OneDigitCheck.from_flag(option)
    assert (check.path if check else None) == expected
