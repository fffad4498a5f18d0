"""The benchmark keeps working: a quick run measures real numbers (no timing assertions here)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from rthdr.bench import canvas_png
from rthdr.cli import main


def test_canvas_png_is_a_280_pixel_drawing_as_a_browser_exports_it() -> None:
    image = cv2.imdecode(np.frombuffer(canvas_png(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (280, 280, 4) and (image[..., 3] == 255).all()  # opaque RGBA, as canvases give
    grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    assert grey.min() == 0 and grey.max() == 255


def test_quick_benchmark_measures_model_and_http(model_path: Path, tmp_path: Path) -> None:
    weights = model_path.with_suffix(".pt")
    code = main(
        ["bench", "--quick", "--model", str(model_path), "--weights", str(weights), "--out", str(tmp_path)]
    )
    assert code == 0
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    assert report["model_only"]["onnxruntime"]["single_image_ms"]["p50"] > 0
    assert report["model_only"]["pytorch_eager"]["batch_256_images_per_s"] > 0
    assert report["pipeline_ms"]["p99"] >= report["pipeline_ms"]["p50"] > 0
    for rows in report["http"].values():
        assert [row["concurrency"] for row in rows] == [1, 8]
        for row in rows:
            assert row["requests"] > 0 and row["error_count"] == 0 and row["p99_ms"] >= row["p50_ms"] > 0
    assert "## End to end over HTTP" in (tmp_path / "benchmarks.md").read_text()
