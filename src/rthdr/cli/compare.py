"""`rthdr compare`: the CNN beside k-NN, an SVM and an MLP on the same MNIST split."""

from __future__ import annotations

import argparse

from rthdr.cli.common import Commands, add_command, add_data_dir, add_float_model, show_report


def add_parser(commands: Commands) -> None:
    parser = add_command(
        commands,
        "compare",
        run,
        help="compare the CNN with k-NN, an SVM and an MLP (the paper's table)",
        description="Train k-nearest neighbours, an RBF-kernel SVM and a multi-layer perceptron with "
        "scikit-learn on the same MNIST split and compare them with the shipped CNN: test accuracy, training "
        "time, one-image and batch prediction time, model size. Writes a Markdown table and a bar chart.",
        epilog="examples:\n  rthdr compare                 # about 10 minutes on 2 cores\n"
        "  rthdr compare --quick         # seconds: 2,000 training and 500 test images",
    )
    add_data_dir(parser)
    add_float_model(parser, "of the CNN (the network as trained)")
    parser.add_argument("--quick", action="store_true", help="small subsets (a smoke run)")
    parser.add_argument("--svm-images", type=int, default=10_000, help="training images for the SVM")
    parser.add_argument("--out", default="docs/results/compare", help="output folder")


def run(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.compare import compare, write_reports

    results = compare(
        Classifier(args.model), args.data_dir, quick=args.quick, svm_train_images=args.svm_images
    )
    show_report(write_reports(results, args.out))
    return 0
