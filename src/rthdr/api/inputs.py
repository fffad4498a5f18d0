"""Reading one drawing from a request: multipart upload, JSON (data URL or pixels, and/or pen
strokes), or raw bytes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from rthdr.api.schemas import ImageJSON
from rthdr.core.decode import InputError
from rthdr.core.pipeline import decode_data_url
from rthdr.core.strokes import Strokes, parse_strokes

RAW_IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/bmp", "image/gif")

# For the OpenAPI schema: the one route accepts three kinds of body.
REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["image"],
                    "properties": {
                        "image": {
                            "type": "string",
                            "format": "binary",
                            "description": "PNG, JPEG, WebP, BMP or GIF file",
                        }
                    },
                }
            },
            "application/json": {"schema": ImageJSON.model_json_schema()},
            **{t: {"schema": {"type": "string", "format": "binary"}} for t in RAW_IMAGE_TYPES},
        },
    }
}


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors()[:5]:
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else item["msg"])
    return "Invalid JSON body: " + "; ".join(parts)


@dataclass(frozen=True)
class Drawing:
    """What a request sent: an image (file bytes, or a (28, 28) pixel array), its strokes, or both."""

    image: bytes | np.ndarray | None
    strokes: Strokes | None


async def read_drawing(request: Request) -> Drawing:
    """The image and/or the strokes a request sent. Raises InputError for bad input."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "multipart/form-data":
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("image")
            if not isinstance(upload, UploadFile):
                raise InputError("missing_image", "The form needs a file field named 'image'.")
            return Drawing(await upload.read(), None)
    if content_type == "application/json":
        try:
            body = ImageJSON.model_validate_json(await request.body())
        except ValidationError as exc:
            raise InputError("invalid_request", _describe(exc)) from exc
        strokes = None if body.strokes is None else parse_strokes(body.strokes)
        if body.pixels is not None:
            return Drawing(np.asarray(body.pixels, dtype=np.float32), strokes)
        return Drawing(None if body.image is None else decode_data_url(body.image), strokes)
    if content_type in RAW_IMAGE_TYPES:
        return Drawing(await request.body(), None)
    raise InputError(
        "unsupported_media_type",
        f"Content-Type {content_type or '(none)'} is not accepted: send multipart/form-data with a file "
        'field \'image\', JSON {"image": "data:..."} or {"pixels": [[...]]}, or raw image bytes.',
    )
