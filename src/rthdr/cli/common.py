"""What several commands share: the help format, the flags they have in common, the flags made
from a config dataclass, and how a command prints the report it wrote.

Nothing here imports torch: `rthdr serve` is the serving image's entry point, and the whole parser
is built before any command runs.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from rthdr.training.config import flag_name, settings, value_type

# What `add_subparsers` returns: every command module's add_parser() adds its command to it.
Commands = argparse._SubParsersAction
Config = TypeVar("Config")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show every flag's default, and keep the examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:  # the help text says where the default comes from
            return action.help
        return super()._get_help_string(action)


def add_command(
    commands: Commands, name: str, run: Callable[[argparse.Namespace], int], help: str, **options: Any
) -> argparse.ArgumentParser:
    """A command's parser, with the shared help format; `run(args)` is called when it is chosen."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name, help=help, formatter_class=HelpFormatter, **options
    )
    parser.set_defaults(handler=run)
    return parser


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the four MNIST IDX files (.gz or raw); "
        "else $RTHDR_DATA_DIR, else ~/.cache/rthdr/mnist",
    )


def add_model(parser: argparse.ArgumentParser) -> None:
    from rthdr.core.inference import DEFAULT_MODEL

    parser.add_argument(
        "--model",
        default=os.environ.get("RTHDR_MODEL") or str(DEFAULT_MODEL),
        help="ONNX model file (also $RTHDR_MODEL); the shipped network in INT8, as served",
    )


def add_float_model(parser: argparse.ArgumentParser, what: str) -> None:
    from rthdr.core.inference import FLOAT_MODEL

    parser.add_argument("--model", default=str(FLOAT_MODEL), help=f"float ONNX model file {what}")


def add_one_digit(parser: argparse.ArgumentParser) -> None:
    """--one-digit, read by rthdr.core.inference.OneDigitCheck.from_flag."""
    parser.add_argument(
        "--one-digit",
        default="",
        metavar="PATH",
        help="with --multi: the one-digit check that weighs cuts between touching digits "
        "(default: the shipped check where it exists; 'none' reads without one)",
    )


def add_settings(parser: argparse.ArgumentParser, config: type) -> None:
    """A flag for each setting of a config dataclass (rthdr.training.config.setting), with the
    field's default and help; True/False settings get --NAME and --no-NAME."""
    for option in settings(config):
        flag, kind = flag_name(option), value_type(config, option)
        extra = {k: v for k, v in option.metadata.items() if k not in ("help", "flag")}
        if kind is bool:
            extra["action"] = argparse.BooleanOptionalAction
        else:
            extra["type"] = kind
        if "flag" in option.metadata and "metavar" not in extra:
            extra["metavar"] = flag.removeprefix("--").upper()  # --elastic ELASTIC, not ELASTIC_PX
        parser.add_argument(
            flag, dest=option.name, default=option.default, help=option.metadata["help"], **extra
        )


def settings_from(args: argparse.Namespace, config: type[Config], **others: Any) -> Config:
    """The config that add_settings' flags describe; `others` gives the fields that are not flags."""
    return config(**{option.name: getattr(args, option.name) for option in settings(config)}, **others)


def show_report(paths: list[Path], made: Iterable[Path] = ()) -> None:
    """Print a report's Markdown table (the second file written) and every file written."""
    print(paths[1].read_text())
    print("wrote " + ", ".join(str(p) for p in [*made, *paths]))


def add_character_model(parser: argparse.ArgumentParser, use: str) -> None:
    """--character-model, the shipped charnet by default; `use` says when and what for."""
    from rthdr.core.inference import DEFAULT_CHARACTER_MODEL

    parser.add_argument(
        "--character-model",
        default=str(DEFAULT_CHARACTER_MODEL),
        metavar="ONNX",
        help=use,
    )


def add_charset(parser: argparse.ArgumentParser, digits_checked: bool = True) -> None:
    """--charset and the models that read it, as `rthdr predict` and `rthdr batch` take them;
    `digits_checked`: whether charset digits is checked by the character model too."""
    from rthdr.core.charsets import CHARSETS, DEFAULT_CHARSET

    digits = (
        "digits (checked by the character model: a letter says 'not a digit')"
        if digits_checked
        else "digits (the digit model alone)"
    )
    parser.add_argument(
        "--charset",
        choices=tuple(CHARSETS),
        default=DEFAULT_CHARSET,
        help=f"what to read: {digits}, letters, alphanumeric, or the digits of devanagari, arabic-indic or "
        "persian (default: %(default)s)",
    )
    check = " and the not-a-digit check" if digits_checked else ""
    parser.add_argument(
        "--character-model",
        default="",
        metavar="ONNX",
        help=f"the character model for --charset letters/alphanumeric{check} (default: the shipped charnet.int8.onnx"
        + ("; 'none': digits unchecked)" if digits_checked else ")"),
    )
    parser.add_argument(
        "--script-model",
        default="",
        metavar="ONNX",
        help="the script model for --charset devanagari/arabic-indic/persian (default: the shipped scriptnet.int8.onnx)",
    )
