"""Pictures for people: training curves, confusion matrix, a gallery of mistakes.

matplotlib comes with the `train` extra; the serving image never imports this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np


def write_outputs(
    out_dir: str | Path, stem: str, data: Any, markdown: str, plot: Callable[[Path], None] | None = None
) -> list[Path]:
    """STEM.json (data, dataclasses welcome), STEM.md and, given a plot function, STEM.png in out_dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.json", out / f"{stem}.md"]
    paths[0].write_text(json.dumps(data, indent=2, default=asdict) + "\n")
    paths[1].write_text(markdown)
    if plot is not None:
        paths.append(out / f"{stem}.png")
        plot(paths[-1])
    return paths


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_history(history: list[dict], path: str | Path) -> None:
    plt = _pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    loss_ax.plot(epochs, [h["train_loss"] for h in history], label="train (augmented, smoothed labels)")
    loss_ax.plot(epochs, [h["val_loss"] for h in history], label="validation")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy", title="Loss")
    acc_ax.plot(epochs, [100 * h["train_acc"] for h in history], label="train (augmented)")
    acc_ax.plot(epochs, [100 * h["val_acc"] for h in history], label="validation (EMA weights)")
    acc_ax.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy", ylim=(97, 100))
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_confusion(matrix: np.ndarray, path: str | Path, title: str = "Confusion matrix") -> None:
    """Counts on a log colour scale, so the few mistakes stand out next to ~1,000 correct answers."""
    from matplotlib.colors import LogNorm

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    image = ax.imshow(np.maximum(matrix, 0.8), cmap="Blues", norm=LogNorm(vmin=0.8, vmax=matrix.max()))
    for (row, col), count in np.ndenumerate(matrix):
        if count:
            colour = "white" if count > matrix.max() ** 0.5 else "black"
            ax.text(col, row, str(count), ha="center", va="center", fontsize=8, color=colour)
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit", title=title)
    fig.colorbar(image, ax=ax, label="images (log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_misclassified(images: np.ndarray, mistakes: list[dict], path: str | Path, limit: int = 100) -> None:
    """The misclassified test digits, each titled 'true -> predicted (confidence)'."""
    plt = _pyplot()
    shown = mistakes[:limit]
    columns = 10
    rows = max(1, -(-len(shown) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.3), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, mistake in zip(axes.ravel(), shown, strict=False):
        ax.imshow(images[mistake["index"]], cmap="gray_r")
        ax.set_title(f"{mistake['true']}→{mistake['predicted']} ({mistake['confidence']:.2f})", fontsize=8)
    fig.suptitle(
        f"Misclassified test digits: true→predicted (confidence), {len(mistakes)} in all", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
