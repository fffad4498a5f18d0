"""`rthdr train`: the flags are TrainConfig's fields (rthdr.training.config), plus --stages for the
network's shape; the model card's "reproduce" command is made from the same fields, so it parses
back into the same settings."""

from __future__ import annotations

import argparse
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_data_dir, add_settings, settings_from
from rthdr.core.errors import ModelError
from rthdr.core.inference import SHIPPED_WEIGHTS
from rthdr.training.config import ModelConfig, TrainConfig, stages_words


def stage_widths(text: str) -> tuple[int, ...]:
    """'64,96' -> (64, 96): one stage's convolution widths, for --stages."""
    try:
        widths = tuple(int(width) for width in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not comma-separated channel counts, e.g. 64,96"
        ) from None
    if any(width < 1 for width in widths):
        raise argparse.ArgumentTypeError(f"{text!r}: channel counts must be at least 1")
    return widths


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "train",
        run,
        help="train the CNN on MNIST and export it to ONNX",
        description="Train the CNN with augmentation, pick the best epoch on a validation split carved "
        "from the training set, and write model.pt, model.onnx, metrics.json and training_curves.png.",
        epilog="examples:\n  rthdr train --epochs 1 --limit 2000 --out runs/smoke   # a one-minute check\n"
        "  rthdr train --out runs/full                            # the shipped model's recipe",
    )
    add_data_dir(parser)
    parser.add_argument("--out", default="runs/latest", help="output folder")
    add_settings(parser, TrainConfig)
    shipped = " ".join(stages_words(ModelConfig().stages))
    parser.add_argument(
        "--stages",
        type=stage_widths,
        nargs="+",
        default=None,
        metavar="WIDTHS",
        help="the network's shape: per stage, the comma-separated widths of its 3x3 convolutions "
        f"(default: {shipped}, the shipped network; max-pooling between stages)",
    )


def config_from(args: argparse.Namespace) -> TrainConfig:
    """The settings the flags give. With --init the network's shape is the checkpoint's, which run()
    reads; --stages cannot change it."""
    if args.stages and args.init:
        raise ModelError(
            "--stages and --init do not go together: the network from --init keeps its own shape"
        )
    model = ModelConfig(stages=tuple(args.stages)) if args.stages else ModelConfig()
    return settings_from(args, TrainConfig, model=model)


def run(args: argparse.Namespace) -> int:
    from rthdr.training.model import load_checkpoint, members
    from rthdr.training.train import train

    for flag, path in (("--teacher", args.teacher), ("--init", args.init)):
        if path and not Path(path).is_file():
            raise ModelError(
                f"{flag} {path}: no such file; give a checkpoint from rthdr train, e.g. {SHIPPED_WEIGHTS}"
            )
    cfg = config_from(args)
    teacher = load_checkpoint(cfg.teacher)[0] if cfg.teacher else None
    start_from = members(load_checkpoint(cfg.init)[0])[0] if cfg.init else None
    if start_from is not None:
        cfg.model = start_from.config
    metrics = train(cfg, args.out, args.data_dir, start_from, teacher)
    print(
        f"best validation accuracy {100 * metrics['val_accuracy']:.2f} % at epoch {metrics['best_epoch']} "
        f"({metrics['parameters']:,} parameters, {metrics['train_seconds']:.0f} s)\n"
        f"wrote {args.out}/model.pt, model.onnx, metrics.json, training_curves.png"
    )
    return 0
