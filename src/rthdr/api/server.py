"""Running the app under Uvicorn: worker processes sized from the core count, shared metrics."""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path

import uvicorn

from rthdr.api.request_log import configure_logging
from rthdr.api.settings import get_settings
from rthdr.inference import Classifier


def available_cpus() -> int:
    """CPUs this process may use: the container's CPU limit (cgroup v2 cpu.max) if there is one,
    else the CPUs it is allowed to run on. os.cpu_count() would count the whole node's cores."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def serve(host: str, port: int, workers: int, model: str, reload: bool = False) -> None:
    """Settings travel to the worker processes through the environment."""
    Classifier(model)  # fail now, with a clear message, rather than in every worker
    os.environ["RTHDR_MODEL"] = str(model)
    workers = workers or available_cpus()
    if workers > 1:
        metrics_dir = os.environ.setdefault(
            "PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="rthdr-metrics-")
        )
        os.makedirs(metrics_dir, exist_ok=True)
    uvicorn.run(
        "rthdr.api.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=5,
        access_log=False,  # RequestContextMiddleware logs each request, with its ID
        log_config=configure_logging(get_settings().log_json),
    )
