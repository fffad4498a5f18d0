"""rthdr.batch.ray_engine on a real local Ray cluster (two CPUs, two actors): the same rows as the
local engine, in input order, for digits, numbers and bad files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from rthdr.batch.job import BatchOptions, run_batch
from rthdr.batch.local import read_local
from rthdr.batch.ray_engine import cluster_cpus, connect, read_ray
from rthdr.batch.reader import ReaderConfig
from rthdr.batch.rows import read_rows
from tests.helpers.batch import copy_scans, golden, write_bad_files

pytestmark = pytest.mark.slow


@pytest.fixture
def paths(tmp_path: Path) -> list[str]:
    bad = write_bad_files(tmp_path)
    return [str(p) for p in [bad[0], *golden(""), *bad[1:]]]


@pytest.mark.parametrize("multi", [False, True])
def test_ray_gives_the_local_rows_in_input_order(
    ray_cluster: Any, paths: list[str], model_path: Path, multi: bool
) -> None:
    config = ReaderConfig(str(model_path), multi=multi)
    on_ray = [r for block in read_ray(paths, config, actors=2, chunk=5) for r in block]
    local = [r for part in read_local(paths, config, workers=1) for r in part]
    assert [r.path for r in on_ray] == paths
    assert on_ray == local
    assert sum(r.error is not None for r in on_ray) == 3


def test_relative_paths_are_read_where_the_driver_runs(
    ray_cluster: Any, tmp_path: Path, model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The actors' working folder is not the driver's (here: the cluster started elsewhere; on
    KubeRay: `ray start`'s), yet the rows keep the paths as given."""
    copy_scans(tmp_path / "scans", "canvas-")
    monkeypatch.chdir(tmp_path)
    paths = [os.path.join("scans", f"canvas-{d}.png") for d in range(10)]
    rows = [r for block in read_ray(paths, ReaderConfig(str(model_path))) for r in block]
    assert [(r.path, r.reading) for r in rows] == [(p, str(d)) for d, p in enumerate(paths)]


def test_a_job_on_ray_resumes_like_a_local_one(
    ray_cluster: Any, paths: list[str], tmp_path: Path, model_path: Path
) -> None:
    out = tmp_path / "results.parquet"
    reader = ReaderConfig(str(model_path))
    run_batch(paths[:10], BatchOptions(out, reader, "ray"), progress=False)
    summary = run_batch(paths, BatchOptions(out, reader, "ray", resume=True), progress=False)
    assert (summary.read, summary.skipped) == (len(paths) - 10, 10)
    local = tmp_path / "local.parquet"
    run_batch(paths, BatchOptions(local, reader, "local", workers=1), progress=False)
    assert list(read_rows(out)) == list(read_rows(local))


def test_a_running_cluster_is_joined_and_left_running(ray_cluster: Any) -> None:
    assert connect(None) is False, "Ray already initialised: the caller's cluster is used"
    assert cluster_cpus() == 2 and ray_cluster.is_initialized()
