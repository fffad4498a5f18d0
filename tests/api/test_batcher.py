"""Micro-batching (rthdr.api.batcher.Predictor with a window): concurrent requests share model calls
and each still gets its own answers; a failed call reaches every request in it, and the next ones
are served."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from rthdr.api.batcher import Predictor
from rthdr.core.inference import Classifier, Prediction
from rthdr.core.preprocess import to_model_input


class RecordingClassifier(Classifier):
    """The real classifier, noting the size of each batch it runs; it fails on request."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.batch_sizes: list[int] = []
        self.fail_next = False

    def run(self, images: np.ndarray, calibrate: bool = True) -> tuple[np.ndarray, np.ndarray]:
        self.batch_sizes.append(len(images))
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("the model call failed")
        return super().run(images, calibrate)


@pytest.fixture
def inputs(digit_samples: dict[int, np.ndarray]) -> list[np.ndarray]:
    """One model input (1, 28, 28) per digit 0-9."""
    return [to_model_input(digit_samples[d], dark_ink=False)[0][np.newaxis] for d in range(10)]


async def predict_together(predictor: Predictor, inputs: list[np.ndarray]) -> list[object]:
    await predictor.start()
    try:
        return await asyncio.gather(*(predictor.predict(x) for x in inputs), return_exceptions=True)
    finally:
        await predictor.stop()


def test_concurrent_requests_share_a_model_call_and_get_their_own_answers(
    model_path, inputs: list[np.ndarray]
) -> None:
    classifier = RecordingClassifier(model_path)
    answers = asyncio.run(predict_together(Predictor(classifier, window_ms=5.0), inputs))
    assert classifier.batch_sizes == [10], "ten requests waiting together make one model call"
    alone = Classifier(model_path)
    for digit, (answer, image) in enumerate(zip(answers, inputs, strict=True)):
        assert isinstance(answer, list) and len(answer) == 1
        assert answer[0].digit == digit
        np.testing.assert_allclose(answer[0].probabilities, alone.predict(image)[0].probabilities, atol=1e-6)


def test_a_batch_never_exceeds_max_batch(model_path, inputs: list[np.ndarray]) -> None:
    classifier = RecordingClassifier(model_path)
    answers = asyncio.run(predict_together(Predictor(classifier, window_ms=5.0, max_batch=4), inputs))
    assert max(classifier.batch_sizes) <= 4 and sum(classifier.batch_sizes) == 10
    assert [a[0].digit for a in answers] == list(range(10))  # type: ignore[index]


def test_a_failed_model_call_fails_its_requests_and_the_next_are_served(
    model_path, inputs: list[np.ndarray]
) -> None:
    classifier = RecordingClassifier(model_path)
    predictor = Predictor(classifier, window_ms=5.0)

    async def scenario() -> tuple[list[object], list[Prediction]]:
        await predictor.start()
        try:
            classifier.fail_next = True
            failed = await asyncio.gather(*(predictor.predict(x) for x in inputs[:3]), return_exceptions=True)
            return failed, await predictor.predict(inputs[7])
        finally:
            await predictor.stop()

    failed, after = asyncio.run(scenario())
    assert all(isinstance(f, RuntimeError) and "failed" in str(f) for f in failed)
    assert after[0].digit == 7


def test_without_a_window_each_request_runs_alone_at_once(model_path, inputs: list[np.ndarray]) -> None:
    classifier = RecordingClassifier(model_path)
    answers = asyncio.run(predict_together(Predictor(classifier, window_ms=0.0), inputs))
    assert classifier.batch_sizes == [1] * 10
    assert [a[0].digit for a in answers] == list(range(10))  # type: ignore[index]
