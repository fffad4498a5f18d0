"""EMNIST "balanced" from its own files, for users who have them: `rthdr train --emnist DIR`.

EMNIST cannot be downloaded on the machines rthdr is built on, so the shipped character model never
saw it (its card says so); this reader lets anyone who has the files train on real handwritten
letters. The files are the gzipped IDX files of the EMNIST release (Cohen et al. 2017,
emnist-balanced-{train,test}-{images-idx3,labels-idx1}-ubyte.gz) and emnist-balanced-mapping.txt.
Its 47 classes are exactly rthdr's (rthdr.core.charsets), mapped by character, not by number.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rthdr.core.charsets import CHARSETS, NONE
from rthdr.data.mnist import DataError, IdxFile, parse_idx, read_bytes

PREFIX = "emnist-balanced"
HINT = (
    "get EMNIST from https://www.nist.gov/itl/products-and-services/emnist-dataset (the gzip/ folder) "
    "and give the folder that holds the emnist-balanced-* files"
)


def _file(directory: Path, name: str) -> Path:
    for candidate in (directory / f"{name}.gz", directory / name):
        if candidate.is_file():
            return candidate
    raise DataError(f"EMNIST file {name}(.gz) not found in {directory}: {HINT}.")


def _idx(directory: Path, name: str, magic: int) -> np.ndarray:
    path = _file(directory, name)
    raw = read_bytes(path, HINT)
    count = int.from_bytes(raw[4:8], "big") if len(raw) >= 8 else 0
    return parse_idx(raw, IdxFile(name, "", magic, count), str(path), HINT)


def class_map(directory: Path) -> dict[int, str]:
    """EMNIST's label -> its character, from emnist-balanced-mapping.txt ("label ascii" per line)."""
    path = _file(directory, f"{PREFIX}-mapping.txt")
    try:
        pairs = [line.split() for line in path.read_text().splitlines() if line.strip()]
        return {int(label): chr(int(code)) for label, code in pairs}
    except ValueError as exc:
        raise DataError(f"{path} is not EMNIST's mapping file ({exc}): {HINT}.") from exc


def load_emnist(directory: str | Path, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8, upright (EMNIST stores them transposed), ink bright as MNIST's, and
    labels as indices into rthdr's classes (alphanumeric, then none)."""
    folder = Path(directory).expanduser()
    images = _idx(folder, f"{PREFIX}-{split}-images-idx3-ubyte", 0x803).transpose(0, 2, 1)
    labels = _idx(folder, f"{PREFIX}-{split}-labels-idx1-ubyte", 0x801)
    if len(images) != len(labels):
        raise DataError(f"EMNIST {split}: {len(images)} images but {len(labels)} labels: {HINT}.")
    classes = (*CHARSETS["alphanumeric"], NONE)
    mapping = class_map(folder)
    unknown = sorted(set(mapping.values()) - set(classes))
    if unknown:
        raise DataError(
            f"EMNIST's mapping names characters rthdr has no class for ({unknown}): use the balanced split."
        )
    ours = np.full(max(mapping) + 1, -1, np.int64)
    for label, character in mapping.items():
        ours[label] = classes.index(character)
    if labels.max(initial=0) >= len(ours) or (ours[labels] < 0).any():
        raise DataError(f"EMNIST {split} has labels its mapping file does not name: {HINT}.")
    return np.ascontiguousarray(images), ours[labels]
