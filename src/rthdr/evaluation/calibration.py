"""Are the probabilities honest? Temperature scaling, calibration error, ROC and their pictures.

matplotlib, scipy and scikit-learn come with the `train` extra; serving only needs `calibrated`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax
from sklearn.metrics import roc_auc_score, roc_curve

from rthdr.training.plots import pyplot


def fit_temperature(probabilities: np.ndarray, labels: np.ndarray) -> float:
    """The T in 0.05..20 minimising held-out NLL (Guo et al. 2017); log(p) stands in for the logits."""
    # the same floor as `calibrated`, so the T fitted here is the T that works there
    log_p = np.log(np.clip(np.asarray(probabilities, dtype=np.float64), 1e-30, None))
    rows, labels = np.arange(len(log_p)), np.asarray(labels)

    def nll(log_t: float) -> float:
        return float(-log_softmax(log_p / np.exp(log_t), axis=1)[rows, labels].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return round(float(np.exp(result.x)), 4)


def reliability(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> list[dict]:
    """Per equal-width bin (low, high] of top-1 confidence: count, accuracy, mean confidence; empty bins left out."""
    probabilities = np.asarray(probabilities)
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.searchsorted(edges[1:-1], confidence, side="left")  # edge values go to the bin below
    return [
        {
            "low": float(edges[b]),
            "high": float(edges[b + 1]),
            "count": int((index == b).sum()),
            "accuracy": float(correct[index == b].mean()),
            "confidence": float(confidence[index == b].mean()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray, bins: int = 15) -> float:
    """Count-weighted mean |accuracy - confidence| over the bins: 0 when "90 % sure" means right 90 % of the time."""
    table = reliability(probabilities, labels, bins)
    total = sum(row["count"] for row in table)
    return float(sum(row["count"] * abs(row["accuracy"] - row["confidence"]) for row in table) / total)


def roc(scores: np.ndarray, positives: np.ndarray) -> dict:
    """AUROC and the curve (fpr, tpr, thresholds; flag score >= threshold) for telling positives apart."""
    fpr, tpr, thresholds = roc_curve(np.asarray(positives, dtype=bool), np.asarray(scores))
    return {
        "auroc": float(roc_auc_score(np.asarray(positives, dtype=bool), np.asarray(scores))),
        "fpr": fpr,
        "tpr": tpr,
        "thresholds": thresholds,
    }


def threshold_for_false_positive_rate(scores: np.ndarray, positives: np.ndarray, rate: float) -> float:
    """The lowest observed score t with share(negatives >= t) <= rate, so flagging score >= t keeps to rate.

    Tied scores are flagged together, so a tie that would overshoot pushes t up to the next score;
    when no observed score will do, t is just above the highest score and flags nothing.
    """
    scores, positives = np.asarray(scores, dtype=np.float64), np.asarray(positives, dtype=bool)
    negatives = np.sort(scores[~positives])
    if not negatives.size:
        raise ValueError("no negatives: a false-positive rate needs some")
    candidates = np.unique(scores)
    flagged = negatives.size - np.searchsorted(negatives, candidates, side="left")
    allowed = flagged / negatives.size <= rate
    return float(candidates[allowed][0]) if allowed.any() else float(np.nextafter(candidates[-1], np.inf))


def plot_reliability(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path) -> Path:
    """Accuracy against confidence per bin for each curve (ECE in the legend); confidences below."""
    plt = pyplot()
    fig, (ax, hist_ax) = plt.subplots(
        2, 1, figsize=(6.4, 6.4), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    for label, (probabilities, labels) in curves.items():
        table = reliability(probabilities, labels)
        ece = expected_calibration_error(probabilities, labels)
        (line,) = ax.plot(
            [row["confidence"] for row in table],
            [row["accuracy"] for row in table],
            marker="o",
            label=f"{label}: ECE {100 * ece:.2f} %",
        )
        hist_ax.hist(
            np.asarray(probabilities).max(axis=1),
            bins=np.linspace(0, 1, 16),
            histtype="step",
            color=line.get_color(),
        )
    ax.set(ylabel="accuracy", title="Reliability (15 equal-width confidence bins)", xlim=(0, 1), ylim=(0, 1))
    hist_ax.set(xlabel="top-1 confidence", ylabel="images (log)", yscale="log")
    for axis in (ax, hist_ax):
        axis.grid(alpha=0.3)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_roc(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], path: str | Path, mark_rate: float | None = None
) -> Path:
    """ROC curves (AUROC in the legend), chance, and a dotted line at the operating false-positive rate."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 5.6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="chance")
    for label, (scores, positives) in curves.items():
        curve = roc(scores, positives)
        ax.plot(curve["fpr"], curve["tpr"], label=f"{label} (AUROC {curve['auroc']:.3f})")
    if mark_rate is not None:
        ax.axvline(
            mark_rate, color="black", linestyle=":", label=f"false-positive rate {100 * mark_rate:g} %"
        )
    ax.set(
        xlabel="false-positive rate (digits flagged)",
        ylabel="true-positive rate (non-digits flagged)",
        title="ROC",
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
