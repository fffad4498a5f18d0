"""Edge models: INT8 quantisation and structured pruning are real, smaller, and still accurate."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from rthdr.cli.main import main
from rthdr.core.inference import FLOAT_MODEL, SHIPPED_WEIGHTS, Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.evaluation.edge import calibration_images, prune_channels, quantize_int8
from rthdr.training.model import count_macs, count_parameters, load_checkpoint, members


@pytest.fixture(scope="module")
def network():
    model, _ = load_checkpoint(str(SHIPPED_WEIGHTS))
    return members(model)[0]


def test_pruning_removes_channels_for_real(network) -> None:
    pruned = prune_channels(network, 0.25)
    assert count_parameters(pruned) < 0.65 * count_parameters(network)
    assert count_macs(pruned) < 0.65 * count_macs(network)
    x = torch.rand(4, 1, 28, 28)
    assert pruned(x).shape == (4, 10)
    torch.testing.assert_close(prune_channels(network, 0.0)(x), network(x))  # nothing pruned, same net


def test_int8_model_is_smaller_and_as_accurate(tmp_path: Path, mnist_dir: Path, mnist_test) -> None:
    model_path = FLOAT_MODEL
    int8 = tmp_path / "model.int8.onnx"
    quantize_int8(model_path, int8, calibration_images(mnist_dir, 200))
    assert int8.stat().st_size < 0.4 * model_path.stat().st_size
    images, labels = mnist_test
    inputs = preprocess_all(images[:500], progress=False)
    fp32_accuracy = (Classifier(model_path).predict_all(inputs).argmax(1) == labels[:500]).mean()
    int8_accuracy = (Classifier(int8).predict_all(inputs).argmax(1) == labels[:500]).mean()
    assert int8_accuracy >= fp32_accuracy - 0.005
    probabilities = Classifier(int8).probabilities(inputs[:50])
    np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)  # the softmax head stays in float


def test_export_command_writes_and_measures(tmp_path: Path, mnist_dir: Path) -> None:
    model = tmp_path / "digitnet.onnx"
    shutil.copy(FLOAT_MODEL, model)
    code = main(
        [
            "export",
            "--int8",
            "--model",
            str(model),
            "--data-dir",
            str(mnist_dir),
            "--calibration",
            "100",
            "--limit",
            "300",
            "--quick",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0 and (tmp_path / "digitnet.int8.onnx").is_file()
    variants = json.loads((tmp_path / "edge.json").read_text())
    assert [v["file"] for v in variants] == ["digitnet.onnx", "digitnet.int8.onnx"]
    assert all(v["test_accuracy"] > 0.95 and v["single_image_ms_p50"] > 0 for v in variants)


def test_browser_model_download_prefers_int8(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from rthdr.api.main import create_app
    from rthdr.api.settings import Settings

    served = tmp_path / "digitnet.onnx"
    shutil.copy(FLOAT_MODEL, served)
    with TestClient(create_app(Settings(model=served))) as client:
        assert client.get("/api/v1/model/file").content == served.read_bytes()
        (tmp_path / "digitnet.int8.onnx").write_bytes(b"int8 model bytes")
        assert client.get("/api/v1/model/file").content == b"int8 model bytes"
        assert client.get("/api/v1/model/file?variant=served").content == served.read_bytes()
        assert client.get("/api/v1/model/file?variant=other").status_code == 422


def test_the_served_int8_model_answers_the_same_without_the_slower_rewrite(mnist_test) -> None:
    """Classifier turns off ONNX Runtime's QDQ propagation for speed (rthdr.inference.SLOWER_REWRITES):
    the answers must stay exactly those of a session with every default rewrite."""
    import onnxruntime as ort

    from rthdr.core.inference import DEFAULT_MODEL, as_batch

    images, _ = mnist_test
    batch = as_batch(preprocess_all(images[:100], progress=False))
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # as Classifier: the rewrite is the only difference
    defaults = ort.InferenceSession(str(DEFAULT_MODEL), options, providers=["CPUExecutionProvider"])
    expected = defaults.run(None, {"image": batch})
    actual = Classifier(DEFAULT_MODEL).run(batch[:, 0], calibrate=False)
    for mine, theirs in zip(actual, expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)
