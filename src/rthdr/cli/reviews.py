"""`rthdr reviews export|stats|purge`: the review queue from the command line: its corrections as a
training set for `rthdr train --extra`, how many items wait, and the retention limit applied."""

from __future__ import annotations

import argparse
import functools
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from rthdr.cli.common import Commands, HelpFormatter, add_command

if TYPE_CHECKING:
    from rthdr.review.store import ReviewStore

RETENTION_VARIABLE = "RTHDR_REVIEW_RETENTION_DAYS"


def add_database(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database",
        default=None,
        metavar="URL",
        help="the review database (postgresql://user@host:port/db or sqlite:///file); "
        "else $RTHDR_DATABASE_URL, else reviews.sqlite3 in the user's data folder",
    )


def add_parser(commands: Commands) -> None:
    reviews = commands.add_parser(
        "reviews",
        help="export the review queue's corrections, count it, purge it",
        formatter_class=HelpFormatter,
    )
    actions = reviews.add_subparsers(dest="reviews_command", required=True, metavar="ACTION")
    export = add_command(
        actions,
        "export",
        run_export,
        help="write the corrected single digits as a training set",
        description="Write each reviewed single digit whose answer differs from the machine's reading: "
        "images/ (as sent), labels.csv, and inputs.npz (the 28x28 model inputs and labels) that "
        "`rthdr train --extra DIR` mixes with MNIST.",
        epilog="example:\n  rthdr reviews export --out runs/corrections\n"
        "  rthdr train --init src/rthdr/models/digitnet.pt --extra runs/corrections --epochs 2 "
        "--lr 5e-4 --out runs/tuned",
    )
    add_database(export)
    export.add_argument("--out", required=True, metavar="DIR", help="output folder")
    stats = add_command(actions, "stats", run_stats, help="items pending, claimed, done and corrected")
    add_database(stats)
    stats.add_argument("--json", action="store_true", help="one JSON object instead of text")
    purge = add_command(actions, "purge", run_purge, help="delete items older than the retention limit")
    add_database(purge)
    purge.add_argument(
        "--days",
        type=float,
        default=None,
        help="delete items made more than this many days ago; 0 keeps them forever "
        f"(default: ${RETENTION_VARIABLE}, else the service's default)",
    )


def open_store(args: argparse.Namespace) -> ReviewStore:
    from rthdr.review.store import ReviewStore

    store = ReviewStore(args.database)
    store.migrate()
    return store


def says_what_failed(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """A database that cannot be reached, or a request the queue refuses: a message, not a traceback."""

    @functools.wraps(run)
    def guarded(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import OperationalError

        from rthdr.review.store import ReviewError

        try:
            return run(args)
        except (OperationalError, ReviewError) as failed:
            print(f"rthdr: error: {getattr(failed, 'message', None) or failed}", file=sys.stderr)
            return 2

    return guarded


@says_what_failed
def run_export(args: argparse.Namespace) -> int:
    from rthdr.review.export import INPUTS, LABELS, export_corrections

    with open_store(args) as store:
        exported = export_corrections(store, args.out)
    print(f"{exported.written} corrected digits from {store.url}")
    for why, count in sorted(exported.skipped.items()):
        print(f"skipped {count}: {why}")
    print(f"wrote {exported.directory}/{INPUTS}, {LABELS} and images/")
    return 0


@says_what_failed
def run_stats(args: argparse.Namespace) -> int:
    with open_store(args) as store:
        counts, age = store.counts(), store.oldest_pending_age_s()
    if args.json:
        print(json.dumps({**counts, "oldest_pending_age_s": age, "database": store.url}))
        return 0
    print(f"review queue in {store.url}")
    for name, count in counts.items():
        print(f"{name:>10} {count:,}")
    print("oldest pending: " + ("none" if age is None else f"{age / 60:.1f} minutes"))
    return 0


@says_what_failed
def run_purge(args: argparse.Namespace) -> int:
    from rthdr.api.settings import Settings  # the service's retention, read the same way

    days = args.days if args.days is not None else Settings().review_retention_days
    if days == 0:
        print("retention 0 days: review items are kept forever; nothing deleted")
        return 0
    with open_store(args) as store:
        gone = store.purge(days)
    print(f"deleted {gone} review items made more than {days:g} days ago")
    return 0
