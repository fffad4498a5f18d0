"""The benchmark keeps working: a quick run measures real numbers (no timing assertions here)."""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from rthdr.api.settings import Settings
from rthdr.bench.run import HTTP_SETTINGS, SHIPPED_SETTING, canvas_png, render_versus, side_by_side
from rthdr.cli.main import main
from rthdr.core.inference import DEFAULT_MODEL, FLOAT_MODEL


def test_canvas_png_is_a_280_pixel_drawing_as_a_browser_exports_it() -> None:
    image = cv2.imdecode(np.frombuffer(canvas_png(), np.uint8), cv2.IMREAD_UNCHANGED)
    assert image.shape == (280, 280, 4) and (image[..., 3] == 255).all()  # opaque RGBA, as canvases give
    grey = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    assert grey.min() == 0 and grey.max() == 255


def test_quick_benchmark_measures_model_and_http(tmp_path: Path) -> None:
    model_path, weights = DEFAULT_MODEL, FLOAT_MODEL.with_suffix(".pt")  # the served INT8 file; float weights
    code = main(
        ["bench", "--quick", "--model", str(model_path), "--weights", str(weights), "--out", str(tmp_path)]
    )
    assert code == 0
    report = json.loads((tmp_path / "benchmarks.json").read_text())
    assert report["model_only"]["onnxruntime"]["single_image_ms"]["p50"] > 0
    assert report["model_only"]["pytorch_eager"]["batch_256_images_per_s"] > 0
    # PyTorch is compared with the float file of the same weights, timed beside the served INT8 one.
    assert report["model_only"]["files"] == {
        "onnxruntime": "digitnet.int8.onnx",
        "onnxruntime_float": "digitnet.onnx",
    }
    assert report["model_only"]["onnxruntime_float"]["single_image_ms"]["p50"] > 0
    markdown = (tmp_path / "benchmarks.md").read_text()
    assert "`digitnet.int8.onnx` (served)" in markdown and "`digitnet.onnx` (float)" in markdown
    assert report["pipeline_ms"]["p99"] >= report["pipeline_ms"]["p50"] > 0
    for rows in report["http"].values():
        assert [row["concurrency"] for row in rows] == [1, 8]
        for row in rows:
            assert row["requests"] > 0 and row["error_count"] == 0 and row["p99_ms"] >= row["p50_ms"] > 0
    assert "## End to end over HTTP" in (tmp_path / "benchmarks.md").read_text()


def test_the_targets_judge_the_micro_batching_setting_the_service_ships_with() -> None:
    assert float(HTTP_SETTINGS[SHIPPED_SETTING]) == Settings.model_fields["batch_window_ms"].default


def test_side_by_side_serves_another_revision_beside_this_checkout(model_path: Path) -> None:
    rows = side_by_side(model_path, "HEAD", workers=1, quick=True)
    assert {(r["version"], r["concurrency"]) for r in rows} == {
        (version, concurrency) for version in ("this checkout", "HEAD") for concurrency in (1, 32)
    }
    assert all(r["requests"] > 0 and r["error_count"] == 0 for r in rows)
    table = "\n".join(render_versus(rows))
    assert "| HEAD | 32 |" in table and "| this checkout | 1 |" in table
    worktrees = subprocess.run(["git", "worktree", "list"], capture_output=True, text=True).stdout
    assert "rthdr-versus-" not in worktrees, "the checkout is removed afterwards"


def test_side_by_side_names_a_revision_that_does_not_exist(model_path: Path) -> None:
    before = set(Path(tempfile.gettempdir()).glob("rthdr-versus-*"))
    with pytest.raises(RuntimeError, match="no-such-revision"):
        side_by_side(model_path, "no-such-revision", workers=1, quick=True)
    assert set(Path(tempfile.gettempdir()).glob("rthdr-versus-*")) == before, "nothing left behind"
