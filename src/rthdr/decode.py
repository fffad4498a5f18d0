"""Image bytes -> a greyscale array, for every image a person is likely to send.

Pillow reads the header first, so absurd pixel counts (decompression bombs) are refused before any
pixel is decoded, and big JPEG photos are decoded straight at reduced size (DCT scaling).
Transparency is composited on white, EXIF orientation applied, 16-bit and CMYK handled.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

SUPPORTED_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF"}  # MPO: JPEG from some cameras
MAX_SIDE = 1024  # larger images are downscaled right after decoding; digits need far fewer pixels
DEFAULT_MAX_PIXELS = 50_000_000


class InputError(ValueError):
    """Input the system cannot use. `code` and `status` map straight to the API's error body."""

    def __init__(self, code: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class DecodedImage:
    grey: np.ndarray  # (H, W) uint8, after orientation and downscaling
    original_size: tuple[int, int]  # (width, height) as the file says, after EXIF rotation
    format: str

    @property
    def scale(self) -> float:
        """Original pixels per pixel of `grey` (>= 1 when the image was downscaled)."""
        return self.original_size[0] / self.grey.shape[1]


def _looks_like_text_image(data: bytes) -> bool:
    head = data[:512].lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def decode_image(data: bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> DecodedImage:
    if not data:
        raise InputError("empty_image", "The image is empty (0 bytes). Send a PNG, JPEG, WebP, BMP or GIF.")
    if _looks_like_text_image(data):
        raise InputError(
            "unsupported_media_type",
            "SVG and other vector images are not supported: send a raster "
            "image (PNG, JPEG, WebP, BMP or GIF).",
            415,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError("image_too_large", f"The image has too many pixels ({exc}).", 413) from exc
    except Exception as exc:  # Pillow's plugins raise many types on hostile bytes; all mean "unreadable"
        raise InputError(
            "invalid_image",
            "These bytes are not an image Pillow can read: send a PNG, JPEG, WebP, BMP or GIF.",
        ) from exc
    if image.format not in SUPPORTED_FORMATS:
        raise InputError(
            "unsupported_media_type",
            f"{image.format} images are not supported: send PNG, JPEG, WebP, BMP or GIF.",
            415,
        )
    width, height = image.size
    if width * height > max_pixels:
        raise InputError(
            "image_too_large",
            f"The image is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,}.",
            413,
        )
    try:
        if image.format in ("JPEG", "MPO"):
            image.draft("L", (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 size when big
        image.seek(0)  # the first frame of an animated GIF or WebP
        image.load()
        orientation = image.getexif().get(0x0112, 1)
        original = (height, width) if orientation in (5, 6, 7, 8) else (width, height)  # 5-8 swap sides
        if orientation != 1:
            ImageOps.exif_transpose(image, in_place=True)  # (without in_place, it copies every image)
        grey = _to_grey(image)
    except Exception as exc:  # as above: truncated or damaged data surfaces as many exception types
        raise InputError("invalid_image", f"The {image.format} image is truncated or damaged: {exc}") from exc
    return DecodedImage(_limit_size(grey), original, image.format)


def _to_grey(image: Image.Image) -> np.ndarray:
    """Any mode -> (H, W) uint8 luminance; transparent areas become white paper."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        high = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        return np.clip(array * (255.0 / high), 0, 255).astype(np.uint8)
    if image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        high = 1.0 if array.max() <= 1.0 else 255.0
        return np.clip(array * (255.0 / high), 0, 255).astype(np.uint8)
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info
    if has_alpha:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _limit_size(grey: np.ndarray) -> np.ndarray:
    import cv2

    height, width = grey.shape
    if max(height, width) <= MAX_SIDE:
        return grey
    factor = MAX_SIDE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
