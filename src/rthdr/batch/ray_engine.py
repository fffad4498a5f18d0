"""`--engine ray`: the same readers as Ray Data actors, on a Ray cluster (KubeRay's, or one started
here for the job); rows come back in input order.

Pinned to Ray 2.60 (the `batch` extra), whose batch API this follows: `map_batches` with a callable
class runs it in an actor pool, sized by `compute=ActorPoolStrategy(size=n)` (the `concurrency=`
argument of earlier releases is deprecated there). Each actor reserves one CPU and owns one reader,
so the pool holds one ONNX Runtime session per CPU, each on one thread, as the local engine does.
`preserve_order` makes Ray Data hand the blocks back in input order, which the output file and
--resume rely on.

The paths must be readable on every node (a shared volume mounted at the same place) and the
model file too: the shipped one is in the package, in the image every node runs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from rthdr.batch.inputs import BatchError
from rthdr.batch.local import available_cpus, chunk_size
from rthdr.batch.reader import Reader, ReaderConfig
from rthdr.batch.rows import Row, arrow_table


class RayReader:
    """The Ray Data actor: one reader, built once when the actor starts, for every batch it gets."""

    def __init__(self, config: ReaderConfig) -> None:
        self.reader = Reader(config)

    def __call__(self, batch: dict[str, np.ndarray]) -> Any:
        """A batch ({"path": as the user gave it, "file": absolute}) -> its rows as an Arrow table.
        The actor reads the absolute file: its working folder is not the driver's on a cluster
        started by `ray start` (KubeRay's); the row keeps the path as given."""
        rows = self.reader.read([str(f) for f in batch["file"]])
        return arrow_table(replace(row, path=str(p)) for row, p in zip(rows, batch["path"], strict=True))


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise BatchError("--engine ray needs Ray: pip install 'rthdr[batch]' (Ray 2.60)") from exc
    return ray


def connect(address: str | None) -> bool:
    """Join the cluster at `address` ("auto", "ray://head:10001", "10.0.0.5:6379"), or start one for
    this job with a CPU per core this process may use ("local": a new one even where `ray start`
    left a cluster running, which plain `ray.init()` would join). True when this call connected
    (and the caller should disconnect); False when Ray was already initialised by the caller (a
    test, a notebook), whose cluster is left as it is. A cluster with token authentication (Ray's
    default for `ray start`; KubeRay's `authOptions`) needs RAY_AUTH_MODE=token and its token in
    RAY_AUTH_TOKEN or ~/.ray/auth_token, as every Ray client does."""
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"include_dashboard": False, "logging_level": logging.WARNING}
    try:
        if address:
            ray.init(address=address, **quiet)
        else:
            ray.init(address="local", num_cpus=available_cpus(), **quiet)
    except ConnectionError as exc:
        raise BatchError(f"cannot reach the Ray cluster at {address}: {exc}") from exc
    return True


def cluster_cpus() -> int:
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


def read_ray(
    paths: Sequence[str],
    config: ReaderConfig,
    actors: int | None = None,
    address: str | None = None,
    chunk: int | None = None,
) -> Iterator[list[Row]]:
    """The rows of `paths`, a block at a time, in input order, read by `actors` Ray actors (default:
    one per CPU of the cluster)."""
    ray = _ray()
    connected = connect(address)
    try:
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True
        context.enable_progress_bars = False  # `rthdr batch` draws its own
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        pool = ray.data.ActorPoolStrategy(size=actors or cluster_cpus())
        items = [{"path": p, "file": os.path.abspath(p)} for p in paths]
        dataset = ray.data.from_items(items).map_batches(
            RayReader,
            fn_constructor_kwargs={"config": config},
            batch_size=chunk or chunk_size(config),
            compute=pool,
            num_cpus=1,
            batch_format="numpy",
        )
        for block in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
            yield [Row.from_record(r) for r in block.to_pylist()]
    finally:
        if connected:
            ray.shutdown()
