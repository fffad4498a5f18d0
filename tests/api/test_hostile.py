"""Hostile request bodies against a real two-worker server: each is answered with a 4xx error in the
one format (or read, where the image inside is valid), quickly, and the worker that took it goes on
serving. Through real HTTP, not TestClient: a body that hung or killed a worker would show only here."""

from __future__ import annotations

import gzip
import io
import json
import struct
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rthdr.bench.server import serving
from tests.helpers.images import encode, render
from tests.helpers.load import JSON, PREDICT, post

pytestmark = pytest.mark.slow  # a real server process

Body = tuple[bytes, dict[str, str]]  # the bytes and their headers (Content-Type first)
Digits = dict[int, np.ndarray]


@pytest.fixture(scope="module")
def server(model_path: Path) -> Iterator[str]:
    with serving(model_path, workers=2) as served:
        yield served.url


def gzip_bomb(_: Digits) -> Body:
    """10 MiB of zeros in 10 kB: the service never inflates Content-Encoding, so the zeros never exist,
    and the gzip bytes themselves are no image."""
    return gzip.compress(bytes(10 << 20)), {"Content-Type": "image/png", "Content-Encoding": "gzip"}


def deep_json(_: Digits) -> Body:
    """100,000 nested arrays: a recursive parser would overflow its stack."""
    return b'{"pixels": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", {"Content-Type": JSON}


def many_parts(_: Digits) -> Body:
    """10,000 form fields: each would cost the parser an object (the route allows 10)."""
    parts = (
        f'--B\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'.encode() for i in range(10_000)
    )
    return b"".join(parts) + b"--B--\r\n", {"Content-Type": "multipart/form-data; boundary=B"}


def long_gif(digits: Digits) -> Body:
    """3,000 frames, a 2 behind the first: only the first is decoded, so this is a valid image, read."""
    first = render(digits[2], size=56)
    frames = [Image.fromarray(first)]
    for index in range(1, 3000):  # each a pixel different, or Pillow would merge them into one
        frame = first.copy()
        frame[index % 56, index // 56] ^= 1
        frames.append(Image.fromarray(frame))
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 3000
    return buffer.getvalue(), {"Content-Type": "image/gif"}


def many_chunks(digits: Digits) -> Body:
    """A PNG of a 5 with 100,000 tEXt chunks before its pixels: every decoder must walk them."""
    png = encode(render(digits[5], size=56))
    first_idat = png.index(b"IDAT") - 4  # the chunk starts with its 4-byte length
    text = b"tEXt" + b"k\0v"
    chunk = struct.pack(">I", len(text) - 4) + text + struct.pack(">I", zlib.crc32(text))
    return png[:first_idat] + chunk * 100_000 + png[first_idat:], {"Content-Type": "image/png"}


def latin1_file_name(digits: Digits) -> Body:
    """A file name in bytes that are not UTF-8 (\\xff\\xfe\\x80): the name is never used, the 8 is read."""
    head = b'--B\r\nContent-Disposition: form-data; name="image"; filename="\xff\xfe\x80.png"\r\n'
    part = head + b"Content-Type: image/png\r\n\r\n" + encode(render(digits[8])) + b"\r\n--B--\r\n"
    return part, {"Content-Type": "multipart/form-data; boundary=B"}


def pixels_of(value: float) -> Callable[[Digits], Body]:
    def body(_: Digits) -> Body:
        return json.dumps({"pixels": [[value] * 28] * 28}).encode(), {"Content-Type": JSON}

    return body


# (the body, its status, the error code or, for a 200, the digit read)
CASES: dict[str, tuple[Callable[[Digits], Body], int, str | int]] = {
    "gzip bomb": (gzip_bomb, 422, "invalid_image"),
    "JSON 100,000 deep": (deep_json, 422, "invalid_request"),
    "10,000 multipart parts": (many_parts, 400, "bad_request"),
    "3,000-frame GIF": (long_gif, 200, 2),
    "PNG of 100,000 chunks": (many_chunks, 200, 5),
    "non-UTF-8 file name": (latin1_file_name, 200, 8),
    "NaN pixels": (pixels_of(float("nan")), 422, "invalid_request"),  # json.dumps writes NaN
    "1e308 pixels": (pixels_of(1e308), 422, "invalid_request"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_hostile_body_is_answered_and_the_server_keeps_serving(
    server: str, digit_samples: Digits, name: str
) -> None:
    make, expected_status, expected = CASES[name]
    body, headers = make(digit_samples)
    started = time.monotonic()
    status, answer = post(f"{server}{PREDICT}", body, headers["Content-Type"], headers)
    elapsed = time.monotonic() - started
    assert status == expected_status, answer
    if status == 200:
        assert answer["digit"] == expected
    else:
        assert set(answer) == {"error"} and answer["error"]["code"] == expected
        assert answer["error"]["message"]
    assert elapsed < 5, f"{name} took {elapsed:.1f} s"
    # The next request, on a new connection, may reach either worker: try a few, all must answer.
    for _ in range(4):
        status, answer = post(f"{server}{PREDICT}", encode(render(digit_samples[4])), "image/png")
        assert status == 200 and answer["digit"] == 4
