"""What a benchmark run measured, judged against the speed targets, as benchmarks.json and .md.

The report carries the machine and the command beside the figures: a timing means little without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

TARGETS = {  # from issue 7; the paper reports about 55 ms per prediction
    "model p50 ms": 0.2,
    "HTTP p50 ms at concurrency 1": 2.0,
    "requests/s at concurrency 32": 800.0,
    "HTTP p99 ms at concurrency 32": 60.0,
    "mixed load: /predict p99 / alone": 1.5,  # issue 21: a large photo to /recognize must not stall /predict
    # issue 21: against a plain Flask + gunicorn + PyTorch peer, loaded in turns in the same run
    "requests/s at concurrency 32 / the peer's": 1.35,
    "p99 at concurrency 32 / the peer's": 1.0,
}
PEER = "Flask + gunicorn peer"  # rthdr.bench.peer's name in its rows
PEER_DESCRIPTION = (
    "Flask under gunicorn (2 sync workers), PyTorch eager, a Pillow decode and a resize to 28x28, "
    "no centring and no preview (rthdr/bench/peer.py)"
)
MIXED_SHIPPED = "in its own process (the default)"  # rthdr.bench.mixed.SETTINGS' first

# The service's micro-batching settings under load, RTHDR_BATCH_WINDOW_MS by label; the first is its
# default, which the targets judge.
HTTP_SETTINGS = {"micro-batching off (the default)": "0", "micro-batching on (2 ms window)": "2"}
SHIPPED_SETTING = next(iter(HTTP_SETTINGS))


@dataclass
class Report:
    machine: str
    command: str
    model: str
    model_only: dict[str, Any]
    pipeline_ms: dict[str, float]  # the same work in-process, without HTTP
    http: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # setting -> one row per concurrency
    versus: list[dict[str, Any]] = field(default_factory=list)  # side_by_side()'s wrk runs, if asked for
    mixed: dict[str, Any] = field(default_factory=dict)  # rthdr.bench.mixed.measure()
    peer: list[dict[str, Any]] = field(default_factory=list)  # rthdr.bench.peer.versus_peer()'s wrk runs


def targets(report: Report) -> list[tuple[str, float, float, bool]]:
    """(target, goal, measured, lower is better) for the goals in TARGETS that this run measured;
    over HTTP, the service as it ships (micro-batching off)."""
    rows = [
        (
            "model p50 ms",
            TARGETS["model p50 ms"],
            report.model_only["onnxruntime"]["single_image_ms"]["p50"],
            True,
        )
    ]

    shipped = {r["concurrency"]: r for r in report.http.get(SHIPPED_SETTING, [])}
    for name, concurrency, key, lower in (
        ("HTTP p50 ms at concurrency 1", 1, "p50_ms", True),
        ("requests/s at concurrency 32", 32, "requests_per_s", False),
        ("HTTP p99 ms at concurrency 32", 32, "p99_ms", True),
    ):
        if concurrency in shipped:
            rows.append((name, TARGETS[name], shipped[concurrency][key], lower))
    if peer_answered(report):
        ours, theirs = medians(report.peer, "rthdr", 32), medians(report.peer, PEER, 32)
        for name, key, lower in (
            ("requests/s at concurrency 32 / the peer's", "requests_per_s", False),
            ("p99 at concurrency 32 / the peer's", "p99_ms", True),
        ):
            rows.append((name, TARGETS[name], round(ours[key] / theirs[key], 2), lower))
    if MIXED_SHIPPED in report.mixed:
        name = "mixed load: /predict p99 / alone"
        rows.append((name, TARGETS[name], report.mixed[MIXED_SHIPPED]["p99_ratio"], True))
    return rows


def render_markdown(report: Report) -> str:
    lines = [
        "# Benchmarks",
        "",
        f"Machine: {report.machine}. Model: {report.model}. Command: `{report.command}`.",
        "Load from [wrk](https://github.com/wg/wrk) (one thread) on the same machine as the server, POSTing a "
        "280x280 canvas PNG of a drawn digit (RGBA, as browsers export a canvas) to `/api/v1/predict` "
        "(the full pipeline: decode, MNIST "
        "preprocessing, model, preview PNG, JSON).",
        "",
        *render_model_only(report),
        *render_targets(report),
        *render_http(report.http),
    ]
    if report.mixed:
        lines += render_mixed(report.mixed)
    if report.peer:
        lines += render_versus(report.peer, f"Against a plain peer: {PEER_DESCRIPTION}")
    if report.versus:
        lines += render_versus(report.versus)
    return "\n".join(lines) + "\n"


def render_mixed(mixed: dict[str, Any]) -> list[str]:
    """/predict alone and beside a client posting large photos to /recognize, per setting."""
    lines = [
        "## Mixed load: large photos to /recognize beside /predict",
        "",
        f"wrk drives `/api/v1/predict` at concurrency 8, alone and while one client posts a {mixed['photo_pixels'] / 1e6:.0f}-megapixel "
        f"JPEG of a number ({mixed['photo_bytes'] / 1e6:.1f} MB) to `/api/v1/recognize` in a loop.",
        "",
        "| /recognize's decoding and cutting | /predict p99 ms alone | /predict p99 ms mixed | ratio | /predict requests/s alone / mixed | photos read (failed) | photo p50 ms mixed / alone |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, m in mixed.items():
        if not isinstance(m, dict):
            continue
        alone, loaded = m["predict_alone"], m["predict_mixed"]
        photo = f"{m['photo_ms']['p50']:.0f}" if m["photo_ms"] else "-"
        lines.append(
            f"| {label} | {alone['p99_ms']} | {loaded['p99_ms']} | {m['p99_ratio']} | {alone['requests_per_s']:,.0f} / "
            f"{loaded['requests_per_s']:,.0f} | {m['photos_read']} ({m['photo_errors']}) | "
            f"{photo} / {m['photo_alone_ms']['p50']:.0f} |"
        )
    return [*lines, ""]


def render_model_only(report: Report) -> list[str]:
    """The model alone, each runtime on one thread, and the whole request's work in-process."""
    lines = [
        "## Model only (one CPU thread)",
        "",
        "| runtime | one image p50 ms | one image p99 ms | batch of 256, images/s |",
        "|---|---|---|---|",
    ]
    files = report.model_only.get("files", {})
    for key, label in (
        ("onnxruntime", f"ONNX Runtime, `{files.get('onnxruntime', 'the model')}` (served)"),
        ("onnxruntime_float", f"ONNX Runtime, `{files.get('onnxruntime_float')}` (float)"),
        ("pytorch_eager", "PyTorch eager (float, the same weights)"),
    ):
        if key in report.model_only:
            timed = report.model_only[key]
            lines.append(
                f"| {label} | {timed['single_image_ms']['p50']} | {timed['single_image_ms']['p99']} | "
                f"{timed['batch_256_images_per_s']:,.0f} |"
            )
    return [
        *lines,
        "",
        f"The whole request's work in-process (decode the PNG, preprocess, model; no HTTP), one thread: "
        f"p50 {report.pipeline_ms['p50']} ms, p99 {report.pipeline_ms['p99']} ms. The floor under the HTTP "
        "figures, and a gauge of this machine's speed during the run.",
    ]


def peer_answered(report: Report) -> bool:
    """Whether the peer served requests at concurrency 32: a ratio to nothing is no figure."""
    return bool(report.peer) and medians(report.peer, PEER, 32)["requests_per_s"] > 0


def render_targets(report: Report) -> list[str]:
    lines = [
        "",
        "## Against the targets",
        "",
        f"Over HTTP: the service as it ships, {SHIPPED_SETTING}.",
        "",
        "| target | goal | measured | met |",
        "|---|---|---|---|",
    ]
    for name, goal, value, lower_is_better in targets(report):
        met = value <= goal if lower_is_better else value >= goal
        lines.append(
            f"| {name} | {'at most' if lower_is_better else 'at least'} {goal:g} | {value:g} | "
            f"{'yes' if met else 'no'} |"
        )
    if report.peer and not peer_answered(report):
        lines += [
            "",
            "The peer served no requests at concurrency 32 (see its errors below), so no ratio to it.",
        ]
    return lines


def render_http(http: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One table per micro-batching setting, a row per concurrency."""
    lines = ["", "## End to end over HTTP", ""]
    for label, rows in http.items():
        lines += [
            f"### {label}",
            "",
            "| concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r['concurrency']} | {r['requests_per_s']:,.0f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
            f"{r['error_count']} |"
            for r in rows
        ]
        lines.append("")
    return lines


def medians(rows: list[dict[str, Any]], version: str, concurrency: int) -> dict[str, float]:
    """The median requests/s, p50 and p99 over the rounds of one server at one concurrency."""
    runs = [r for r in rows if r["version"] == version and r["concurrency"] == concurrency]
    return {k: float(np.median([r[k] for r in runs])) for k in ("requests_per_s", "p50_ms", "p99_ms")}


def render_versus(rows: list[dict[str, Any]], title: str | None = None) -> list[str]:
    """Medians over the rounds of in_turns(), per version and concurrency."""
    versions = list(dict.fromkeys(r["version"] for r in rows))
    lines = [
        f"## {title or f'Side by side: this checkout and {versions[1]}'}",
        "",
        "Both served at once, loaded in turns with the same canvas PNG (medians of "
        f"{sum(1 for r in rows if r['version'] == versions[0] and r['concurrency'] == 1)} rounds each):",
        "",
        "| version | concurrency | requests/s | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for concurrency in (1, 32):
        for version in versions:
            runs = [r for r in rows if r["version"] == version and r["concurrency"] == concurrency]
            median = medians(rows, version, concurrency)
            lines.append(
                f"| {version} | {concurrency} | {median['requests_per_s']:,.0f} | {median['p50_ms']:.2f} | "
                f"{median['p99_ms']:.1f} | {sum(r['error_count'] for r in runs)} |"
            )
    return [*lines, ""]


def write(report: Report, out_dir: str | Path) -> list[Path]:
    """benchmarks.json and benchmarks.md."""
    from rthdr.evaluation.report import write_outputs

    return write_outputs(out_dir, "benchmarks", report, render_markdown(report))
