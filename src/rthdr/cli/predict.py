"""`rthdr predict`: the digit (or, with --multi, the number) in each image file."""

from __future__ import annotations

import argparse
import json

from rthdr.cli.common import Commands, add_charset, add_command, add_model, add_one_digit
from rthdr.core.charsets import DEFAULT_CHARSET


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "predict",
        run,
        help="read the digit (or letter) in image files",
        description="Print the digit and confidence for each image (PNG, JPEG, WebP, BMP, GIF): a photo "
        "of a digit on paper, a screenshot, or a 28x28 MNIST-style image.",
        epilog="examples:\n  rthdr predict digit.png\n  rthdr predict --json scans/*.jpg\n"
        "  rthdr predict --multi postcode.jpg     # a whole number: 90210\n"
        "  rthdr predict --charset letters a.png  # a letter: A\n"
        "  rthdr predict --charset devanagari seven.png  # a Devanagari digit: ७",
    )
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    parser.add_argument("--json", action="store_true", help="print JSON for machines")
    parser.add_argument("--multi", action="store_true", help="read a whole number (several digits) per image")
    add_charset(parser)
    add_model(parser)
    add_one_digit(parser)


def run(args: argparse.Namespace) -> int:
    """Exits with 1 if any file could not be read, after printing every file's answer."""
    from rthdr.core.errors import InputError
    from rthdr.core.files import charset_reader, predict_files, read_number_files
    from rthdr.core.inference import OneDigitCheck

    if args.multi and args.charset != DEFAULT_CHARSET:
        raise InputError(
            "multi_digits_only",
            "--multi reads numbers of digits; a line of letters is read by the service: "
            "POST /api/v1/recognize?charset=" + args.charset,
        )
    reader = charset_reader(args.charset, args.character_model, args.script_model)
    results = (
        read_number_files(args.images, args.model, OneDigitCheck.from_flag(args.one_digit))
        if args.multi
        else predict_files(args.images, args.model, args.charset, reader)
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:
            print(result.describe())
    return 0 if all(r.error is None for r in results) else 1
