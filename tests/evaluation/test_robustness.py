"""Attacks and corruptions: the attacks are real (bounded, and they hurt), and the report runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rthdr.cli.main import main
from rthdr.core.inference import SHIPPED_WEIGHTS
from rthdr.evaluation.robustness import attacked_accuracy, corrupted_accuracy, fgsm, pgd, probabilities_of
from rthdr.training.model import load_checkpoint
from rthdr.training.train import TrainConfig, train


@pytest.fixture(scope="module")
def model_and_data(mnist_test):
    model, _ = load_checkpoint(str(SHIPPED_WEIGHTS))
    images, labels = mnist_test
    x = torch.tensor(images[:300], dtype=torch.float32).div(255).unsqueeze(1)
    return model, x, torch.from_numpy(labels[:300].astype(np.int64)), images[:300], labels[:300]


def test_attacks_stay_in_budget_and_raise_the_loss(model_and_data) -> None:
    model, x, y, _, _ = model_and_data
    clean_loss = F.cross_entropy(model(x), y).item()
    for attacked in (
        fgsm(model, x, y, 0.1),
        pgd(model, x, y, 0.1, generator=torch.Generator().manual_seed(0)),
    ):
        assert (attacked - x).abs().max() <= 0.1 + 1e-6
        assert attacked.min() >= 0 and attacked.max() <= 1
        assert F.cross_entropy(model(attacked), y).item() > clean_loss


def test_stronger_attacks_hurt_more(model_and_data) -> None:
    model, x, y, _, _ = model_and_data
    clean = attacked_accuracy(model, x, y, "fgsm", 0.0)
    fgsm_small, fgsm_large = (attacked_accuracy(model, x, y, "fgsm", eps) for eps in (0.05, 0.2))
    pgd_large = attacked_accuracy(model, x, y, "pgd", 0.2)
    assert clean > 0.98
    assert clean >= fgsm_small >= fgsm_large >= pgd_large
    assert pgd_large < 0.9


def test_corruptions_go_through_the_preprocessing(model_and_data) -> None:
    model, _, _, images, labels = model_and_data
    predict = probabilities_of(model)
    assert corrupted_accuracy(predict, images, labels, "none") > 0.98
    assert (
        corrupted_accuracy(predict, images, labels, "inverted (dark ink on white)") > 0.98
    )  # polarity found
    assert corrupted_accuracy(predict, images, labels, "gaussian noise (sigma 0.25)") < 0.99


def test_adversarial_training_runs(mnist_dir: Path, tmp_path: Path) -> None:
    cfg = TrainConfig(epochs=1, limit=600, batch_size=64, adversarial="fgsm", threads=2)
    metrics = train(cfg, tmp_path, mnist_dir)
    assert (tmp_path / "model.onnx").exists() and metrics["config"]["adversarial"] == "fgsm"


def test_robustness_command_writes_its_report(mnist_dir: Path, tmp_path: Path) -> None:
    code = main(
        [
            "robustness",
            str(SHIPPED_WEIGHTS),
            "--quick",
            "--limit",
            "60",
            "--out",
            str(tmp_path),
            "--data-dir",
            str(mnist_dir),
        ]
    )
    assert code == 0
    assert "PGD" in (tmp_path / "robustness.md").read_text()
    assert (tmp_path / "robustness.png").stat().st_size > 10_000
