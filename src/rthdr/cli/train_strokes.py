"""`rthdr train-strokes`: the flags are StrokeConfig's fields (rthdr.training.config)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from rthdr.cli.common import (
    Commands,
    add_character_model,
    add_command,
    add_data_dir,
    add_model,
    add_settings,
    settings_from,
)
from rthdr.core.inference import DEFAULT_CHARACTER_STROKE_MODEL, DEFAULT_STROKE_MODEL
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
        "(NAME.card.json and .card.md) that serving reads the weight from. With --corpus, the character "
        "stroke model for charsets letters and alphanumeric: the corpus traced, fused with the character model "
        "and measured on the held-out font families and Hershey's validation fonts.",
        epilog="examples:\n  rthdr train-strokes                     # the shipped model, about 10 minutes\n"
        "  rthdr train-strokes --epochs 1 --limit 2000 --out /tmp/strokenet.onnx   # a smoke run\n"
        "  rthdr train-strokes --corpus data/corpus.npz --epochs 20   # the shipped strokenet-chars, about 25 minutes",
    )
    add_data_dir(parser)
    add_model(parser)
    parser.add_argument(
        "--out",
        default=None,
        help=f"ONNX file to write (+ its card); default {DEFAULT_STROKE_MODEL.name}, with --corpus "
        f"{DEFAULT_CHARACTER_STROKE_MODEL.name}, in the package's models",
    )
    add_character_model(parser, "with --corpus: the character model to fuse with")
    parser.add_argument(
        "--held-out",
        type=Path,
        default=Path("data/corpus-validation.npz"),
        help="with --corpus: the corpus of font families kept out of training, from `rthdr data corpus "
        "--split validation`, to measure on",
    )
    add_settings(parser, StrokeConfig)


def run(args: argparse.Namespace) -> int:
    from rthdr.training.strokes import train_strokes

    cfg = settings_from(args, StrokeConfig)
    default = DEFAULT_CHARACTER_STROKE_MODEL if cfg.corpus else DEFAULT_STROKE_MODEL
    out = Path(args.out) if args.out else default
    if cfg.corpus and not args.held_out.is_file():
        raise SystemExit(f"{args.held_out} not found: make it with `rthdr data corpus --split validation`")
    _, metrics = train_strokes(out, cfg, args.data_dir)
    return write_cards(args, cfg, out, default, metrics)


def write_cards(
    args: argparse.Namespace, cfg: StrokeConfig, out: Path, default: Path, metrics: dict[str, Any]
) -> int:
    """Measure a trained stroke model and write its card (what serving reads its weight from)."""
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.strokes import measure, measure_characters, write_card, write_character_card

    elsewhere = [] if out.resolve() == default.resolve() else ["--out", out.as_posix()]
    source = f"{cfg.corpus} and MNIST training digits" if cfg.corpus else "MNIST training digits"
    training = {
        "command": shlex.join(["rthdr", "train-strokes", *as_flags(cfg), *elsewhere]),
        "data": f"{metrics['traced_training_samples']:,} {source} traced into strokes and "
        f"{metrics['hershey_glyphs']} Hershey glyphs ({metrics['hershey_copies']} copies each), drawn again "
        "every epoch",
        **{k: v for k, v in metrics.items() if k not in ("history", "classes")},
    }
    card_path = out.with_name(f"{out.name.split('.')[0]}.card.json")
    if cfg.corpus:
        card = measure_characters(out, Classifier(args.character_model), cfg, args.held_out, training)
        write_character_card(card, card_path)
        fonts = card["held_out"]["held_out_fonts"]
        print(
            f"held-out font families traced ({fonts['samples']:,}), alphanumeric: "
            + ", ".join(f"{key} {100 * fonts[key]['alphanumeric']['accuracy']:.2f} %" for key in ("image", "strokes", "fused"))
            + f" (image weight {card['fusion']['charsets']['alphanumeric']['image_weight']})\nwrote {out} and its card"
        )  # fmt: skip
        return 0
    card = measure(out, Classifier(args.model), args.data_dir, training, cfg.limit)
    write_card(card, card_path)
    test = card["traced_test"]
    print(
        f"traced MNIST test digits ({test['digits']:,}): image {100 * test['image']['accuracy']:.2f} %, strokes "
        f"{100 * test['strokes']['accuracy']:.2f} %, fused {100 * test['fused']['accuracy']:.2f} % "
        f"(image weight {card['fusion']['image_weight']})\nwrote {out} and its card"
    )
    return 0
