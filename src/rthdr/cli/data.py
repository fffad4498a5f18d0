"""`rthdr data download` and `rthdr data verify`: the MNIST files, fetched and checked."""

from __future__ import annotations

import argparse

from rthdr.cli.common import Commands, HelpFormatter, add_command, add_data_dir


def add_parser(commands: Commands) -> None:
    data = commands.add_parser(
        "data", help="download or verify the MNIST files", formatter_class=HelpFormatter
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
