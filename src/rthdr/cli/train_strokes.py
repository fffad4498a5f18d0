"""`rthdr train-strokes`: the flags are StrokeConfig's fields (rthdr.training.config)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_data_dir, add_model, add_settings, settings_from
from rthdr.core.inference import DEFAULT_STROKE_MODEL
from rthdr.training.config import StrokeConfig, as_flags


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "train-strokes",
        run,
        help="train the stroke model that reads a digit from its pen strokes",
        description="Trace MNIST's training digits into pen strokes, add Hershey's single-stroke fonts, "
        "train a small 1D CNN on them (drawn again every epoch with another slant, speed and stroke order), "
        "export it to ONNX, choose the weight that fuses it with the image model on the traced validation "
        "digits, and measure image, strokes and fused on MNIST's test digits traced. Writes the card "
        "(NAME.card.json and .card.md) that serving reads the weight from.",
        epilog="examples:\n  rthdr train-strokes                     # the shipped model, about 10 minutes\n"
        "  rthdr train-strokes --epochs 1 --limit 2000 --out /tmp/strokenet.onnx   # a smoke run",
    )
    add_data_dir(parser)
    add_model(parser)
    parser.add_argument("--out", default=str(DEFAULT_STROKE_MODEL), help="ONNX file to write (+ its card)")
    add_settings(parser, StrokeConfig)


def run(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.strokes import measure, write_card
    from rthdr.training.strokes import train_strokes

    out = Path(args.out)
    cfg = settings_from(args, StrokeConfig)
    _, metrics = train_strokes(out, cfg, args.data_dir)
    elsewhere = [] if out.resolve() == DEFAULT_STROKE_MODEL.resolve() else ["--out", out.as_posix()]
    training = {
        "command": shlex.join(["rthdr", "train-strokes", *as_flags(cfg), *elsewhere]),
        "data": f"{metrics['traced_training_digits']:,} MNIST training digits traced into strokes and "
        f"{metrics['hershey_digits']} Hershey digits ({metrics['hershey_copies']} copies each), drawn again "
        "every epoch",
        **{k: v for k, v in metrics.items() if k != "history"},
    }
    card = measure(out, Classifier(args.model), args.data_dir, training, cfg.limit)
    write_card(card, out.with_name(f"{out.name.split('.')[0]}.card.json"))
    test = card["traced_test"]
    print(
        f"traced MNIST test digits ({test['digits']:,}): image {100 * test['image']['accuracy']:.2f} %, strokes "
        f"{100 * test['strokes']['accuracy']:.2f} %, fused {100 * test['fused']['accuracy']:.2f} % "
        f"(image weight {card['fusion']['image_weight']})\nwrote {out} and its card"
    )
    return 0
