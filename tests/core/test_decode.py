"""Decoding every kind of image people send, and refusing what cannot be an image."""

from __future__ import annotations

import io
import struct
import zlib

import hypothesis.extra.numpy as hnp
import numpy as np
import pyspng
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from rthdr.core.decode import MAX_SIDE, InputError, decode_image
from tests.helpers.images import encode


def page_with_square() -> Image.Image:
    """White RGB page, a black square in the top-left quarter: orientation is easy to check."""
    array = np.full((60, 100, 3), 255, np.uint8)
    array[5:25, 5:25] = 0
    return Image.fromarray(array)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "BMP", "GIF"])
def test_common_formats(fmt: str) -> None:
    decoded = decode_image(encode(page_with_square(), fmt))
    assert decoded.grey.shape == (60, 100) and decoded.grey.dtype == np.uint8
    assert decoded.grey[15, 15] < 60 and decoded.grey[40, 80] > 200
    assert decoded.original_size == (100, 60)


def test_transparent_background_becomes_white_not_black() -> None:
    rgba = np.zeros((40, 40, 4), np.uint8)  # fully transparent black: what a cleared canvas holds
    rgba[10:30, 18:22] = (0, 0, 0, 255)  # an opaque black stroke
    grey = decode_image(encode(rgba)).grey
    assert grey[0, 0] == 255 and grey[20, 20] == 0


@settings(max_examples=60, deadline=None)
@given(
    mode=st.sampled_from(["L", "RGB", "RGBA"]),
    pixels=hnp.arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24), st.just(4))),
)
def test_png_decoding_agrees_with_pillow(mode: str, pixels: np.ndarray) -> None:
    """Plain PNGs (a browser canvas's RGBA among them) are decoded by libspng, the rest by Pillow:
    both give the same grey levels, to rounding, transparent areas white."""
    image = Image.fromarray(pixels, "RGBA").convert(mode)
    reference = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    expected = np.asarray(reference.convert("L"), dtype=int)
    assert np.abs(decode_image(encode(image)).grey.astype(int) - expected).max() <= 2


def test_canvas_png_is_decoded_by_libspng(monkeypatch: pytest.MonkeyPatch) -> None:
    """The path a drawing from the page takes (an opaque RGBA PNG): libspng's, exactly as Pillow reads it."""
    calls: list[int] = []
    load = pyspng.load
    monkeypatch.setattr(pyspng, "load", lambda *args: calls.append(1) or load(*args))
    rgba = np.asarray(page_with_square().convert("RGBA"))
    grey = decode_image(encode(rgba)).grey
    assert calls == [1]
    assert np.array_equal(grey, np.asarray(page_with_square().convert("L")))


def test_sixteen_bit_palette_and_cmyk() -> None:
    deep = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16).astype(np.uint16)
    grey = decode_image(encode(Image.fromarray(deep))).grey
    assert grey[0, 0] == 0 and grey[-1, -1] > 240
    palette = page_with_square().convert("P")
    assert decode_image(encode(palette)).grey[15, 15] < 60
    cmyk = page_with_square().convert("CMYK")
    assert decode_image(encode(cmyk, "JPEG")).grey[15, 15] < 80


def test_exif_orientation_is_applied() -> None:
    image = page_with_square()
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    decoded = decode_image(encode(image, "JPEG", exif=exif.tobytes()))
    assert decoded.grey.shape == (100, 60) and decoded.original_size == (60, 100)
    assert decoded.grey[15, 45] < 80  # the square moved to the top-right


def test_gif_uses_the_first_frame() -> None:
    first, second = page_with_square(), Image.new("RGB", (100, 60), "black")
    buffer = io.BytesIO()
    first.save(buffer, "GIF", save_all=True, append_images=[second])
    assert decode_image(buffer.getvalue()).grey[40, 80] > 200


def test_big_photos_are_downscaled_early() -> None:
    big = Image.new("L", (4000, 3000), 255)
    decoded = decode_image(encode(big, "JPEG"))
    assert max(decoded.grey.shape) <= MAX_SIDE
    assert decoded.original_size == (4000, 3000)
    assert decoded.scale == pytest.approx(4000 / decoded.grey.shape[1])


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims a size but carries almost no data: a decompression bomb's signature."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 10))
        + chunk(b"IEND", b"")
    )


def test_absurd_pixel_counts_are_refused_before_decoding() -> None:
    with pytest.raises(InputError) as caught:
        decode_image(png_header_only(60_000, 60_000))
    assert caught.value.code == "image_too_large"
    with pytest.raises(InputError, match="limit"):
        decode_image(png_header_only(3000, 3000), max_pixels=1_000_000)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_image"),
        (b"definitely not an image", "invalid_image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><circle r='4'/></svg>", "unsupported_media_type"),
        (b"<?xml version='1.0'?><svg/>", "unsupported_media_type"),
    ],
)
def test_bad_bytes(data: bytes, code: str) -> None:
    with pytest.raises(InputError) as caught:
        decode_image(data)
    assert caught.value.code == code


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_truncated_files(fmt: str) -> None:
    noisy = Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200), dtype=np.uint8))
    data = encode(noisy, fmt)
    with pytest.raises(InputError) as caught:
        decode_image(data[: len(data) // 2])
    assert caught.value.code == "invalid_image"


def test_unsupported_raster_format() -> None:
    with pytest.raises(InputError) as caught:
        decode_image(encode(page_with_square(), "TIFF"))
    assert caught.value.code == "unsupported_media_type" and "TIFF" in caught.value.message
