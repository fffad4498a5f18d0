"""rthdr.batch.job: a job writes every row once, in order; --resume reads only what is missing; the
user's mistakes (an existing output, a bad model, no workers) stop it with a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from rthdr import ModelError
from rthdr.batch.inputs import BatchError
from rthdr.batch.job import BatchOptions, run_batch
from rthdr.batch.reader import ReaderConfig
from rthdr.batch.rows import Row, read_rows
from tests.helpers.batch import golden, write_bad_files
from tests.helpers.python import run_without_torch


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    return [str(p) for p in golden("canvas") + write_bad_files(tmp_path / "bad")]


def options(out: Path, model: Path, **changes: object) -> BatchOptions:
    return BatchOptions(out, ReaderConfig(str(model)), workers=1, **changes)  # type: ignore[arg-type]


def test_a_job_writes_a_row_per_image_in_order_and_counts(
    paths: list[str], tmp_path: Path, model_path: Path
) -> None:
    seen: list[Row] = []
    summary = run_batch(
        paths, options(tmp_path / "out" / "results.csv", model_path), seen.append, progress=False
    )
    rows = list(read_rows(tmp_path / "out" / "results.csv"))
    assert [r.path for r in rows] == paths and rows == seen
    assert (summary.read, summary.skipped, summary.errors) == (len(paths), 0, 3)
    assert summary.uncertain == sum(bool(r.uncertain) for r in rows)
    assert summary.per_second > 0 and "images/s" in summary.describe(tmp_path / "results.csv")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_resume_reads_only_the_images_not_in_the_output(
    paths: list[str], tmp_path: Path, model_path: Path, suffix: str
) -> None:
    out = tmp_path / f"results{suffix}"
    run_batch(paths[:5], options(out, model_path), progress=False)
    seen: list[Row] = []
    summary = run_batch(paths, options(out, model_path, resume=True), seen.append, progress=False)
    assert (summary.read, summary.skipped) == (len(paths) - 5, 5)
    assert [r.path for r in seen] == paths[5:]
    assert [r.path for r in read_rows(out)] == paths
    again = run_batch(paths, options(out, model_path, resume=True), progress=False)
    assert (again.read, again.skipped) == (0, len(paths))


def test_progress_in_a_log_is_one_line_per_update(
    paths: list[str], tmp_path: Path, model_path: Path, capsys
) -> None:
    run_batch(paths, options(tmp_path / "results.csv", model_path), progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err and err.endswith("\n")
    assert "reading: 100%|" in err.splitlines()[-1] and "img/s" in err


def test_resume_without_an_output_starts_one(paths: list[str], tmp_path: Path, model_path: Path) -> None:
    """A Kubernetes Job passes --resume every time, its first run included."""
    summary = run_batch(paths, options(tmp_path / "results.csv", model_path, resume=True), progress=False)
    assert summary.read == len(paths)


def test_an_existing_output_is_not_overwritten(paths: list[str], tmp_path: Path, model_path: Path) -> None:
    out = tmp_path / "results.csv"
    out.write_text("done\n")
    with pytest.raises(BatchError, match="pass --resume"):
        run_batch(paths, options(out, model_path), progress=False)
    assert out.read_text() == "done\n"


def test_mistakes_stop_the_job_before_a_row_is_written(
    paths: list[str], tmp_path: Path, model_path: Path
) -> None:
    out = tmp_path / "results.csv"
    with pytest.raises(ModelError, match="not found"):
        run_batch(paths, options(out, tmp_path / "missing.onnx"), progress=False)
    with pytest.raises(BatchError, match="--workers 0"):
        run_batch(paths, BatchOptions(out, ReaderConfig(str(model_path)), workers=0), progress=False)
    (tmp_path / "old.csv").mkdir()
    with pytest.raises(BatchError, match="is a folder"):
        run_batch(paths, options(tmp_path / "old.csv", model_path), progress=False)
    assert not out.exists()


def test_the_batch_layer_runs_without_torch() -> None:
    """Batch jobs run in the serving image, which has no torch."""
    run_without_torch(
        "import importlib, pkgutil, rthdr.batch\n"
        "for m in pkgutil.iter_modules(rthdr.batch.__path__): importlib.import_module(f'rthdr.batch.{m.name}')\n"
        "assert sys.modules['torch'] is None\n"
    )
