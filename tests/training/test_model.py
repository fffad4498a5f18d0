"""The CNN: shapes, size, the CAM identity, checkpoints, and the ONNX export's parity."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch
from torch import nn

from rthdr.training.export import INPUT_NAME, OUTPUT_NAMES, export_graph, export_onnx
from rthdr.training.model import (
    DigitNet,
    ModelConfig,
    count_macs,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
)


@pytest.fixture
def model() -> DigitNet:
    torch.manual_seed(0)
    return DigitNet().eval()


def test_output_shapes(model: DigitNet) -> None:
    x = torch.rand(5, 1, 28, 28)
    assert model(x).shape == (5, 10)
    assert model.class_maps(x).shape == (5, 10, 7, 7)


def test_logits_are_the_mean_of_the_class_maps(model: DigitNet) -> None:
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(model(x), model.class_maps(x).mean(dim=(2, 3)))


def test_size_is_in_the_planned_range(model: DigitNet) -> None:
    assert 100_000 <= count_parameters(model) <= 500_000
    assert count_macs(model) < 20_000_000


def test_config_changes_the_architecture() -> None:
    small = DigitNet(ModelConfig(stages=((8,), (16,), (32,))))
    assert small.class_maps(torch.rand(1, 1, 28, 28)).shape == (1, 10, 7, 7)
    assert count_parameters(small) < count_parameters(DigitNet())


def test_checkpoint_round_trip(model: DigitNet, tmp_path: Path) -> None:
    path = tmp_path / "model.pt"
    save_checkpoint(model, str(path), epoch=3)
    restored, checkpoint = load_checkpoint(str(path))
    assert checkpoint["epoch"] == 3 and restored.config == model.config
    x = torch.rand(2, 1, 28, 28)
    torch.testing.assert_close(restored(x), model(x))


def test_onnx_export_matches_pytorch(model: DigitNet, tmp_path: Path) -> None:
    # Train-mode batch-norm statistics would hide a wrong export, so give them real values first.
    model.train()
    with torch.no_grad():
        model(torch.rand(64, 1, 28, 28))
    model.eval()
    path = tmp_path / "model.onnx"
    assert export_onnx(model, path) < 1e-4
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [INPUT_NAME]
    assert [o.name for o in session.get_outputs()] == list(OUTPUT_NAMES)
    for batch in (1, 7):
        x = torch.rand(batch, 1, 28, 28)
        probabilities, cam = session.run(None, {INPUT_NAME: x.numpy()})
        with torch.no_grad():
            expected = torch.softmax(model(x), dim=1).numpy()
        assert probabilities.shape == (batch, 10) and cam.shape == (batch, 10, 7, 7)
        assert np.abs(probabilities - expected).max() < 1e-4
        np.testing.assert_allclose(probabilities.sum(1), 1.0, atol=1e-5)


class Noisy(nn.Module):
    """A graph that ONNX Runtime cannot answer as PyTorch does: its noise is drawn anew by each."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        mean = image.mean(dim=(1, 2, 3))[:, None]
        return mean + torch.rand_like(mean)


def test_an_export_that_differs_from_pytorch_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="differs from PyTorch"):
        export_graph(Noisy(), tmp_path / "noisy.onnx", ("noisy",))


def test_any_graph_exports_with_its_named_outputs_and_a_dynamic_batch(tmp_path: Path) -> None:
    path = tmp_path / "mean.onnx"
    assert export_graph(nn.Sequential(nn.AvgPool2d(28), nn.Flatten()), path, ("mean",)) < 1e-6
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [(o.name, o.shape) for o in session.get_outputs()] == [("mean", ["batch", 1])]
    (mean,) = session.run(None, {INPUT_NAME: np.ones((3, 1, 28, 28), np.float32)})
    np.testing.assert_allclose(mean, 1.0, rtol=1e-6)
