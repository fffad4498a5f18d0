"""The character model's release: export, temperature, INT8, and what its card measures.

Three sets, none trained on:
- validation: the run's own held-out split (MNIST's 5,000 and 1/12 of the training corpus, from the
  training families). The temperature and the suggested not-a-digit threshold are fitted here.
- held out: a corpus of the font families and Hershey fonts kept out of training
  (`rthdr data corpus --split validation`): per-class accuracy, calibration, the not-a-digit ROC.
- MNIST test, through the serving preprocessing: digit accuracy, and how many real digits the
  not-a-digit check flags.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.characters import NOT_A_DIGIT_ABOVE, not_a_digit_scores, read_character
from rthdr.core.charsets import DIGITS, LETTERS, NONE, charset_characters, class_of
from rthdr.core.inference import UNCERTAIN_BELOW, Classifier, calibrated
from rthdr.core.preprocess import preprocess_all
from rthdr.data import corpus as corpora
from rthdr.data.mnist import load_mnist
from rthdr.evaluation.calibration import (
    fit_temperature,
    plot_reliability,
    plot_roc,
    roc,
    threshold_for_false_positive_rate,
)
from rthdr.evaluation.edge import calibration_images, quantize_int8
from rthdr.evaluation.modelcard import (
    calibration_facts,
    held_out_inputs,
    single_image_latencies_ms,
    training_facts,
)
from rthdr.training.config import TrainConfig
from rthdr.training.export import export_release
from rthdr.training.model import load_checkpoint, save_checkpoint
from rthdr.training.sets import emnist_inputs

CHARACTER_MODEL_NAME = "charnet"
FALSE_FLAG_RATE = 0.01  # the bar: at most 1 % of real digits answered "not a digit"
# Letters drawn with a digit's strokes (O and 0, I and 1, Z and 2, S and 5): no model can tell
# them apart on their own, so the not-a-digit rates are also given without them.
LOOK_ALIKES = ("O", "I", "Z", "S")
INT8_TOLERANCE = 0.001  # the INT8 file is served only if it loses at most this much accuracy


def validation_set(config: dict[str, Any], data_dir: str | Path | None) -> tuple[np.ndarray, np.ndarray]:
    """The run's held-out split: MNIST's, its corpus's and EMNIST's, as `rthdr train` made them."""
    parts = [held_out_inputs(config, data_dir)]
    if config.get("corpus"):
        corpus = corpora.load(Path(config["corpus"]))
        _, held = corpora.split_indices(corpus, config["split_seed"], config["val_fraction"], config["limit"])
        parts.append((corpus.images[held], corpus.labels[held]))
    if config.get("emnist"):
        inputs, labels, (_, held) = emnist_inputs(TrainConfig.from_dict(config), validation_only=True)
        parts.append((inputs[held], labels[held]))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def accuracy_within(probabilities: np.ndarray, labels: np.ndarray, columns: list[int]) -> float:
    """Accuracy when only `columns` may be answered (a charset): labels are column indices."""
    picked = np.array(columns)[probabilities[:, columns].argmax(1)]
    return float((picked == labels).mean())


def not_a_digit_figures(
    classes: tuple[str, ...],
    validation: tuple[np.ndarray, np.ndarray],
    held_out: tuple[np.ndarray, np.ndarray],
    mnist_test: np.ndarray,
) -> dict[str, Any]:
    """The check's rates at NOT_A_DIGIT_ABOVE, the AUROC on held-out data, and the threshold that
    would flag FALSE_FLAG_RATE of the validation digits."""
    digit = len(DIGITS)  # digits are the first classes
    v_scores = not_a_digit_scores(validation[0], classes)
    suggested = threshold_for_false_positive_rate(v_scores, validation[1] >= digit, FALSE_FLAG_RATE)
    h_scores, h_labels = not_a_digit_scores(held_out[0], classes), held_out[1]
    t_scores = not_a_digit_scores(mnist_test, classes)
    non_digit = h_labels >= digit
    look_alike = np.isin(h_labels, [classes.index(c) for c in LOOK_ALIKES])
    scores = np.concatenate([h_scores, t_scores])
    positives = np.concatenate([non_digit, np.zeros(len(t_scores), bool)])
    flagged = h_scores > NOT_A_DIGIT_ABOVE
    return {
        "threshold": NOT_A_DIGIT_ABOVE,
        "suggested_threshold": round(float(suggested), 4),
        "auroc": round(roc(scores, positives)["auroc"], 4),
        "non_digits_flagged": float(flagged[non_digit].mean()),
        "non_digits_flagged_without_look_alikes": float(flagged[non_digit & ~look_alike].mean()),
        "look_alikes": list(LOOK_ALIKES),
        "font_digits_flagged": float(flagged[~non_digit].mean()),
        "mnist_test_digits_flagged": float((t_scores > NOT_A_DIGIT_ABOVE).mean()),
        "flagged_per_class": {
            classes[c]: round(float(flagged[h_labels == c].mean()), 4) for c in range(digit, len(classes))
        },
        "_roc": (scores, positives),
    }


def held_out_figures(
    probabilities: np.ndarray, labels: np.ndarray, classes: tuple[str, ...]
) -> dict[str, Any]:
    """Accuracy on the held-out families: in each charset, and per class (alphanumeric + none)."""
    index = {c: i for i, c in enumerate(classes)}
    digits = [index[c] for c in DIGITS]
    letters = [index[c] for c in LETTERS]
    is_digit, is_letter = np.isin(labels, digits), np.isin(labels, letters)
    predicted = probabilities.argmax(1)
    return {
        "alphanumeric_accuracy": float((predicted == labels).mean()),
        "digits_accuracy": accuracy_within(probabilities[is_digit], labels[is_digit], digits),
        "letters_accuracy": accuracy_within(probabilities[is_letter], labels[is_letter], letters),
        "none_recall": float((predicted[labels == index[NONE]] == index[NONE]).mean()),
        "per_class_accuracy": {
            c: round(float((predicted[labels == i] == i).mean()), 4) for i, c in enumerate(classes)
        },
        "samples": len(labels),
    }


def evaluate_charset(characters: Classifier, corpus: corpora.Corpus, charset: str) -> dict[str, Any]:
    """The character (or script) model on a corpus's samples of `charset`'s classes, answering in that
    charset: accuracy, per class, and the share answered uncertain (what `rthdr evaluate --charset`
    prints)."""
    report = charset_figures(characters.predict_all(corpus.images), characters.classes, corpus, charset)
    return {"model": characters.name, **report}


def charset_figures(
    probabilities: np.ndarray, classes: tuple[str, ...], corpus: corpora.Corpus, charset: str
) -> dict[str, Any]:
    """evaluate_charset's figures from the model's (calibrated) probabilities for every corpus sample."""
    characters = charset_characters(charset)
    wanted = {classes.index(class_of(c)): c for c in characters}  # class -> the charset's character
    names = [corpus.classes[label] for label in corpus.labels]
    pick = np.flatnonzero([classes.index(name) in wanted if name in classes else False for name in names])
    if not len(pick):
        raise ValueError(f"the corpus holds no samples of charset {charset}")
    truth = np.array([classes.index(names[i]) for i in pick])
    no_maps = np.zeros((len(classes), 1, 1), np.float32)  # no heatmaps are drawn here
    readings = [read_character(p, no_maps, classes, charset) for p in probabilities[pick]]
    right = np.array([r.index == t for r, t in zip(readings, truth, strict=True)])
    uncertain = np.array([r.uncertain for r in readings])
    return {
        "charset": charset,
        "samples": len(pick),
        "families": [corpus.family_names[f] for f in np.unique(corpus.families[pick])],
        "accuracy": float(right.mean()),
        "uncertain_share": float(uncertain.mean()),
        "accuracy_when_not_uncertain": float(right[~uncertain].mean()) if (~uncertain).any() else None,
        "per_class_accuracy": {c: round(float(right[truth == i].mean()), 4) for i, c in wanted.items()},
    }


def training_data(config: dict[str, Any], images: int) -> str:
    """What the card says the network learned from."""
    sources = ["MNIST's training digits"]
    if config.get("corpus"):
        sources.append(f"the generated corpus {config['corpus']} (fonts and pen fonts)")
    if config.get("emnist"):
        sources.append(f"EMNIST balanced's training images from {config['emnist']}")
    letters = "" if config.get("emnist") else "; no real handwritten letters"
    return f"{' and '.join(sources)} ({images:,} images in all), augmented again every epoch{letters}"


def evaluate_digits_mode(
    digits: Classifier, characters: Classifier, corpus: corpora.Corpus, data_dir: str | Path | None
) -> dict[str, Any]:
    """charset=digits as served (the digit model, checked by the character model) on MNIST's test
    set and on a corpus: how many answers are flagged, why, and how many of the errors."""
    from collections import Counter

    from rthdr.core.characters import read_characters

    test_images, test_labels = load_mnist("test", data_dir)
    is_digit = corpus.labels < len(DIGITS)
    sets = {
        "MNIST test": (preprocess_all(test_images, progress=False), test_labels),
        "corpus digits": (corpus.images[is_digit], corpus.labels[is_digit]),
        "corpus letters and none": (corpus.images[~is_digit], None),
    }
    report: dict[str, Any] = {"digit_model": digits.name, "character_model": characters.name}
    for name, (inputs, labels) in sets.items():
        readings = read_characters("digits", digits.run(inputs), characters.run(inputs), characters.classes)
        uncertain = np.array([r.uncertain for r in readings])
        figures: dict[str, Any] = {
            "images": len(readings),
            "uncertain_share": float(uncertain.mean()),
            "reasons": dict(Counter(r.reason or "sure" for r in readings)),
        }
        if labels is not None:
            wrong = np.array([int(r.character) != label for r, label in zip(readings, labels, strict=True)])
            not_a_digit = np.array([r.reason == "not_a_digit" for r in readings])
            figures |= {
                "accuracy": float(1 - wrong.mean()),
                "errors": int(wrong.sum()),
                "errors_flagged": float(uncertain[wrong].mean()) if wrong.any() else 1.0,
                "accuracy_when_not_uncertain": float(1 - wrong[~uncertain].mean()),
                # which digits the check takes for something else: in fonts, 0 for O and 1 for I
                "not_a_digit_by_digit": {
                    d: float(not_a_digit[labels == i].mean())
                    for i, d in enumerate(DIGITS)
                    if (labels == i).any()
                },
            }
        report[name] = figures
    return report


def headline(figures: dict[str, Any]) -> tuple[float, float]:
    """The two accuracies a file is judged by: MNIST test digits, and all classes held out."""
    return figures["mnist_test_digits_accuracy"], figures["held_out"]["alphanumeric_accuracy"]


def release_characters(
    run_dir: str | Path,
    held_out_corpus: str | Path,
    models_dir: str | Path,
    images_dir: str | Path,
    data_dir: str | Path | None,
    name: str = CHARACTER_MODEL_NAME,
) -> dict[str, Any]:
    """Ship a `rthdr train --corpus` run as NAME.onnx (and NAME.int8.onnx where INT8 keeps its
    accuracy), calibrated on its validation split, with NAME.card.json and .card.md and plots."""
    run, models, images = Path(run_dir), Path(models_dir), Path(images_dir) / name
    models.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    metrics = json.loads((run / "metrics.json").read_text())
    config, classes = metrics["config"], tuple(metrics["classes"])
    model, _ = load_checkpoint(str(run / "model.pt"))
    save_checkpoint(model, str(models / f"{name}.pt"), classes=list(classes))
    parity = export_release(model, models, name)
    shutil.copy(run / "training_curves.png", images / "training_curves.png")
    classifier = Classifier(models / f"{name}.onnx")

    validation = validation_set(config, data_dir)
    raw_validation = classifier.predict_all(validation[0], calibrate=False)
    temperature = fit_temperature(raw_validation, validation[1])
    held = corpora.load(Path(held_out_corpus))
    if held.classes != classes:
        raise ValueError(
            f"{held_out_corpus}: its classes are not the model's; make it with --charset alphanumeric"
        )
    test_images, test_labels = load_mnist("test", data_dir)
    test_inputs = preprocess_all(test_images, progress=False)

    int8 = models / f"{name}.int8.onnx"
    corpus_train = corpora.load(Path(config["corpus"])).images
    picks = np.random.default_rng(0).choice(len(corpus_train), min(300, len(corpus_train)), replace=False)
    quantize_int8(
        classifier.path, int8, np.concatenate([calibration_images(data_dir, 300), corpus_train[picks]])
    )
    files = {"float": classifier, "int8": Classifier(int8)}
    measured: dict[str, dict[str, Any]] = {}
    for kind, model_file in files.items():
        raw_held = model_file.predict_all(held.images, calibrate=False)
        test = model_file.predict_all(test_inputs, calibrate=False)
        measured[kind] = {
            "held_out": held_out_figures(raw_held, held.labels, classes),
            "mnist_test_digits_accuracy": accuracy_within(test, test_labels, list(range(len(DIGITS)))),
            "raw_held": raw_held,
            "test": test,
        }
    latencies = dict(zip(files, single_image_latencies_ms(list(files.values())), strict=True))
    keep_int8 = all(
        headline(measured["float"])[k] - headline(measured["int8"])[k] <= INT8_TOLERANCE for k in range(2)
    )
    if not keep_int8:
        int8.unlink()
    served = "int8" if keep_int8 else "float"
    shown = measured[served]
    held_calibrated = calibrated(shown["raw_held"], temperature)
    check = not_a_digit_figures(
        classes,
        (calibrated(raw_validation, temperature), validation[1]),
        (held_calibrated, held.labels),
        calibrated(shown["test"], temperature),
    )
    scores, positives = check.pop("_roc")
    plot_roc({"held-out fonts' letters and none vs. their digits and MNIST test": (scores, positives)}, images / "roc.png", FALSE_FLAG_RATE)  # fmt: skip
    plot_reliability(
        {
            "as trained (T = 1)": (shown["raw_held"], held.labels),
            f"calibrated (T = {temperature})": (held_calibrated, held.labels),
        },
        images / "reliability.png",
    )
    card = {
        "name": name,
        "served_file": f"{name}.int8.onnx" if keep_int8 else f"{name}.onnx",
        "released": datetime.now(UTC).strftime("%Y-%m-%d"),
        "task": "classify one handwritten character: 10 digits, 37 letter classes (EMNIST balanced), or none",
        "classes": list(classes),
        "parameters": metrics["parameters"],
        "onnx_max_abs_diff": parity,
        "training": training_facts(run, config, metrics, name, training_data(config, metrics["train_size"])),
        "calibration": {
            **calibration_facts(
                temperature, len(validation[1]), shown["raw_held"], held_calibrated, held.labels
            ),
            "uncertain_below": UNCERTAIN_BELOW,
        },
        "held_out": {
            "families": list(held.family_names),
            **held_out_figures(held_calibrated, held.labels, classes),
        },
        "mnist_test_digits_accuracy": shown["mnist_test_digits_accuracy"],
        "not_a_digit": check,
        "files": {
            kind: {
                "held_out_alphanumeric_accuracy": m["held_out"]["alphanumeric_accuracy"],
                "mnist_test_digits_accuracy": m["mnist_test_digits_accuracy"],
                "single_image_latency_ms": latencies[kind],
            }
            for kind, m in measured.items()
        },
    }
    (models / f"{name}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    (models / f"{name}.card.md").write_text(render_card(card, Path(os.path.relpath(images, models))))
    return card


def percent(value: float) -> str:
    return f"{100 * value:.2f} %"


def render_card(card: dict[str, Any], images: Path) -> str:
    """The card for people; `images` is the plots' folder relative to the card."""
    held, check, cal = card["held_out"], card["not_a_digit"], card["calibration"]
    per_class = " | ".join(f"{c} {100 * a:.0f}" for c, a in held["per_class_accuracy"].items())
    flagged = " | ".join(f"{c} {100 * a:.0f}" for c, a in check["flagged_per_class"].items())
    files = "\n".join(
        f"| {kind} | {percent(f['mnist_test_digits_accuracy'])} | {percent(f['held_out_alphanumeric_accuracy'])} "
        f"| {f['single_image_latency_ms']['p50']} ms |"
        for kind, f in card["files"].items()
    )
    return f"""# Model card: {card["name"]}

{card["task"]}. Served file: `{card["served_file"]}`. Released {card["released"]}.

**Trained on** {card["training"]["data"]}. Reproduce: `{card["training"]["command"]}`.

## How well it reads (held out: families never trained on)

Held-out families: {", ".join(held["families"])}; {held["samples"]:,} samples.

| | accuracy |
|---|---|
| MNIST test digits (charset digits, serving preprocessing) | {percent(card["mnist_test_digits_accuracy"])} |
| held-out font digits (charset digits) | {percent(held["digits_accuracy"])} |
| held-out letters (charset letters) | {percent(held["letters_accuracy"])} |
| held-out, all 48 classes (alphanumeric + none) | {percent(held["alphanumeric_accuracy"])} |
| held-out `none` (scribbles, smudges, fragments, symbols) answered none | {percent(held["none_recall"])} |

Per class, held out (%): {per_class}

## Not a digit

With charset digits the character model checks the digit model's answer: a drawing whose character-model
probability outside the digits is above {check["threshold"]} is answered `uncertain`, reason `not_a_digit`.

| | flagged |
|---|---|
| held-out letters and none | {percent(check["non_digits_flagged"])} |
| the same without the look-alikes {", ".join(check["look_alikes"])} | {percent(check["non_digits_flagged_without_look_alikes"])} |
| held-out font digits | {percent(check["font_digits_flagged"])} |
| MNIST test digits | {percent(check["mnist_test_digits_flagged"])} |

AUROC {check["auroc"]} (held-out letters and none against held-out font digits and MNIST test). The
threshold that flags 1 % of the validation digits is {check["suggested_threshold"]}.

Flagged per class, held out (%): {flagged}

![ROC]({images.as_posix()}/roc.png)

## Calibration

Temperature {cal["temperature"]}, fitted on {cal["fitted_on"]}. Expected calibration error on the held-out
families: {percent(cal["held_out_ece_before"])} as trained, {percent(cal["held_out_ece_after"])} calibrated.

![reliability]({images.as_posix()}/reliability.png)

## Files

| file | MNIST test digits | held out, all classes | p50, one image |
|---|---|---|---|
{files}
"""
