"""The benchmark's report: which figures the targets judge, and the Markdown it writes."""

from __future__ import annotations

from typing import Any

from rthdr.api.settings import Settings
from rthdr.bench.report import HTTP_SETTINGS, SHIPPED_SETTING, TARGETS, Report, render_markdown, targets


def http_row(concurrency: int, requests_per_s: float, p99_ms: float = 3.5) -> dict[str, Any]:
    return {
        "concurrency": concurrency,
        "requests": 100,
        "requests_per_s": requests_per_s,
        "p50_ms": 1.5,
        "p95_ms": 2.5,
        "p99_ms": p99_ms,
        "error_count": 0,
    }


def small_report(http: dict[str, list[dict[str, Any]]]) -> Report:
    timed = {"single_image_ms": {"p50": 0.15, "p99": 0.3}, "batch_256_images_per_s": 12345.6}
    return Report(
        machine="x86_64, 2 CPUs",
        command="rthdr bench --quick",
        model="digitnet.int8.onnx (abc)",
        model_only={"onnxruntime": timed, "files": {"onnxruntime": "digitnet.int8.onnx"}},
        pipeline_ms={"p50": 0.9, "p99": 1.2},
        http=http,
    )


def test_the_targets_judge_the_micro_batching_setting_the_service_ships_with() -> None:
    assert float(HTTP_SETTINGS[SHIPPED_SETTING]) == Settings.model_fields["batch_window_ms"].default


def test_targets_are_judged_on_what_the_run_measured_with_the_shipped_setting() -> None:
    batching = next(label for label in HTTP_SETTINGS if label != SHIPPED_SETTING)
    report = small_report({SHIPPED_SETTING: [http_row(1, 600), http_row(32, 900, p99_ms=70)]})
    report.http[batching] = [http_row(32, 5000)]  # not the service as it ships: never judged
    assert targets(report) == [
        ("model p50 ms", TARGETS["model p50 ms"], 0.15, True),
        ("HTTP p50 ms at concurrency 1", TARGETS["HTTP p50 ms at concurrency 1"], 1.5, True),
        ("requests/s at concurrency 32", TARGETS["requests/s at concurrency 32"], 900, False),
        ("HTTP p99 ms at concurrency 32", TARGETS["HTTP p99 ms at concurrency 32"], 70, True),
    ]
    quick = small_report({SHIPPED_SETTING: [http_row(1, 600), http_row(8, 900)]})  # --quick stops at 8
    assert [name for name, *_ in targets(quick)] == ["model p50 ms", "HTTP p50 ms at concurrency 1"]


def test_markdown_gives_each_measured_runtime_and_says_which_targets_are_met() -> None:
    markdown = render_markdown(small_report({SHIPPED_SETTING: [http_row(1, 600), http_row(32, 900, 70)]}))
    assert "Command: `rthdr bench --quick`" in markdown
    assert "| ONNX Runtime, `digitnet.int8.onnx` (served) | 0.15 | 0.3 | 12,346 |" in markdown
    assert "PyTorch eager" not in markdown  # not measured (no weights given): no row
    assert "| requests/s at concurrency 32 | at least 800 | 900 | yes |" in markdown
    assert "| HTTP p99 ms at concurrency 32 | at most 60 | 70 | no |" in markdown
    assert f"### {SHIPPED_SETTING}\n" in markdown and "| 32 | 900 | 1.5 | 2.5 | 70 | 0 |" in markdown
    assert "Side by side" not in markdown  # no --versus


def test_side_by_side_tables_give_medians_over_the_rounds() -> None:
    report = small_report({})
    report.versus = [
        {"version": version, **http_row(concurrency, requests_per_s)}
        for requests_per_s in (100, 300, 200)
        for concurrency in (1, 32)
        for version in ("this checkout", "HEAD~1")
    ]
    markdown = render_markdown(report)
    assert (
        "## Side by side: this checkout and HEAD~1" in markdown and "(medians of 3 rounds each)" in markdown
    )
    assert "| HEAD~1 | 32 | 200 | 1.50 | 3.5 | 0 |" in markdown


def test_the_mixed_load_is_judged_on_the_shipped_setting_and_tabled() -> None:
    wrk_row = {**http_row(8, 1000.0, p99_ms=10.0)}
    setting = {
        "predict_alone": wrk_row,
        "predict_mixed": {**wrk_row, "p99_ms": 14.0, "requests_per_s": 900.0},
        "p99_ratio": 1.4,
        "photos_read": 3,
        "photo_errors": 0,
        "photo_ms": {"p50": 2500.0, "p99": 3000.0},
        "photo_alone_ms": {"p50": 210.0, "p99": 230.0},
    }
    report = small_report({SHIPPED_SETTING: [http_row(1, 500.0)]})
    report.mixed = {
        "photo_bytes": 3_600_000,
        "photo_pixels": 12_000_000,
        "in its own process (the default)": setting,
        "on the event loop": {**setting, "p99_ratio": 12.0},
    }
    (row,) = [t for t in targets(report) if t[0].startswith("mixed load")]
    assert row == ("mixed load: /predict p99 / alone", TARGETS["mixed load: /predict p99 / alone"], 1.4, True)
    markdown = render_markdown(report)
    assert "12-megapixel JPEG of a number (3.6 MB)" in markdown
    assert (
        "| in its own process (the default) | 10.0 | 14.0 | 1.4 | 1,000 / 900 | 3 (0) | 2500 / 210 |"
        in markdown
    )
    assert "| on the event loop | 10.0 | 14.0 | 12.0 |" in markdown


def test_the_peer_ratios_are_judged_on_the_medians_at_concurrency_32() -> None:
    def row(version: str, concurrency: int, requests_per_s: float, p99_ms: float) -> dict[str, Any]:
        return {**http_row(concurrency, requests_per_s, p99_ms), "version": version}

    report = small_report({SHIPPED_SETTING: [http_row(1, 500.0)]})
    report.peer = [
        row("rthdr", 1, 500, 3), row("Flask + gunicorn peer", 1, 400, 4),
        row("rthdr", 32, 1200, 30), row("Flask + gunicorn peer", 32, 800, 40),
        row("rthdr", 1, 510, 3), row("Flask + gunicorn peer", 1, 410, 4),
        row("rthdr", 32, 1400, 50), row("Flask + gunicorn peer", 32, 1000, 40),
    ]  # fmt: skip
    judged = {name: (goal, value, lower) for name, goal, value, lower in targets(report)}
    assert judged["requests/s at concurrency 32 / the peer's"] == (1.35, round(1300 / 900, 2), False)
    assert judged["p99 at concurrency 32 / the peer's"] == (1.0, 1.0, True)
    assert "## Against a plain peer: Flask under gunicorn" in render_markdown(report)


def test_a_peer_that_served_nothing_gives_no_ratio_and_says_so() -> None:
    report = small_report({SHIPPED_SETTING: [http_row(1, 500.0)]})
    report.peer = [
        {**http_row(32, 1200, 30), "version": "rthdr"},
        {**http_row(32, 0, 0), "version": "Flask + gunicorn peer"},
    ]
    assert not [name for name, *_ in targets(report) if "peer" in name]
    assert "The peer served no requests at concurrency 32" in render_markdown(report)
