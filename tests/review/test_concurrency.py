"""Reviewers at the same time, on both engines: threads and processes never get the same item, and a
process killed with SIGKILL while it writes loses nothing it had acknowledged."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable

import pytest

from rthdr.review.store import ReviewStore
from tests.helpers.reviews import digit

pytestmark = pytest.mark.slow


def all_at_once(workers: int, work: Callable[[int], list[int]]) -> list[list[int]]:
    """Run work(0..workers-1) in threads released together; their results, failures re-raised."""
    start, results, failures = threading.Barrier(workers), [[] for _ in range(workers)], []

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as failed:  # re-raised below
            failures.append(failed)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    if failures:
        raise failures[0]
    return results


def test_threads_claiming_one_item_one_wins(store: ReviewStore) -> None:
    item_id = store.add(digit())

    def claim(index: int) -> list[int]:
        return [index] if store.claim(item_id, f"reviewer-{index}") is not None else []

    winners = [w for result in all_at_once(8, claim) for w in result]
    assert len(winners) == 1
    item = store.get(item_id)
    assert item is not None and item.claimed_by == f"reviewer-{winners[0]}"


def take_all(store: ReviewStore, reviewer: str) -> list[int]:
    """What one reviewer works through: claim the next item and answer it, until none is left."""
    taken = []
    while (item := store.claim_next(reviewer)) is not None:
        taken.append(item.id)
        store.answer(item.id, "1", None, reviewer)
    return taken


def test_threads_working_through_the_queue_never_share_an_item(store: ReviewStore) -> None:
    ids = {store.add(digit()) for _ in range(60)}
    taken = all_at_once(6, lambda index: take_all(store, f"reviewer-{index}"))

    every = [item_id for one in taken for item_id in one]
    assert Counter(every).most_common(1)[0][1] == 1, "an item was handed out twice"
    assert set(every) == ids
    assert store.counts()["done"] == 60


def reviewer_process(url: str, reviewer: str, start: object, results: object) -> None:
    """A reviewer in its own process, with its own engine (the service's workers are processes)."""
    with ReviewStore(url) as store:
        start.wait()  # type: ignore[attr-defined]
        results.put((reviewer, take_all(store, reviewer)))  # type: ignore[attr-defined]


def test_two_processes_working_through_the_queue_never_share_an_item(
    store: ReviewStore, database: str
) -> None:
    ids = {store.add(digit()) for _ in range(60)}
    spawn = multiprocessing.get_context("spawn")  # a fresh interpreter each, as separate workers are
    start, results = spawn.Barrier(2), spawn.Queue()
    processes = [
        spawn.Process(target=reviewer_process, args=(database, name, start, results))
        for name in ("ann", "bob")
    ]
    for process in processes:
        process.start()
    taken = dict(results.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    assert not set(taken["ann"]) & set(taken["bob"])
    assert set(taken["ann"]) | set(taken["bob"]) == ids
    assert store.counts()["done"] == 60


WRITER = """
import sys
from rthdr.review.store import NewItem, ReviewStore
store = ReviewStore(sys.argv[1])
n = 0
while True:
    n += 1
    item_id = store.add(NewItem("page", "correction", "7", [0.4], "v1", image=b"image %d" % n, suggested="1"))
    print(item_id, n, flush=True)  # acknowledged: add() has returned
"""


def test_kill_9_while_writing_loses_nothing_acknowledged(store: ReviewStore, database: str) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, database], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert writer.stdout is not None
    acknowledged = [writer.stdout.readline() for _ in range(40)]
    os.kill(writer.pid, signal.SIGKILL)  # mid-stream: it was writing the next item
    acknowledged += writer.stdout.readlines()  # whatever it printed before it died
    writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    printed = [tuple(map(int, line.split())) for line in acknowledged if line.strip()]
    assert len(printed) >= 40
    for item_id, n in printed:
        assert store.image(item_id) == b"image %d" % n, f"acknowledged item {item_id} was lost"
    # Nothing half-written either: every row there is whole.
    assert all(i.reading == "7" and i.has_image for i in store.pending(limit=10_000))
