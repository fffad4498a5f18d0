"""`rthdr train --extra`: the set `rthdr reviews export` wrote, mixed into MNIST at about
EXTRA_SHARE of each epoch; training only, never the validation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from rthdr.data.mnist import DataError
from rthdr.training.sets import EXTRA_SHARE, load_extra, mix_extra
from rthdr.training.train import TrainConfig, train


def write_export(directory: Path, count: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    images = np.zeros((count, 28, 28), np.float32)
    images[:, 4:24, 13:15] = 1.0  # a plain upright stroke
    np.savez_compressed(directory / "inputs.npz", images=images, labels=np.ones(count, np.int64))


def test_the_extra_set_makes_its_share_of_each_epoch(tmp_path: Path) -> None:
    write_export(tmp_path, 300)
    extra = load_extra(tmp_path)
    assert extra[0].shape == (300, 1, 28, 28) and extra[1].dtype == torch.int64
    mnist = torch.zeros(55000, 1, 28, 28), torch.zeros(55000, dtype=torch.int64)
    images, labels = mix_extra(*mnist, extra)
    share = (labels == 1).float().mean().item()
    assert abs(share - EXTRA_SHARE) < 0.01 and len(images) == len(labels)
    assert torch.equal(images[:55000], mnist[0])  # MNIST untouched, the extra set after it


def test_a_missing_or_empty_export_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="rthdr reviews export"):
        load_extra(tmp_path)
    write_export(tmp_path, 0)
    with pytest.raises(DataError, match="no images"):
        load_extra(tmp_path)


@pytest.mark.slow
def test_fine_tuning_with_an_extra_set(mnist_dir: Path, tmp_path: Path) -> None:
    write_export(tmp_path / "extra", 50)
    cfg = TrainConfig(epochs=1, limit=600, batch_size=32, threads=2, extra=str(tmp_path / "extra"))
    metrics = train(cfg, tmp_path / "run", mnist_dir)
    assert metrics["train_size"] > 550  # MNIST's share plus the copies of the extra set
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["config"]["extra"] == cfg.extra
    assert metrics["val_size"] == 50  # validation is MNIST's alone
