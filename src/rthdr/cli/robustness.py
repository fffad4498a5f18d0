"""`rthdr robustness`: accuracy of PyTorch checkpoints under attacks and common corruptions."""

from __future__ import annotations

import argparse

from rthdr.cli.common import Commands, add_command, add_data_dir, show_report
from rthdr.core.inference import SHIPPED_WEIGHTS


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "robustness",
        run,
        help="accuracy under adversarial attacks and common corruptions",
        description="Measure test accuracy under white-box FGSM and PGD attacks (L-infinity, epsilon 0 to "
        "0.3 in pixel units of [0, 1]) and under common corruptions (noise, blur, rotation, thick and thin "
        "strokes, inversion), for one or more PyTorch checkpoints; write a table and a plot.",
        epilog="example:\n  rthdr robustness src/rthdr/models/digitnet.pt src/rthdr/models/digitnet-robust.pt",
    )
    parser.add_argument("weights", nargs="*", default=[str(SHIPPED_WEIGHTS)], help="PyTorch checkpoints")
    parser.add_argument("--limit", type=int, default=2000, help="test images to attack")
    parser.add_argument("--quick", action="store_true", help="three epsilons only (a smoke run)")
    parser.add_argument("--out", default="docs/results/robustness", help="output folder")
    add_data_dir(parser)


def run(args: argparse.Namespace) -> int:
    from rthdr.evaluation.robustness import EPSILONS, QUICK_EPSILONS, measure_checkpoints, write_reports

    epsilons = QUICK_EPSILONS if args.quick else EPSILONS
    reports = measure_checkpoints(args.weights, args.data_dir, args.limit, epsilons)
    show_report(write_reports(reports, args.out))
    return 0
