"""`rthdr export`: INT8 and pruned variants of the float model, each measured against it."""

from __future__ import annotations

import argparse
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_data_dir, add_float_model, show_report
from rthdr.core.inference import SHIPPED_WEIGHTS


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "export",
        run,
        help="make smaller, faster models for the edge: INT8 and pruned; and the explainer graph",
        description="--int8: static INT8 quantisation of the ONNX model with ONNX Runtime, calibrated on "
        "training images. --prune R: drop the share R of every convolution's channels (smallest L1 norm), "
        "fine-tune, export. Then measure every variant: file size, test accuracy, latency, throughput. "
        "--explainer: only write NETWORK.explainer.onnx from --weights, the guided backpropagation "
        "graph that gives Guided Grad-CAM heatmaps (releases write it themselves).",
        epilog="examples:\n  rthdr export --int8                 # seconds\n"
        "  rthdr export --int8 --prune 0.25    # plus minutes of fine-tuning\n"
        "  rthdr export --explainer --weights src/rthdr/models/charnet.pt",
    )
    add_float_model(parser, "to quantise and measure the variants against")
    add_data_dir(parser)
    parser.add_argument("--int8", action="store_true", help="write MODEL.int8.onnx")
    parser.add_argument("--prune", type=float, default=0.0, help="share of channels to prune (0 = none)")
    parser.add_argument("--weights", default=str(SHIPPED_WEIGHTS), help="PyTorch weights to prune or explain")
    parser.add_argument(
        "--explainer", action="store_true", help="write the explainer of --weights beside them, and stop"
    )
    parser.add_argument("--finetune-epochs", type=int, default=4, help="fine-tuning epochs after pruning")
    parser.add_argument("--calibration", type=int, default=1000, help="training images to calibrate INT8 on")
    parser.add_argument("--limit", type=int, default=None, help="test images to measure on (default: all)")
    parser.add_argument("--quick", action="store_true", help="short timings (a smoke run)")
    parser.add_argument("--out", default="docs/results", help="where edge.md and edge.json go")


def run(args: argparse.Namespace) -> int:
    """Makes the variants asked for, then measures them with every variant an earlier run left."""
    from rthdr.evaluation.edge import (
        calibration_images,
        measure_on_test,
        quantize_int8,
        report,
        variants_beside,
        write_pruned,
    )

    if args.explainer:
        return write_explainer(Path(args.weights))
    fp32, made = Path(args.model), []
    if args.prune:
        made.append(write_pruned(fp32, Path(args.weights), args.prune, args.finetune_epochs, args.data_dir))
    if args.int8:
        made.append(fp32.with_suffix(".int8.onnx"))
        quantize_int8(fp32, made[-1], calibration_images(args.data_dir, args.calibration))
    results = measure_on_test(variants_beside(fp32), args.data_dir, args.limit, args.quick)
    show_report(report(results, args.out), made)
    return 0


def write_explainer(weights: Path) -> int:
    from rthdr.core.inference import network_name
    from rthdr.training.export import export_explainer
    from rthdr.training.model import load_checkpoint

    out = weights.with_name(f"{network_name(weights)}.explainer.onnx")
    parity = export_explainer(load_checkpoint(str(weights))[0], out)
    print(f"wrote {out} (ONNX Runtime within {parity:.1e} of PyTorch)")
    return 0
