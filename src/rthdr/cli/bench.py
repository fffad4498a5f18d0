"""`rthdr bench`: the model alone, then the service over HTTP under load (rthdr.bench)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rthdr.cli.common import Commands, add_command, add_model, show_report
from rthdr.core.inference import SHIPPED_WEIGHTS


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "bench",
        run,
        help="measure speed: the model alone, and the service over HTTP under load",
        description="Time the model alone (ONNX Runtime against PyTorch eager, one thread: single-image p50/p99 "
        "and batch throughput), then start the service and load it with wrk at concurrency 1, 8, 32 and 64, "
        "with micro-batching off and on. Writes benchmarks.md and benchmarks.json.",
        epilog="examples:\n  rthdr bench                  # about 2 minutes\n  rthdr bench --quick          # seconds\n"
        "  rthdr bench --versus HEAD~3  # plus this checkout and 3 commits ago, side by side (2 more minutes)",
    )
    add_model(parser)
    parser.add_argument(
        "--weights", default=str(SHIPPED_WEIGHTS), help="PyTorch weights for the eager comparison"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument(
        "--quick", action="store_true", help="short runs at concurrency 1 and 8 (a smoke test)"
    )
    parser.add_argument(
        "--versus",
        metavar="REF",
        help="also serve git revision REF (a commit, tag or branch of this repository, run with this "
        "environment's packages) beside this checkout and load the two in turns, so that the "
        "machine's changing speed skews the comparison far less than it does separate runs",
    )
    parser.add_argument("--out", default="docs/results", help="output folder")


def run(args: argparse.Namespace) -> int:
    from rthdr import bench

    # The report says how it was made; the flags that change what is measured make that command.
    command = (
        "rthdr bench"
        + (" --quick" if args.quick else "")
        + (f" --versus {args.versus}" if args.versus else "")
    )
    report = bench.run(Path(args.model), Path(args.weights), args.quick, args.workers, command, args.versus)
    show_report(bench.write(report, args.out))
    return 0
