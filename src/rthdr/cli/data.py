"""`rthdr data download` and `rthdr data verify`: the MNIST files, fetched and checked;
`rthdr data corpus`: the generated character corpus beyond MNIST (fonts, pens, negatives)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rthdr.cli.common import Commands, HelpFormatter, add_command, add_data_dir


def add_parser(commands: Commands) -> None:
    from rthdr.data.corpus import CORPUS_CHARSETS, SPLITS  # no torch: cv2 and Pillow, as the core

    data = commands.add_parser(
        "data",
        help="download or verify the MNIST files, or generate the character corpus",
        formatter_class=HelpFormatter,
    )
    actions = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    download = add_command(
        actions, "download", run_download, help="fetch MNIST from the public mirrors and verify it"
    )
    add_data_dir(download)
    download.add_argument(
        "--mirror",
        action="append",
        help="base URL to fetch from (repeatable); default: the public mirrors torchvision uses",
    )
    download.add_argument("--quiet", action="store_true", help="no progress bars")
    verify = add_command(actions, "verify", run_verify, help="check the four files' SHA-256 sums")
    add_data_dir(verify)
    corpus = add_command(
        actions,
        "corpus",
        run_corpus,
        help="generate the character corpus from Debian's fonts and Hershey's pen fonts (docs/corpus.md)",
    )
    corpus.add_argument("--out", type=Path, default=Path("data/corpus.npz"), help="the .npz to write")
    corpus.add_argument("--per-class", type=int, default=2000, help="samples of each class (and of none)")
    corpus.add_argument("--seed", type=int, default=0, help="same seed, same images")
    corpus.add_argument(
        "--split",
        choices=SPLITS,
        default="train",
        help="which font families: validation's are never in train",
    )
    corpus.add_argument(
        "--charset",
        choices=CORPUS_CHARSETS,
        default="alphanumeric",
        help="the classes: scripts = the digits of Devanagari, Arabic-Indic and Persian (the script model's)",
    )
    corpus.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet PNG here")
    corpus.add_argument("--quiet", action="store_true", help="no progress bar")


def run_download(args: argparse.Namespace) -> int:
    from rthdr.data.mnist import MIRRORS, download_mnist

    directory = download_mnist(args.data_dir, tuple(args.mirror or MIRRORS), progress=not args.quiet)
    print(f"MNIST is ready in {directory} (four files, SHA-256 verified)")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from rthdr.data.mnist import load_mnist, resolve_data_dir

    for split in ("train", "test"):
        images, labels = load_mnist(split, args.data_dir)
        print(f"{split}: {len(images):,} images, {len(labels):,} labels, SHA-256 verified")
    print(f"MNIST in {resolve_data_dir(args.data_dir)} is complete")
    return 0


def run_corpus(args: argparse.Namespace) -> int:
    import time

    from rthdr.data.corpus import contact_sheet, generate, save

    start = time.perf_counter()
    corpus = generate(args.per_class, args.charset, args.split, args.seed, progress=not args.quiet)
    seconds = time.perf_counter() - start
    # the command that makes this file again, every flag that changes its bytes spelled out
    command = (
        f"rthdr data corpus --out {args.out} --per-class {args.per_class} --seed {args.seed} "
        f"--split {args.split} --charset {args.charset}"
    )
    save(corpus, args.out, command)
    print(
        f"{len(corpus.images):,} samples ({len(corpus.classes)} classes, {len(corpus.family_names)} "
        f"families, {args.split}) in {seconds:.1f} s: {args.out}"
    )
    if args.sheet:
        print(f"contact sheet: {contact_sheet(corpus, args.sheet)}")
    return 0
