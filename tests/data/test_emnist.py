"""EMNIST's own files, read for `rthdr train --emnist DIR`: tiny files in EMNIST's exact layout
(gzipped IDX, images stored transposed, a "label ascii" mapping file) stand in for the real ones,
which cannot be downloaded here."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from rthdr.core.charsets import CHARSETS, NONE
from rthdr.data.emnist import PREFIX, load_emnist
from rthdr.data.mnist import DataError

CLASSES = (*CHARSETS["alphanumeric"], NONE)
# EMNIST balanced's mapping: its label -> the character's ASCII code.
MAPPING = [*range(48, 58), *range(65, 91), *(ord(c) for c in "abdefghnqrt")]


def write_idx(path: Path, array: np.ndarray) -> None:
    magic = 0x803 if array.ndim == 3 else 0x801
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def fake_emnist(folder: Path, count: int = 47, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """EMNIST-balanced-shaped files in `folder`; returns the upright images and EMNIST's labels."""
    rng = np.random.default_rng(seed)
    upright = np.zeros((count, 28, 28), np.uint8)
    for image in upright:  # a tall bar left of centre: its transpose is a wide bar, easy to tell apart
        top, left = rng.integers(2, 6), rng.integers(6, 10)
        image[top : top + 20, left : left + 4] = 255
    labels = np.arange(count) % len(MAPPING)
    folder.mkdir(parents=True, exist_ok=True)
    write_idx(folder / f"{PREFIX}-train-images-idx3-ubyte.gz", upright.transpose(0, 2, 1))
    write_idx(folder / f"{PREFIX}-train-labels-idx1-ubyte.gz", labels)
    (folder / f"{PREFIX}-mapping.txt").write_text("".join(f"{i} {code}\n" for i, code in enumerate(MAPPING)))
    return upright, labels


def test_images_come_upright_and_labels_as_our_classes(tmp_path: Path) -> None:
    upright, labels = fake_emnist(tmp_path)
    images, ours = load_emnist(tmp_path, "train")
    np.testing.assert_array_equal(images, upright)
    assert [CLASSES[i] for i in ours] == [chr(MAPPING[label]) for label in labels]
    assert CLASSES[ours[10]] == "A" and CLASSES[ours[36]] == "a"


def test_a_missing_file_is_named_with_where_to_get_it(tmp_path: Path) -> None:
    fake_emnist(tmp_path)
    (tmp_path / f"{PREFIX}-mapping.txt").unlink()
    with pytest.raises(DataError, match=r"emnist-balanced-mapping\.txt.*not found.*nist\.gov"):
        load_emnist(tmp_path)


def test_a_mapping_of_another_split_is_refused(tmp_path: Path) -> None:
    fake_emnist(tmp_path)
    (tmp_path / f"{PREFIX}-mapping.txt").write_text("0 48\n1 99\n")  # "c": EMNIST byclass, not balanced
    with pytest.raises(DataError, match="balanced"):
        load_emnist(tmp_path)


def test_images_and_labels_that_disagree_are_refused(tmp_path: Path) -> None:
    fake_emnist(tmp_path)
    write_idx(tmp_path / f"{PREFIX}-train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(DataError, match="47 images but 5 labels"):
        load_emnist(tmp_path)


def test_a_truncated_file_is_damaged_not_a_crash(tmp_path: Path) -> None:
    fake_emnist(tmp_path)
    path = tmp_path / f"{PREFIX}-train-images-idx3-ubyte.gz"
    raw = gzip.decompress(path.read_bytes())
    path.write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(DataError, match=r"truncated or damaged.*nist\.gov"):
        load_emnist(tmp_path)


@pytest.mark.slow
def test_training_with_emnist_learns_its_classes(mnist_dir: Path, tmp_path: Path) -> None:
    from rthdr.training.config import TrainConfig
    from rthdr.training.train import train

    fake_emnist(tmp_path / "emnist", count=96)
    cfg = TrainConfig(epochs=1, limit=96, emnist=str(tmp_path / "emnist"), threads=2)
    metrics = train(cfg, tmp_path / "run", mnist_dir)
    assert tuple(metrics["classes"]) == CLASSES and metrics["config"]["model"]["num_classes"] == 48
    assert metrics["train_size"] + metrics["val_size"] == 96 + 96  # MNIST's 96 and EMNIST's 96
