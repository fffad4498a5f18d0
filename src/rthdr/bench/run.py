"""Speed, measured: the model alone (ONNX Runtime against PyTorch eager on the same weights) and the
whole service over HTTP under load from wrk, with and without micro-batching.

Every timing warms up first and reports percentiles; the machine and the commands go in the report.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from rthdr.core.inference import Classifier, network_name
from rthdr.evaluation.timing import interleaved, percentiles, throughput, time_calls

CONCURRENCY = (1, 8, 32, 64)
TARGETS = {  # from issue 7; the paper reports about 55 ms per prediction
    "model p50 ms": 0.2,
    "HTTP p50 ms at concurrency 1": 2.0,
    "requests/s at concurrency 32": 800.0,
    "HTTP p99 ms at concurrency 32": 60.0,
}

# The service's micro-batching settings under load, RTHDR_BATCH_WINDOW_MS by label; the first is its
# default, which the targets judge.
HTTP_SETTINGS = {"micro-batching off (the default)": "0", "micro-batching on (2 ms window)": "2"}
SHIPPED_SETTING = next(iter(HTTP_SETTINGS))

WRK_SCRIPT = """
local f = assert(io.open(os.getenv("RTHDR_BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "image/png"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'RTHDR_RESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f, "max_ms": %f, '
    .. '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3, latency.max / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


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


def canvas_png(size: int = 280) -> bytes:
    """What a browser's canvas.toDataURL() gives for a drawing: an opaque RGBA PNG, here a digit (a 4)
    drawn with a round 20-pixel pen on a white 280x280 canvas."""
    canvas = np.full((size, size, 4), 255, np.uint8)
    for start, end in (((90, 50), (70, 160)), ((70, 160), (200, 160)), ((170, 60), (165, 240))):
        cv2.line(canvas, start, end, (0, 0, 0, 255), 20, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", canvas, [cv2.IMWRITE_PNG_COMPRESSION, 3])  # 5.6 kB, as Chromium's
    assert ok
    return png.tobytes()


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


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Served:
    url: str
    process: subprocess.Popen[bytes]
    log: Any  # the process's stdout and stderr, a temporary file

    def output(self) -> str:
        self.log.seek(0)
        return str(self.log.read())


@contextmanager
def serving(
    model: Path, workers: int = 1, env: dict[str, str] | None = None, timeout: float = 60
) -> Iterator[Served]:
    """`rthdr serve` as a real process on a free port, once all its workers have started; stopped on
    exit."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "rthdr.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--model",
        str(model),
    ]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(url, process, log, timeout, workers)
            yield Served(url, process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Any, timeout: float, workers: int) -> None:
    """Until /readyz answers and every worker has started: the first worker up answers /readyz, and
    connections opened before the others listen would all stay with it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        output = Served(url, process, log).output()
        if process.poll() is not None:
            raise RuntimeError(f"rthdr serve exited with {process.returncode}:\n{output}")
        if output.count("Application startup complete") >= workers:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
        time.sleep(0.2)
    raise RuntimeError(f"rthdr serve was not ready within {timeout:g} s")


def wrk(url: str, body: Path, concurrency: int, seconds: float) -> dict[str, Any]:
    """One wrk run (one thread, `concurrency` open connections) against POST url."""
    executable = shutil.which("wrk")
    if executable is None:
        raise RuntimeError("wrk is not installed: `make bench` installs it (Debian package wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT)
    try:
        result = subprocess.run(
            [
                executable,
                "-t1",
                f"-c{concurrency}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "5s",
                "-s",
                script.name,
                url,
            ],
            env={**os.environ, "RTHDR_BENCH_BODY": str(body)},
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(script.name)
    line = next((ln for ln in result.stdout.splitlines() if ln.startswith("RTHDR_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed:\n{result.stdout}\n{result.stderr}")
    stats = json.loads(line.removeprefix("RTHDR_RESULT "))
    stats["requests_per_s"] = round(stats["requests"] / stats["seconds"], 1)
    stats["concurrency"] = concurrency
    stats["error_count"] = sum(stats["errors"].values())
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}


@dataclass
class Report:
    machine: str
    command: str
    model: str
    model_only: dict[str, Any]
    pipeline_ms: dict[str, float]  # the same work in-process, without HTTP
    http: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # setting -> one row per concurrency
    versus: list[dict[str, Any]] = field(default_factory=list)  # side_by_side()'s wrk runs, if asked for


REPOSITORY = Path(__file__).resolve().parents[2]


@contextmanager
def checkout(ref: str) -> Iterator[Path]:
    """Git revision `ref` of this repository in a temporary folder (a git worktree), removed after."""
    folder = Path(tempfile.mkdtemp(prefix="rthdr-versus-"))
    git = ["git", "-C", str(REPOSITORY), "worktree"]
    added = subprocess.run([*git, "add", "--detach", str(folder), ref], capture_output=True, text=True)
    if added.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"cannot check out {ref!r}: {added.stderr.strip()}")
    try:
        yield folder
    finally:
        if subprocess.run([*git, "remove", "--force", str(folder)], capture_output=True).returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            subprocess.run([*git, "prune"], capture_output=True)


def side_by_side(model: Path, ref: str, workers: int, quick: bool) -> list[dict[str, Any]]:
    """This checkout and git revision `ref` served at the same time (the same model file, default
    settings) and loaded in turns, round after round, at concurrency 1 and 32: whatever the shared
    machine's speed does meanwhile, it does to both. Separate runs minutes apart cannot promise that."""
    rounds, seconds = (1, 1.0) if quick else (4, 6.0)
    rows = []
    with checkout(ref) as other, tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "canvas.png"
        body.write_bytes(canvas_png())
        log = {"RTHDR_LOG_JSON": "true"}
        other_code = {"PYTHONPATH": str(other / "src")}
        imported = subprocess.run(
            [sys.executable, "-c", "import rthdr; print(rthdr.__file__)"],
            env={**os.environ, **other_code},
            capture_output=True,
            text=True,
        ).stdout.strip()
        if not imported.startswith(str(other)):  # else both servers would run this checkout's code
            raise RuntimeError(f"{ref}'s code does not load from its checkout (rthdr came from {imported!r})")
        with (
            serving(model, workers, log) as this,
            serving(model, workers, {**log, **other_code}) as before,
        ):
            servers = {"this checkout": this.url, ref: before.url}
            for url in servers.values():
                wrk(f"{url}/api/v1/predict", body, 8, 1.0)  # warm-up
            for _ in range(rounds):
                for concurrency in (1, 32):
                    for version, url in servers.items():
                        rows.append(
                            {"version": version, **wrk(f"{url}/api/v1/predict", body, concurrency, seconds)}
                        )
    return rows


def run(
    model: Path, weights: Path | None, quick: bool, workers: int, command: str, versus: str | None = None
) -> Report:
    report = Report(
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform(terse=True)}",
        command=command,
        model=f"{model.name} ({Classifier(model).version})",
        model_only=model_only(model, weights, quick),
        pipeline_ms=pipeline_in_process(model, quick),
    )
    levels, seconds = ((1, 8), 2.0) if quick else (CONCURRENCY, 10.0)
    with tempfile.TemporaryDirectory() as folder:
        body = Path(folder) / "canvas.png"
        body.write_bytes(canvas_png())
        for label, window in HTTP_SETTINGS.items():
            with serving(
                model, workers, {"RTHDR_BATCH_WINDOW_MS": window, "RTHDR_LOG_JSON": "true"}
            ) as server:
                url = server.url
                wrk(f"{url}/api/v1/predict", body, 8, 1.0)  # warm-up
                report.http[label] = [wrk(f"{url}/api/v1/predict", body, c, seconds) for c in levels]
    if versus:
        report.versus = side_by_side(model, versus, workers, quick)
    return report


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
    lines += [
        "",
        f"The whole request's work in-process (decode the PNG, preprocess, model; no HTTP), one thread: "
        f"p50 {report.pipeline_ms['p50']} ms, p99 {report.pipeline_ms['p99']} ms. The floor under the HTTP "
        "figures, and a gauge of this machine's speed during the run.",
    ]
    lines += [
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
    lines += ["", "## End to end over HTTP", ""]
    for label, rows in report.http.items():
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
    if report.versus:
        lines += render_versus(report.versus)
    return "\n".join(lines) + "\n"


def render_versus(rows: list[dict[str, Any]]) -> list[str]:
    """Medians over the rounds of side_by_side(), per version and concurrency."""
    versions = list(dict.fromkeys(r["version"] for r in rows))
    lines = [
        f"## Side by side: this checkout and {versions[1]}",
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
            median = {
                k: float(np.median([r[k] for r in runs])) for k in ("requests_per_s", "p50_ms", "p99_ms")
            }
            lines.append(
                f"| {version} | {concurrency} | {median['requests_per_s']:,.0f} | {median['p50_ms']:.2f} | "
                f"{median['p99_ms']:.1f} | {sum(r['error_count'] for r in runs)} |"
            )
    return [*lines, ""]


def write(report: Report, out_dir: str | Path) -> list[Path]:
    """benchmarks.json and benchmarks.md."""
    from rthdr.evaluation.report import write_outputs

    return write_outputs(out_dir, "benchmarks", report, render_markdown(report))
