"""Image bytes -> a greyscale array, for every image a person is likely to send.

Pillow reads the header first, so absurd pixel counts (decompression bombs) are refused before any
pixel is decoded, and big JPEG photos are decoded straight at reduced size (DCT scaling).
Transparency is composited on white, EXIF orientation applied, 16-bit and CMYK handled.
Plain 8-bit PNGs, what every browser's canvas exports, are decoded by libspng (pyspng): 4-6 times
faster than OpenCV's libpng, and the largest single cost of a drawing's request before it.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import pyspng
from PIL import Image, ImageOps

from rthdr.core.errors import InputError

SUPPORTED_FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF"}  # MPO: JPEG from some cameras
MAX_SIDE = 1024  # larger images are downscaled right after decoding; digits need far fewer pixels
DEFAULT_MAX_PIXELS = 50_000_000


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
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InputError("image_too_large", f"The image has too many pixels ({exc}).") from exc
    except Exception as exc:  # Pillow's plugins raise many types on hostile bytes; all mean "unreadable"
        raise InputError(
            "invalid_image",
            "These bytes are not an image Pillow can read: send a PNG, JPEG, WebP, BMP or GIF.",
        ) from exc
    if image.format not in SUPPORTED_FORMATS:
        raise InputError(
            "unsupported_media_type",
            f"{image.format} images are not supported: send PNG, JPEG, WebP, BMP or GIF.",
        )
    width, height = image.size
    if width * height > max_pixels:
        raise InputError(
            "image_too_large",
            f"The image is {width}x{height} = {width * height:,} pixels; the limit is {max_pixels:,}.",
        )
    fast = _decode_plain_png(data, image)
    if fast is not None:
        return DecodedImage(_limit_size(fast), (width, height), image.format)
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


def _decode_plain_png(data: bytes, image: Image.Image) -> np.ndarray | None:
    """Greyscale pixels of an 8-bit grey, RGB or RGBA PNG without EXIF or a transparent colour,
    decoded by libspng (a browser's RGBA canvas PNG at 280 x 280: 0.13-0.2 ms, against 0.5-0.8 ms
    for OpenCV and 0.9-1.2 ms for Pillow, measured here); None for any other image, or where libspng
    fails: Pillow then decodes it, or says why not."""
    plain = image.mode in ("L", "RGB", "RGBA") and "transparency" not in image.info
    if image.format != "PNG" or not plain or b"eXIf" in data:
        return None
    try:
        pixels = pyspng.load(data)
    except RuntimeError:  # damaged: Pillow's decoder gives the user the reason
        return None
    if pixels.dtype != np.uint8:  # 16 bits per channel
        return None
    if pixels.ndim == 2:
        return pixels
    if pixels.shape[2] == 3:
        return cv2.cvtColor(pixels, cv2.COLOR_RGB2GRAY)
    return _grey_on_white(pixels)


def _grey_on_white(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 4) RGBA -> (H, W) uint8 luminance over white paper."""
    grey = cv2.cvtColor(pixels, cv2.COLOR_RGBA2GRAY)
    alpha = pixels[..., 3]
    if alpha.min() == 255:  # opaque, as a canvas is
        return grey
    weight = alpha.astype(np.uint32)
    return ((grey * weight + 255 * (255 - weight) + 127) // 255).astype(np.uint8)


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
        return _grey_on_white(np.asarray(image.convert("RGBA")))
    return np.asarray(image if image.mode == "L" else image.convert("L"))


def _limit_size(grey: np.ndarray) -> np.ndarray:
    height, width = grey.shape
    if max(height, width) <= MAX_SIDE:
        return grey
    factor = MAX_SIDE / max(height, width)
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
