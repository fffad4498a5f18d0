"""rthdr.review.export: the corrected single digits become images, labels.csv and the model inputs
that `rthdr train --extra` reads; whatever cannot be a training example is counted, not written."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from rthdr.core.pipeline import prepare
from rthdr.review.export import export_corrections, suffix
from rthdr.review.store import NewItem, ReviewStore
from tests.helpers.images import encode
from tests.helpers.reviews import digit


def a_one(fmt: str = "PNG") -> bytes:
    """A European 1 drawn on white, as the page's canvas would send it."""
    page = np.full((120, 120), 255, np.uint8)
    cv2.polylines(page, [np.array([[30, 55], [70, 15], [70, 105]], np.int32)], False, 0, 9)
    return encode(page, fmt)


def reviewed(store: ReviewStore, item: NewItem, answer: str | None) -> int:
    item_id = store.add(item)
    store.claim(item_id, "ann")
    store.answer(item_id, answer, None if answer else "unreadable", "ann")
    return item_id


def test_export_writes_the_corrected_digits_and_counts_the_rest(store: ReviewStore, tmp_path: Path) -> None:
    scan = tmp_path / "scan.png"
    scan.write_bytes(a_one())
    png = reviewed(store, digit("7", image=a_one()), "1")
    jpeg = reviewed(store, digit("7", image=a_one("JPEG")), "1")
    from_path = reviewed(store, digit("7", source="batch", image=None, image_path=str(scan)), "1")
    reviewed(store, digit("7", image=a_one()), "7")  # confirmed, not corrected: not exported
    reviewed(store, digit("7", image=a_one()), None)  # unreadable: not exported
    reviewed(store, digit("123", image=a_one()), "128")  # a number
    reviewed(store, digit("7", image=None), "1")
    reviewed(store, digit("7", image=b"not an image"), "1")

    exported = export_corrections(store, tmp_path / "out")

    assert exported.written == 3
    assert exported.skipped == {
        "not a single digit": 1,
        "no image (or its file is gone)": 1,
        "image unreadable": 1,
    }
    out = tmp_path / "out"
    with (out / "labels.csv").open() as manifest:
        rows = list(csv.DictReader(manifest))
    assert [(int(r["id"]), r["label"], r["reading"]) for r in rows] == [
        (png, "1", "7"),
        (jpeg, "1", "7"),
        (from_path, "1", "7"),
    ]
    assert [Path(r["file"]).suffix for r in rows] == [".png", ".jpg", ".png"]
    assert (out / rows[2]["file"]).read_bytes() == scan.read_bytes()
    with np.load(out / "inputs.npz") as data:
        images, labels, ids = data["images"], data["labels"], data["ids"]
    assert images.shape == (3, 28, 28) and images.dtype == np.float32
    assert labels.tolist() == [1, 1, 1] and ids.tolist() == [png, jpeg, from_path]
    np.testing.assert_array_equal(images[0], prepare(a_one()).model_input)  # what the service saw


def test_a_new_export_replaces_the_last(store: ReviewStore, tmp_path: Path) -> None:
    first = reviewed(store, digit("7", image=a_one()), "1")
    export_corrections(store, tmp_path)
    store.purge(0)
    exported = export_corrections(store, tmp_path)
    assert exported.written == 0 and not list((tmp_path / "images").iterdir())
    with np.load(tmp_path / "inputs.npz") as data:
        assert data["images"].shape == (0, 28, 28) and first not in data["ids"]


def test_file_endings_follow_the_bytes() -> None:
    assert suffix(a_one()) == ".png" and suffix(a_one("JPEG")) == ".jpg"
    assert suffix(encode(np.zeros((4, 4), np.uint8), "WEBP")) == ".webp"
    assert suffix(b"????") == ".bin"
