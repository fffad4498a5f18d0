"""How fast `rthdr batch` is, timed as a user runs it: `python -m rthdr.batch.benchmark`.

Makes the inputs from MNIST *test* digits (single digits drawn dark on a light 280x280 page, and
photos of 5-digit numbers from rthdr.data.synth), then runs `rthdr batch` as a command on manifests
of growing size, for each engine: one process, two processes, Ray with two actors (a local cluster
started by the command, as a user without a cluster gets). Each run's wall time includes the
command's start (Python, imports, the pool or Ray cluster), so a straight line through the sizes
gives the fixed cost and the cost per image; a one-image run shows the fixed cost directly. Ray's
fixed cost on a cluster that is already running (KubeRay's case) is timed in-process: the actor
pool's start for a one-image dataset. The first run is a warm-up, not reported: it fills the page
cache with Python's imports once (the inputs are there from being written or read).

Beyond 10,000 (the MNIST test set) the inputs are hard links to the first 10,000: other paths, the
same bytes, read from the page cache as the first 10,000 are.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

KINDS = {"digits": False, "numbers": True}  # kind -> --multi
ENGINES = {
    "local-1": ("local", 1),
    "local-2": ("local", 2),
    "ray-2": ("ray", 2),
}  # name -> --engine, --workers


@dataclass(frozen=True)
class Run:
    kind: str
    engine: str
    images: int
    wall_s: float  # the whole command, as `time` gives it
    job_s: float  # what the command reports: from the engine's start to the last row

    @property
    def per_second(self) -> float:
        return self.images / self.wall_s


def digit_page(digit: np.ndarray) -> bytes:
    """An MNIST digit (28x28, ink bright) as a person's scan of it: dark ink on a light 280x280 page."""
    page = 255 - cv2.resize(digit, (280, 280), interpolation=cv2.INTER_CUBIC)
    ok, png = cv2.imencode(".png", page)
    assert ok, "PNG encoding of a uint8 page cannot fail"
    return png.tobytes()


def make_inputs(folder: Path, kind: str, count: int, data_dir: str | None) -> list[Path]:
    """`count` image files of a kind in `folder` (made once, kept for later runs)."""
    from rthdr.data.mnist import load_mnist
    from rthdr.data.synth import make_numbers

    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".png" if kind == "digits" else ".jpg"
    paths = [folder / f"{i:06}{suffix}" for i in range(count)]
    missing = [i for i, p in enumerate(paths) if not p.exists()]
    if not missing:
        for path in paths[:10_000]:  # into the page cache, where the hard links beyond find them too
            path.read_bytes()
        return paths
    images, labels = load_mnist("test", data_dir)
    unique = min(count, len(images))
    if kind == "digits":
        files = [digit_page(images[i]) for i in range(unique)]
    else:
        files = [n.image for n in make_numbers(images, labels, unique, 5, seed=0)]
    for i in missing:
        if i < unique:
            paths[i].write_bytes(files[i])
        else:
            os.link(paths[i % unique], paths[i])
    return paths


def manifest(paths: list[Path], count: int, folder: Path) -> Path:
    listed = folder / f"{paths[0].parent.name}-{count}.txt"
    listed.write_text(
        "".join(f"{p.resolve()}\n" for p in paths[:count])
    )  # a manifest's relative paths are to it
    return listed


def run_batch_command(listed: Path, engine: str, workers: int, multi: bool, out: Path) -> tuple[float, float]:
    """Wall time of one `rthdr batch` command, and the job time it reports."""
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "rthdr.cli", "batch", str(listed), "--out", str(out), "--no-progress"]
    command += ["--engine", engine, "--workers", str(workers), *(["--multi"] if multi else [])]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if result.returncode != 0 or " 0 could not be read" not in result.stdout:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stdout} {result.stderr[-2000:]}")
    job = float(result.stdout.split(" images in ")[1].split(" s ")[0])
    return wall, job


def ray_start_on_a_running_cluster(image: Path, repeats: int = 3) -> float:
    """Seconds to read one image on a Ray cluster that is already up: the actor pool's start and
    Ray Data's planning, the fixed cost a job on KubeRay pays. The median of `repeats`."""
    import ray

    from rthdr.batch.ray_engine import read_ray
    from rthdr.batch.reader import ReaderConfig

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            list(read_ray([str(image)], ReaderConfig(), actors=2))
            times.append(time.perf_counter() - start)
    finally:
        ray.shutdown()
    return float(np.median(times))


def fit(runs: list[Run]) -> tuple[float, float]:
    """Fixed seconds and microseconds per image: least squares through (images, wall) of the sizes."""
    slope, intercept = np.polyfit([r.images for r in runs], [r.wall_s for r in runs], 1)
    return float(intercept), float(slope * 1e6)


def report(runs: list[Run], running_cluster_s: float | None, command: str, load: tuple[float, float]) -> str:
    lines = [
        "# rthdr batch: throughput",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after. Command: `{command}`. "
        "Engines: local-N is N processes, ray-2 is Ray with 2 actors on a local cluster the command starts. "
        "Wall time: the whole `rthdr batch` command, start to exit.",
        "",
        "| kind | engine | images | wall s | images/s | job s (engine start to last row) |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r.kind} | {r.engine} | {r.images:,} | {r.wall_s:.2f} | {r.per_second:,.0f} | {r.job_s:.2f} |"
        for r in runs
    ]
    lines += [
        "",
        "| kind | engine | fixed s (fit) | µs per image (fit) | marginal µs per image, size to size |",
    ]
    lines += ["|---|---|---|---|---|"]
    for kind in KINDS:
        for engine in dict.fromkeys(r.engine for r in runs):
            series = sorted((r for r in runs if (r.kind, r.engine) == (kind, engine)), key=lambda r: r.images)
            if len(series) >= 2:
                fixed, per_image = fit(series)
                steps = ", ".join(
                    f"{a.images:,}->{b.images:,}: {(b.wall_s - a.wall_s) / (b.images - a.images) * 1e6:,.0f}"
                    for a, b in itertools.pairwise(series)
                )
                lines.append(f"| {kind} | {engine} | {fixed:.2f} | {per_image:,.0f} | {steps} |")
    if running_cluster_s is not None:
        lines += [
            "",
            f"Ray's fixed cost on a cluster already running (one image, median of 3): {running_cluster_s:.2f} s.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rthdr.batch.benchmark", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--out", type=Path, default=Path("reports/batch"), help="inputs, rows and the report go here"
    )
    parser.add_argument("--digits", default="1,1000,10000", help="sizes of the single-digit runs")
    parser.add_argument("--numbers", default="1,1000", help="sizes of the 5-digit number runs")
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"which of {', '.join(ENGINES)}")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 and 20 digits, 1 and 4 numbers")
    parser.add_argument("--data-dir", default=None, help="MNIST folder; else $RTHDR_DATA_DIR")
    args = parser.parse_args(argv)
    sizes = {
        "digits": [int(s) for s in args.digits.split(",")],
        "numbers": [int(s) for s in args.numbers.split(",")],
    }
    if args.quick:
        sizes = {"digits": [1, 20], "numbers": [1, 4]}
    engines = args.engines.split(",")
    if unknown := set(engines) - set(ENGINES):
        parser.error(f"--engines: unknown {', '.join(sorted(unknown))}; choose from {', '.join(ENGINES)}")
    load_before = os.getloadavg()[0]
    runs: list[Run] = []
    for kind, multi in KINDS.items():
        paths = make_inputs(args.out / "inputs" / kind, kind, max(sizes[kind]), args.data_dir)
        listed = [manifest(paths, n, args.out) for n in sizes[kind]]
        run_batch_command(listed[0], "local", 1, multi, args.out / "warm-up.csv")
        for name in engines:
            engine, workers = ENGINES[name]
            for count, path in zip(sizes[kind], listed, strict=True):
                wall, job = run_batch_command(path, engine, workers, multi, args.out / "rows.csv")
                runs.append(Run(kind, name, count, wall, job))
                print(
                    f"{kind:8} {name:20} {count:>7,} images: {wall:7.2f} s, {count / wall:7,.0f} images/s",
                    flush=True,
                )
    running = None
    if "ray-2" in engines:
        running = ray_start_on_a_running_cluster(args.out / "inputs" / "digits" / "000000.png")
    command = "python -m rthdr.batch.benchmark " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(runs, running, command.strip(), (load_before, os.getloadavg()[0]))
    (args.out / "batch.md").write_text(text)
    results = {"runs": [asdict(r) for r in runs], "ray_running_cluster_s": running}
    (args.out / "batch.json").write_text(json.dumps(results, indent=2) + "\n")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
