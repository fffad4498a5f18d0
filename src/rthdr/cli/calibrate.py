"""`rthdr calibrate`: fit a released network's temperature on its validation split, into its card."""

from __future__ import annotations

import argparse

from rthdr.cli.common import Commands, add_command, add_data_dir
from rthdr.core.inference import MODELS_DIR


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "calibrate",
        run,
        help="make a released model's probabilities mean what they say (temperature scaling)",
        description="Fit the temperature that makes the network's probabilities calibrated on its validation "
        "split (held-out training images, never the test set), write it into NAME.card.json, where serving "
        "reads it, with the calibration error before and after, and draw the reliability diagram. "
        "`rthdr release` does this itself; this command calibrates a model released before.",
        epilog="example:\n  rthdr calibrate            # the shipped digitnet",
    )
    parser.add_argument("--models-dir", default=str(MODELS_DIR), help="where the released model lives")
    parser.add_argument("--images-dir", default="docs/images", help="the diagram goes in IMAGES_DIR/NAME")
    parser.add_argument(
        "--name", default="digitnet", help="the released network: NAME.onnx and NAME.card.json"
    )
    add_data_dir(parser)


def run(args: argparse.Namespace) -> int:
    from rthdr.evaluation.modelcard import calibrate_card

    card = calibrate_card(args.models_dir, args.images_dir, args.data_dir, args.name)
    c, u = card["calibration"], card["metrics"]["uncertain_flag_on_validation"]
    print(
        f"{args.name}: temperature {c['temperature']}; test calibration error {100 * c['test_ece_before']:.2f} % "
        f"-> {100 * c['test_ece_after']:.2f} %; under {u['uncertain_below']} flags {100 * u['uncertain_share']:.2f} % "
        f"of validation answers and {100 * u['errors_flagged_uncertain']:.0f} % of its errors"
    )
    return 0
