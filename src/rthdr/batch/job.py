"""A batch job from start to end: skip what the output already has (--resume), read the rest on an
engine, write the rows as they come, in input order, with a progress bar, and count what happened.

`on_row` is called with every row written, in order, in this process: the hook for work that
follows a reading, such as putting the uncertain ones in a review queue.
"""

from __future__ import annotations

import io
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from tqdm import tqdm

from rthdr.batch.inputs import BatchError
from rthdr.batch.local import available_cpus, read_local
from rthdr.batch.reader import Reader, ReaderConfig
from rthdr.batch.rows import Row, Writer, done_paths, open_writer, output_format

Engine = Literal["local", "ray"]
ENGINES: tuple[Engine, ...] = ("local", "ray")


@dataclass(frozen=True)
class BatchOptions:
    """How to run a job. `workers`: processes (local) or actors (ray); None means one per CPU this
    process may use (local) or the Ray cluster has (ray)."""

    out: Path
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    engine: Engine = "local"
    workers: int | None = None
    ray_address: str | None = None
    resume: bool = False


@dataclass(frozen=True)
class Summary:
    read: int  # images read by this run (errors included)
    skipped: int  # already in the output file (--resume)
    uncertain: int
    errors: int
    seconds: float  # from the engine's start (a Ray cluster's start included) to the last row

    @property
    def per_second(self) -> float:
        return self.read / self.seconds if self.seconds > 0 else 0.0

    def describe(self, out: Path) -> str:
        skipped = f", {self.skipped} skipped (already in {out})" if self.skipped else ""
        return (
            f"read {self.read} images in {self.seconds:.2f} s ({self.per_second:.0f} images/s): "
            f"{self.uncertain} uncertain, {self.errors} could not be read{skipped}; rows in {out}"
        )


class _LogLines(io.TextIOBase):
    """tqdm's updates one to a line, for logs (`kubectl logs`, CI), where a carriage return does not
    go back and a whole job's bar would be one endless line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.strip("\r\n ")
        if line:
            self.stream.write(line + "\n")
            self.stream.flush()
        return len(text)


def progress_bar(total: int, enabled: bool) -> tqdm:
    """A bar with images/s on a terminal; a line every 30 s in a log."""
    tty = sys.stderr.isatty()
    stream = sys.stderr if tty else _LogLines(sys.stderr)
    interval = 0.1 if tty else 30.0
    return tqdm(
        total=total, unit="img", desc="reading", disable=not enabled, file=stream, mininterval=interval
    )


def rows_from(paths: Sequence[str], options: BatchOptions) -> Iterator[list[Row]]:
    """The engine's rows, a chunk at a time, in input order."""
    if options.engine == "ray":
        from rthdr.batch.ray_engine import read_ray  # Ray is an optional extra, imported when chosen

        return read_ray(paths, options.reader, options.workers, options.ray_address)
    return read_local(paths, options.reader, options.workers or available_cpus())


def todo(paths: Sequence[str], options: BatchOptions) -> list[str]:
    """The paths still to read: all of them, or with --resume those not in the output yet. Without
    --resume an existing output is an error: a finished job's rows are not overwritten by accident."""
    output_format(options.out)
    if options.out.is_dir():
        raise BatchError(f"--out {options.out} is a folder: name a file such as results.csv")
    if options.out.exists() and not options.resume:
        raise BatchError(
            f"{options.out} exists: pass --resume to read only the images not in it, or remove it"
        )
    done = done_paths(options.out) if options.resume else set()
    return [p for p in paths if p not in done]


def run_batch(
    paths: Sequence[str],
    options: BatchOptions,
    on_row: Callable[[Row], None] | None = None,
    progress: bool = True,
) -> Summary:
    """Read `paths` into `options.out`. A bad model file raises ModelError here, before any worker
    starts; a bad image is a row with an error, never an exception."""
    if options.workers is not None and options.workers < 1:
        raise BatchError(f"--workers {options.workers}: give 1 or more")
    remaining = todo(paths, options)
    if not remaining:
        return Summary(0, len(paths), 0, 0, 0.0)
    Reader(options.reader)  # the model and the one-digit check load here, or ModelError says why
    options.out.parent.mkdir(parents=True, exist_ok=True)
    uncertain = errors = 0
    start = time.perf_counter()
    writer: Writer | None = None  # opened with the first rows: an engine that fails to start leaves no file
    bar = progress_bar(len(remaining), progress)
    try:
        for rows in rows_from(remaining, options):
            writer = writer or open_writer(options.out, append=options.resume)
            writer.write(rows)
            for row in rows:
                uncertain += bool(row.uncertain)
                errors += row.error is not None
                if on_row is not None:
                    on_row(row)
            bar.update(len(rows))
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return Summary(
        len(remaining), len(paths) - len(remaining), uncertain, errors, time.perf_counter() - start
    )
