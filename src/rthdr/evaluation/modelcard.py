"""Shipping a trained run: copy its model into models/, measure it once on the test set, and write
the model card (JSON for the API, Markdown for people) with every figure and how it was made."""

from __future__ import annotations

import json
import os
import platform
import shlex
import shutil
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.inference import UNCERTAIN_BELOW, Classifier, calibrated
from rthdr.evaluation.edge import calibration_images, quantize_int8
from rthdr.evaluation.evaluate import Evaluation, evaluate, write_report
from rthdr.evaluation.timing import interleaved, percentiles
from rthdr.training.config import ModelConfig, TrainConfig, as_flags, stages_words
from rthdr.training.export import export_release
from rthdr.training.model import (
    Ensemble,
    Model,
    count_macs,
    count_parameters,
    load_checkpoint,
    save_checkpoint,
)

MODEL_NAME = "digitnet"
INT8_CALIBRATION_IMAGES = 1000


def single_image_latencies_ms(classifiers: list[Classifier], runs: int = 3000) -> list[dict[str, float]]:
    """ONNX Runtime, one thread, one 28x28 image: p50 and p99 of each model, timed in alternating
    rounds so that the float and INT8 files' figures compare fairly on a machine whose speed drifts."""
    image = np.random.default_rng(0).random((1, 28, 28), dtype=np.float32)
    times = interleaved([partial(classifier.run, image) for classifier in classifiers], runs)
    return [percentiles(timings) for timings in times]


def train_command(run_dir: Path, config: dict[str, Any]) -> str:
    """The `rthdr train` line that reproduces a run from its metrics.json config: every setting that
    differs from TrainConfig's defaults, as the flags the CLI makes from the same fields, and the
    network's shape unless it is the default or comes from --init's checkpoint."""
    cfg = TrainConfig.from_dict(config)
    words = ["rthdr", "train", "--out", run_dir.as_posix(), *as_flags(cfg)]
    if cfg.init is None and cfg.model.stages != ModelConfig().stages:
        words += ["--stages", *stages_words(cfg.model.stages)]
    return shlex.join(words)


def training_facts(
    run: Path, config: dict[str, Any], metrics: dict[str, Any], name: str, data: str
) -> dict[str, Any]:
    """A released run's card: how it was trained, and the commands that reproduce it."""
    return {
        "command": f"{train_command(run, config)}  &&  rthdr release {run.as_posix()} --name {name}",
        "data": data,
        "validation_size": metrics["val_size"],
        "best_epoch": metrics["best_epoch"],
        "train_seconds": metrics["train_seconds"],
    }


def calibration_facts(
    temperature: float, fitted_on: int, raw: np.ndarray, calibrated_: np.ndarray, labels: np.ndarray
) -> dict[str, Any]:
    """A card's calibration: the temperature, what it was fitted on, and the held-out ECE before and after."""
    from rthdr.evaluation.calibration import expected_calibration_error  # matplotlib: only when asked

    return {
        "temperature": temperature,
        "fitted_on": f"the run's validation split ({fitted_on:,} images)",
        "held_out_ece_before": round(expected_calibration_error(raw, labels), 4),
        "held_out_ece_after": round(expected_calibration_error(calibrated_, labels), 4),
    }


def release_command(run_dirs: list[Path], name: str) -> str:
    """The `rthdr release` line that ships the runs under this name; a model under another name than
    the shipped one's (a variant, a test) is not held to the shipped model's accuracy bar."""
    named = "" if name == MODEL_NAME else f" --name {name} --min-accuracy 0"
    return "rthdr release " + " ".join(d.as_posix() for d in run_dirs) + named


def build_card(
    runs: list[dict[str, Any]],
    run_dirs: list[Path],
    model: Model,
    validation: dict[str, float],
    parity: float,
    evaluation: Evaluation,
    classifier: Classifier,
    latency_ms: dict[str, float],
) -> dict[str, Any]:
    config, first = runs[0]["config"], runs[0]
    network = (
        "CNN: 3x3 conv + batch norm + ReLU stages "
        f"{[list(stage) for stage in config['model']['stages']]} with 2x2 max-pooling between stages, "
        "dropout, a 1x1 conv to 10 class activation maps, global average pooling, softmax"
    )
    summary = (
        network
        if len(runs) == 1
        else (
            f"Ensemble of {len(runs)} CNNs trained from different random seeds, exported as one ONNX graph that "
            f"averages their probabilities (and class activation maps). Each: {network}"
        )
    )
    commands = [train_command(d, r["config"]) for d, r in zip(run_dirs, runs, strict=True)]
    macs = count_macs(model)
    return {
        "name": classifier.name,
        "version": classifier.version,
        "sha256": classifier.sha256,
        "file_bytes": classifier.path.stat().st_size,
        "released": datetime.now(UTC).strftime("%Y-%m-%d"),
        "task": "classify one handwritten digit (0-9) in a 28x28 greyscale image, MNIST conventions",
        "architecture": {
            "summary": summary,
            "members": len(runs),
            "parameters": count_parameters(model),
            "macs": macs,
            "flops": 2 * macs,
            "input": "image: float32 (N, 1, 28, 28), pixels in [0, 1], 0 = background",
            "outputs": "probabilities: (N, 10); cam: (N, 10, 7, 7) class activation maps (before ReLU)",
            "explainer": f"{classifier.network}.explainer.onnx: image and class (N,) int64 -> guided (N, 28, 28), the "
            "guided backpropagation that Guided Grad-CAM heatmaps multiply the class map by",
        },
        "training": {
            "command": "  &&  ".join([*commands, release_command(run_dirs, classifier.name)]),
            "data": f"MNIST training set through the serving preprocessing: {first['train_size']:,} images for "
            f"training, {first['val_size']:,} held out (the same for every member) for model selection and "
            "early stopping; the test set was used once, for this card"
            + (
                f"; plus the review corrections in {config['extra']}, mixed into every epoch"
                if config.get("extra")
                else ""
            ),
            "train_images": first["train_size"],
            "settings": {k: v for k, v in config.items() if k not in ("model", "seed")},
            "seeds": [r["config"]["seed"] for r in runs],
            "best_epochs": [r["best_epoch"] for r in runs],
            "member_validation_accuracy": [r["val_accuracy"] for r in runs],
            "seconds": round(sum(r["train_seconds"] for r in runs), 1),
            "machine": first["machine"],
        },
        "metrics": {
            "validation_accuracy": round(validation["validation_accuracy"], 5),
            "uncertain_flag_on_validation": {
                k: round(v, 5) for k, v in validation.items() if k != "validation_accuracy"
            },
            "test_accuracy": round(evaluation.accuracy, 5),
            "test_accuracy_raw_tensors": round(evaluation.raw_accuracy, 5),
            "test_errors": evaluation.errors,
            "test_images": evaluation.test_images,
            "per_class_accuracy": [round(a, 5) for a in evaluation.per_class_accuracy],
            "per_class_precision": [round(p, 5) for p in evaluation.per_class_precision],
            "onnx_max_abs_diff_vs_pytorch": parity,
            "single_image_latency_ms": latency_ms,
            "latency_machine": f"{platform.machine()}, ONNX Runtime, 1 thread",
        },
        "limitations": "Trained on MNIST: centred single digits written by US Census staff and students. "
        "Letters, symbols and several digits in one image are outside its domain (use /api/v1/recognize "
        "for whole numbers); very stylised digits and strokes much thinner or thicker than a pen's are read "
        "less reliably. Answers with "
        f"a calibrated confidence under {UNCERTAIN_BELOW} are flagged uncertain.",
    }


def int8_card(
    classifier: Classifier, validation: dict[str, float], evaluation: Evaluation, latency_ms: dict[str, float]
) -> dict[str, Any]:
    """The card's part for the INT8 file, the one that is served: its own measured figures."""
    return {
        "file": classifier.path.name,
        "file_bytes": classifier.path.stat().st_size,
        "sha256": classifier.sha256,
        "quantization": f"static INT8 quantisation (QDQ) by ONNX Runtime: per-channel weights, activations "
        f"calibrated on {INT8_CALIBRATION_IMAGES:,} training images; the first convolution, the classifier "
        "and the head stay float",
        "validation_accuracy": round(validation["validation_accuracy"], 5),
        "test_accuracy": round(evaluation.accuracy, 5),
        "test_errors": evaluation.errors,
        "single_image_latency_ms": latency_ms,
    }


def int8_section(q: dict[str, Any] | None) -> str:
    """The served INT8 file's figures; nothing for a card released before INT8 files were made."""
    if q is None:
        return ""
    return f"""## The served file: INT8
The service runs `{q["file"]}`: the same network after {q["quantization"]}.

| | |
|---|---|
| **Test accuracy** (the same 10,000 images and preprocessing) | **{100 * q["test_accuracy"]:.2f} %** ({q["test_errors"]} errors) |
| Validation accuracy | {100 * q["validation_accuracy"]:.2f} % |
| Single-image latency, ONNX Runtime, 1 CPU thread (timed in turns with the float file) | p50 {q["single_image_latency_ms"]["p50"]} ms, p99 {q["single_image_latency_ms"]["p99"]} ms |
| File | `{q["file"]}`, {q["file_bytes"]:,} bytes, SHA-256 `{q["sha256"]}` |

"""


def calibration_section(c: dict[str, Any] | None, images: Path) -> str:
    """What the served probabilities mean: the temperature and the calibration error it leaves."""
    if c is None:
        return ""
    return f"""## Calibration
The served probabilities are temperature-scaled: softmax(logits / {c["temperature"]}), the temperature fitted on
{c["fitted_on"]}. Expected calibration error (15 bins): validation {100 * c["validation_ece_before"]:.2f} % as
trained, {100 * c["validation_ece_after"]:.2f} % calibrated; test {100 * c["test_ece_before"]:.2f} % and
{100 * c["test_ece_after"]:.2f} %. The "uncertain" figures above are the calibrated answers'.

![Reliability diagram]({images.as_posix()}/reliability.png)

"""


def render_markdown(card: dict[str, Any], images: Path) -> str:
    """The card for people; `images` is the plots' folder relative to the card."""
    m, a, t = card["metrics"], card["architecture"], card["training"]
    u = m["uncertain_flag_on_validation"]
    rows = "\n".join(
        f"| {d} | {100 * acc:.2f} | {100 * prec:.2f} |"
        for d, (acc, prec) in enumerate(zip(m["per_class_accuracy"], m["per_class_precision"], strict=True))
    )
    settings = ", ".join(f"{k}={v}" for k, v in t["settings"].items())
    explainer = f"\n- Explainer: {a['explainer']}." if "explainer" in a else ""  # cards since 2026-12-02
    return f"""# Model card: {card["name"]} ({card["version"]})

{card["task"][0].upper() + card["task"][1:]}.

| | |
|---|---|
| **Test accuracy** (10,000 MNIST test images, through the serving preprocessing) | **{100 * m["test_accuracy"]:.2f} %** ({m["test_errors"]} errors) |
| Test accuracy of the bare network on MNIST's own tensors | {100 * m["test_accuracy_raw_tensors"]:.2f} % |
| Validation accuracy (held-out training images, used for model selection) | {100 * m["validation_accuracy"]:.2f} % |
| "Uncertain" flag (confidence under {u["uncertain_below"]}) on validation | flags {100 * u["uncertain_share"]:.2f} % of answers and {100 * u["errors_flagged_uncertain"]:.0f} % of the errors; unflagged answers are {100 * u["accuracy_when_not_uncertain"]:.2f} % right |
| Parameters | {a["parameters"]:,} |
| Compute per image | {a["macs"] / 1e6:.1f} M multiply-accumulates ({a["flops"] / 1e6:.1f} MFLOPs) |
| Single-image latency, ONNX Runtime, 1 CPU thread | p50 {m["single_image_latency_ms"]["p50"]} ms, p99 {m["single_image_latency_ms"]["p99"]} ms |
| ONNX vs PyTorch, max abs difference | {m["onnx_max_abs_diff_vs_pytorch"]:.1e} |
| File | `{card["name"]}.onnx`, {card["file_bytes"]:,} bytes, SHA-256 `{card["sha256"]}` |

{calibration_section(card.get("calibration"), images)}{int8_section(card.get("int8"))}## Architecture
{a["summary"]}.

- Input: {a["input"]}.
- Outputs: {a["outputs"]}.{explainer}

## Training
- Command: `{t["command"]}`
- Data: {t["data"]}.
- Settings: {settings}.
- Seeds {t["seeds"]}; best epochs {t["best_epochs"]}; validation accuracy of each network alone {", ".join(f"{100 * v:.2f} %" for v in t["member_validation_accuracy"])}.
- Training took {t["seconds"] / 60:.0f} minutes in all on {t["machine"]}.

## Per-class results on the test set
| digit | recall (accuracy) % | precision % |
|---|---|---|
{rows}

![Confusion matrix]({images.as_posix()}/confusion_matrix.png)
![Misclassified test digits]({images.as_posix()}/misclassified.png)
![Training curves]({images.as_posix()}/training_curves.png)

## Limitations
{card["limitations"]}
"""


def held_out_inputs(config: dict[str, Any], data_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The held-out training images the runs chose their epochs on (never the test set), through the
    serving preprocessing, and their labels."""
    from rthdr.core.preprocess import preprocess_all
    from rthdr.data.mnist import load_mnist, train_validation_split

    images, labels = load_mnist("train", data_dir)
    seed, limit = config.get("split_seed", 0), config.get("limit")
    _, held_out = train_validation_split(len(images), seed, config["val_fraction"], limit)
    return preprocess_all(images[held_out], progress=False), labels[held_out]


def validation_metrics(classifier: Classifier, inputs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Accuracy on the held-out images (held_out_inputs), and how the "uncertain" flag behaves there:
    the share of answers it flags, and of errors."""
    probabilities = classifier.predict_all(inputs)
    wrong = probabilities.argmax(1) != labels
    flagged = probabilities.max(1) < UNCERTAIN_BELOW
    return {
        "validation_accuracy": float(1 - wrong.mean()),
        "uncertain_below": UNCERTAIN_BELOW,
        "uncertain_share": float(flagged.mean()),
        "errors_flagged_uncertain": float(flagged[wrong].mean()) if wrong.any() else 1.0,
        "accuracy_when_not_uncertain": float(1 - wrong[~flagged].mean()),
    }


def release(
    run_dirs: list[str | Path],
    models_dir: str | Path,
    images_dir: str | Path,
    data_dir: str | Path | None,
    name: str = MODEL_NAME,
) -> dict[str, Any]:
    """Export the runs' weights (several: an ensemble) into models_dir as one ONNX graph and its INT8
    quantisation, measure both on the validation split and, once, on the test set, and write the model
    card and its plots."""
    paths, models, images = [Path(d) for d in run_dirs], Path(models_dir), Path(images_dir) / name
    models.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    # the previous card goes first: Classifiers read their temperature from it, and the new network's is fitted below
    (models / f"{name}.card.json").unlink(missing_ok=True)
    runs = [json.loads((path / "metrics.json").read_text()) for path in paths]
    networks = [load_checkpoint(str(path / "model.pt"))[0] for path in paths]
    model: Model = networks[0] if len(networks) == 1 else Ensemble(networks)  # type: ignore[arg-type]
    save_checkpoint(model, str(models / f"{name}.pt"))
    parity = export_release(model, models, name)
    shutil.copy(paths[0] / "training_curves.png", images / "training_curves.png")

    classifier = Classifier(models / f"{name}.onnx")
    # The INT8 file is made here, not only by `rthdr export`, so that a release never leaves the
    # previous network's INT8 file beside a new float one.
    int8 = models / f"{name}.int8.onnx"
    quantize_int8(classifier.path, int8, calibration_images(data_dir, INT8_CALIBRATION_IMAGES))
    quantized = Classifier(int8)
    latency, int8_latency = single_image_latencies_ms([classifier, quantized])

    held_out = held_out_inputs(runs[0]["config"], data_dir)  # preprocessed once, for both files
    evaluation, test_images, _, test_inputs = evaluate(classifier, data_dir)
    write_report(evaluation, test_images, images)
    (images / "report.json").rename(models / f"{name}.evaluation.json")
    card = build_card(
        runs, paths, model, validation_metrics(classifier, *held_out), parity, evaluation, classifier, latency
    )
    card["int8"] = int8_card(
        quantized,
        validation_metrics(quantized, *held_out),
        evaluate(quantized, data_dir, inputs=test_inputs)[0],
        int8_latency,
    )
    (models / f"{name}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    return calibrate_card(models, images_dir, data_dir, name)


def calibrate_card(
    models_dir: str | Path, images_dir: str | Path, data_dir: str | Path | None, name: str = MODEL_NAME
) -> dict[str, Any]:
    """Fit the temperature of a released network on its validation split, write it into its card
    (which serving reads: rthdr.core.inference.Classifier.temperature) with the calibration error
    before and after on validation and test, measure the "uncertain" flag again with calibrated
    answers, and draw the reliability diagram."""
    from rthdr.core.preprocess import preprocess_all
    from rthdr.data.mnist import load_mnist
    from rthdr.evaluation.calibration import expected_calibration_error, fit_temperature, plot_reliability

    models, images = Path(models_dir), Path(images_dir) / name
    card_path = models / f"{name}.card.json"
    card = json.loads(card_path.read_text())
    classifier = Classifier(models / f"{name}.onnx")
    held_out = held_out_inputs(card["training"]["settings"], data_dir)
    raw = classifier.predict_all(held_out[0], calibrate=False)
    temperature = fit_temperature(raw, held_out[1])
    test_images, test_labels = load_mnist("test", data_dir)
    raw_test = classifier.predict_all(preprocess_all(test_images, progress=False), calibrate=False)
    test = calibrated(raw_test, temperature)
    card["calibration"] = {
        "temperature": temperature,
        "fitted_on": f"the validation split ({len(held_out[1]):,} held-out training images)",
        "validation_ece_before": round(expected_calibration_error(raw, held_out[1]), 5),
        "validation_ece_after": round(
            expected_calibration_error(calibrated(raw, temperature), held_out[1]), 5
        ),
        "test_ece_before": round(expected_calibration_error(raw_test, test_labels), 5),
        "test_ece_after": round(expected_calibration_error(test, test_labels), 5),
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")  # Classifiers made from here on are calibrated
    flag = validation_metrics(Classifier(classifier.path), *held_out)
    card["metrics"]["uncertain_flag_on_validation"] = {
        k: round(v, 5) for k, v in flag.items() if k != "validation_accuracy"
    }
    card_path.write_text(json.dumps(card, indent=2) + "\n")
    plot_reliability(
        {
            "as trained (T = 1)": (raw_test, test_labels),
            f"calibrated (T = {temperature})": (test, test_labels),
        },
        images / "reliability.png",
    )
    (models / f"{name}.card.md").write_text(render_markdown(card, Path(os.path.relpath(images, models))))
    return card
