"""The FastAPI application: routers, middleware, the page, and the model loaded once at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import cv2
import swagger_ui_bundle
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from rthdr import __version__
from rthdr.api.batcher import Predictor
from rthdr.api.body_limit import BodyLimitMiddleware
from rthdr.api.dependencies import Readers, Recognition, StrokeModels
from rthdr.api.errors import install_error_handlers
from rthdr.api.metrics import MetricsMiddleware, metrics_endpoint
from rthdr.api.offload import LinePreparer, Models
from rthdr.api.request_log import RequestContextMiddleware
from rthdr.api.review_queue import ReviewQueue, open_store
from rthdr.api.routes import corrections, health, predict, recognize, reviews
from rthdr.api.security import RateLimiter, SecurityHeadersMiddleware, accepted_keys, guard_api
from rthdr.api.settings import Settings, get_settings
from rthdr.core.errors import ModelError
from rthdr.core.inference import Classifier, OneDigitCheck, StrokeClassifier

STATIC = Path(__file__).resolve().parent / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One thread per worker for OpenCV too: workers scale across cores, and OpenCV's own pool
        # only adds hand-offs (and spinning threads) for images this small.
        cv2.setNumThreads(1)
        classifier = Classifier(settings.model, threads=settings.onnx_threads)
        predictor = Predictor(classifier, settings.batch_window_ms, settings.max_batch)
        await predictor.start()
        app.state.predictor = predictor
        app.state.one_digit = OneDigitCheck.if_present(settings.one_digit)
        characters, scripts = (
            Predictor(Classifier(path, threads=settings.onnx_threads)) if path.is_file() else None
            for path in (settings.character_model, settings.script_model)
        )
        app.state.readers = Readers(characters, scripts)
        app.state.strokes = StrokeModels(
            *(StrokeClassifier.if_present(path, settings.onnx_threads) for path in (settings.stroke_model, settings.character_stroke_model))
        )  # fmt: skip
        char_strokes = app.state.strokes.characters
        if characters and char_strokes and char_strokes.classes != characters.classifier.classes:
            raise ModelError(
                f"{char_strokes.path} reads other classes than {characters.classifier.path}: train it on "
                "the character model's corpus (`rthdr train-strokes --corpus`) or unset RTHDR_CHARACTER_STROKE_MODEL"
            )
        app.state.lines = LinePreparer(
            Models(
                classifier,
                characters.classifier if characters else None,
                scripts.classifier if scripts else None,
                app.state.one_digit,
            ),
            settings.recognize_processes,
        )
        app.state.recognition = Recognition(
            settings, predictor, app.state.readers, app.state.strokes, app.state.lines
        )
        store = app.state.review_store = open_store(settings)
        if settings.review and store is not None:
            app.state.review_queue = ReviewQueue(store, settings.review_audit_rate)
        yield
        await predictor.stop()
        app.state.lines.close()
        if store is not None:
            store.close()

    app = FastAPI(
        title="rthdr: real-time handwritten digit recognition",
        version=__version__,
        description="Recognise handwritten digits in images. Errors always have the body "
        '`{"error": {"code": "...", "message": "..."}}`.',
        lifespan=lifespan,
        docs_url=None,  # served below from local assets: no CDN
    )
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    # Settings reach routes through app.state (dependencies.get_app_settings): a dependency override
    # would be re-inspected by FastAPI on every request (measured: a fifth of the event loop's time).
    app.state.settings = settings
    app.state.api_keys = accepted_keys(settings.api_keys, settings.reviewer_keys)
    app.state.review_store = app.state.review_queue = None  # the lifespan opens them when review is on
    install_error_handlers(app)
    guarded = [Depends(guard_api)]
    app.include_router(predict.router, dependencies=guarded)
    app.include_router(recognize.router, dependencies=guarded)
    app.include_router(health.router)  # before reviews: its /reviews/status is no review's id
    app.include_router(reviews.router, dependencies=guarded)
    app.include_router(corrections.router, dependencies=guarded)
    app.add_route("/metrics", metrics_endpoint, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    # ONNX Runtime Web, for on-device recognition (`npm ci` installs it). The page asks
    # /api/v1/on-device first, so a server without it is never asked for the runtime's files.
    if settings.on_device_available:
        app.mount("/vendor/ort", StaticFiles(directory=settings.ort_web_dir), name="ort")
    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=app.title,
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @app.get("/review", include_in_schema=False)
    async def review_page() -> FileResponse:
        """The reviewers' view; it says itself when review is off (it asks /api/v1/reviews/status)."""
        return FileResponse(STATIC / "review.html")

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-API-Key", "X-Request-ID", "X-Review", "X-Reviewer"],
            expose_headers=["X-Request-ID"],
        )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_upload_bytes)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(RequestContextMiddleware, timeout_s=settings.request_timeout_s)  # outermost
    return app
