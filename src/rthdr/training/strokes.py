"""The stroke model: a small 1D CNN that reads a digit from its pen strokes (rthdr.core.strokes
.features), trained on trajectories traced from MNIST's training digits (rthdr.data.trace) and on
Hershey's single-stroke fonts, each drawn again every epoch with another slant, size, speed, jitter,
stroke direction and pen lifts. With a character corpus (`--corpus`), the character stroke model:
the corpus's classes (digits, letters, none), from its samples traced, some of MNIST's digits and
Hershey's glyphs.

    rthdr train-strokes    # about 10 minutes on 2 CPU cores -> models/strokenet.onnx and its card
    rthdr train-strokes --corpus data/corpus.npz --out src/rthdr/models/strokenet-chars.onnx

The defaults are rthdr.training.config.StrokeConfig's.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rthdr.core.charsets import DIGITS
from rthdr.core.strokes import CHANNELS, STEPS, features
from rthdr.data import corpus as corpora
from rthdr.data import hershey
from rthdr.data.mnist import load_mnist, train_validation_split
from rthdr.data.trace import trace_all
from rthdr.training.config import StrokeConfig
from rthdr.training.export import export_graph

BATCH_SIZE = 256
OUTPUT_NAME = "probabilities"  # the ONNX graph: 'strokes' (N, CHANNELS, STEPS) -> (N, classes) probabilities
Drawing = list[np.ndarray]  # one character's strokes, each (n, 2) x, y
Drawings = tuple[list[Drawing], np.ndarray]  # drawings and their labels


class StrokeNet(nn.Module):
    """Four 1D convolutions over the resampled path, pooled, and a linear layer: about 60k parameters."""

    def __init__(self, classes: int = len(DIGITS)) -> None:
        super().__init__()
        self.features = nn.Sequential(
            *self._block(CHANNELS, 48, 5),
            *self._block(48, 64, 5),
            nn.MaxPool1d(2),
            *self._block(64, 96, 3),
            nn.MaxPool1d(2),
            *self._block(96, 128, 3),
            nn.AdaptiveMaxPool1d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Dropout(0.2), nn.Linear(128, classes))

    @staticmethod
    def _block(inputs: int, outputs: int, width: int) -> list[nn.Module]:
        return [
            nn.Conv1d(inputs, outputs, width, padding=width // 2, bias=False),
            nn.BatchNorm1d(outputs),
            nn.ReLU(),
        ]

    def forward(self, strokes: torch.Tensor) -> torch.Tensor:
        """(N, CHANNELS, STEPS) -> (N, classes) logits."""
        return self.head(self.features(strokes))


def augment(drawing: Drawing, rng: np.random.Generator) -> Drawing:
    """The drawing as another writer might make it: slanted, rotated, stretched, its points jittered
    and unevenly spaced, a stroke now and then drawn the other way or with the pen lifted midway."""
    angle, shear = rng.normal(0, 0.12), rng.normal(0, 0.25)
    sx, sy = np.exp(rng.normal(0, 0.12, 2))
    matrix = np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]])
    matrix = matrix @ np.array([[1, shear], [0, 1]]) @ np.diag([sx, sy])
    size = max(float(np.ptp(np.concatenate(drawing), axis=0).max()), 1e-6)
    out: Drawing = []
    for stroke in drawing:
        points = stroke @ matrix.T
        if len(points) > 3 and rng.random() < 0.3:  # uneven speed: some points dropped
            keep = np.sort(
                rng.choice(len(points), max(2, int(len(points) * rng.uniform(0.5, 1))), replace=False)
            )
            points = points[np.unique(np.concatenate([[0], keep, [len(points) - 1]]))]
        points = points + rng.normal(0, 0.01 * size, points.shape)
        if rng.random() < 0.1:
            points = points[::-1]
        if len(points) > 6 and rng.random() < 0.08:  # the pen lifted midway
            cut = int(rng.integers(2, len(points) - 2))
            out += [points[:cut], points[cut:]]
        else:
            out.append(points)
    return out


def hershey_glyphs(classes: tuple[str, ...] = DIGITS, validation: bool = False) -> Drawings:
    """The glyphs of `classes` (a merged capital in both cases, as the corpus draws it) in Hershey's
    training fonts, or its validation fonts (hershey.VALIDATION), y down as on a canvas."""
    drawings, labels = [], []
    for name in hershey.FONTS:
        if (name in hershey.VALIDATION) != validation or not hershey.installed():
            continue
        font = hershey.load(name)
        for label, cls in enumerate(classes):
            for char in corpora.glyphs(cls) if cls != corpora.NONE else ():
                if char in font and font[char].strokes:
                    drawings.append([s.astype(np.float64) for s in font[char].strokes])
                    labels.append(label)
    return drawings, np.array(labels, np.int64)


def traced(images: np.ndarray, progress: bool = True) -> tuple[list[Drawing], np.ndarray]:
    """The images' traced drawings, and the indices of the images they came from (an image with
    nothing to trace is left out)."""
    drawings = trace_all(images, progress)
    kept = np.array([i for i, d in enumerate(drawings) if d], np.int64)
    return [drawings[i] for i in kept], kept


def traced_split(data_dir: str | Path | None, limit: int | None, progress: bool) -> tuple[Drawings, Drawings]:
    """MNIST's training digits traced, split as `rthdr train` splits them (the same 1/12 held out):
    (training drawings, labels), (validation drawings, labels)."""
    images, labels = load_mnist("train", data_dir)
    return _traced_parts(images, labels, train_validation_split(len(images), limit=limit), progress)


def _traced_parts(
    images: np.ndarray, labels: np.ndarray, parts: tuple[np.ndarray, ...], progress: bool
) -> tuple[Drawings, Drawings]:
    split = []
    for index in parts:
        drawings, kept = traced(images[index], progress)
        split.append((drawings, labels[index][kept].astype(np.int64)))
    return split[0], split[1]


def character_split(
    cfg: StrokeConfig, data_dir: str | Path | None, progress: bool
) -> tuple[Drawings, Drawings, tuple[str, ...]]:
    """The corpus's samples traced, split as `rthdr train --corpus` splits them (1/12 held out), with
    as many of MNIST's training digits per digit as the corpus has per class (and its validation
    digits likewise); and the corpus's classes, MNIST's digits first as in charnet."""
    assert cfg.corpus is not None
    corpus = corpora.load(Path(cfg.corpus))
    if corpus.classes[: len(DIGITS)] != DIGITS:
        raise ValueError(f"{cfg.corpus}: a character corpus starts with the digits (charset alphanumeric)")
    images = np.round(corpus.images * 255).astype(np.uint8)
    (drawings, labels), (val, val_labels) = _traced_parts(
        images, corpus.labels, corpora.split_indices(corpus, cfg.seed, 1 / 12, cfg.limit), progress
    )
    rng = np.random.default_rng(cfg.seed)
    digits, digit_labels = load_mnist("train", data_dir)
    train_idx, val_idx = train_validation_split(len(digits), limit=cfg.limit)
    per_class = -(-len(labels) // len(corpus.classes))
    picks = [rng.choice(idx, min(len(idx), n), replace=False) for idx, n in ((train_idx, 10 * per_class), (val_idx, len(val_labels) // len(corpus.classes) * 10))]  # fmt: skip
    (mnist, mnist_labels), (mnist_val, mnist_val_labels) = _traced_parts(
        digits, digit_labels, tuple(picks), progress
    )
    return (
        (drawings + mnist, np.concatenate([labels, mnist_labels])),
        (val + mnist_val, np.concatenate([val_labels, mnist_val_labels])),
        corpus.classes,
    )


def featurize(drawings: list[Drawing]) -> np.ndarray:
    return (
        np.stack([features(d) for d in drawings]) if drawings else np.zeros((0, CHANNELS, STEPS), np.float32)
    )


def predict(net: StrokeNet, inputs: np.ndarray) -> np.ndarray:
    """(N, CHANNELS, STEPS) -> (N, classes) probabilities."""
    net.eval()
    with torch.no_grad():
        return torch.softmax(net(torch.from_numpy(inputs)), 1).numpy()


def train_strokes(
    out: Path, cfg: StrokeConfig, data_dir: str | Path | None = None, progress: bool = True
) -> tuple[StrokeNet, dict[str, object]]:
    """Train on traced MNIST training digits (or a traced corpus, with cfg.corpus) and Hershey's
    training fonts (drawn afresh each epoch), keep the epoch best on the traced validation split, and
    export `out` (ONNX)."""
    torch.manual_seed(cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    epochs = cfg.epochs
    if cfg.corpus:
        (drawings, labels), (val_drawings, val_labels), classes = character_split(cfg, data_dir, progress)
    else:
        (drawings, labels), (val_drawings, val_labels) = traced_split(data_dir, cfg.limit, progress)
        classes = DIGITS
    traced_count = len(labels)
    pen, pen_labels = hershey_glyphs(classes)
    copies = max(1, len(drawings) // (20 * max(1, len(pen))))  # Hershey: about 5 % of each epoch
    drawings, labels = drawings + pen * copies, np.concatenate([labels, np.tile(pen_labels, copies)])
    x_val, y_val = featurize(val_drawings), val_labels
    net = StrokeNet(len(classes))
    optimizer = torch.optim.AdamW(net.parameters(), 3e-3, weight_decay=1e-4)
    steps = epochs * -(-len(drawings) // BATCH_SIZE)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, 3e-3, total_steps=steps)
    best, best_state, history, started = -1.0, None, [], time.time()
    for epoch in range(1, epochs + 1):
        net.train()
        order = rng.permutation(len(drawings))
        right, loss_sum = 0, 0.0
        batches = range(0, len(order), BATCH_SIZE)
        for start in tqdm(
            batches, desc=f"epoch {epoch}/{epochs}", unit="batch", disable=not progress, leave=False
        ):
            pick = order[start : start + BATCH_SIZE]
            inputs = torch.from_numpy(featurize([augment(drawings[i], rng) for i in pick]))
            targets = torch.from_numpy(labels[pick])
            logits = net(inputs)
            loss = nn.functional.cross_entropy(logits, targets, label_smoothing=0.05)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            right += int((logits.argmax(1) == targets).sum())
            loss_sum += loss.item() * len(pick)
        accuracy = float((predict(net, x_val).argmax(1) == y_val).mean())
        history.append(
            {
                "epoch": epoch,
                "train_loss": loss_sum / len(order),
                "train_acc": right / len(order),
                "val_acc": accuracy,
            }
        )
        if accuracy > best:
            best, best_state = accuracy, {k: v.clone() for k, v in net.state_dict().items()}
        if progress:
            tqdm.write(
                f"epoch {epoch}/{epochs}: train acc {right / len(order):.4f} | traced validation {accuracy:.4f}"
            )
    assert best_state is not None
    net.load_state_dict(best_state)
    net.eval()
    out.parent.mkdir(parents=True, exist_ok=True)
    metrics: dict[str, object] = {
        "classes": list(classes),
        "traced_training_samples": traced_count,
        "hershey_glyphs": len(pen_labels),
        "hershey_copies": copies,
        "validation_samples": len(y_val),
        "validation_accuracy": best,
        "epochs": epochs,
        "history": history,
        "parameters": sum(p.numel() for p in net.parameters()),
        "train_seconds": round(time.time() - started, 1),
        "onnx_max_difference": export_graph(
            nn.Sequential(net, nn.Softmax(1)), out, (OUTPUT_NAME,), input_shape=(CHANNELS, STEPS), input_name="strokes"
        ),
    }  # fmt: skip
    return net, metrics
