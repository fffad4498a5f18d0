"""Training: augmentation, the validation split, and a smoke run that must really learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

import rthdr.train as train_module
from rthdr.data import load_mnist
from rthdr.train import TrainConfig, augment, split_train_val, to_tensor, train


def test_augment_keeps_shape_and_range() -> None:
    images = torch.rand(8, 1, 28, 28)
    out = augment(images, TrainConfig(), torch.Generator().manual_seed(0))
    assert out.shape == images.shape
    assert out.min() >= 0 and out.max() <= 1


def test_augment_with_zero_ranges_is_the_identity() -> None:
    cfg = TrainConfig(rotate_deg=0, shear_deg=0, scale=0, shift_px=0, elastic_px=0)
    images = torch.rand(4, 1, 28, 28)
    torch.testing.assert_close(augment(images, cfg, torch.Generator()), images, atol=1e-5, rtol=0)


def test_augment_moves_pixels() -> None:
    images = torch.rand(4, 1, 28, 28)
    assert (augment(images, TrainConfig(), torch.Generator().manual_seed(1)) - images).abs().mean() > 0.05


def test_validation_split_is_disjoint_and_seeded() -> None:
    images = np.arange(1200, dtype=np.uint8).reshape(-1, 1, 1).repeat(28, 1).repeat(28, 2) % 251
    labels = np.arange(1200) % 10
    cfg = TrainConfig(limit=1200, seed=3, split_seed=5, serving_preprocess=False)
    x_train, _, x_val, _ = split_train_val(images, labels.astype(np.uint8), cfg)
    assert len(x_train) + len(x_val) == 1200 and len(x_val) == 100  # 1/12 of 1200
    again = split_train_val(
        images,
        labels.astype(np.uint8),
        TrainConfig(limit=1200, seed=4, split_seed=5, serving_preprocess=False),
    )
    torch.testing.assert_close(again[2], x_val)  # another model seed, the same held-out images


def test_smoke_training_learns_and_never_reads_the_test_set(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def train_only(split: str, data_dir: object = None) -> tuple[np.ndarray, np.ndarray]:
        assert split == "train", "training must not read the test set"
        return load_mnist("train", data_dir)  # type: ignore[arg-type]

    monkeypatch.setattr(train_module, "load_mnist", train_only)
    cfg = TrainConfig(epochs=2, limit=2000, batch_size=32, threads=2)
    metrics = train(cfg, tmp_path, mnist_dir)

    assert metrics["val_accuracy"] > 0.8, "two epochs on 2,000 images must clearly beat chance"
    for name in ("model.pt", "model.onnx", "metrics.json", "training_curves.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "metrics.json").read_text())["train_size"] == 1833

    # The exported model really classifies held-out digits: score it on 500 test images.
    images, labels = load_mnist("test", mnist_dir)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    probabilities = session.run(["probabilities"], {"image": to_tensor(images[:500]).numpy()})[0]
    assert (probabilities.argmax(1) == labels[:500]).mean() > 0.8
