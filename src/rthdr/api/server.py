"""Running the app under Uvicorn: worker processes sized from the core count, shared metrics."""

from __future__ import annotations

import os
import tempfile

import uvicorn

from rthdr.api.request_log import configure_logging
from rthdr.api.settings import get_settings
from rthdr.inference import Classifier


def serve(host: str, port: int, workers: int, model: str, reload: bool = False) -> None:
    """Settings travel to the worker processes through the environment."""
    Classifier(model)  # fail now, with a clear message, rather than in every worker
    os.environ["RTHDR_MODEL"] = str(model)
    workers = workers or os.cpu_count() or 1
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="rthdr-metrics-")
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
