"""Training: augmentation, the loop, model selection on a validation split, and the outputs.

The test set is never read here: model selection and early stopping use a validation split
carved out of the 60,000 training images. `rthdr evaluate` touches the test set, once.
"""

from __future__ import annotations

import json
import math
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from rthdr.data.mnist import load_mnist, train_validation_split
from rthdr.training.export import export_onnx
from rthdr.training.model import DigitNet, ModelConfig, count_macs, count_parameters, save_checkpoint
from rthdr.training.plots import plot_history


@dataclass
class TrainConfig:
    epochs: int = 30
    batch_size: int = 128
    lr: float = 3e-3  # peak of the one-cycle schedule
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    val_fraction: float = 1 / 12  # held out for model selection: 5,000 of the 60,000 training images
    limit: int | None = None  # use only this many training images (quick runs, tests)
    patience: int = 8  # stop after this many epochs without a better validation accuracy
    ema_decay: float = 0.999  # the shipped weights are an exponential moving average
    # Random affine augmentation, drawn independently per image.
    rotate_deg: float = 12.0
    shear_deg: float = 12.0
    scale: float = 0.12  # zoom in [1 - scale, 1 + scale]
    shift_px: float = 2.5
    elastic_px: float = 0.8  # amplitude of a smooth random displacement field; 0 turns it off
    # Adversarial training: each batch also trains on its attacked copy (half the loss each), so the
    # model learns to resist attacks without giving up much clean accuracy. None = off.
    adversarial: str | None = None  # "pgd" or "fgsm"
    adversarial_eps: float = 0.1  # L-infinity budget in pixel units of [0, 1]
    adversarial_steps: int = 3  # PGD steps during training
    init: str | None = None  # a checkpoint to fine-tune instead of training from scratch (provenance)
    # Knowledge distillation (Hinton et al. 2015): a trained checkpoint's softened answers on the same
    # augmented batch are a second target, which lets a smaller, faster network keep the larger one's
    # accuracy. None = off.
    teacher: str | None = None
    distill_weight: float = 0.5  # share of the loss that is the teacher's; the rest is the labels'
    distill_temperature: float = 2.0  # softens both answers, so the teacher's second choices count
    seed: int = 0  # weights' initialisation, batch order and augmentation
    split_seed: int = 0  # which images are held out: kept fixed so models of an ensemble share it
    # Train on images passed through the serving preprocessing (rthdr.core.preprocess), so the network
    # learns exactly what it will be shown; MNIST's own tensors differ from it by resampling details.
    serving_preprocess: bool = True
    threads: int = 0  # torch intra-op threads; 0 = all cores
    model: ModelConfig = field(default_factory=ModelConfig)


def augment(images: torch.Tensor, cfg: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """Random affine + elastic distortion of a (N, 1, 28, 28) batch, in one grid_sample call."""
    n = images.shape[0]

    def uniform(limit: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * limit

    angle = torch.deg2rad(uniform(cfg.rotate_deg))
    shear = torch.tan(torch.deg2rad(uniform(cfg.shear_deg)))
    zoom = 1 + uniform(cfg.scale)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # theta maps output coordinates to input coordinates: (rotation @ shear) / zoom, plus a shift
    # (grid coordinates span [-1, 1] over 28 pixels, so one pixel is 2/28).
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos / zoom
    theta[:, 0, 1] = (cos * shear - sin) / zoom
    theta[:, 1, 0] = sin / zoom
    theta[:, 1, 1] = (sin * shear + cos) / zoom
    theta[:, 0, 2] = uniform(cfg.shift_px * 2 / 28)
    theta[:, 1, 2] = uniform(cfg.shift_px * 2 / 28)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    if cfg.elastic_px > 0:
        # A coarse 4x4 random field upsampled bicubically is smooth, like Simard et al.'s Gaussian-
        # filtered noise, and far cheaper to make.
        coarse = torch.randn(n, 2, 4, 4, generator=generator) * (cfg.elastic_px * 2 / 28)
        field_ = F.interpolate(coarse, size=(28, 28), mode="bicubic", align_corners=False)
        grid = grid + field_.permute(0, 2, 3, 1)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def ema_average(decay: float):
    """EMA update whose decay warms up from 0.1 towards `decay`, so short runs are not stuck
    near the random initialisation."""

    def update(averaged: torch.Tensor, current: torch.Tensor, steps: torch.Tensor) -> torch.Tensor:
        d = min(decay, (1 + float(steps)) / (10 + float(steps)))
        return d * averaged + (1 - d) * current

    return update


def adversarial_copy(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, cfg: TrainConfig, generator: torch.Generator
) -> torch.Tensor:
    """The batch attacked with the configured method; batch-norm statistics are left untouched."""
    from rthdr.training.attacks import fgsm, pgd

    model.eval()
    if cfg.adversarial == "pgd":
        attacked = pgd(model, x, y, cfg.adversarial_eps, steps=cfg.adversarial_steps, generator=generator)
    else:  # FGSM from a random start (Wong et al., "Fast is better than free")
        start = (x + (torch.rand(x.shape, generator=generator) * 2 - 1) * cfg.adversarial_eps).clamp(0, 1)
        attacked = torch.min(
            torch.max(fgsm(model, start, y, 1.25 * cfg.adversarial_eps), x - cfg.adversarial_eps),
            x + cfg.adversarial_eps,
        ).clamp(0, 1)
    model.train()
    return attacked


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, 28, 28) uint8 0-255 or float in [0, 1] -> float (N, 1, 28, 28) in [0, 1], the model's input."""
    tensor = torch.tensor(images, dtype=torch.float32)
    return (tensor.div_(255) if images.dtype == np.uint8 else tensor).unsqueeze(1)


def train_one_epoch(
    model: nn.Module,
    ema: AveragedModel,
    images: torch.Tensor,
    labels: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    cfg: TrainConfig,
    generator: torch.Generator,
    desc: str,
    teacher: nn.Module | None = None,
) -> tuple[float, float]:
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total_loss, correct, seen = 0.0, 0, 0
    batches = tqdm(order.split(cfg.batch_size), desc=desc, leave=False, unit="batch")
    for index in batches:
        x, y = augment(images[index], cfg, generator), labels[index]
        attacked = adversarial_copy(model, x, y, cfg, generator) if cfg.adversarial else None
        logits = model(x)
        loss = F.cross_entropy(logits, y, label_smoothing=cfg.label_smoothing)
        if attacked is not None:
            attacked_loss = F.cross_entropy(model(attacked), y, label_smoothing=cfg.label_smoothing)
            loss = (loss + attacked_loss) / 2
        if teacher is not None:
            loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distillation_loss(
                logits, teacher, x, cfg.distill_temperature
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        ema.update_parameters(model)
        total_loss += loss.item() * len(y)
        correct += int((logits.argmax(1) == y).sum())
        seen += len(y)
        batches.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    return total_loss / seen, correct / seen


def distillation_loss(
    logits: torch.Tensor, teacher: nn.Module, x: torch.Tensor, temperature: float
) -> torch.Tensor:
    """KL divergence from the teacher's softened answer to the student's, scaled by T^2 so that its
    gradients keep their size whatever the temperature (Hinton et al.)."""
    with torch.no_grad():
        target = F.log_softmax(teacher(x) / temperature, dim=1)
    student = F.log_softmax(logits / temperature, dim=1)
    return F.kl_div(student, target, reduction="batchmean", log_target=True) * temperature**2


@torch.no_grad()
def evaluate(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> tuple[float, float]:
    """Mean cross-entropy and accuracy, without augmentation."""
    model.eval()
    total_loss, correct = 0.0, 0
    for x, y in zip(images.split(1000), labels.split(1000), strict=True):
        logits = model(x)
        total_loss += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(1) == y).sum())
    return total_loss / len(labels), correct / len(labels)


def split_train_val(
    images: np.ndarray, labels: np.ndarray, cfg: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A seeded shuffle, optionally limited, with the last 1/12 of the images held out."""
    train_idx, val_idx = train_validation_split(len(images), cfg.split_seed, cfg.val_fraction, cfg.limit)

    def inputs(index: np.ndarray) -> torch.Tensor:
        if not cfg.serving_preprocess:
            return to_tensor(images[index])
        from rthdr.core.preprocess import preprocess_all

        return to_tensor(preprocess_all(images[index]))

    return (
        inputs(train_idx),
        torch.from_numpy(labels[train_idx].astype(np.int64)),
        inputs(val_idx),
        torch.from_numpy(labels[val_idx].astype(np.int64)),
    )


def train(
    cfg: TrainConfig,
    out_dir: str | Path,
    data_dir: str | Path | None = None,
    start_from: DigitNet | None = None,
    teacher: nn.Module | None = None,
) -> dict:
    """Train (from scratch, or fine-tune `start_from`; distilling `teacher` if given), keep the best EMA weights by validation
    accuracy, and write to out_dir: model.pt (config + weights), model.onnx, metrics.json,
    training_curves.png."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    generator = torch.Generator().manual_seed(cfg.seed)
    if teacher is not None:
        teacher.eval()

    x_train, y_train, x_val, y_val = split_train_val(*load_mnist("train", data_dir), cfg)
    model = start_from or DigitNet(cfg.model)
    ema = AveragedModel(model, avg_fn=ema_average(cfg.ema_decay), use_buffers=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch
    )

    history: list[dict] = []
    best_acc, best_epoch, started = -1.0, 0, time.perf_counter()
    for epoch in range(1, cfg.epochs + 1):
        desc = f"epoch {epoch}/{cfg.epochs}"
        train_loss, train_acc = train_one_epoch(
            model, ema, x_train, y_train, optimizer, scheduler, cfg, generator, desc, teacher
        )
        val_loss, val_acc = evaluate(ema.module, x_val, y_val)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "train_acc": train_acc,
                "val_loss": val_loss,
                "val_acc": val_acc,
                "lr": scheduler.get_last_lr()[0],
                "seconds": time.perf_counter() - started,
            }
        )
        improved = val_acc > best_acc
        if improved:
            best_acc, best_epoch = val_acc, epoch
            save_checkpoint(cast(DigitNet, ema.module), str(out / "model.pt"), epoch=epoch, val_acc=val_acc)
        tqdm.write(
            f"{desc}: train loss {train_loss:.4f} acc {train_acc:.4f} | "
            f"val loss {val_loss:.4f} acc {val_acc:.4f}{' *' if improved else ''}"
        )
        if epoch - best_epoch >= cfg.patience:
            tqdm.write(f"early stop: no better validation accuracy for {cfg.patience} epochs")
            break

    best = DigitNet(model.config)
    best.load_state_dict(torch.load(out / "model.pt", weights_only=True)["state_dict"])
    parity = export_onnx(best.eval(), out / "model.onnx")
    metrics = {
        "best_epoch": best_epoch,
        "val_accuracy": best_acc,
        "val_size": len(y_val),
        "train_size": len(y_train),
        "parameters": count_parameters(best),
        "macs": count_macs(best),
        "onnx_max_abs_diff": parity,
        "train_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}",
        "config": asdict(cfg),
        "history": history,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    plot_history(history, out / "training_curves.png")
    return metrics
