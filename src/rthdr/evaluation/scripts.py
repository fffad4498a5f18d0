"""The script model's release: export, temperature, INT8, and what its card measures.

The script model (scriptnet) reads the digits of Devanagari, Arabic-Indic and Persian, and `none`.
It is trained on fonts only (`rthdr data corpus --charset scripts`), with no MNIST, so two sets
measure it, neither trained on:
- validation: the run's own 1/12 of its corpus (the training families). The temperature is fitted here.
- held out: a corpus of the font families kept out of training (`--split validation`): each charset's
  accuracy as served (rthdr.core.characters.read_character), per class, and how often `none` is refused.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from rthdr.core.characters import read_character
from rthdr.core.charsets import CHARSETS, NONE, SCRIPT_CHARSETS
from rthdr.core.inference import Classifier, calibrated
from rthdr.data import corpus as corpora
from rthdr.evaluation.calibration import fit_temperature, plot_reliability
from rthdr.evaluation.characters import INT8_TOLERANCE, charset_figures, percent
from rthdr.evaluation.edge import quantize_int8
from rthdr.evaluation.modelcard import calibration_facts, single_image_latencies_ms, training_facts
from rthdr.training.export import export_release
from rthdr.training.model import load_checkpoint, save_checkpoint

SCRIPT_MODEL_NAME = "scriptnet"
CHARSET_ORDER = ("devanagari", "arabic-indic", "persian")
assert set(CHARSET_ORDER) == SCRIPT_CHARSETS


def run_validation(config: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The run's held-out 1/12 of its corpus, as `rthdr train --corpus` split it."""
    corpus = corpora.load(Path(config["corpus"]))
    _, held = corpora.split_indices(corpus, config["split_seed"], config["val_fraction"], config["limit"])
    return corpus.images[held], corpus.labels[held]


def none_refused(probabilities: np.ndarray, held: corpora.Corpus, charset: str) -> float:
    """The share of the held-out `none` samples (scribbles, smudges, fragments, symbols) answered
    uncertain, as a service in `charset` answers them."""
    nones = probabilities[held.labels == held.classes.index(NONE)]
    no_maps = np.zeros((len(held.classes), 1, 1), np.float32)
    return float(np.mean([read_character(p, no_maps, held.classes, charset).uncertain for p in nones]))


def held_out_figures(probabilities: np.ndarray, held: corpora.Corpus) -> dict[str, Any]:
    """Each charset's figures on the held-out corpus, from the served file's calibrated probabilities."""
    return {
        "charsets": {c: charset_figures(probabilities, held.classes, held, c) for c in CHARSET_ORDER},
        "none_answered_uncertain": {c: none_refused(probabilities, held, c) for c in CHARSET_ORDER},
    }


def release_scripts(
    run_dir: str | Path, held_out_corpus: str | Path, models_dir: str | Path, images_dir: str | Path,
    name: str = SCRIPT_MODEL_NAME,
) -> dict[str, Any]:  # fmt: skip
    """Ship a `rthdr train --corpus SCRIPTS.npz` run as NAME.onnx (and NAME.int8.onnx where INT8
    keeps its accuracy), calibrated on its validation split, with NAME.card.json, .card.md and plots."""
    run, models, images = Path(run_dir), Path(models_dir), Path(images_dir) / name
    models.mkdir(parents=True, exist_ok=True)
    images.mkdir(parents=True, exist_ok=True)
    metrics = json.loads((run / "metrics.json").read_text())
    config, classes = metrics["config"], tuple(metrics["classes"])
    held = corpora.load(Path(held_out_corpus))
    if held.classes != classes:
        raise ValueError(
            f"{held_out_corpus}: its classes are not the model's; make it with --charset scripts"
        )
    model, _ = load_checkpoint(str(run / "model.pt"))
    save_checkpoint(model, str(models / f"{name}.pt"), classes=list(classes))
    parity = export_release(model, models, name)
    shutil.copy(run / "training_curves.png", images / "training_curves.png")
    classifier = Classifier(models / f"{name}.onnx")

    validation = run_validation(config)
    temperature = fit_temperature(classifier.predict_all(validation[0], calibrate=False), validation[1])
    int8 = models / f"{name}.int8.onnx"
    training_images = corpora.load(Path(config["corpus"])).images
    picks = np.random.default_rng(0).choice(
        len(training_images), min(600, len(training_images)), replace=False
    )
    quantize_int8(classifier.path, int8, training_images[picks])
    files = {"float": classifier, "int8": Classifier(int8)}
    raw = {kind: f.predict_all(held.images, calibrate=False) for kind, f in files.items()}
    accuracy = {
        kind: {c: charset_figures(raw[kind], classes, held, c)["accuracy"] for c in CHARSET_ORDER}
        for kind in files
    }
    keep_int8 = all(accuracy["float"][c] - accuracy["int8"][c] <= INT8_TOLERANCE for c in CHARSET_ORDER)
    if not keep_int8:
        int8.unlink()
    served = "int8" if keep_int8 else "float"
    latencies = dict(zip(files, single_image_latencies_ms(list(files.values())), strict=True))
    raw_held = raw[served]  # the card's figures are the served file's, calibrated as served
    held_calibrated = calibrated(raw_held, temperature)
    plot_reliability(
        {"as trained (T = 1)": (raw_held, held.labels), f"calibrated (T = {temperature})": (held_calibrated, held.labels)},
        images / "reliability.png",
    )  # fmt: skip
    card = {
        "name": name,
        "served_file": files[served].path.name,
        "released": datetime.now(UTC).strftime("%Y-%m-%d"),
        "task": "classify one handwritten digit of Devanagari, Arabic-Indic or Persian, or none ("
        + ", ".join(f"{c} {CHARSETS[c][0]}-{CHARSETS[c][9]}" for c in CHARSET_ORDER)
        + "); Persian's 0-3 and 7-9 share the Arabic-Indic shapes' classes",
        "classes": list(classes),
        "parameters": metrics["parameters"],
        "onnx_max_abs_diff": parity,
        "training": training_facts(
            run, config, metrics, name,
            f"the generated corpus {config['corpus']} only: printed fonts of these scripts through "
            f"handwriting-like augmentation ({metrics['train_size']:,} images), augmented again every epoch; "
            "no real handwriting of these scripts",
        ),
        "calibration": calibration_facts(temperature, len(validation[1]), raw_held, held_calibrated, held.labels),
        "held_out": {"families": list(held.family_names), "samples": len(held.labels), **held_out_figures(held_calibrated, held)},
        "files": {
            kind: {"held_out_accuracy": accuracy[kind], "single_image_latency_ms": latencies[kind]}
            for kind in files
        },
    }  # fmt: skip
    (models / f"{name}.card.json").write_text(json.dumps(card, indent=2) + "\n")
    (models / f"{name}.card.md").write_text(render_card(card, Path(os.path.relpath(images, models))))
    return card


def render_card(card: dict[str, Any], images: Path) -> str:
    """The card for people; `images` is the plots' folder relative to the card."""
    held, cal = card["held_out"], card["calibration"]
    rows = "\n".join(
        f"| {c} | {percent(f['accuracy'])} | {percent(f['uncertain_share'])} | "
        f"{percent(held['none_answered_uncertain'][c])} | {', '.join(f['families'])} |"
        for c, f in held["charsets"].items()
    )
    per_class = "\n".join(
        f"- {c}: " + " | ".join(f"{k} {100 * a:.0f}" for k, a in f["per_class_accuracy"].items())
        for c, f in held["charsets"].items()
    )
    files = "\n".join(
        f"| {kind} | " + " | ".join(percent(f["held_out_accuracy"][c]) for c in CHARSET_ORDER)
        + f" | {f['single_image_latency_ms']['p50']} ms |"
        for kind, f in card["files"].items()
    )  # fmt: skip
    return f"""# Model card: {card["name"]}

{card["task"]}. Served file: `{card["served_file"]}`. Released {card["released"]}.

**Trained on** {card["training"]["data"]}. Reproduce: `{card["training"]["command"]}`.

**Fonts only.** No handwriting of these scripts could be had here: the figures below are on printed
font families kept out of training, drawn through the same augmentation. Expect less on real pens.

## How well it reads (held out: families never trained on)

{held["samples"]:,} samples. Each charset is read as the service reads it: its ten digits and `none`
compete, the other scripts' do not.

| charset | accuracy | answered uncertain | `none` answered uncertain | held-out families with these digits |
|---|---|---|---|---|
{rows}

Per class, held out (%):
{per_class}

## Calibration

Temperature {cal["temperature"]}, fitted on {cal["fitted_on"]}. Expected calibration error on the held-out
families (all classes): {percent(cal["held_out_ece_before"])} as trained, {percent(cal["held_out_ece_after"])} calibrated.

![reliability]({images.as_posix()}/reliability.png)

## Files

| file | devanagari | arabic-indic | persian | p50, one image |
|---|---|---|---|---|
{files}
"""
