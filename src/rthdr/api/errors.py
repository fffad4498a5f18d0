"""One error format for every failure: {"error": {"code", "message"}} with the right status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException

from rthdr.core.errors import InputError
from rthdr.review.store import ReviewError

log = logging.getLogger("rthdr.api")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}
# The HTTP status of each input problem the core names: too big, or not a kind of image we read.
# The others are 422: a well-formed request whose image cannot be read as a digit.
INPUT_STATUS = {"image_too_large": 413, "unsupported_media_type": 415}


# The review queue's codes (rthdr.review.store.ReviewError, and the API's own "review_off" and
# "already_claimed"): 404 for what is not there, 409 for an item another reviewer holds or has
# answered, or one answered without holding its claim; the others are 422.
REVIEW_STATUS = {
    "not_found": 404,
    "review_off": 404,
    "already_claimed": 409,
    "already_done": 409,
    "not_claimed": 409,
}


def input_status(error: InputError) -> int:
    return INPUT_STATUS.get(error.code, 422)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg')}" if where else str(error.get("msg")))
    return "Invalid request: " + "; ".join(parts)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return error_response(input_status(exc), exc.code, exc.message)

    @app.exception_handler(ReviewError)
    async def review_error(_: Request, exc: ReviewError) -> JSONResponse:
        return error_response(REVIEW_STATUS.get(exc.code, 422), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_request", describe_validation(exc))

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        """The review queue's database is down or refused the write: nothing was saved, so say so
        in a way clients retry (recognition itself never gets here: see review_queue.queue_answer)."""
        log.exception("review database error on %s %s", request.method, request.url.path)
        message = "The review queue's database is unavailable, and nothing was saved. Try again shortly."
        return error_response(503, "database_unavailable", message, {"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "An unexpected error occurred; it has been logged.")
