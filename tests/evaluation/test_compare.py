"""The comparison with classic methods runs end to end on small subsets and reports real figures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rthdr.cli.main import main


@pytest.mark.slow
def test_quick_comparison_writes_table_and_chart(
    mnist_dir: Path, model_path: Path, tmp_path: Path, capsys
) -> None:
    assert (
        main(
            [
                "compare",
                "--quick",
                "--data-dir",
                str(mnist_dir),
                "--model",
                str(model_path),
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    results = {r["model"]: r for r in json.loads((tmp_path / "comparison.json").read_text())}
    assert set(results) == {
        "k-NN (k=3)",
        "SVM (RBF kernel)",
        "MLP (256-128, ReLU)",
        "CNN (rthdr, ONNX Runtime)",
    }
    for result in results.values():
        assert (
            result["single_image_ms"] > 0
            and result["batch_images_per_second"] > 0
            and result["size_bytes"] > 0
        )
        assert 0.8 < result["test_accuracy"] <= 1.0
    assert results["CNN (rthdr, ONNX Runtime)"]["test_accuracy"] > results["k-NN (k=3)"]["test_accuracy"]
    assert "| SVM (RBF kernel) | 1,000 |" in (tmp_path / "comparison.md").read_text()
    assert (tmp_path / "comparison.png").stat().st_size > 10_000
    assert "k-NN" in capsys.readouterr().out
