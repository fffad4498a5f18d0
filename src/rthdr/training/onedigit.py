"""The one-digit check: a small CNN that says whether a 28x28 crop shows exactly one whole digit.

Number reading cuts wide pieces of ink every way it can and reads each part; the digit classifier
reads a squeezed pair, or half a digit, as a digit with its usual confidence, so the reader could not
tell a right cut from a wrong one. This network learns the difference from the very parts number
reading considers, in synthetic photos of numbers written with MNIST *training* digits, each part
labelled by which digit drew its pixels; MNIST training digits are added as more single digits.

    rthdr train-onedigit    # about 40 minutes on 2 CPU cores -> models/onedigit.onnx and its metrics
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rthdr.core.decode import InputError, decode_image
from rthdr.core.preprocess import extract_ink
from rthdr.core.segment import candidate_parts, crop_input, find_pieces
from rthdr.data.mnist import load_mnist, train_validation_split
from rthdr.data.synth import render_number
from rthdr.training.export import export_graph
from rthdr.training.train import Step, train_one_epoch

ONE, NOT_ONE = 1.0, 0.0
WHOLE = 0.92  # a part is one digit when at least this share of its ink is one digit's ...
COVERED = 0.88  # ... and it holds at least this share of that digit's ink;
MIXED, PARTIAL = 0.8, 0.7  # below these it is not one digit; in between, too close to call: skipped,
SECOND = 0.5  # unless it holds this share of a second digit's ink: a narrow "1" beside a wide digit
BATCH_SIZE = 256
OUTPUT_NAME = "one_digit"  # the ONNX graph: 'image' (N, 1, 28, 28) -> 'one_digit' (N, 1) probabilities


def part_label(counts: np.ndarray, ink_of: np.ndarray) -> float | None:
    """ONE, NOT_ONE, or None (too close to call) for a part that holds counts[i] of the ink_of[i]
    ink pixels of each digit i."""
    second, top = np.argsort(counts, kind="stable")[-2:]
    share, cover = counts[top] / counts.sum(), counts[top] / max(1, ink_of[top])
    if share >= WHOLE and cover >= COVERED:
        return ONE
    if share < MIXED or cover < PARTIAL or 0 < SECOND * ink_of[second] <= counts[second]:
        return NOT_ONE
    return None


def labelled_parts(
    images: np.ndarray,
    labels: np.ndarray,
    numbers: int,
    seed: int,
    touching: float,
    progress: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs (N, 28, 28) of the parts number reading considers in `numbers` synthetic photos
    of 2 to 7 digits with a share `touching` of the gaps closed, and 1 / 0 for one digit / not."""
    rng = np.random.default_rng(seed)
    inputs, targets = [], []
    for _ in tqdm(range(numbers), desc="parts", unit="number", disable=not progress):
        chosen = rng.integers(0, len(images), int(rng.integers(2, 8)))
        data, _, owner = render_number([images[i] for i in chosen], rng, touching)
        grey = decode_image(data).grey
        if grey.shape != owner.shape:  # downscaled on decoding: the owner map no longer fits
            continue
        try:
            ink = extract_ink(grey)
            pieces, digit_height = find_pieces(ink)
        except InputError:
            continue
        drawn = owner[(ink.mask > 0) & (owner >= 0)]
        ink_of = np.bincount(drawn, minlength=len(chosen))
        for part in candidate_parts(pieces, digit_height):
            owners = owner[(part.mask > 0) & (owner >= 0)]
            if len(owners) < 10:
                continue
            target = part_label(np.bincount(owners, minlength=len(chosen)), ink_of)
            if target is None:
                continue
            inputs.append(crop_input(ink, part)[0])
            targets.append(target)
    return np.stack(inputs).astype(np.float32), np.array(targets, np.float32)


class OneDigitNet(nn.Module):
    """Three convolutions and a logistic output: 74k parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *self._block(1, 32),
            nn.MaxPool2d(2),
            *self._block(32, 64),
            nn.MaxPool2d(2),
            *self._block(64, 96),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(96, 1)

    @staticmethod
    def _block(inputs: int, outputs: int) -> list[nn.Module]:
        return [nn.Conv2d(inputs, outputs, 3, padding=1, bias=False), nn.BatchNorm2d(outputs), nn.ReLU()]

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        """(N, 1, 28, 28) -> (N, 1) logits of 'one whole digit'."""
        return self.head(self.features(image))


def rates(probability: np.ndarray, target: np.ndarray) -> dict[str, float]:
    said_one = probability >= 0.5
    return {
        "accuracy": float((said_one == (target == ONE)).mean()),
        "digits_kept": float(said_one[target == ONE].mean()),
        "non_digits_rejected": float((~said_one)[target == NOT_ONE].mean()),
    }


def shifted_step(net: OneDigitNet, generator: torch.Generator) -> Step:
    """A batch shifted by up to 2 pixels each way (the crops' centring varies a little), and the
    logistic loss of 'one whole digit'."""

    def step(images: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, int]:
        shift = tuple(torch.randint(-2, 3, (2,), generator=generator).tolist())
        logits = net(torch.roll(images, shift, (2, 3)))[:, 0]
        loss = nn.functional.binary_cross_entropy_with_logits(logits, targets)
        return loss, int(((logits >= 0) == (targets == ONE)).sum())

    return step


def train_one_digit(
    out: Path,
    data_dir: str | Path | None = None,
    numbers: int = 10000,
    digits: int = 30000,
    epochs: int = 5,
    touching: float = 0.6,
    seed: int = 0,
    threads: int = 0,
    progress: bool = True,
) -> dict[str, object]:
    """Train on parts of numbers written with training digits (and `digits` plain training digits),
    measure on parts of numbers written with validation digits, write the ONNX check and its metrics.
    `touching`: the share of gaps closed, six times the evaluation's 10 %, for more touching pairs."""
    torch.manual_seed(seed)
    if threads:
        torch.set_num_threads(threads)
    images, labels = load_mnist("train", data_dir)
    train_index, validation_index = train_validation_split(len(images))
    x, y = labelled_parts(
        images[train_index], labels[train_index], numbers, seed + 11, touching, progress=progress
    )
    plain = images[train_index][:digits].astype(np.float32) / 255
    x, y = np.concatenate([x, plain]), np.concatenate([y, np.full(len(plain), ONE, np.float32)])
    x_val, y_val = labelled_parts(
        images[validation_index],
        labels[validation_index],
        max(1, numbers // 8),
        seed + 12,
        touching,
        progress=progress,
    )
    inputs, targets = torch.from_numpy(x)[:, None], torch.from_numpy(y)
    net = OneDigitNet()
    optimizer = torch.optim.AdamW(net.parameters(), 2e-3, weight_decay=1e-4)
    steps = epochs * -(-len(inputs) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 3e-3, total_steps=steps)
    # The global generator, seeded above, draws the batches and shifts, as it did for the shipped check.
    generator = torch.default_generator
    step, started = shifted_step(net, generator), time.time()
    for epoch in range(1, epochs + 1):
        desc = f"epoch {epoch}/{epochs}"
        loss, accuracy = train_one_epoch(
            net, step, inputs, targets, optimizer, schedule, BATCH_SIZE, generator, desc, progress=progress
        )
        if progress:
            tqdm.write(f"{desc}: train loss {loss:.4f} acc {accuracy:.4f}")
    net.eval()
    with torch.no_grad():
        probability = torch.sigmoid(net(torch.from_numpy(x_val)[:, None])[:, 0]).numpy()
    out.parent.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, object] = {
        "train_parts": len(y) - len(plain),
        "train_parts_one_digit": int((y[: len(y) - len(plain)] == ONE).sum()),
        "plain_digits": len(plain),
        "validation_parts": len(y_val),
        "validation": rates(probability, y_val),
        "epochs": epochs,
        "touching": touching,
        "train_seconds": round(time.time() - started, 1),
        "onnx_max_difference": export_graph(nn.Sequential(net, nn.Sigmoid()), out, (OUTPUT_NAME,)),
    }
    out.with_suffix(".json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics
