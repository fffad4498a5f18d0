"""Security for the page and the API: response headers, optional API keys and reviewer keys,
per-client rate limits."""

from __future__ import annotations

import hashlib
import hmac
import time
from functools import lru_cache

from fastapi import Request
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The page runs only its own scripts (no inline code), WebAssembly for on-device inference, and
# images from data: URLs (previews, heatmaps). Swagger UI at /docs needs one inline script.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_POLICY = PAGE_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")


def _raw_headers(policy: str) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
    }
    return [(name.encode(), value.encode()) for name, value in headers.items()]


PAGE_HEADERS, DOCS_HEADERS = _raw_headers(PAGE_POLICY), _raw_headers(DOCS_POLICY)


class SecurityHeadersMiddleware:
    """Adds the headers above to every response (no route sets them itself), appended ready-made:
    setting them one by one scans the response's headers once per header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = DOCS_HEADERS if scope["path"].startswith("/docs") else PAGE_HEADERS

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, add_headers)


def check_api_key(request: Request, api_keys: list[str]) -> None:
    """With RTHDR_API_KEYS set, every API call needs one of the keys in the X-API-Key header."""
    if not api_keys:
        return
    given = request.headers.get("x-api-key", "")
    if not any(hmac.compare_digest(given, key) for key in api_keys):
        raise HTTPException(
            401,
            "A valid API key is required in the X-API-Key header.",
            headers={"WWW-Authenticate": "X-API-Key"},
        )


def accepted_keys(api_keys: list[str], reviewer_keys: list[str]) -> list[str]:
    """The keys any API call accepts: with RTHDR_API_KEYS set, those and the reviewers' (a reviewer
    draws digits too); without, none, as the API is open (reviewer keys alone guard only reviewing)."""
    return [*api_keys, *reviewer_names(tuple(reviewer_keys))] if api_keys else []


@lru_cache(maxsize=8)
def reviewer_names(entries: tuple[str, ...]) -> dict[str, str]:
    """RTHDR_REVIEWER_KEYS entries -> {key: reviewer's name}. "alice:k3y" is Alice's key (the name
    ends at the first colon); a bare key is named by the start of its SHA-256, so that claims,
    answers and logs never show a key."""
    names = {}
    for entry in entries:
        name, colon, key = entry.partition(":")
        if not colon:
            name, key = "reviewer-" + hashlib.sha256(entry.encode()).hexdigest()[:8], entry
        names[key.strip()] = name.strip()
    return names


def reviewer_of(request: Request, api_keys: list[str], reviewer_keys: list[str]) -> str:
    """Who is reviewing. With any keys set, only a reviewer key may review, and it names the
    reviewer (401 without a known key, 403 for a key without the role); with none, the X-Reviewer
    header names them, else they are "anonymous"."""
    if not api_keys and not reviewer_keys:
        claimed = "".join(c for c in request.headers.get("x-reviewer", "") if c.isprintable())
        return claimed.strip()[:64] or "anonymous"
    given = request.headers.get("x-api-key", "")
    for key, name in reviewer_names(tuple(reviewer_keys)).items():
        if hmac.compare_digest(given, key):
            return name
    if given and any(hmac.compare_digest(given, key) for key in api_keys):
        raise HTTPException(403, "This key may not review: reviewing needs a key from RTHDR_REVIEWER_KEYS.")
    raise HTTPException(
        401,
        "Reviewing needs a reviewer key in the X-API-Key header.",
        headers={"WWW-Authenticate": "X-API-Key"},
    )


class RateLimiter:
    """A moving one-minute window per client (its API key, else its address), per worker process."""

    def __init__(self, per_minute: int) -> None:
        self.limit = parse(f"{per_minute}/minute") if per_minute > 0 else None
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    def __call__(self, request: Request) -> None:
        if self.limit is None:
            return
        client = request.headers.get("x-api-key") or (request.client.host if request.client else "unknown")
        if not self.limiter.hit(self.limit, client):
            reset = self.limiter.get_window_stats(self.limit, client).reset_time
            retry_after = max(1, round(reset - time.time()))
            raise HTTPException(
                429,
                f"Too many requests: the limit is {self.limit.amount} per minute. "
                f"Try again in {retry_after} s.",
                headers={"Retry-After": str(retry_after)},
            )


async def guard_api(request: Request) -> None:
    """The API routes' one guard: the API key, then the caller's rate limit. One dependency without
    sub-dependencies, as FastAPI spends ~20 us solving each dependency on every request (measured:
    four of them were a quarter of the framework's time per prediction)."""
    check_api_key(request, request.app.state.api_keys)  # accepted_keys(), worked out once
    request.app.state.rate_limiter(request)
