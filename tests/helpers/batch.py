"""Folders of scans for the batch tests: the golden inputs (photos, canvases, uploads and numbers
of every kind the service meets, no MNIST needed) and files that cannot be read."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.helpers.images import encode
from tests.helpers.paths import ROOT

GOLDEN_INPUTS = ROOT / "tests" / "fixtures" / "golden" / "inputs"

# name -> the error code its row must carry
BAD_FILES = {"empty.png": "empty_image", "notes.png": "invalid_image", "blank.png": "no_digit_found"}


def golden(kind: str) -> list[Path]:
    """The golden inputs whose names start with `kind` ("canvas", "photo", "number", ""), sorted."""
    return sorted(GOLDEN_INPUTS.glob(f"{kind}*"))


def write_bad_files(folder: Path) -> list[Path]:
    """An empty file, text saved as .png, and a blank page: each a row with an error, not a stop."""
    contents = {
        "empty.png": b"",
        "notes.png": b"not an image",
        "blank.png": encode(np.full((64, 64), 255, np.uint8)),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (folder / name).write_bytes(data)
    return [folder / name for name in contents]


def copy_scans(folder: Path, kind: str = "") -> list[Path]:
    """The golden inputs of a kind copied into `folder`, as a user's folder of scans."""
    folder.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copy(path, folder / path.name)) for path in golden(kind)]
