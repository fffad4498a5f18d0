"""rthdr.batch.benchmark's smoke path: inputs made from MNIST, `rthdr batch` run and timed as a
command for each engine asked for, and the report's tables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rthdr.batch.benchmark import Run, digit_page, fit, main
from rthdr.batch.rows import read_rows


@pytest.mark.slow
def test_the_quick_benchmark_times_each_engine_and_writes_the_report(
    mnist_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--out relative, as typed: the manifests must still name the inputs (a run stops the
    benchmark if any image cannot be read)."""
    monkeypatch.chdir(tmp_path.parent)
    arguments = ["--quick", "--engines", "local-1,local-2", "--data-dir", str(mnist_dir)]
    assert main([*arguments, "--out", tmp_path.name]) == 0
    runs = json.loads((tmp_path / "batch.json").read_text())["runs"]
    assert [(r["kind"], r["engine"], r["images"]) for r in runs] == [
        (kind, engine, n)
        for kind, sizes in [("digits", [1, 20]), ("numbers", [1, 4])]
        for engine in ["local-1", "local-2"]
        for n in sizes
    ]
    assert all(r["wall_s"] > r["job_s"] >= 0 for r in runs)
    report = (tmp_path / "batch.md").read_text()
    assert "| digits | local-2 | 20 |" in report and "| numbers | local-1 |" in report
    assert "fixed s (fit)" in report and report in capsys.readouterr().out
    rows = list(read_rows(tmp_path / "rows.csv"))  # the last run's: 4 numbers, all read
    assert len(rows) == 4 and all(r.error is None and len(r.reading or "") >= 4 for r in rows)


def test_a_digit_page_is_read_as_its_digit(digit_samples, classifier) -> None:
    from rthdr import read_digit

    assert [read_digit(digit_page(digit_samples[d]), classifier).digit for d in range(10)] == list(range(10))


def test_the_fit_gives_the_fixed_cost_and_the_cost_per_image() -> None:
    runs = [Run("digits", "local-1", n, 0.5 + n * 0.002, 0.0) for n in (1, 1000, 10000)]
    fixed, per_image_us = fit(runs)
    assert fixed == pytest.approx(0.5) and per_image_us == pytest.approx(2000)
