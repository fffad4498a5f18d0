"""MNIST as the four standard IDX files: find them, verify them, read them, download them.

The files may be gzipped or raw. Every file is checked against the SHA-256 of its decompressed
bytes, so a truncated or corrupted copy fails loudly instead of training on garbage.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from tqdm import tqdm

DATA_DIR_ENV = "RTHDR_DATA_DIR"
DEFAULT_DATA_DIR = Path("~/.cache/rthdr/mnist").expanduser()
DOWNLOAD_HINT = "run `rthdr data download` to fetch them, or point --data-dir / RTHDR_DATA_DIR at a copy"
# Public mirrors of the original files (the ones torchvision uses), tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

Split = Literal["train", "test"]


class DataError(RuntimeError):
    """The MNIST files are missing, damaged or not what they claim to be."""


@dataclass(frozen=True)
class IdxFile:
    name: str  # file name without .gz
    sha256: str  # of the decompressed bytes
    magic: int  # 0x803 = images (count, rows, cols), 0x801 = labels (count)
    count: int


FILES: dict[tuple[Split, str], IdxFile] = {
    ("train", "images"): IdxFile(
        "train-images-idx3-ubyte",
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        0x803,
        60_000,
    ),
    ("train", "labels"): IdxFile(
        "train-labels-idx1-ubyte",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        0x801,
        60_000,
    ),
    ("test", "images"): IdxFile(
        "t10k-images-idx3-ubyte",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        0x803,
        10_000,
    ),
    ("test", "labels"): IdxFile(
        "t10k-labels-idx1-ubyte",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        0x801,
        10_000,
    ),
}


def resolve_data_dir(data_dir: str | Path | None = None) -> Path:
    """--data-dir wins, then $RTHDR_DATA_DIR, then ~/.cache/rthdr/mnist."""
    if data_dir:
        return Path(data_dir).expanduser()
    if os.environ.get(DATA_DIR_ENV):
        return Path(os.environ[DATA_DIR_ENV]).expanduser()
    return DEFAULT_DATA_DIR


def _locate(directory: Path, spec: IdxFile) -> Path:
    for candidate in (directory / f"{spec.name}.gz", directory / spec.name):
        if candidate.is_file():
            return candidate
    raise DataError(f"MNIST file {spec.name}(.gz) not found in {directory}: {DOWNLOAD_HINT}.")


def read_bytes(path: Path, hint: str = DOWNLOAD_HINT) -> bytes:
    """A file's bytes, gunzipped if it is a .gz; DataError (saying `hint`) if it cannot be read."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{path} is damaged ({exc}): {hint}.") from exc


def parse_idx(raw: bytes, spec: IdxFile, source: str = "<bytes>", hint: str = DOWNLOAD_HINT) -> np.ndarray:
    """Decode IDX bytes into uint8 arrays: images (N, 28, 28) or labels (N,)."""
    dims = 3 if spec.magic == 0x803 else 1
    header_size = 4 + 4 * dims
    if len(raw) < header_size:
        raise DataError(f"{source} is too short to be an IDX file: {hint}.")
    magic = int.from_bytes(raw[:4], "big")
    if magic != spec.magic:
        raise DataError(
            f"{source} has magic number {magic:#010x}, expected {spec.magic:#010x} "
            f"for {spec.name}: wrong or damaged file; {hint}."
        )
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    expected = header_size + int(np.prod(shape))
    if len(raw) != expected or shape[0] != spec.count:
        raise DataError(
            f"{source} holds {len(raw)} bytes for shape {shape}; expected {spec.count} records "
            f"({expected} bytes). The file is truncated or damaged: {hint}."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def read_idx(path: Path, spec: IdxFile, verify: bool = True) -> np.ndarray:
    raw = read_bytes(path)
    array = parse_idx(raw, spec, source=str(path))
    if verify and hashlib.sha256(raw).hexdigest() != spec.sha256:
        raise DataError(f"{path} fails its SHA-256 check: the file is damaged; {DOWNLOAD_HINT}.")
    return array


def load_mnist(split: Split, data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 with 0 = background, and labels (N,) uint8."""
    directory = resolve_data_dir(data_dir)
    if not directory.is_dir():
        raise DataError(f"MNIST directory {directory} does not exist: {DOWNLOAD_HINT}.")
    images = read_idx(_locate(directory, FILES[split, "images"]), FILES[split, "images"])
    labels = read_idx(_locate(directory, FILES[split, "labels"]), FILES[split, "labels"])
    return images, labels


def download_mnist(
    data_dir: str | Path | None = None, mirrors: tuple[str, ...] = MIRRORS, progress: bool = True
) -> Path:
    """Fetch the four .gz files into data_dir, verifying each; files already good are kept."""
    directory = resolve_data_dir(data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    for spec in FILES.values():
        target = directory / f"{spec.name}.gz"
        if target.is_file():
            try:
                read_idx(target, spec)
                continue
            except DataError:
                target.unlink()
        errors = []
        for mirror in mirrors:
            try:
                _fetch(mirror.rstrip("/") + f"/{spec.name}.gz", target, spec, progress)
                break
            except (OSError, DataError) as exc:
                errors.append(f"{mirror}: {exc}")
        else:
            raise DataError(f"could not download {spec.name}.gz from any mirror:\n  " + "\n  ".join(errors))
    return directory


def _fetch(url: str, target: Path, spec: IdxFile, progress: bool) -> None:
    """Download url to a temporary file, verify it, then move it into place atomically."""
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part.gz", delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(
                    total=total, unit="B", unit_scale=True, desc=spec.name, disable=not progress
                ) as bar:
                    while chunk := response.read(1 << 16):
                        tmp.write(chunk)
                        bar.update(len(chunk))
            tmp.close()
            read_idx(tmp_path, spec)  # raises DataError on a bad copy
            shutil.move(tmp_path, target)
        finally:
            tmp_path.unlink(missing_ok=True)


def train_validation_split(
    count: int, seed: int = 0, fraction: float = 1 / 12, limit: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training images to learn from and of those held out for model selection:
    a seeded shuffle (optionally cut to `limit` images), the last `fraction` held out."""
    order = np.random.default_rng(seed).permutation(count)[:limit]
    held_out = max(1, round(len(order) * fraction))
    return order[:-held_out], order[-held_out:]
