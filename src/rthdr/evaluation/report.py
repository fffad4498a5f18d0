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

from rthdr.training.plots import pyplot


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


def plot_confusion(matrix: np.ndarray, path: str | Path, title: str = "Confusion matrix") -> None:
    """Counts on a log colour scale, so the few mistakes stand out next to ~1,000 correct answers."""
    from matplotlib.colors import LogNorm

    plt = pyplot()
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
    plt = pyplot()
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
