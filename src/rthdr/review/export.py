"""Corrections as a training set: what `rthdr reviews export` writes and `rthdr train --extra` reads.

Only single digits are exported (the answer one digit, the machine's reading at most one): a
corrected number says which string was right, not where each of its digits lies. Each image goes
through the serving preprocessing here, so training sees exactly what the service showed the model.
"""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from rthdr.core.errors import InputError
from rthdr.core.pipeline import prepare
from rthdr.review.store import Item, ReviewStore

INPUTS = "inputs.npz"  # images (N, 28, 28) float32 in [0, 1], labels (N,) int64, ids (N,) int64
LABELS = "labels.csv"
IMAGES = "images"
FIELDS = ("file", "label", "reading", "id", "source", "model_version", "answered_by", "answered_at")
SIGNATURES = {
    b"\x89PNG": ".png",
    b"\xff\xd8\xff": ".jpg",
    b"GIF8": ".gif",
    b"BM": ".bmp",
    b"II*\x00": ".tif",
    b"MM\x00*": ".tif",
}


@dataclass(frozen=True)
class Exported:
    directory: Path
    written: int
    skipped: dict[str, int] = field(default_factory=dict)  # why -> how many


def suffix(data: bytes) -> str:
    """The file name's ending for image bytes, from their first bytes (".bin" when unknown)."""
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((end for magic, end in SIGNATURES.items() if data.startswith(magic)), ".bin")


def one_digit(item: Item) -> bool:
    """The answer one digit, and the machine read at most one (not a digit cut from a number)."""
    answer = item.answer or ""
    return len(answer) == 1 and answer.isdigit() and len(item.reading) <= 1


def export_corrections(store: ReviewStore, out_dir: str | Path) -> Exported:
    """Write the corrected single-digit items to out_dir: images/ (as sent), labels.csv, and
    inputs.npz (their model inputs and labels). A new export replaces the last one's files."""
    out = Path(out_dir)
    shutil.rmtree(out / IMAGES, ignore_errors=True)
    (out / IMAGES).mkdir(parents=True)
    inputs: list[np.ndarray] = []
    rows: list[dict[str, object]] = []
    skipped: Counter[str] = Counter()
    for item in store.corrected():
        if not one_digit(item):
            skipped["not a single digit"] += 1
            continue
        data = store.image(item.id)
        if data is None:
            skipped["no image (or its file is gone)"] += 1
            continue
        try:
            model_input = prepare(data).model_input
        except InputError:
            skipped["image unreadable"] += 1
            continue
        name = f"{IMAGES}/{item.id:08d}{suffix(data)}"
        (out / name).write_bytes(data)
        inputs.append(model_input)
        answered = item.answered_at.isoformat() if item.answered_at else ""
        facts = (name, item.answer, item.reading, item.id, item.source, item.model_version)
        rows.append(dict(zip(FIELDS, (*facts, item.answered_by, answered), strict=True)))
    np.savez_compressed(
        out / INPUTS,
        images=np.stack(inputs).astype(np.float32) if inputs else np.zeros((0, 28, 28), np.float32),
        labels=np.array([int(str(r["label"])) for r in rows], dtype=np.int64),
        ids=np.array([r["id"] for r in rows], dtype=np.int64),
    )
    with (out / LABELS).open("w", newline="") as manifest:
        writer = csv.DictWriter(manifest, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return Exported(out, len(rows), dict(skipped))
