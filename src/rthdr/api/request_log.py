"""Request IDs, structured JSON logs, and a time limit on API requests."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rthdr.api.errors import error_response

log = logging.getLogger("rthdr.access")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # accept the caller's ID if it is this tame


class JsonFormatter(logging.Formatter):
    """One JSON object per line: what log collectors (Loki, CloudWatch, Stackdriver) parse."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            # UTC, as the "Z" says, whatever the machine's time zone (formatTime gives local time)
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(json_logs: bool) -> dict:
    """Uvicorn's log config, with every logger (ours and Uvicorn's) in one format."""
    formatter = (
        {"()": JsonFormatter} if json_logs else {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {"default": handler},
        "loggers": {
            name: {"handlers": ["default"], "level": "INFO", "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "rthdr")
        },
    }


class RequestContextMiddleware:
    """Gives every request an ID (the caller's X-Request-ID if sane, else a new one), returns it in
    the response header, logs one line per request, and answers 503 when an API request runs over
    its time limit."""

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app, self.timeout_s = app, timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status, responded = 500, False

        async def send_with_id(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = message["status"], True
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if scope["path"].startswith("/api/"):
                async with asyncio.timeout(self.timeout_s):
                    await self.app(scope, receive, send_with_id)
            else:
                await self.app(scope, receive, send_with_id)
        except TimeoutError:
            if not responded:
                status = 503
                # Connection: close makes Uvicorn close the connection. Without it, a client still
                # trickling its body kept it open indefinitely: its next byte cancels the keep-alive
                # timer, and nothing starts it again (measured: still open 30 s after the 503).
                response = error_response(
                    503,
                    "timeout",
                    f"The request took longer than {self.timeout_s:g} s.",
                    {"X-Request-ID": request_id, "Connection": "close"},
                )
                await response(scope, receive, send)
        finally:
            client = scope.get("client")
            log.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "fields": {
                        "request_id": request_id,
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                        "client": client[0] if client else None,
                    }
                },
            )
