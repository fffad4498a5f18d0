"""One row per image, and the files they go into: CSV, JSON Lines or Parquet, by the --out suffix.

Every format has the same columns (`COLUMNS`), with or without --multi, so that `--resume` can
append to any file the command wrote. CSV and JSON Lines are appended to and flushed as rows come,
so a job that is killed keeps what it wrote and `--resume` carries on from there (a torn last line
is dropped first). Parquet has its footer at the end and cannot be appended to: it is written to
`NAME.parquet.partial` and renamed when the job ends, the rows already there copied in first.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import IO, Any, Protocol

from rthdr.batch.inputs import BatchError

FORMATS = (".csv", ".jsonl", ".parquet")
PARQUET_ROW_GROUP = 10_000  # rows a Parquet row group holds: bounded memory for a million rows


@dataclass(frozen=True)
class Row:
    """What was read in one image. `reading` is text ("7", "90210" with --multi, "A" with --charset
    letters) so that every row has one type; `confidence` is the character's, or with --multi the
    lowest digit's (what makes the number uncertain), and `digit_confidences` each digit's, left to right. A file that could
    not be read has `error` (a code, such as `invalid_image` or `not_found`) and `message` (what to
    do), and no reading."""

    path: str
    reading: str | None = None
    confidence: float | None = None
    uncertain: bool | None = None
    digit_confidences: list[float] | None = None
    model: str | None = None
    model_version: str | None = None
    error: str | None = None
    message: str | None = None

    def record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Row:
        values: dict[str, Any] = {name: record.get(name) for name in COLUMNS}
        return cls(**values)


COLUMNS = tuple(f.name for f in fields(Row))


def arrow_schema() -> Any:
    """The columns as Arrow types: Parquet's schema, and the blocks the Ray engine passes on."""
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("path", text),
            ("reading", text),
            ("confidence", pa.float64()),
            ("uncertain", pa.bool_()),
            ("digit_confidences", pa.list_(pa.float64())),
            ("model", text),
            ("model_version", text),
            ("error", text),
            ("message", text),
        ]
    )


def arrow_table(rows: Iterable[Row]) -> Any:
    import pyarrow as pa

    return pa.Table.from_pylist([r.record() for r in rows], schema=arrow_schema())


def output_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise BatchError(f"--out {path}: the name must end in {', '.join(FORMATS)} (it picks the format)")
    return suffix


# ---- CSV: empty cells for None, digit confidences space-separated -------------------------------------


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return " ".join(repr(v) for v in value)
    return str(value)


def _csv_row(cells: dict[str, str]) -> Row:
    def text(name: str) -> str | None:
        return cells.get(name) or None

    confidence, uncertain, digits = text("confidence"), text("uncertain"), text("digit_confidences")
    return Row(
        path=cells["path"],
        reading=text("reading"),
        confidence=float(confidence) if confidence else None,
        uncertain=uncertain == "true" if uncertain else None,
        digit_confidences=[float(v) for v in digits.split()] if digits else None,
        model=text("model"),
        model_version=text("model_version"),
        error=text("error"),
        message=text("message"),
    )


# ---- reading what is there -------------------------------------------------------------------------------


def drop_torn_line(path: Path) -> None:
    """A job killed mid-write can leave half a line at the end of a CSV or JSON Lines file: cut it,
    so the file reads and the image is read again."""
    with path.open("rb+") as file:
        size = file.seek(0, os.SEEK_END)
        if size == 0:
            return
        file.seek(size - 1)
        if file.read(1) == b"\n":
            return
        file.seek(max(0, size - (1 << 20)))
        tail = file.read()
        cut = tail.rfind(b"\n")
        file.truncate(size - len(tail) + cut + 1 if cut >= 0 else 0)


def read_rows(path: Path) -> Iterator[Row]:
    """The rows in an output file that `rthdr batch` wrote."""
    kind = output_format(path)
    try:
        if kind == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches():
                yield from (Row.from_record(r) for r in batch.to_pylist())
        else:
            with path.open(newline="", encoding="utf-8") as file:
                if kind == ".csv":
                    yield from (_csv_row(cells) for cells in csv.DictReader(file))
                else:
                    yield from (Row.from_record(json.loads(line)) for line in file if line.strip())
    except (OSError, ValueError, KeyError) as exc:  # pyarrow's errors are OSError and ValueError
        raise BatchError(f"cannot read {path} to resume it: {exc}; remove it to start again") from exc


def done_paths(path: Path) -> set[str]:
    """The paths already in an output file, for --resume; none when it does not exist yet."""
    if not path.exists() or path.stat().st_size == 0:
        return set()
    if output_format(path) != ".parquet":
        drop_torn_line(path)
    return {row.path for row in read_rows(path)}


# ---- writing -----------------------------------------------------------------------------------------------


class Writer(Protocol):
    def write(self, rows: list[Row]) -> None: ...

    def close(self) -> None: ...


class _TextWriter:
    """CSV or JSON Lines, appended to and flushed after every write."""

    def __init__(self, path: Path, append: bool) -> None:
        self.csv = output_format(path) == ".csv"
        fresh = not (append and path.exists() and path.stat().st_size > 0)
        self.file: IO[str] = path.open("w" if fresh else "a", newline="", encoding="utf-8")
        self.table = csv.DictWriter(self.file, COLUMNS, lineterminator="\n") if self.csv else None
        if self.table and fresh:
            self.table.writeheader()

    def write(self, rows: list[Row]) -> None:
        for row in rows:
            if self.table:
                self.table.writerow({k: _csv_cell(v) for k, v in row.record().items()})
            else:
                self.file.write(json.dumps(row.record(), ensure_ascii=False) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


class _ParquetWriter:
    """Row groups to NAME.partial, renamed to NAME on close; with append, the old rows first."""

    def __init__(self, path: Path, append: bool) -> None:
        import pyarrow.parquet as pq

        self.path, self.partial = path, path.with_name(path.name + ".partial")
        self.pending: list[Row] = []
        self.writer = pq.ParquetWriter(self.partial, arrow_schema())
        if append and path.exists() and path.stat().st_size > 0:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_ROW_GROUP):
                self.writer.write_batch(batch.cast(arrow_schema()))

    def write(self, rows: list[Row]) -> None:
        self.pending += rows
        if len(self.pending) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(arrow_table(self.pending))
            self.pending = []

    def close(self) -> None:
        self._flush()
        self.writer.close()
        self.partial.replace(self.path)


def open_writer(path: Path, append: bool) -> Writer:
    """A writer for the format the suffix names; `append` keeps the rows already in the file."""
    kind = output_format(path)
    try:
        if kind == ".parquet":
            return _ParquetWriter(path, append)
        return _TextWriter(path, append)
    except OSError as exc:
        raise BatchError(f"cannot write {path}: {exc.strerror or exc}") from exc
