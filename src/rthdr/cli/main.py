"""The `rthdr` command: parses arguments, calls the library, prints results. No logic lives here."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from rthdr.core.inference import (
    DEFAULT_ONE_DIGIT_CHECK,
    MODELS_DIR,
    SHIPPED_WEIGHTS,
    ModelError,
    OneDigitCheck,
)
from rthdr.data.mnist import DataError


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Show every flag's default, and keep the examples' line breaks."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None:  # the help text says where the default comes from
            return action.help
        return super()._get_help_string(action)


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=None,
        help="folder with the four MNIST IDX files (.gz or raw); "
        "else $RTHDR_DATA_DIR, else ~/.cache/rthdr/mnist",
    )


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


def cmd_train(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rthdr.training.model import ModelConfig, load_checkpoint, members
    from rthdr.training.train import TrainConfig, train

    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        limit=args.limit,
        patience=args.patience,
        elastic_px=args.elastic,
        seed=args.seed,
        threads=args.threads,
        adversarial=args.adversarial,
        adversarial_eps=args.adversarial_eps,
        distill_weight=args.distill_weight,
        distill_temperature=args.distill_temperature,
    )
    for flag, path in (("--teacher", args.teacher), ("--init", args.init)):
        if path and not Path(path).is_file():
            raise ModelError(
                f"{flag} {path}: no such file; give a checkpoint from rthdr train, e.g. {SHIPPED_WEIGHTS}"
            )
    if args.stages and args.init:
        raise ModelError(
            "--stages and --init do not go together: the network from --init keeps its own shape"
        )
    if args.stages:
        cfg.model = ModelConfig(stages=args.stages)
    teacher = None
    if args.teacher:
        teacher, cfg.teacher = load_checkpoint(args.teacher)[0], args.teacher
    start_from = None
    if args.init:
        start_from = members(load_checkpoint(args.init)[0])[0]
        cfg.model, cfg.init = start_from.config, args.init
    metrics = train(cfg, args.out, args.data_dir, start_from, teacher)
    print(
        f"best validation accuracy {100 * metrics['val_accuracy']:.2f} % at epoch {metrics['best_epoch']} "
        f"({metrics['parameters']:,} parameters, {metrics['train_seconds']:.0f} s)\n"
        f"wrote {args.out}/model.pt, model.onnx, metrics.json, training_curves.png"
    )
    return 0


def add_one_digit(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--one-digit",
        default="",
        metavar="PATH",
        help="with --multi: the one-digit check that weighs cuts between touching digits "
        "(default: the shipped check where it exists; 'none' reads without one)",
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


def cmd_data_download(args: argparse.Namespace) -> int:
    from rthdr.data.mnist import MIRRORS, download_mnist

    directory = download_mnist(args.data_dir, tuple(args.mirror or MIRRORS), progress=not args.quiet)
    print(f"MNIST is ready in {directory} (four files, SHA-256 verified)")
    return 0


def cmd_data_verify(args: argparse.Namespace) -> int:
    from rthdr.data.mnist import load_mnist, resolve_data_dir

    for split in ("train", "test"):
        images, labels = load_mnist(split, args.data_dir)
        print(f"{split}: {len(images):,} images, {len(labels):,} labels, SHA-256 verified")
    print(f"MNIST in {resolve_data_dir(args.data_dir)} is complete")
    return 0


def load_one_digit(path: str) -> OneDigitCheck | None:
    """The one-digit check for number reading: the file given, the shipped one if present, or none."""
    from rthdr.core.inference import DEFAULT_ONE_DIGIT_CHECK

    if path == "none":
        return None
    return OneDigitCheck(path) if path else OneDigitCheck.if_present(DEFAULT_ONE_DIGIT_CHECK)


def cmd_train_onedigit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rthdr.training.onedigit import train_one_digit

    metrics = train_one_digit(
        Path(args.out),
        args.data_dir,
        numbers=args.numbers,
        digits=args.digits,
        epochs=args.epochs,
        touching=args.touching,
        seed=args.seed,
        threads=args.threads,
    )
    validation = metrics["validation"]
    assert isinstance(validation, dict)
    print(
        f"validation parts ({metrics['validation_parts']:,}, from numbers of validation digits): "
        f"{100 * validation['accuracy']:.2f} % right, {100 * validation['digits_kept']:.2f} % of single "
        f"digits kept, {100 * validation['non_digits_rejected']:.2f} % of other parts rejected\n"
        f"wrote {args.out} and {Path(args.out).with_suffix('.json')}"
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.evaluate import evaluate, write_report

    if args.multi:
        return evaluate_multi(args)

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


def evaluate_multi(args: argparse.Namespace) -> int:
    from dataclasses import asdict
    from pathlib import Path

    from rthdr.core.inference import Classifier
    from rthdr.evaluation.evaluate import evaluate_numbers

    lengths = tuple(args.lengths or (range(3, 11) if args.limit is None else (3, 5)))
    per_length = args.per_length if args.limit is None else args.limit
    one_digit = load_one_digit(args.one_digit)
    results = evaluate_numbers(
        Classifier(args.model), args.data_dir, lengths, per_length, one_digit=one_digit
    )
    check = f"with the one-digit check {one_digit.path}" if one_digit else "without the one-digit check"
    print(f"synthetic photos of numbers made of MNIST test digits, {per_length} per length, {check}")
    print("digits  whole-number accuracy %  per-digit accuracy %")
    for r in results:
        print(f"{r.length:>6}  {100 * r.string_accuracy:23.1f}  {100 * r.digit_accuracy:20.2f}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "numbers.json").write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    print(f"wrote {out / 'numbers.json'}")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from rthdr.core.files import predict_files, read_number_files

    results = (
        read_number_files(args.images, args.model, load_one_digit(args.one_digit))
        if args.multi
        else predict_files(args.images, args.model)
    )
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for result in results:
            print(result.describe())
    return 0 if all(r.error is None for r in results) else 1


def cmd_release(args: argparse.Namespace) -> int:
    from rthdr.evaluation.modelcard import release

    card = release(args.runs, args.models_dir, args.images_dir, args.data_dir, args.name)
    metrics, int8 = card["metrics"], card["int8"]
    for file, figures in ((f"{card['name']}.onnx", metrics), (int8["file"], int8)):
        print(
            f"released {file}: test accuracy {100 * figures['test_accuracy']:.2f} % ({figures['test_errors']} "
            f"errors), single-image p50 {figures['single_image_latency_ms']['p50']} ms"
        )
    print(
        f"wrote {args.models_dir}/{args.name}.card.md and .card.json; plots in {args.images_dir}/{args.name}"
    )
    if min(metrics["test_accuracy"], int8["test_accuracy"]) < args.min_accuracy:
        print(f"warning: test accuracy below the {100 * args.min_accuracy:.1f} % asked for", file=sys.stderr)
        return 1
    return 0


def cmd_robustness(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from rthdr.data.mnist import load_mnist
    from rthdr.evaluation.robustness import EPSILONS, measure, write_reports
    from rthdr.training.model import load_checkpoint

    images, labels = load_mnist("test", args.data_dir)
    images, labels = images[: args.limit], labels[: args.limit]
    epsilons = (0.0, 0.1, 0.3) if args.quick else EPSILONS
    reports = []
    for weights in args.weights:
        model, _ = load_checkpoint(weights)

        def predict(batch, model=model):
            with torch.no_grad():
                return torch.softmax(model(torch.from_numpy(batch).unsqueeze(1)), 1).numpy()

        reports.append(measure(Path(weights).stem, model, predict, images, labels, epsilons))
    paths = write_reports(reports, args.out)
    print(paths[1].read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from rthdr.core.inference import Classifier
    from rthdr.evaluation.compare import compare, write_reports

    results = compare(
        Classifier(args.model), args.data_dir, quick=args.quick, svm_train_images=args.svm_images
    )
    paths = write_reports(results, args.out)
    print(paths[1].read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from rthdr.bench.run import run, write

    command = (
        "rthdr bench"
        + (" --quick" if args.quick else "")
        + (f" --versus {args.versus}" if args.versus else "")
    )
    report = run(Path(args.model), Path(args.weights), args.quick, args.workers, command, args.versus)
    paths = write(report, args.out)
    print(paths[1].read_text())
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


INT8_LABEL = "INT8 (static, QDQ; served)"


def cmd_export(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    from rthdr.core.preprocess import preprocess_all
    from rthdr.data.mnist import load_mnist
    from rthdr.evaluation.edge import calibration_images, measure, prune_and_finetune, quantize_int8, report
    from rthdr.training.export import export_onnx
    from rthdr.training.model import Ensemble, save_checkpoint

    fp32 = Path(args.model)
    variants = [("FP32", fp32)]
    if args.prune:
        with tempfile.TemporaryDirectory() as runs:
            networks = prune_and_finetune(
                Path(args.weights), args.prune, args.finetune_epochs, Path(runs), args.data_dir
            )
        pruned_model = networks[0] if len(networks) == 1 else Ensemble(networks)
        pruned = fp32.with_suffix(".pruned.onnx")
        export_onnx(pruned_model, pruned)
        save_checkpoint(pruned_model, str(pruned.with_suffix(".pt")))
        variants.append(("pruned (structured), fine-tuned", pruned))
    int8 = fp32.with_suffix(".int8.onnx")
    if args.int8:
        quantize_int8(fp32, int8, calibration_images(args.data_dir, args.calibration))
        variants.append((INT8_LABEL, int8))
    for name, path in (
        ("pruned (structured), fine-tuned", fp32.with_suffix(".pruned.onnx")),
        (INT8_LABEL, int8),
    ):
        if path.is_file() and all(path != known for _, known in variants):
            variants.append((name, path))  # made by an earlier run: measured with the rest
    images, labels = load_mnist("test", args.data_dir)
    inputs = preprocess_all(images[: args.limit])
    results = measure(variants, inputs, labels[: args.limit], args.quick)
    paths = report(results, args.out)
    print(paths[1].read_text())
    print("wrote " + ", ".join(str(p) for p in [path for _, path in variants[1:]] + paths))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from rthdr.api.server import serve
    from rthdr.api.settings import get_settings

    settings = get_settings()  # RTHDR_* variables; flags given on the command line win
    return serve(
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=settings.workers if args.workers is None else args.workers,
        model=args.model,
        reload=args.reload,
    )


def build_parser() -> argparse.ArgumentParser:
    from rthdr.evaluation.evaluate import TEST_ACCURACY_TARGET  # torch-free: the serving image has no torch

    parser = argparse.ArgumentParser(
        prog="rthdr",
        description="Real-time handwritten digit recognition: train, evaluate, predict and serve.",
        formatter_class=HelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = commands.add_parser(
        "train",
        help="train the CNN on MNIST and export it to ONNX",
        formatter_class=HelpFormatter,
        description="Train the CNN with augmentation, pick the best epoch on a validation split carved "
        "from the training set, and write model.pt, model.onnx, metrics.json and training_curves.png.",
        epilog="examples:\n  rthdr train --epochs 1 --limit 2000 --out runs/smoke   # a one-minute check\n"
        "  rthdr train --out runs/full                            # the shipped model's recipe",
    )
    add_data_dir(train)
    train.add_argument("--out", default="runs/latest", help="output folder")
    train.add_argument("--epochs", type=int, default=30, help="training epochs")
    train.add_argument("--batch-size", type=int, default=128, help="images per step")
    train.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (one-cycle schedule)")
    train.add_argument("--limit", type=int, default=None, help="train on only this many images")
    train.add_argument("--patience", type=int, default=8, help="early-stopping patience in epochs")
    train.add_argument("--elastic", type=float, default=0.8, help="elastic distortion in pixels (0 = off)")
    train.add_argument("--seed", type=int, default=0, help="random seed (data split, init, augmentation)")
    train.add_argument("--threads", type=int, default=0, help="CPU threads for PyTorch (0 = all)")
    train.add_argument(
        "--adversarial",
        choices=["pgd", "fgsm"],
        default=None,
        help="adversarial training: every batch is also learned in an attacked copy",
    )
    train.add_argument(
        "--init",
        default=None,
        help="start from these weights (a checkpoint; an ensemble's first network) and fine-tune",
    )
    train.add_argument(
        "--adversarial-eps",
        type=float,
        default=0.1,
        help="attack budget for adversarial training (L-infinity, pixels in [0, 1])",
    )
    train.add_argument(
        "--stages",
        type=stage_widths,
        nargs="+",
        default=None,
        metavar="WIDTHS",
        help="the network's shape: per stage, the comma-separated widths of its 3x3 convolutions "
        "(default: 16 32,32 64,64,128, the shipped network; max-pooling between stages)",
    )
    train.add_argument(
        "--teacher",
        default=None,
        metavar="CHECKPOINT",
        help="distil this trained model (a .pt checkpoint) into the one being trained",
    )
    train.add_argument(
        "--distill-weight",
        type=float,
        default=0.5,
        help="with --teacher: the share of the loss that is the teacher's answers (the rest, the labels)",
    )
    train.add_argument(
        "--distill-temperature",
        type=float,
        default=2.0,
        help="with --teacher: softens both answers, so the teacher's second choices count",
    )
    train.set_defaults(handler=cmd_train)

    data = commands.add_parser(
        "data", help="download or verify the MNIST files", formatter_class=HelpFormatter
    )
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    download = data_commands.add_parser(
        "download", help="fetch MNIST from the public mirrors and verify it", formatter_class=HelpFormatter
    )
    add_data_dir(download)
    download.add_argument(
        "--mirror",
        action="append",
        help="base URL to fetch from (repeatable); default: the public mirrors torchvision uses",
    )
    download.add_argument("--quiet", action="store_true", help="no progress bars")
    download.set_defaults(handler=cmd_data_download)
    verify = data_commands.add_parser(
        "verify", help="check the four files' SHA-256 sums", formatter_class=HelpFormatter
    )
    add_data_dir(verify)
    verify.set_defaults(handler=cmd_data_verify)

    evaluate = commands.add_parser(
        "evaluate",
        help="measure a model on the MNIST test set",
        formatter_class=HelpFormatter,
        description="Run the ONNX model on the 10,000 MNIST test images, each through the same "
        "preprocessing the service uses, and write report.json, confusion_matrix.png and misclassified.png.",
    )
    add_data_dir(evaluate)
    add_model(evaluate)
    evaluate.add_argument("--out", default="reports/evaluation", help="output folder")
    evaluate.add_argument(
        "--limit",
        type=int,
        default=None,
        help="only the first N test images (with --multi: N numbers of 3 and 5 digits)",
    )
    evaluate.add_argument(
        "--multi",
        action="store_true",
        help="read whole numbers instead: synthetic photos of 3- to 10-digit numbers "
        "composed from MNIST test digits",
    )
    evaluate.add_argument("--per-length", type=int, default=500, help="with --multi: numbers per length")
    evaluate.add_argument(
        "--lengths",
        type=int,
        nargs="+",
        default=None,
        help="with --multi: the number lengths to read (default: 3 to 10; with --limit: 3 and 5)",
    )
    add_one_digit(evaluate)
    evaluate.set_defaults(handler=cmd_evaluate)

    predict = commands.add_parser(
        "predict",
        help="read the digit in image files",
        formatter_class=HelpFormatter,
        description="Print the digit and confidence for each image (PNG, JPEG, WebP, BMP, GIF): a photo "
        "of a digit on paper, a screenshot, or a 28x28 MNIST-style image.",
        epilog="examples:\n  rthdr predict digit.png\n  rthdr predict --json scans/*.jpg\n"
        "  rthdr predict --multi postcode.jpg     # a whole number: 90210",
    )
    predict.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    predict.add_argument("--json", action="store_true", help="print JSON for machines")
    predict.add_argument(
        "--multi", action="store_true", help="read a whole number (several digits) per image"
    )
    add_model(predict)
    add_one_digit(predict)
    predict.set_defaults(handler=cmd_predict)

    onedigit = commands.add_parser(
        "train-onedigit",
        help="train the one-digit check that number reading weighs its cuts with",
        formatter_class=HelpFormatter,
        description="Render synthetic photos of numbers with MNIST training digits, collect every part "
        "number reading considers (labelled 'one whole digit' or not from which digit drew each pixel), "
        "train a small CNN on them and export it to ONNX, with its metrics on parts of numbers written "
        "with validation digits.",
        epilog="examples:\n  rthdr train-onedigit                      # the shipped check, about 40 minutes\n"
        "  rthdr train-onedigit --numbers 40 --digits 200 --epochs 1 --out /tmp/onedigit.onnx  # a smoke run",
    )
    add_data_dir(onedigit)
    onedigit.add_argument(
        "--out", default=str(DEFAULT_ONE_DIGIT_CHECK), help="ONNX file to write (+ .json metrics)"
    )
    onedigit.add_argument("--numbers", type=int, default=10000, help="synthetic numbers to take parts from")
    onedigit.add_argument("--digits", type=int, default=30000, help="plain MNIST training digits added")
    onedigit.add_argument("--epochs", type=int, default=5, help="training epochs")
    onedigit.add_argument(
        "--touching", type=float, default=0.6, help="share of the gaps between digits closed (touching pairs)"
    )
    onedigit.add_argument("--seed", type=int, default=0, help="random seed")
    onedigit.add_argument("--threads", type=int, default=0, help="CPU threads for PyTorch (0 = all)")
    onedigit.set_defaults(handler=cmd_train_onedigit)

    release = commands.add_parser(
        "release",
        help="ship a trained run: copy its model to models/ and write the model card",
        formatter_class=HelpFormatter,
        description="Export the weights of one run (or several: an ensemble that averages them, as one ONNX "
        "graph) into the models folder, measure it on the validation split and, once, on the MNIST test set, "
        "time it, and write the model card (Markdown and JSON) and its plots.",
        epilog="examples:\n  rthdr train --out runs/a && rthdr release runs/a\n"
        "  rthdr release runs/s1 runs/s2      # a two-network ensemble",
    )
    release.add_argument(
        "runs", nargs="+", metavar="RUN", help="folders written by `rthdr train`; several make an ensemble"
    )
    release.add_argument("--models-dir", default=str(MODELS_DIR), help="where the shipped model lives")
    release.add_argument("--images-dir", default="docs/images", help="the card's plots go in IMAGES_DIR/NAME")
    release.add_argument(
        "--name", default="digitnet", help="the model's name: NAME.onnx, NAME.card.json, ..."
    )
    release.add_argument(
        "--min-accuracy",
        type=float,
        default=TEST_ACCURACY_TARGET,
        help="exit with 1 if the test accuracy is lower (the shipped model's bar)",
    )
    add_data_dir(release)
    release.set_defaults(handler=cmd_release)

    compare = commands.add_parser(
        "compare",
        help="compare the CNN with k-NN, an SVM and an MLP (the paper's table)",
        formatter_class=HelpFormatter,
        description="Train k-nearest neighbours, an RBF-kernel SVM and a multi-layer perceptron with "
        "scikit-learn on the same MNIST split and compare them with the shipped CNN: test accuracy, training "
        "time, one-image and batch prediction time, model size. Writes a Markdown table and a bar chart.",
        epilog="examples:\n  rthdr compare                 # about 10 minutes on 2 cores\n"
        "  rthdr compare --quick         # seconds: 2,000 training and 500 test images",
    )
    add_data_dir(compare)
    add_float_model(compare, "of the CNN (the network as trained)")
    compare.add_argument("--quick", action="store_true", help="small subsets (a smoke run)")
    compare.add_argument("--svm-images", type=int, default=10_000, help="training images for the SVM")
    compare.add_argument("--out", default="docs/compare", help="output folder")
    compare.set_defaults(handler=cmd_compare)

    robustness = commands.add_parser(
        "robustness",
        help="accuracy under adversarial attacks and common corruptions",
        formatter_class=HelpFormatter,
        description="Measure test accuracy under white-box FGSM and PGD attacks (L-infinity, epsilon 0 to "
        "0.3 in pixel units of [0, 1]) and under common corruptions (noise, blur, rotation, thick and thin "
        "strokes, inversion), for one or more PyTorch checkpoints; write a table and a plot.",
        epilog="example:\n  rthdr robustness src/rthdr/models/digitnet.pt src/rthdr/models/digitnet-robust.pt",
    )
    robustness.add_argument("weights", nargs="*", default=[str(SHIPPED_WEIGHTS)], help="PyTorch checkpoints")
    robustness.add_argument("--limit", type=int, default=2000, help="test images to attack")
    robustness.add_argument("--quick", action="store_true", help="three epsilons only (a smoke run)")
    robustness.add_argument("--out", default="docs/robustness", help="output folder")
    add_data_dir(robustness)
    robustness.set_defaults(handler=cmd_robustness)

    bench = commands.add_parser(
        "bench",
        help="measure speed: the model alone, and the service over HTTP under load",
        formatter_class=HelpFormatter,
        description="Time the model alone (ONNX Runtime against PyTorch eager, one thread: single-image p50/p99 "
        "and batch throughput), then start the service and load it with wrk at concurrency 1, 8, 32 and 64, "
        "with micro-batching off and on. Writes benchmarks.md and benchmarks.json.",
        epilog="examples:\n  rthdr bench                  # about 2 minutes\n  rthdr bench --quick          # seconds\n"
        "  rthdr bench --versus HEAD~3  # plus this checkout and 3 commits ago, side by side (2 more minutes)",
    )
    add_model(bench)
    bench.add_argument(
        "--weights", default=str(SHIPPED_WEIGHTS), help="PyTorch weights for the eager comparison"
    )
    bench.add_argument("--workers", type=int, default=2, help="server worker processes")
    bench.add_argument(
        "--quick", action="store_true", help="short runs at concurrency 1 and 8 (a smoke test)"
    )
    bench.add_argument(
        "--versus",
        metavar="REF",
        help="also serve git revision REF (a commit, tag or branch of this repository, run with this "
        "environment's packages) beside this checkout and load the two in turns, so that the "
        "machine's changing speed skews the comparison far less than it does separate runs",
    )
    bench.add_argument("--out", default="docs", help="output folder")
    bench.set_defaults(handler=cmd_bench)

    export = commands.add_parser(
        "export",
        help="make smaller, faster models for the edge: INT8 and pruned",
        formatter_class=HelpFormatter,
        description="--int8: static INT8 quantisation of the ONNX model with ONNX Runtime, calibrated on "
        "training images. --prune R: drop the share R of every convolution's channels (smallest L1 norm), "
        "fine-tune, export. Then measure every variant: file size, test accuracy, latency, throughput.",
        epilog="examples:\n  rthdr export --int8                 # seconds\n"
        "  rthdr export --int8 --prune 0.25    # plus minutes of fine-tuning",
    )
    add_float_model(export, "to quantise and measure the variants against")
    add_data_dir(export)
    export.add_argument("--int8", action="store_true", help="write MODEL.int8.onnx")
    export.add_argument("--prune", type=float, default=0.0, help="share of channels to prune (0 = none)")
    export.add_argument("--weights", default=str(SHIPPED_WEIGHTS), help="PyTorch weights to prune")
    export.add_argument("--finetune-epochs", type=int, default=4, help="fine-tuning epochs after pruning")
    export.add_argument("--calibration", type=int, default=1000, help="training images to calibrate INT8 on")
    export.add_argument("--limit", type=int, default=None, help="test images to measure on (default: all)")
    export.add_argument("--quick", action="store_true", help="short timings (a smoke run)")
    export.add_argument("--out", default="docs", help="where edge.md and edge.json go")
    export.set_defaults(handler=cmd_export)

    serve = commands.add_parser(
        "serve",
        help="serve the web page and the REST API",
        formatter_class=HelpFormatter,
        description="Serve the drawing page at / and the API at /api/v1 (OpenAPI docs at /docs). "
        "Every RTHDR_* setting can also come from the environment (see the README).",
        epilog="examples:\n  rthdr serve                          # http://127.0.0.1:8000\n"
        "  rthdr serve --host 0.0.0.0 --port 80 --workers 4",
    )
    serve.add_argument(
        "--host", default=None, help="address to listen on (default: $RTHDR_HOST or 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=None, help="port (default: $RTHDR_PORT or 8000)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: $RTHDR_WORKERS, or 0 = one per available CPU)",
    )
    serve.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    add_model(serve)
    serve.set_defaults(handler=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (DataError, ModelError) as exc:
        print(f"rthdr: error: {exc}", file=sys.stderr)
        return 2
