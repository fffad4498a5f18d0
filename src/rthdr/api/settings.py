"""Service settings, typed and read from RTHDR_* environment variables (or passed explicitly)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from rthdr.core.decode import DEFAULT_MAX_PIXELS
from rthdr.core.inference import (
    DEFAULT_CHARACTER_MODEL,
    DEFAULT_CHARACTER_STROKE_MODEL,
    DEFAULT_MODEL,
    DEFAULT_ONE_DIGIT_CHECK,
    DEFAULT_SCRIPT_MODEL,
    DEFAULT_STROKE_MODEL,
)

CommaList = Annotated[list[str], NoDecode]  # read from the environment as "a,b,c", not JSON


# ONNX Runtime Web's files, package data: `npm ci` copies them here (package.json's postinstall), and
# a wheel built after it carries them. Without them the page works server-side only.
ORT_WEB_DIR = Path(str(resources.files("rthdr") / "api/static/vendor/ort"))
ORT_WEB_MODULE = "ort.wasm.min.mjs"  # what the page imports from /vendor/ort


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RTHDR_", extra="ignore", protected_namespaces=())

    model: Path = Field(DEFAULT_MODEL, description="ONNX model file")
    one_digit: Path = Field(
        DEFAULT_ONE_DIGIT_CHECK,
        description="ONNX one-digit check for reading numbers; numbers are read without it if it is missing",
    )
    character_model: Path = Field(
        DEFAULT_CHARACTER_MODEL,
        description="ONNX character model for charset=letters and alphanumeric, and for telling a digit from "
        "a letter or a scribble; without it only charset=digits is served, unchecked",
    )
    stroke_model: Path = Field(
        DEFAULT_STROKE_MODEL,
        description="ONNX stroke model: digits sent with their pen strokes are read from the strokes too, "
        "fused with the image; without it strokes are only drawn as a picture for the image model",
    )
    character_stroke_model: Path = Field(
        DEFAULT_CHARACTER_STROKE_MODEL,
        description="ONNX character stroke model: in charsets letters and alphanumeric, characters sent with "
        "their pen strokes are read from the strokes too, fused with the character model",
    )
    script_model: Path = Field(
        DEFAULT_SCRIPT_MODEL,
        description="ONNX script model for charset=devanagari, arabic-indic and persian; without it those "
        "charsets are refused (422)",
    )
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8000, description="port to listen on")
    workers: int = Field(0, description="server processes; 0 = one per available CPU (the container's limit)")
    onnx_threads: int = Field(1, description="ONNX Runtime threads per worker")
    max_upload_bytes: int = Field(10 * 1024 * 1024, description="largest request body accepted (413 above)")
    max_image_pixels: int = Field(
        DEFAULT_MAX_PIXELS, description="images with more pixels are refused undecoded"
    )
    batch_window_ms: float = Field(
        0.0, description="micro-batching: wait up to this long for more requests; 0 = off"
    )
    max_batch: int = Field(64, description="micro-batching: most images in one model call")
    recognize_processes: int = Field(
        1,
        ge=0,
        description="processes per worker that decode and cut /recognize's images, so that a large photo "
        "does not stall the worker's other requests; 0 = on the worker's event loop",
    )
    cors_origins: CommaList = Field(
        default_factory=list, description="origins allowed by CORS; empty = CORS closed"
    )
    api_keys: CommaList = Field(
        default_factory=list, description="keys accepted in X-API-Key; empty = open API"
    )
    rate_limit_per_minute: int = Field(
        0, description="API requests per client per minute and worker; 0 = no limit"
    )
    request_timeout_s: float = Field(10.0, description="API requests running longer answer 503")
    log_json: bool = Field(True, description="structured JSON logs (false: plain text)")
    ort_web_dir: Path = Field(
        ORT_WEB_DIR,
        description="ONNX Runtime Web's files, for the page's on-device mode; served at /vendor/ort",
    )
    review: bool = Field(
        False, description="queue uncertain answers, an audit share and the page's corrections for people"
    )
    database_url: str | None = Field(
        None,
        description="the review queue's database (postgresql://user@host:port/db); unset = a SQLite file",
    )
    review_audit_rate: float = Field(
        0.01, ge=0, le=1, description="share of confident answers queued for review anyway, as an audit"
    )
    review_retention_days: float = Field(
        90, ge=0, description="review items older than this are deleted at start-up; 0 = kept forever"
    )
    reviewer_keys: CommaList = Field(
        default_factory=list,
        description="keys that may review, as name:key (a bare key is named by its hash); "
        "with any keys set, reviewing needs one",
    )

    @property
    def on_device_available(self) -> bool:
        """Whether /vendor/ort can serve ONNX Runtime Web to the page."""
        return (self.ort_web_dir / ORT_WEB_MODULE).is_file()

    @field_validator("cors_origins", "api_keys", "reviewer_keys", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        """RTHDR_API_KEYS=a,b in the environment -> ["a", "b"]."""
        return (
            [item.strip() for item in value.split(",") if item.strip()] if isinstance(value, str) else value
        )


@lru_cache
def get_settings() -> Settings:
    return Settings()
