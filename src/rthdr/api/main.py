"""The FastAPI application: routers, middleware, the page, and the model loaded once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from rthdr import __version__
from rthdr.api.batcher import Predictor
from rthdr.api.body_limit import BodyLimitMiddleware
from rthdr.api.errors import install_error_handlers
from rthdr.api.metrics import MetricsMiddleware, metrics_endpoint
from rthdr.api.routes import health, predict, recognize
from rthdr.api.settings import Settings, get_settings
from rthdr.inference import Classifier

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        classifier = Classifier(settings.model, threads=settings.onnx_threads)
        predictor = Predictor(classifier, settings.batch_window_ms, settings.max_batch)
        await predictor.start()
        app.state.predictor = predictor
        yield
        await predictor.stop()

    app = FastAPI(
        title="rthdr: real-time handwritten digit recognition",
        version=__version__,
        description="Recognise handwritten digits in images. Errors always have the body "
        '`{"error": {"code": "...", "message": "..."}}`.',
        lifespan=lifespan,
    )
    app.dependency_overrides[get_settings] = lambda: settings
    install_error_handlers(app)
    app.include_router(predict.router)
    app.include_router(recognize.router)
    app.include_router(health.router)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    app.add_middleware(MetricsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    return app
