"""Training: augmentation, the validation split, and a smoke run that must really learn."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
import torch

import rthdr.training.sets as sets_module
import rthdr.training.train as train_module
from rthdr.core.inference import SHIPPED_WEIGHTS, Classifier
from rthdr.data.mnist import load_mnist
from rthdr.evaluation.evaluate import evaluate
from rthdr.training.sets import split_train_val, to_tensor
from rthdr.training.train import TrainConfig, augment, blurred, train


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


def test_blur_spreads_a_point_and_keeps_its_ink() -> None:
    images = torch.zeros(3, 1, 28, 28)
    images[:, 0, 14, 14] = 1
    out = blurred(images, 1.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.sum(dim=(1, 2, 3)), torch.ones(3), atol=1e-4, rtol=0)
    assert (out[:, 0, 14, 14] < 0.99).all() and (out[:, 0, 14, 15] > 1e-3).all()
    assert not torch.equal(out[0], out[1])  # each image its own sigma


def test_blur_share_blurs_about_that_share_and_zero_leaves_the_batch_alone() -> None:
    images = torch.rand(400, 1, 28, 28)
    out = blurred(images, 0.25, torch.Generator().manual_seed(0))
    changed = (out - images).abs().amax(dim=(1, 2, 3)) > 1e-6
    assert 0.18 < changed.float().mean() < 0.32
    assert blurred(images, 0.0, torch.Generator()) is images


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


@pytest.mark.slow
def test_smoke_training_learns_and_never_reads_the_test_set(
    mnist_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def train_only(split: str, data_dir: object = None) -> tuple[np.ndarray, np.ndarray]:
        assert split == "train", "training must not read the test set"
        return load_mnist("train", data_dir)  # type: ignore[arg-type]

    monkeypatch.setattr(sets_module, "load_mnist", train_only)
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


def test_distillation_loss_is_zero_when_the_student_agrees_and_grows_as_it_departs() -> None:
    logits = torch.tensor([[4.0, 1.0, -2.0], [0.5, 0.0, 3.0]])

    def teacher(x: torch.Tensor) -> torch.Tensor:
        return logits

    same = train_module.distillation_loss(logits, teacher, torch.zeros(2), temperature=2.0)
    assert float(same) == pytest.approx(0.0, abs=1e-6)
    nearer = train_module.distillation_loss(logits * 0.8, teacher, torch.zeros(2), temperature=2.0)
    farther = train_module.distillation_loss(logits.flip(1), teacher, torch.zeros(2), temperature=2.0)
    assert 0 < float(nearer) < float(farther)


@pytest.mark.slow
def test_a_student_learns_from_the_teacher_alone(mnist_dir: Path, tmp_path: Path) -> None:
    """With the whole loss on the teacher's answers the labels never reach the student, so its
    validation accuracy can only come from the shipped model's knowledge."""
    from rthdr.cli.main import main

    teacher = str(SHIPPED_WEIGHTS)
    code = main(
        [
            "train", "--data-dir", str(mnist_dir), "--out", str(tmp_path), "--epochs", "2",
            "--limit", "2000", "--batch-size", "32", "--threads", "2", "--stages", "8", "16", "16,32",
            "--teacher", teacher, "--distill-weight", "1",
        ]
    )  # fmt: skip

    assert code == 0
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["config"]["teacher"] == teacher
    assert metrics["config"]["model"]["stages"] == [[8], [16], [16, 32]]
    assert metrics["val_accuracy"] > 0.4, "chance is 0.1; this small network reaches ~0.58 in two epochs"


def test_stage_widths_reject_what_is_not_a_channel_count() -> None:
    from rthdr.cli.main import build_parser

    parser = build_parser()
    assert parser.parse_args(["train", "--stages", "16", "32,32"]).stages == [(16,), (32, 32)]
    for bad in ("64,x", "0", "32,,32"):
        with pytest.raises(SystemExit):
            parser.parse_args(["train", "--stages", bad])


def test_train_says_what_is_wrong_with_its_checkpoints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rthdr.cli.main import main

    assert main(["train", "--teacher", str(tmp_path / "missing.pt")]) == 2
    assert "--teacher" in capsys.readouterr().err
    teacher = str(SHIPPED_WEIGHTS)
    assert main(["train", "--init", teacher, "--stages", "8", "16"]) == 2
    assert "--stages and --init" in capsys.readouterr().err


@pytest.mark.slow
def test_release_writes_the_float_and_the_served_int8_file_with_one_card(
    mnist_dir: Path, tmp_path: Path
) -> None:
    from rthdr.cli.main import main

    run, models = tmp_path / "run", tmp_path / "models"
    train(TrainConfig(epochs=1, limit=1000, batch_size=32, threads=2), run, mnist_dir)
    arguments = ["--models-dir", str(models), "--images-dir", str(tmp_path / "images"), "--name", "small"]
    assert main(["release", str(run), *arguments, "--min-accuracy", "0", "--data-dir", str(mnist_dir)]) == 0

    card = json.loads((models / "small.card.json").read_text())
    served = Classifier(models / "small.int8.onnx")
    assert card["int8"]["sha256"] == served.sha256 and served.card["int8"] == card["int8"]
    assert card["int8"]["file_bytes"] < (models / "small.onnx").stat().st_size / 2
    assert abs(card["int8"]["test_accuracy"] - card["metrics"]["test_accuracy"]) < 0.05
    # Both files were measured on one preprocessing of the test set: the same as measuring it afresh.
    assert card["int8"]["test_errors"] == evaluate(served, mnist_dir, progress=False)[0].errors
    assert "The served file: INT8" in (models / "small.card.md").read_text()
