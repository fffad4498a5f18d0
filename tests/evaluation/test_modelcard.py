"""The model card's pure parts: the "reproduce" commands parse back into the run's settings, and a
small card renders with its figures, its commands and its plots."""

from __future__ import annotations

import json
import shlex
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rthdr.cli.main import build_parser
from rthdr.cli.train import config_from
from rthdr.core.inference import FLOAT_MODEL, Classifier
from rthdr.evaluation.evaluate import Evaluation
from rthdr.evaluation.modelcard import (
    build_card,
    int8_card,
    release_command,
    render_markdown,
    train_command,
    validation_metrics,
)
from rthdr.training.config import ModelConfig, TrainConfig, settings, value_type
from rthdr.training.model import DigitNet


def as_saved(cfg: TrainConfig) -> dict[str, Any]:
    """The config as a run's metrics.json holds it (tuples become lists)."""
    return json.loads(json.dumps(asdict(cfg)))


def parsed(command: str) -> tuple[str, TrainConfig]:
    """The run folder and settings the CLI reads from a card's `rthdr train` line."""
    words = shlex.split(command)
    assert words[:2] == ["rthdr", "train"]
    args = build_parser().parse_args(words[1:])
    return args.out, config_from(args)


def test_a_distilled_staged_run_is_reproduced_by_its_card_command() -> None:
    run = TrainConfig(
        epochs=12,
        batch_size=64,
        patience=3,
        limit=20_000,
        elastic_px=0.0,
        adversarial="fgsm",
        teacher="runs/big teacher/model.pt",  # a space: the command quotes it
        distill_weight=0.7,
        distill_temperature=4.0,
        serving_preprocess=False,
        seed=3,
        model=ModelConfig(stages=((16,), (32, 32), (64, 96))),
    )
    command = train_command(Path("runs/student"), as_saved(run))
    assert "--stages 16 32,32 64,96" in command and "--no-serving-preprocess" in command
    assert parsed(command) == ("runs/student", run)


@pytest.mark.parametrize("option", settings(TrainConfig), ids=lambda option: option.name)
def test_every_setting_reaches_the_card_command(option) -> None:
    """A field added to TrainConfig gets a flag, and a run that changes it says so in its card."""
    kind, default = value_type(TrainConfig, option), option.default
    value = {
        bool: lambda: not default,
        int: lambda: (default or 0) + 7,
        float: lambda: default * 2 + 0.25,
        str: lambda: option.metadata.get("choices", ["checkpoints/a.pt"])[0],
    }[kind]()
    run = replace(TrainConfig(), **{option.name: value})
    assert parsed(train_command(Path("runs/x"), as_saved(run)))[1] == run


def test_a_default_run_needs_only_its_folder_and_an_older_run_its_changes() -> None:
    assert train_command(Path("runs/a"), as_saved(TrainConfig())) == "rthdr train --out runs/a"
    older = {"epochs": 30, "seed": 2, "lr": 0.003}  # a run from before most settings were recorded
    assert train_command(Path("runs/b"), older) == "rthdr train --out runs/b --seed 2"


def test_a_fine_tuned_run_takes_its_shape_from_the_checkpoint() -> None:
    run = TrainConfig(init="models/digitnet.pt", lr=1e-3, model=ModelConfig(stages=((8,), (16,))))
    command = train_command(Path("runs/tuned"), as_saved(run))
    assert command == "rthdr train --out runs/tuned --lr 0.001 --init models/digitnet.pt"
    assert parsed(command)[1] == replace(
        run, model=ModelConfig()
    )  # `rthdr train` reads the shape from --init


def test_release_command_names_only_what_differs_from_the_shipped_model() -> None:
    runs = [Path("runs/s1"), Path("runs/s2")]
    assert release_command(runs, "digitnet") == "rthdr release runs/s1 runs/s2"
    named = release_command(runs[:1], "small")
    assert named == "rthdr release runs/s1 --name small --min-accuracy 0"
    args = build_parser().parse_args(shlex.split(named)[1:])
    assert (args.runs, args.name, args.min_accuracy) == (["runs/s1"], "small", 0.0)


class Answers:
    """A classifier stub that gives fixed probabilities: validation_metrics() needs only these."""

    def __init__(self, probabilities: np.ndarray) -> None:
        self.probabilities = probabilities

    def predict_all(self, inputs: np.ndarray) -> np.ndarray:
        return self.probabilities


def test_validation_metrics_count_errors_and_the_uncertain_flag() -> None:
    sure, unsure = np.eye(10)[[0, 1, 2, 3]], np.full((2, 10), 0.1)  # confidence 1, and 0.1 (flagged)
    labels = np.array([0, 1, 2, 9, 0, 5])  # one sure error (3 for 9), one unsure error (0 for 5)
    metrics = validation_metrics(Answers(np.concatenate([sure, unsure])), np.zeros((6, 28, 28)), labels)  # type: ignore[arg-type]
    assert metrics["validation_accuracy"] == pytest.approx(4 / 6)
    assert metrics["uncertain_share"] == pytest.approx(2 / 6)
    assert metrics["errors_flagged_uncertain"] == pytest.approx(1 / 2)
    assert metrics["accuracy_when_not_uncertain"] == pytest.approx(3 / 4)


def small_evaluation(accuracy: float) -> Evaluation:
    return Evaluation(
        model="small",
        version="0123456789ab",
        test_images=100,
        accuracy=accuracy,
        raw_accuracy=0.9,
        errors=round(100 * (1 - accuracy)),
        per_class_accuracy=[0.95] * 10,
        per_class_precision=[0.9] * 10,
        confusion=[[0] * 10 for _ in range(10)],
        misclassified=[],
        seconds=1.0,
    )


def test_a_small_card_renders_its_figures_commands_and_plots(model_path: Path) -> None:
    run = TrainConfig(epochs=2, teacher="models/digitnet.pt", model=ModelConfig(stages=((4,), (8,))))
    metrics = {
        "config": as_saved(run),
        "train_size": 900,
        "val_size": 100,
        "best_epoch": 2,
        "val_accuracy": 0.91,
        "train_seconds": 120.0,
        "machine": "test machine",
    }
    validation = {
        "validation_accuracy": 0.92,
        "uncertain_below": 0.7,
        "uncertain_share": 0.1,
        "errors_flagged_uncertain": 0.5,
        "accuracy_when_not_uncertain": 0.97,
    }
    classifier, latency = Classifier(FLOAT_MODEL), {"p50": 0.2, "p99": 0.4}  # as released: NAME.onnx
    network = DigitNet(run.model)
    card = build_card(
        [metrics],
        [Path("runs/small")],
        network,
        validation,
        1e-6,
        small_evaluation(0.93),
        classifier,
        latency,
    )
    card["int8"] = int8_card(Classifier(model_path), validation, small_evaluation(0.94), latency)
    markdown = render_markdown(card, Path("../images/small"))

    assert "**93.00 %** (7 errors)" in markdown and "**94.00 %** (6 errors)" in markdown
    assert "[[4], [8]]" in markdown and f"{card['architecture']['parameters']:,}" in markdown
    command = card["training"]["command"]
    assert command == train_command(Path("runs/small"), metrics["config"]) + "  &&  rthdr release runs/small"
    assert f"Command: `{command}`" in markdown and "--teacher models/digitnet.pt" in command
    assert markdown.count("| 95.00 | 90.00 |") == 10  # one row per digit
    assert "![Confusion matrix](../images/small/confusion_matrix.png)" in markdown
    assert set(card["training"]["settings"]) == {f.name for f in fields(TrainConfig)} - {"model", "seed"}
    assert "review corrections" not in card["training"]["data"]
    assert "Explainer: digitnet.explainer.onnx: image and class" in markdown


def test_cards_say_what_else_was_trained_on_and_render_without_an_int8_file() -> None:
    """A run with --extra names the corrections it learned from; a card released before INT8 files
    were made (models/digitnet-robust.card.json) still renders, without the INT8 section."""
    run = TrainConfig(epochs=1, extra="runs/corrections")
    metrics = {"config": as_saved(run), "train_size": 900, "val_size": 100, "best_epoch": 1}
    metrics |= {"val_accuracy": 0.9, "train_seconds": 60.0, "machine": "test machine"}
    validation = {"validation_accuracy": 0.9, "uncertain_below": 0.7, "uncertain_share": 0.1}
    validation |= {"errors_flagged_uncertain": 0.5, "accuracy_when_not_uncertain": 0.95}
    card = build_card(
        [metrics],
        [Path("runs/x")],
        DigitNet(run.model),
        validation,
        1e-6,
        small_evaluation(0.9),
        Classifier(FLOAT_MODEL),
        {"p50": 0.2, "p99": 0.4},
    )
    assert "review corrections in runs/corrections" in card["training"]["data"]
    markdown = render_markdown(card, Path("../images/x"))
    assert "## The served file: INT8" not in markdown and "## Architecture" in markdown
