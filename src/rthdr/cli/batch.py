"""`rthdr batch`: read every image in files, folders, globs or a manifest into one CSV, JSON Lines or
Parquet file, on this machine's cores or a Ray cluster."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from rthdr.cli.common import Commands, add_charset, add_command, add_model, add_one_digit

if TYPE_CHECKING:
    from rthdr.batch.reader import ReaderConfig
    from rthdr.batch.review import BatchReview

EXAMPLES = """examples:
  rthdr batch scans/ --out results.csv                 # every image below scans/, on every core
  rthdr batch 'forms/**/*.jpg' --multi --out numbers.parquet
  rthdr batch manifest.txt --out results.jsonl --resume   # carry on after a stop
  rthdr batch /data/scans --engine ray --ray-address auto --out /data/results.csv
  rthdr batch scans/ --out results.csv --review        # the doubtful ones to the review queue
  rthdr batch letters/ --charset letters --out letters.csv   # one letter per image

A file that cannot be read is a row with an error code, not a stop: the job always finishes."""


def add_parser(commands: Commands) -> None:
    from rthdr.batch.job import ENGINES

    parser = add_command(
        commands,
        "batch",
        run,
        help="read thousands to millions of images into one table",
        description="One row per image (path, reading, confidence, uncertain, model and version, or an "
        "error code), in input order, written as the job goes. Folders are searched recursively; a .txt "
        "file is a manifest listing one path per line.",
        epilog=EXAMPLES,
    )
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders, globs or a .txt manifest"
    )
    parser.add_argument("--out", required=True, type=Path, help="results file: .csv, .jsonl or .parquet")
    parser.add_argument(
        "--multi", action="store_true", help="read a whole number per image, with each digit's confidence"
    )
    parser.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local: processes on this machine; ray: a Ray cluster",
    )
    parser.add_argument(
        "--ray-address",
        default=os.environ.get("RAY_ADDRESS") or None,
        metavar="ADDR",
        help="with --engine ray: the cluster to join ('auto', 'ray://head:10001'; also $RAY_ADDRESS); "
        "unset: start one on this machine for the job",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="processes (local) or Ray actors, one ONNX Runtime thread each "
        "(default: one per CPU this process may use, or per CPU of the Ray cluster)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="skip the images already in --out and append the rest"
    )
    parser.add_argument(
        "--progress", action=argparse.BooleanOptionalAction, default=True, help="a progress bar with images/s"
    )
    parser.add_argument(
        "--review",
        action="store_true",
        help="queue the uncertain rows (and $RTHDR_REVIEW_AUDIT_RATE of the others) for a person to check, "
        "in the review queue's database ($RTHDR_DATABASE_URL, else the local SQLite file), with each "
        "file's path",
    )
    add_charset(parser, digits_checked=False)
    add_model(parser)
    add_one_digit(parser)


def run(args: argparse.Namespace) -> int:
    from rthdr.batch.inputs import BatchError, find_images
    from rthdr.batch.job import BatchOptions, run_batch
    from rthdr.batch.reader import ReaderConfig

    # Kubernetes stops a pod with SIGTERM: as Ctrl-C, so the rows so far are flushed (Parquet's
    # footer written) and --resume can carry on.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    reader = ReaderConfig(
        args.model, args.multi, args.one_digit, args.charset, args.character_model, args.script_model
    )
    if problem := charset_problem(reader):
        print(f"rthdr batch: error: {problem}", file=sys.stderr)
        return 2
    options = BatchOptions(args.out, reader, args.engine, args.workers, args.ray_address, args.resume)
    review = open_review() if args.review else None
    try:
        summary = run_batch(find_images(args.inputs), options, on_row=review, progress=args.progress)
    except BatchError as exc:
        print(f"rthdr batch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"rthdr batch: stopped; the rows so far are in {args.out}: add --resume to carry on",
            file=sys.stderr,
        )
        return 130
    print(summary.describe(args.out))
    if review is not None:
        print(f"queued {review.queued:,} for review in {review.store.url}")
    return 0


def charset_problem(reader: ReaderConfig) -> str | None:
    """What stops a job with this charset before any worker starts, said as what to do; or None."""
    from rthdr.core.characters import require_charset
    from rthdr.core.charsets import DEFAULT_CHARSET
    from rthdr.core.errors import InputError
    from rthdr.core.files import charset_reader

    if reader.charset == DEFAULT_CHARSET:
        return None
    if reader.multi:
        return (
            "--multi reads numbers of digits; read a line of letters with POST /api/v1/recognize?charset=..."
        )
    try:
        require_charset(
            reader.charset,
            charset_reader(reader.charset, reader.character_model, reader.script_model) is not None,
        )
    except InputError as exc:
        return exc.message
    return None


def open_review() -> BatchReview:
    """The review queue the service uses (its database and audit rate, from RTHDR_* settings)."""
    from rthdr.api.settings import Settings
    from rthdr.batch.review import BatchReview
    from rthdr.review.store import ReviewStore

    settings = Settings()
    store = ReviewStore(settings.database_url)
    store.migrate()
    return BatchReview(store, settings.review_audit_rate)
