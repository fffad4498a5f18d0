"""Speed, measured: the model alone (ONNX Runtime against PyTorch eager on the same weights) and the
whole service over HTTP under load from wrk, with and without micro-batching.

Every timing warms up first and reports percentiles; the machine and the commands go in the report.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rthdr.bench import mixed
from rthdr.bench.peer import versus_peer
from rthdr.bench.report import HTTP_SETTINGS, Report
from rthdr.bench.server import serving
from rthdr.bench.versus import side_by_side
from rthdr.bench.wrk import PREDICT, canvas_file, canvas_png, warm_up, wrk
from rthdr.core.inference import Classifier, network_name
from rthdr.evaluation.timing import interleaved, percentiles, throughput, time_calls

CONCURRENCY = (1, 8, 32, 64)


def float_beside(model_path: Path) -> Path | None:
    """The float file of the network an INT8 file was quantised from (digitnet.int8.onnx ->
    digitnet.onnx), where it is there; None for a float file."""
    network = model_path.with_name(f"{network_name(model_path)}.onnx")
    return network if network != model_path and network.is_file() else None


def model_only(model_path: Path, weights: Path | None, quick: bool) -> dict[str, Any]:
    """Single-image latency and batch throughput, one thread each: the served ONNX file, the float
    file it was quantised from, and PyTorch eager on the same weights (timed in alternating rounds)."""
    runs, seconds = (300, 0.5) if quick else (3000, 3.0)
    rng = np.random.default_rng(0)
    one, batch = rng.random((1, 28, 28), dtype=np.float32), rng.random((256, 28, 28), dtype=np.float32)
    runtimes: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {}
    files = {"onnxruntime": model_path, "onnxruntime_float": float_beside(model_path)}
    for key, path in files.items():
        if path is not None:
            classifier = Classifier(path, threads=1)
            runtimes[key] = (partial(classifier.run, one), partial(classifier.run, batch))
    if weights and weights.is_file():
        import torch

        from rthdr.training.model import load_checkpoint

        torch.set_num_threads(1)
        model, _ = load_checkpoint(str(weights))
        one_t, batch_t = torch.from_numpy(one).unsqueeze(1), torch.from_numpy(batch).unsqueeze(1)

        def eager(x: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return torch.softmax(model(x), dim=1)

        runtimes["pytorch_eager"] = (partial(eager, one_t), partial(eager, batch_t))
    times = interleaved([single for single, _ in runtimes.values()], runs)
    results: dict[str, Any] = {
        key: {
            "single_image_ms": percentiles(timings),
            "batch_256_images_per_s": throughput(many, 256, seconds),
        }
        for (key, (_, many)), timings in zip(runtimes.items(), times, strict=True)
    }
    results["files"] = {key: path.name for key, path in files.items() if path is not None}
    if "pytorch_eager" in results:  # the same weights as the float file
        same_weights = results.get("onnxruntime_float", results["onnxruntime"])
        results["speedup_single"] = round(
            results["pytorch_eager"]["single_image_ms"]["p50"] / same_weights["single_image_ms"]["p50"], 2
        )
    return results


def pipeline_in_process(model_path: Path, quick: bool) -> dict[str, float]:
    """The request's work without HTTP (decode the canvas PNG, preprocess, run the model), one
    thread: the floor under the HTTP figures, and a gauge of how fast the machine was during this
    run (on a shared machine the same work takes more or less time from one run to the next)."""
    from rthdr.core.pipeline import prepare

    cv2.setNumThreads(1)  # as the server does
    classifier, body = Classifier(model_path, threads=1), canvas_png()
    times = time_calls(
        lambda: classifier.predict(prepare(body).model_input[np.newaxis]), 300 if quick else 3000
    )
    return percentiles(times)


def run(
    model: Path, weights: Path | None, quick: bool, workers: int, command: str, versus: str | None = None
) -> Report:
    """The whole benchmark: the model alone, the request's work in-process, the service over HTTP
    under each micro-batching setting, and, if `versus` names a git revision, side by side with it."""
    report = Report(
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform(terse=True)}",
        command=command,
        model=f"{model.name} ({Classifier(model).version})",
        model_only=model_only(model, weights, quick),
        pipeline_ms=pipeline_in_process(model, quick),
    )
    levels, seconds = ((1, 8), 2.0) if quick else (CONCURRENCY, 10.0)
    with canvas_file() as body:
        for label, window in HTTP_SETTINGS.items():
            with serving(
                model, workers, {"RTHDR_BATCH_WINDOW_MS": window, "RTHDR_LOG_JSON": "true"}
            ) as server:
                warm_up(server.url, body)
                report.http[label] = [wrk(f"{server.url}{PREDICT}", body, c, seconds) for c in levels]
    report.mixed = mixed.measure(model, workers, quick)
    with serving(model, workers) as server:
        report.peer = versus_peer(server.url, quick)
    if versus:
        report.versus = side_by_side(model, versus, workers, quick)
    return report
