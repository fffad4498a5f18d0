"""`rthdr train-onedigit`: the flags are OneDigitConfig's fields (rthdr.training.config)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_data_dir, add_settings, settings_from
from rthdr.core.inference import DEFAULT_ONE_DIGIT_CHECK
from rthdr.training.config import OneDigitConfig


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "train-onedigit",
        run,
        help="train the one-digit check that number reading weighs its cuts with",
        description="Render synthetic photos of numbers with MNIST training digits, collect every part "
        "number reading considers (labelled 'one whole digit' or not from which digit drew each pixel), "
        "train a small CNN on them and export it to ONNX, with its metrics on parts of numbers written "
        "with validation digits.",
        epilog="examples:\n  rthdr train-onedigit                      # the shipped check, about 40 minutes\n"
        "  rthdr train-onedigit --numbers 40 --digits 200 --epochs 1 --out /tmp/onedigit.onnx  # a smoke run",
    )
    add_data_dir(parser)
    parser.add_argument(
        "--out", default=str(DEFAULT_ONE_DIGIT_CHECK), help="ONNX file to write (+ .json metrics)"
    )
    add_settings(parser, OneDigitConfig)


def run(args: argparse.Namespace) -> int:
    from rthdr.training.onedigit import train_one_digit

    out = Path(args.out)
    metrics = train_one_digit(out, args.data_dir, **asdict(settings_from(args, OneDigitConfig)))
    validation = metrics["validation"]
    assert isinstance(validation, dict)
    print(
        f"validation parts ({metrics['validation_parts']:,}, from numbers of validation digits): "
        f"{100 * validation['accuracy']:.2f} % right, {100 * validation['digits_kept']:.2f} % of single "
        f"digits kept, {100 * validation['non_digits_rejected']:.2f} % of other parts rejected\n"
        f"wrote {out} and {out.with_suffix('.json')}"
    )
    return 0
