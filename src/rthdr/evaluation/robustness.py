"""Can it be fooled? White-box attacks (FGSM, PGD) and common corruptions, measured.

Attacks work on the model's input, pixels in [0, 1], with an L-infinity budget epsilon in those
units (0.3 = 30 % of the full grey range per pixel). Corruptions are applied to the 28x28 test
digits and go through the serving preprocessing, as a damaged upload would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from rthdr.core.decode import InputError
from rthdr.core.preprocess import to_model_input
from rthdr.training.attacks import fgsm, pgd

EPSILONS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)
QUICK_EPSILONS = (0.0, 0.1, 0.3)  # a smoke run's: clean, a middle budget, the largest


ATTACKS: dict[str, Callable[..., torch.Tensor]] = {"fgsm": fgsm, "pgd": pgd}


def attacked_accuracy(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    attack: str,
    eps: float,
    batch_size: int = 500,
) -> float:
    model.eval()
    correct = 0
    generator = torch.Generator().manual_seed(0)
    for x, y in zip(images.split(batch_size), labels.split(batch_size), strict=True):
        adversarial = (
            x
            if eps == 0
            else (pgd(model, x, y, eps, generator=generator) if attack == "pgd" else fgsm(model, x, y, eps))
        )
        with torch.no_grad():
            correct += int((model(adversarial).argmax(1) == y).sum())
    return correct / len(labels)


def _noise(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(image + rng.normal(0, 0.25 * 255, image.shape), 0, 255)


CORRUPTIONS: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "none": lambda image, rng: image,
    "gaussian noise (sigma 0.25)": _noise,
    "blur (sigma 1.0 px)": lambda image, rng: cv2.GaussianBlur(image, (0, 0), 1.0),
    "rotation (+-25 deg)": lambda image, rng: cv2.warpAffine(
        image, cv2.getRotationMatrix2D((14, 14), rng.uniform(-25, 25), 1.0), (28, 28)
    ),
    "thick strokes (dilate 2 px)": lambda image, rng: cv2.dilate(image, np.ones((2, 2), np.uint8)),
    "thin strokes (erode 2 px)": lambda image, rng: cv2.erode(image, np.ones((2, 2), np.uint8)),
    "inverted (dark ink on white)": lambda image, rng: 255 - image,
}


def corrupted_accuracy(
    predict: Callable[[np.ndarray], np.ndarray], images: np.ndarray, labels: np.ndarray, corruption: str
) -> float:
    """Accuracy when each 28x28 digit is corrupted, then preprocessed as an upload would be.
    Images whose corruption leaves no ink count as errors."""
    rng = np.random.default_rng(0)
    inputs, kept = [], []
    for index, image in enumerate(images):
        damaged = CORRUPTIONS[corruption](image.astype(np.float32), rng).astype(np.uint8)
        try:
            inputs.append(to_model_input(damaged)[0])
            kept.append(index)
        except InputError:  # nothing left to read: counts as an error
            continue
    if not inputs:
        return 0.0
    predicted = predict(np.stack(inputs)).argmax(1)
    return float((predicted == labels[kept]).sum() / len(labels))


@dataclass
class RobustnessReport:
    model: str
    images: int
    attacks: dict[str, dict[str, float]] = field(default_factory=dict)  # attack -> {eps: accuracy}
    corruptions: dict[str, float] = field(default_factory=dict)


def measure(
    name: str,
    model: nn.Module,
    predict: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    labels: np.ndarray,
    epsilons: tuple[float, ...] = EPSILONS,
    progress: bool = True,
) -> RobustnessReport:
    report = RobustnessReport(name, len(labels))
    x = torch.tensor(images, dtype=torch.float32).div_(255).unsqueeze(1)
    y = torch.from_numpy(labels.astype(np.int64))
    steps = [(attack, eps) for attack in ATTACKS for eps in epsilons]
    for attack, eps in tqdm(steps, desc=f"{name}: attacks", disable=not progress):
        report.attacks.setdefault(attack, {})[f"{eps:g}"] = attacked_accuracy(model, x, y, attack, eps)
    for corruption in tqdm(CORRUPTIONS, desc=f"{name}: corruptions", disable=not progress):
        report.corruptions[corruption] = corrupted_accuracy(predict, images, labels, corruption)
    return report


def probabilities_of(model: nn.Module) -> Callable[[np.ndarray], np.ndarray]:
    """A PyTorch model as corrupted_accuracy() calls it: (N, 28, 28) inputs -> (N, 10) probabilities."""

    def predict(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return torch.softmax(model(torch.from_numpy(batch).unsqueeze(1)), 1).numpy()

    return predict


def measure_checkpoints(
    weights: list[str], data_dir: str | Path | None, limit: int, epsilons: tuple[float, ...] = EPSILONS
) -> list[RobustnessReport]:
    """measure() each PyTorch checkpoint, named by its file, on the first `limit` MNIST test images."""
    from rthdr.data.mnist import load_mnist
    from rthdr.training.model import load_checkpoint

    images, labels = load_mnist("test", data_dir)
    images, labels = images[:limit], labels[:limit]
    reports = []
    for path in weights:
        model, _ = load_checkpoint(path)
        reports.append(measure(Path(path).stem, model, probabilities_of(model), images, labels, epsilons))
    return reports


def write_reports(reports: list[RobustnessReport], out_dir: str | Path) -> list[Path]:
    """robustness.json, robustness.md (tables) and robustness.png (accuracy against epsilon)."""
    from rthdr.evaluation.report import write_outputs

    return write_outputs(out_dir, "robustness", reports, render_markdown(reports), lambda p: plot(reports, p))


def render_markdown(reports: list[RobustnessReport]) -> str:
    epsilons = list(reports[0].attacks["pgd"])
    lines = [
        f"Accuracy (%) on {reports[0].images:,} MNIST test images under L-infinity attacks "
        "(epsilon in pixel units of [0, 1]); PGD: 10 steps, random start.",
        "",
        "| model | attack | " + " | ".join(f"eps {e}" for e in epsilons) + " |",
        "|---|---|" + "---|" * len(epsilons),
    ]
    for report in reports:
        for attack, scores in report.attacks.items():
            lines.append(
                f"| {report.model} | {attack.upper()} | "
                + " | ".join(f"{100 * v:.1f}" for v in scores.values())
                + " |"
            )
    lines += [
        "",
        "Accuracy (%) under common corruptions, through the serving preprocessing:",
        "",
        "| corruption | " + " | ".join(r.model for r in reports) + " |",
        "|---|" + "---|" * len(reports),
    ]
    for corruption in reports[0].corruptions:
        lines.append(
            f"| {corruption} | "
            + " | ".join(f"{100 * r.corruptions[corruption]:.2f}" for r in reports)
            + " |"
        )
    return "\n".join(lines) + "\n"


def plot(reports: list[RobustnessReport], path: Path) -> None:
    from rthdr.training.plots import pyplot

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for index, report in enumerate(reports):  # one colour per model, one line style per attack
        for attack, style in (("fgsm", "--"), ("pgd", "-")):
            scores = report.attacks[attack]
            ax.plot(
                [float(e) for e in scores],
                [100 * v for v in scores.values()],
                style,
                color=f"C{index}",
                marker="o",
                label=f"{report.model}, {attack.upper()}",
            )
    ax.set(
        xlabel="epsilon (L-infinity, pixel units of [0, 1])",
        ylabel="test accuracy (%)",
        title="Accuracy under white-box attacks",
        ylim=(0, 100),
    )
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
