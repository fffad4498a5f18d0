"""The paper's comparison, reproduced: k-NN, an RBF SVM and an MLP (scikit-learn) against the CNN.

Every model sees the same data: the 60,000 training images (the SVM a random subsample, since its
training cost grows with the square of the set) and the 10,000 test images, MNIST's own tensors with
pixels scaled to [0, 1]. Hyperparameters are textbook defaults (k=3, C=5 with scikit-learn's "scale"
gamma, two hidden layers with early stopping), never tuned on the test set.
The CNN is the shipped ONNX model, run by ONNX Runtime as the service runs it.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rthdr.core.inference import Classifier
from rthdr.data.mnist import load_mnist


@dataclass
class Result:
    model: str
    train_images: int
    test_accuracy: float
    train_seconds: float
    single_image_ms: float  # median of one-image predictions
    batch_images_per_second: float  # predicting the whole test set at once
    size_bytes: int
    note: str = ""


def _single_image_ms(predict: Callable[[np.ndarray], Any], sample: np.ndarray, runs: int) -> float:
    for _ in range(5):
        predict(sample)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        predict(sample)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def _measure(
    name: str,
    fit: Callable[[], Any],
    x_test: np.ndarray,
    y_test: np.ndarray,
    train_images: int,
    runs: int,
    note: str = "",
) -> Result:
    start = time.perf_counter()
    model = fit()
    train_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = model.predict(x_test)
    batch_seconds = time.perf_counter() - start
    return Result(
        model=name,
        train_images=train_images,
        test_accuracy=float((predicted == y_test).mean()),
        train_seconds=round(train_seconds, 2),
        single_image_ms=round(_single_image_ms(model.predict, x_test[:1], runs), 4),
        batch_images_per_second=round(len(x_test) / batch_seconds, 1),
        size_bytes=len(pickle.dumps(model)),
        note=note,
    )


def compare(
    classifier: Classifier,
    data_dir: str | Path | None = None,
    quick: bool = False,
    svm_train_images: int = 10_000,
    cnn_card: dict[str, Any] | None = None,
    progress: bool = True,
) -> list[Result]:
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC

    train_images, train_labels = load_mnist("train", data_dir)
    test_images, test_labels = load_mnist("test", data_dir)
    rng = np.random.default_rng(0)
    if quick:
        train_pick = rng.permutation(len(train_images))[:2000]
        train_images, train_labels = train_images[train_pick], train_labels[train_pick]
        test_images, test_labels = test_images[:500], test_labels[:500]
        svm_train_images = 1000
    x_train = train_images.reshape(len(train_images), -1).astype(np.float32) / 255
    x_test = test_images.reshape(len(test_images), -1).astype(np.float32) / 255
    runs = 20 if quick else 200
    svm_pick = rng.permutation(len(x_train))[:svm_train_images]

    jobs: list[tuple[str, Callable[[], Any], int, str]] = [
        (
            "k-NN (k=3)",
            lambda: KNeighborsClassifier(n_neighbors=3).fit(x_train, train_labels),
            len(x_train),
            "",
        ),
        (
            "SVM (RBF kernel)",
            lambda: SVC(kernel="rbf", C=5.0, gamma="scale").fit(x_train[svm_pick], train_labels[svm_pick]),
            len(svm_pick),
            f"trained on a random {len(svm_pick):,}-image subsample: kernel SVM training grows with n^2",
        ),
        (
            "MLP (256-128, ReLU)",
            lambda: MLPClassifier(
                (256, 128), early_stopping=True, max_iter=20 if quick else 60, random_state=0
            ).fit(x_train, train_labels),
            len(x_train),
            "",
        ),
    ]
    results = []
    for name, fit, count, note in tqdm(jobs, desc="baselines", disable=not progress):
        results.append(_measure(name, fit, x_test, test_labels, count, runs, note))

    cnn_input = test_images.astype(np.float32) / 255
    start = time.perf_counter()
    probabilities = classifier.predict_all(cnn_input, batch_size=len(cnn_input))
    batch_seconds = time.perf_counter() - start
    card = cnn_card or classifier.card
    results.append(
        Result(
            model="CNN (rthdr, ONNX Runtime)",
            train_images=int(card.get("training", {}).get("train_images", 0)),
            test_accuracy=float((probabilities.argmax(1) == test_labels).mean()),
            train_seconds=float(card.get("training", {}).get("seconds", 0.0)),
            single_image_ms=round(_single_image_ms(classifier.run, cnn_input[:1], runs), 4),
            batch_images_per_second=round(len(cnn_input) / batch_seconds, 1),
            size_bytes=classifier.path.stat().st_size,
            note=f"{card.get('architecture', {}).get('members', 1)} network(s); training time from the model card "
            f"({card.get('training', {}).get('machine', 'PyTorch')}); test accuracy on the same raw tensors as "
            "the baselines (through the serving preprocessing: see the model card)",
        )
    )
    return results


def render_markdown(results: list[Result]) -> str:
    lines = [
        "| model | training images | test accuracy % | training time | one image, ms | batch, images/s | size |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.model} | {r.train_images:,} | {100 * r.test_accuracy:.2f} | {r.train_seconds:,.1f} s | "
            f"{r.single_image_ms:.3f} | {r.batch_images_per_second:,.0f} | {r.size_bytes / 1e6:.2f} MB |"
        )
    notes = [f"- {r.model}: {r.note}" for r in results if r.note]
    return "\n".join(lines + (["", *notes] if notes else [])) + "\n"


def plot(results: list[Result], path: Path) -> None:
    from rthdr.training.plots import pyplot

    plt = pyplot()
    names = [r.model.split(" (")[0] for r in results]
    fig, (accuracy_ax, latency_ax) = plt.subplots(1, 2, figsize=(10, 3.8))
    bars = accuracy_ax.bar(names, [100 * r.test_accuracy for r in results], color="#4c72b0")
    accuracy_ax.bar_label(bars, fmt="%.2f")
    low = min(100 * r.test_accuracy for r in results)
    accuracy_ax.set(ylabel="test accuracy (%)", title="Accuracy", ylim=(max(0, low - 2), 100))
    bars = latency_ax.bar(names, [r.single_image_ms for r in results], color="#dd8452")
    latency_ax.bar_label(bars, fmt="%.3f")
    latency_ax.set(ylabel="ms (log scale)", title="One-image prediction time", yscale="log")
    for ax in (accuracy_ax, latency_ax):
        ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_reports(results: list[Result], out_dir: str | Path) -> list[Path]:
    """comparison.json, comparison.md (the table) and comparison.png (the bar charts)."""
    from rthdr.evaluation.report import write_outputs

    return write_outputs(out_dir, "comparison", results, render_markdown(results), lambda p: plot(results, p))
