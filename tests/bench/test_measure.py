"""The benchmark keeps working: a quick run measures real numbers (no timing assertions here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rthdr.bench import run, write
from rthdr.bench.measure import float_beside
from rthdr.core.inference import DEFAULT_MODEL, FLOAT_MODEL


def test_the_float_file_beside_an_int8_file_is_the_network_it_was_quantised_from(tmp_path: Path) -> None:
    assert float_beside(DEFAULT_MODEL) == FLOAT_MODEL
    assert float_beside(FLOAT_MODEL) is None  # a float file is its own float file
    assert float_beside(tmp_path / "other.int8.onnx") is None  # nothing beside it


@pytest.mark.slow
def test_quick_benchmark_measures_model_and_http(tmp_path: Path) -> None:
    model_path, weights = DEFAULT_MODEL, FLOAT_MODEL.with_suffix(".pt")  # the served INT8 file; float weights
    report = run(model_path, weights, quick=True, workers=1, command="rthdr bench --quick")
    write(report, tmp_path)
    saved = json.loads((tmp_path / "benchmarks.json").read_text())
    assert saved["command"] == "rthdr bench --quick" and saved["versus"] == []
    assert saved["model_only"]["onnxruntime"]["single_image_ms"]["p50"] > 0
    assert saved["model_only"]["pytorch_eager"]["batch_256_images_per_s"] > 0
    # PyTorch is compared with the float file of the same weights, timed beside the served INT8 one.
    assert saved["model_only"]["files"] == {
        "onnxruntime": "digitnet.int8.onnx",
        "onnxruntime_float": "digitnet.onnx",
    }
    assert saved["model_only"]["onnxruntime_float"]["single_image_ms"]["p50"] > 0
    assert saved["pipeline_ms"]["p99"] >= saved["pipeline_ms"]["p50"] > 0
    for rows in saved["http"].values():
        assert [row["concurrency"] for row in rows] == [1, 8]
        for row in rows:
            assert row["requests"] > 0 and row["error_count"] == 0 and row["p99_ms"] >= row["p50_ms"] > 0
    for setting in ("in its own process (the default)", "on the event loop"):
        mixed = saved["mixed"][setting]
        assert mixed["photos_read"] >= 1 and mixed["photo_errors"] == 0  # the large photos are answered
        assert mixed["predict_mixed"]["error_count"] == 0 and mixed["p99_ratio"] > 0
    versions = {row["version"] for row in saved["peer"]}
    assert versions == {"rthdr", "Flask + gunicorn peer"}
    failed = [row for row in saved["peer"] if row["error_count"] or not row["requests"]]
    assert not failed, failed  # which server, at what concurrency, and wrk's kinds of error
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "`digitnet.int8.onnx` (served)" in markdown and "`digitnet.onnx` (float)" in markdown
    assert "## End to end over HTTP" in markdown and "## Mixed load" in markdown
    assert (
        "## Against a plain peer" in markdown and "| requests/s at concurrency 32 / the peer's |" in markdown
    )
