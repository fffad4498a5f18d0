"""The `rthdr` command: one module per command in this package, each with its flags (add_parser)
and a run() that calls the library and prints; this module only puts them together."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rthdr.cli import (
    batch,
    bench,
    calibrate,
    compare,
    data,
    evaluate,
    export,
    predict,
    release,
    reviews,
    robustness,
    serve,
    train,
    train_onedigit,
    train_strokes,
)
from rthdr.cli.common import HelpFormatter
from rthdr.core.errors import InputError, ModelError
from rthdr.data.mnist import DataError

# In the order `rthdr --help` lists them.
COMMANDS = (
    train,
    data,
    evaluate,
    predict,
    batch,
    reviews,
    train_onedigit,
    train_strokes,
    release,
    calibrate,
    compare,
    robustness,
    bench,
    export,
    serve,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rthdr",
        description="Real-time handwritten digit recognition: train, evaluate, predict and serve.",
        formatter_class=HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (DataError, ModelError, InputError) as exc:  # what the user can fix: a message, not a traceback
        print(f"rthdr: error: {exc}", file=sys.stderr)
        return 2
