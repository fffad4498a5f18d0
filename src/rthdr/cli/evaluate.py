"""`rthdr evaluate`: a model on the MNIST test set, one digit per image or (--multi) whole numbers."""

from __future__ import annotations

import argparse
from pathlib import Path

from rthdr.cli.common import (
    Commands,
    add_character_model,
    add_command,
    add_data_dir,
    add_model,
    add_one_digit,
)
from rthdr.core.charsets import CHARSETS, SCRIPT_CHARSETS
from rthdr.core.inference import DEFAULT_SCRIPT_MODEL


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "evaluate",
        run,
        help="measure a model on the MNIST test set (or, with --charset, the character model on a corpus)",
        description="Run the ONNX model on the 10,000 MNIST test images, each through the same "
        "preprocessing the service uses, and write report.json, confusion_matrix.png and misclassified.png.",
    )
    add_data_dir(parser)
    add_model(parser)
    parser.add_argument("--out", default="reports/evaluation", help="output folder")
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="only the first N test images (with --multi: N numbers of 3 and 5 digits)",
    )
    parser.add_argument(
        "--multi",
        action="store_true",
        help="read whole numbers instead: synthetic photos of 3- to 10-digit numbers "
        "composed from MNIST test digits",
    )
    parser.add_argument("--per-length", type=int, default=500, help="with --multi: numbers per length")
    parser.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=None,
        help="with --multi: the number lengths to read (default: 3 to 10; with --limit: 3 and 5)",
    )
    add_one_digit(parser)
    parser.add_argument(
        "--charset",
        choices=tuple(CHARSETS),
        default=None,
        help="measure the character model instead, answering in this charset, on --corpus; digits: the "
        "digit model checked by the character model, as served, on MNIST test and --corpus; devanagari, "
        "arabic-indic, persian: the script model",
    )
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="with --charset: the corpus to read (default: the held-out families, data/corpus-validation.npz "
        "made by `rthdr data corpus --split validation`; for the scripts data/scripts-validation.npz, made "
        "with --charset scripts)",
    )
    add_character_model(parser, "with --charset: the character model")
    parser.add_argument(
        "--script-model",
        default=str(DEFAULT_SCRIPT_MODEL),
        metavar="ONNX",
        help="with --charset devanagari, arabic-indic or persian: the script model (default: the shipped scriptnet)",
    )


def run(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.evaluate import evaluate, write_report

    if args.multi:
        return run_multi(args)
    if args.charset:
        return run_charset(args)
    evaluation, images, _, _ = evaluate(Classifier(args.model), args.data_dir, args.limit)
    paths = write_report(evaluation, images, args.out)
    print(f"model {evaluation.model} ({evaluation.version}) on {evaluation.test_images:,} MNIST test images")
    print(
        f"accuracy {100 * evaluation.accuracy:.2f} % through the serving preprocessing "
        f"({evaluation.errors} errors); {100 * evaluation.raw_accuracy:.2f} % on the raw test tensors"
    )
    print("digit      " + " ".join(f"{d:>6}" for d in range(10)))
    print("recall %   " + " ".join(f"{100 * a:6.2f}" for a in evaluation.per_class_accuracy))
    print("precision %" + " ".join(f"{100 * p:6.2f}" for p in evaluation.per_class_precision))
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def run_multi(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier, OneDigitCheck
    from rthdr.evaluation.evaluate import evaluate_numbers, write_numbers_report

    # --limit makes a quick run: fewer numbers, of two lengths only.
    lengths = tuple(args.lengths or (range(3, 11) if args.limit is None else (3, 5)))
    per_length = args.per_length if args.limit is None else args.limit
    one_digit = OneDigitCheck.from_flag(args.one_digit)
    results = evaluate_numbers(
        Classifier(args.model), args.data_dir, lengths, per_length, one_digit=one_digit
    )
    check = f"with the one-digit check {one_digit.path}" if one_digit else "without the one-digit check"
    print(f"synthetic photos of numbers made of MNIST test digits, {per_length} per length, {check}")
    print("digits  whole-number accuracy %  per-digit accuracy %")
    for r in results:
        print(f"{r.length:>6}  {100 * r.string_accuracy:23.1f}  {100 * r.digit_accuracy:20.2f}")
    print(f"wrote {write_numbers_report(results, args.out)}")
    return 0


def run_charset(args: argparse.Namespace) -> int:
    import json

    from rthdr.core.errors import ModelError
    from rthdr.core.inference import Classifier
    from rthdr.data.corpus import load
    from rthdr.evaluation.characters import evaluate_charset

    scripts = args.charset in SCRIPT_CHARSETS
    if args.corpus is None:
        args.corpus = Path("data/scripts-validation.npz" if scripts else "data/corpus-validation.npz")
    if not args.corpus.is_file():
        raise ModelError(
            f"--corpus {args.corpus}: no such file; make it with `rthdr data corpus --split validation "
            f"{'--charset scripts ' if scripts else ''}--out {args.corpus}`"
        )
    if args.charset == "digits":
        return run_digits_mode(args)
    model = args.script_model if scripts else args.character_model
    report = evaluate_charset(Classifier(model), load(args.corpus), args.charset)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{args.charset}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"{report['model']}, charset {args.charset}: {report['samples']:,} samples of {args.corpus} "
        f"({', '.join(report['families'])})"
    )
    sure = report["accuracy_when_not_uncertain"]
    print(
        f"accuracy {100 * report['accuracy']:.2f} %; {100 * report['uncertain_share']:.1f} % answered uncertain"
        + (f", the others {100 * sure:.2f} % right" if sure is not None else "")
    )
    worst = sorted(report["per_class_accuracy"].items(), key=lambda item: item[1])[:8]
    print("hardest classes: " + ", ".join(f"{c} {100 * a:.0f} %" for c, a in worst))
    print(f"wrote {out / (args.charset + '.json')}")
    return 0


def run_digits_mode(args: argparse.Namespace) -> int:
    import json

    from rthdr.core.inference import Classifier
    from rthdr.data.corpus import load
    from rthdr.evaluation.characters import evaluate_digits_mode

    report = evaluate_digits_mode(
        Classifier(args.model), Classifier(args.character_model), load(args.corpus), args.data_dir
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "digits.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"charset digits as served: {report['digit_model']}, checked by {report['character_model']}")
    for name in ("MNIST test", "corpus digits", "corpus letters and none"):
        r = report[name]
        line = f"{name} ({r['images']:,}): {100 * r['uncertain_share']:.2f} % uncertain {r['reasons']}"
        if "accuracy" in r:
            line += (
                f"; accuracy {100 * r['accuracy']:.2f} %, {100 * r['errors_flagged']:.0f} % of its {r['errors']} "
                f"errors flagged, {100 * r['accuracy_when_not_uncertain']:.2f} % right when not"
            )
            worst = sorted(r["not_a_digit_by_digit"].items(), key=lambda item: -item[1])[:3]
            line += "; flagged not_a_digit most: " + ", ".join(f"{d} {100 * v:.1f} %" for d, v in worst)
        print(line)
    print(f"wrote {out / 'digits.json'}")
    return 0
