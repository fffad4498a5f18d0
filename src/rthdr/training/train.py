"""Training: augmentation, the loop, model selection on a validation split, and the outputs.

The test set is never read here: model selection and early stopping use a validation split
carved out of the 60,000 training images. `rthdr evaluate` touches the test set, once.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from rthdr.training.config import TrainConfig  # its defaults make the CLI's flags, so it needs no torch
from rthdr.training.export import export_onnx
from rthdr.training.model import DigitNet, count_macs, count_parameters, save_checkpoint
from rthdr.training.plots import plot_history
from rthdr.training.sets import training_sets


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
    warped = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return blurred(warped, cfg.blur_share, generator)


BLUR_SIGMA_PX = (0.3, 0.8)  # rthdr.data.augment.blur's, at the model input's scale


def blurred(images: torch.Tensor, share: float, generator: torch.Generator) -> torch.Tensor:
    """A (N, 1, 28, 28) batch with about `share` of its images Gaussian-blurred, each by its own
    sigma in BLUR_SIGMA_PX: one separable 7-tap kernel per image, applied as a grouped convolution."""
    if share <= 0:  # no draw from the generator: the digit model's runs stay as they were
        return images
    chosen = torch.rand(images.shape[0], generator=generator) < share
    if not chosen.any():
        return images
    low, high = BLUR_SIGMA_PX
    sigma = low + torch.rand(int(chosen.sum()), generator=generator) * (high - low)
    taps = torch.arange(-3, 4, dtype=images.dtype)
    kernel = torch.exp(-(taps[None] ** 2) / (2 * sigma[:, None] ** 2))
    kernel = kernel / kernel.sum(1, keepdim=True)  # (k, 7)
    picked = images[chosen].transpose(0, 1)  # (1, k, 28, 28): each image its own channel
    k = picked.shape[1]
    picked = F.conv2d(picked, kernel[:, None, None, :], padding=(0, 3), groups=k)
    picked = F.conv2d(picked, kernel[:, None, :, None], padding=(3, 0), groups=k)
    out = images.clone()
    out[chosen] = picked.transpose(0, 1)
    return out


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


# model's training recipe adds to the shared loop (augmentation, attacks, its loss).
Step = Callable[[torch.Tensor, torch.Tensor], tuple[torch.Tensor, int]]


def train_one_epoch(
    model: nn.Module,
    step: Step,
    images: torch.Tensor,
    targets: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    batch_size: int,
    generator: torch.Generator,
    desc: str,
    ema: AveragedModel | None = None,
    progress: bool = True,
) -> tuple[float, float]:
    """One pass in a random order drawn from `generator`: each batch's loss from `step`, then an
    optimiser step, a schedule step and the EMA's update. Returns the mean loss and the accuracy."""
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total_loss, correct, seen = 0.0, 0, 0
    batches = tqdm(order.split(batch_size), desc=desc, leave=False, unit="batch", disable=not progress)
    for index in batches:
        loss, right = step(images[index], targets[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        scheduler.step()
        if ema is not None:
            ema.update_parameters(model)
        total_loss += loss.item() * len(index)
        correct += right
        seen += len(index)
        batches.set_postfix(loss=f"{total_loss / seen:.4f}", acc=f"{correct / seen:.4f}")
    return total_loss / seen, correct / seen


def classifier_step(
    model: nn.Module, cfg: TrainConfig, generator: torch.Generator, teacher: nn.Module | None = None
) -> Step:
    """The digit classifier's batch: augmented, with its attacked copy when cfg asks for one,
    label-smoothed cross-entropy, and the teacher's softened answers when distilling."""

    def step(images: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, int]:
        x = augment(images, cfg, generator)
        attacked = adversarial_copy(model, x, labels, cfg, generator) if cfg.adversarial else None
        logits = model(x)
        loss = F.cross_entropy(logits, labels, label_smoothing=cfg.label_smoothing)
        if attacked is not None:
            attacked_loss = F.cross_entropy(model(attacked), labels, label_smoothing=cfg.label_smoothing)
            loss = (loss + attacked_loss) / 2
        if teacher is not None:
            loss = (1 - cfg.distill_weight) * loss + cfg.distill_weight * distillation_loss(
                logits, teacher, x, cfg.distill_temperature
            )
        return loss, int((logits.argmax(1) == labels).sum())

    return step


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

    (x_train, y_train, x_val, y_val), classes = training_sets(cfg, data_dir)
    if len(classes) != cfg.model.num_classes:
        cfg.model = replace(cfg.model, num_classes=len(classes))
    model = start_from or DigitNet(cfg.model)
    ema = AveragedModel(model, avg_fn=ema_average(cfg.ema_decay), use_buffers=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(x_train) / cfg.batch_size)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch
    )

    history: list[dict] = []
    best_acc, best_epoch, started = -1.0, 0, time.perf_counter()
    step = classifier_step(model, cfg, generator, teacher)
    for epoch in range(1, cfg.epochs + 1):
        desc = f"epoch {epoch}/{cfg.epochs}"
        train_loss, train_acc = train_one_epoch(
            model, step, x_train, y_train, optimizer, scheduler, cfg.batch_size, generator, desc, ema
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
            save_checkpoint(
                cast(DigitNet, ema.module),
                str(out / "model.pt"),
                epoch=epoch,
                val_acc=val_acc,
                classes=list(classes),
            )
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
        "classes": list(classes),
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
