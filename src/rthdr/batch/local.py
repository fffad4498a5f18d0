"""`--engine local`: a pool of processes on this machine, one reader (one ONNX Runtime session, one
thread) each, fed chunks of paths; rows come back in input order.

Processes rather than threads: decoding and preprocessing are Python and NumPy code that holds the
GIL much of the time. The pool is started with `spawn`: a forked child would inherit the parent's
threads (tqdm's monitor, ONNX Runtime's pools) in whatever state they were in.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor

from rthdr.batch.reader import Reader, ReaderConfig
from rthdr.batch.rows import Row

# Paths per task: large enough that a task's overhead (pickling, one ONNX call, Ray's scheduling) is
# small beside its work, small enough that the progress bar moves and the workers stay even: 64
# digits (~0.8 ms each) or 8 numbers (~20 ms each: segmentation runs the model per candidate cut).
CHUNK = 64
NUMBER_CHUNK = 8
IN_FLIGHT = 4  # chunks queued per worker


def chunk_size(config: ReaderConfig) -> int:
    return NUMBER_CHUNK if config.multi else CHUNK


_reader: Reader | None = None  # each worker process's own reader, made by _start_worker


def available_cpus() -> int:
    """The CPUs this process may run on: the container's or job's share, not every core the
    machine has, where the scheduler pins it (os.cpu_count() counts them all)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def chunks(paths: Sequence[str], size: int = CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(paths), size):
        yield paths[start : start + size]


def _start_worker(config: ReaderConfig) -> None:
    global _reader
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent stops the pool
    _reader = Reader(config)


def _read_chunk(paths: Sequence[str]) -> list[Row]:
    assert _reader is not None, "the pool's initializer makes the reader"
    return _reader.read(paths)


def read_local(
    paths: Sequence[str], config: ReaderConfig, workers: int = 1, chunk: int | None = None
) -> Iterator[list[Row]]:
    """The rows of `paths`, chunk by chunk, in input order. One worker reads in this process (no
    pool to start: the cheapest for small jobs); more start a pool of that many processes."""
    chunk = chunk or chunk_size(config)
    if workers <= 1:
        reader = Reader(config)
        yield from (reader.read(part) for part in chunks(paths, chunk))
        return
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(config,))
    try:
        # A few chunks in flight per worker, collected in submission order: the workers never wait
        # for work, and a million paths never become a million futures in memory.
        pending: deque[Future[list[Row]]] = deque()
        for part in chunks(paths, chunk):
            pending.append(pool.submit(_read_chunk, part))
            if len(pending) >= IN_FLIGHT * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:  # stopped early (Ctrl-C, an error writing): drop the chunks not started, not wait for them
        pool.shutdown(cancel_futures=True)
