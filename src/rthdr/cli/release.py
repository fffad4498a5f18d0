"""`rthdr release`: a trained run (or several, as an ensemble) into the models folder, with its card."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_data_dir
from rthdr.core.inference import MODELS_DIR
from rthdr.evaluation.evaluate import TEST_ACCURACY_TARGET  # torch-free: the serving image has no torch


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "release",
        run,
        help="ship a trained run: copy its model into the package's models folder and write the model card",
        description="Export the weights of one run (or several: an ensemble that averages them, as one ONNX "
        "graph) into the models folder, measure it on the validation split and, once, on the MNIST test set, "
        "time it, and write the model card (Markdown and JSON) and its plots.",
        epilog="examples:\n  rthdr train --out runs/a && rthdr release runs/a\n"
        "  rthdr release runs/s1 runs/s2      # a two-network ensemble",
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN", help="folders written by `rthdr train`; several make an ensemble"
    )
    parser.add_argument("--models-dir", default=str(MODELS_DIR), help="where the shipped model lives")
    parser.add_argument("--images-dir", default="docs/images", help="the card's plots go in IMAGES_DIR/NAME")
    parser.add_argument(
        "--name",
        default=None,
        help="the model's name: NAME.onnx, NAME.card.json, ... (default: digitnet; charnet for a run trained "
        "with --corpus; scriptnet for one trained on the scripts corpus)",
    )
    parser.add_argument(
        "--held-out-corpus",
        type=Path,
        default=None,
        help="a run trained with --corpus is measured on this corpus of held-out families "
        "(`rthdr data corpus --split validation [--charset scripts]`; default: data/corpus-validation.npz, "
        "or data/scripts-validation.npz for a scripts run)",
    )
    parser.add_argument(
        "--min-accuracy",
        type=float,
        default=TEST_ACCURACY_TARGET,
        help="exit with 1 if the test accuracy is lower (the shipped model's bar)",
    )
    add_data_dir(parser)


def run(args: argparse.Namespace) -> int:
    from rthdr.evaluation.modelcard import MODEL_NAME, release

    if len(args.runs) == 1 and is_character_run(Path(args.runs[0])):
        return run_characters(args)
    args.name = args.name or MODEL_NAME
    card = release(args.runs, args.models_dir, args.images_dir, args.data_dir, args.name)
    metrics, int8 = card["metrics"], card["int8"]
    for file, figures in ((f"{card['name']}.onnx", metrics), (int8["file"], int8)):
        print(
            f"released {file}: test accuracy {100 * figures['test_accuracy']:.2f} % ({figures['test_errors']} "
            f"errors), single-image p50 {figures['single_image_latency_ms']['p50']} ms"
        )
    print(
        f"wrote {args.models_dir}/{args.name}.card.md and .card.json; plots in {args.images_dir}/{args.name}"
    )
    if min(metrics["test_accuracy"], int8["test_accuracy"]) < args.min_accuracy:
        print(f"warning: test accuracy below the {100 * args.min_accuracy:.1f} % asked for", file=sys.stderr)
        return 1
    return 0


def run_classes(run: Path) -> list[str]:
    metrics = run / "metrics.json"
    return list(json.loads(metrics.read_text()).get("classes", "0123456789")) if metrics.is_file() else []


def is_character_run(run: Path) -> bool:
    """A run trained with --corpus: its classes are more than the digits."""
    return len(run_classes(run)) > 10


def held_out_corpus(args: argparse.Namespace, scripts: bool) -> Path:
    from rthdr.core.errors import ModelError

    path = args.held_out_corpus or Path(
        "data/scripts-validation.npz" if scripts else "data/corpus-validation.npz"
    )
    if not path.is_file():
        raise ModelError(
            f"--held-out-corpus {path}: no such file; make it with `rthdr data corpus --split validation "
            f"{'--charset scripts ' if scripts else ''}--out {path}`"
        )
    return path


def run_characters(args: argparse.Namespace) -> int:
    from rthdr.core.charsets import SCRIPT_DIGITS
    from rthdr.evaluation.characters import CHARACTER_MODEL_NAME, release_characters

    if tuple(run_classes(Path(args.runs[0]))[:-1]) == SCRIPT_DIGITS:
        return run_scripts(args)
    args.held_out_corpus = held_out_corpus(args, scripts=False)
    name = args.name or CHARACTER_MODEL_NAME
    card = release_characters(
        args.runs[0], args.held_out_corpus, args.models_dir, args.images_dir, args.data_dir, name
    )
    held, check = card["held_out"], card["not_a_digit"]
    print(
        f"released {card['served_file']}: MNIST test digits {100 * card['mnist_test_digits_accuracy']:.2f} %, "
        f"held-out letters {100 * held['letters_accuracy']:.2f} %, not-a-digit AUROC {check['auroc']}, "
        f"temperature {card['calibration']['temperature']}\n"
        f"wrote {args.models_dir}/{name}.card.md and .card.json; plots in {args.images_dir}/{name}"
    )
    return 0


def run_scripts(args: argparse.Namespace) -> int:
    from rthdr.evaluation.scripts import SCRIPT_MODEL_NAME, release_scripts

    name = args.name or SCRIPT_MODEL_NAME
    card = release_scripts(
        args.runs[0], held_out_corpus(args, scripts=True), args.models_dir, args.images_dir, name
    )
    accuracy = ", ".join(f"{c} {100 * f['accuracy']:.2f} %" for c, f in card["held_out"]["charsets"].items())
    print(
        f"released {card['served_file']}: held out {accuracy}; temperature {card['calibration']['temperature']}\n"
        f"wrote {args.models_dir}/{name}.card.md and .card.json; plots in {args.images_dir}/{name}"
    )
    return 0
