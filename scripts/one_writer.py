"""One writer's digits, for measuring what learning from corrections does (docs/reviews.md).

We have no real writer with a few hundred corrections, so this makes one: a single fixed hand that
MNIST's American writers under-represent (a European 1 with its long flag and foot, a crossed 7, a
flat-topped 3, a closed 4, a 9 with a straight stem, a slant to the right), drawn with cv2 polylines
on a canvas as the page sends it, each sample varied as a person varies: jittered points, slant,
size, place and pen width. The same hand, other seeds, gives the held-out set.

    python scripts/one_writer.py make --out runs/writer/pool --count 3000 --seed 1
    python scripts/one_writer.py correct runs/writer/pool --database sqlite:///runs/writer/reviews.sqlite3
    python scripts/one_writer.py score runs/writer/heldout --model src/rthdr/models/digitnet.onnx
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

import cv2
import numpy as np

from rthdr.core.inference import DEFAULT_MODEL, FLOAT_MODEL, Classifier
from rthdr.core.pipeline import prepare
from rthdr.review.store import NewItem, ReviewStore

Stroke = list[tuple[float, float]]  # points in a unit box, x right, y down


def arc(cx: float, cy: float, rx: float, ry: float, start_deg: float, end_deg: float, n: int = 24) -> Stroke:
    """Points on an ellipse from start to end (degrees, 0 = right, 90 = down), in drawing order."""
    angles = np.radians(np.linspace(start_deg, end_deg, n))
    return [(cx + rx * math.cos(a), cy + ry * math.sin(a)) for a in angles]


# The hand: each digit's strokes, as this writer always makes them.
HAND: dict[int, list[Stroke]] = {
    0: [arc(0.5, 0.5, 0.3, 0.45, -100, 275), [(0.82, 0.08), (0.18, 0.92)]],  # slashed zero
    1: [[(0.08, 0.48), (0.6, 0.04), (0.6, 0.96)]],  # the long European flag, no foot
    2: [[*arc(0.5, 0.28, 0.3, 0.23, 190, 390, 16), *arc(0.27, 0.86, 0.1, 0.09, -60, 260, 12)[::-1],
         (0.9, 0.93)]],  # a loop where the stroke turns along the base
    3: [[(0.15, 0.06), (0.85, 0.06), (0.45, 0.42)], arc(0.48, 0.66, 0.34, 0.28, -90, 150, 20)],
    4: [[(0.62, 0.05), (0.1, 0.65), (0.9, 0.65)], [(0.62, 0.05), (0.62, 0.97)]],
    5: [[(0.82, 0.05), (0.25, 0.05), (0.2, 0.45)], arc(0.48, 0.67, 0.33, 0.28, -130, 150, 20)],
    6: [arc(0.5, 0.7, 0.3, 0.26, 0, 360, 24), [(0.2, 0.7), (0.35, 0.3), (0.68, 0.03)]],
    7: [[(0.1, 0.22), (0.12, 0.06), (0.9, 0.06), (0.4, 0.97)], [(0.3, 0.5), (0.8, 0.5)]],  # crossed
    8: [arc(0.5, 0.27, 0.25, 0.22, 90, 450, 24), arc(0.5, 0.71, 0.3, 0.25, -90, 270, 24)],
    9: [arc(0.48, 0.3, 0.3, 0.25, 0, 360, 24),
        [(0.78, 0.3), (0.74, 0.8), *arc(0.5, 0.8, 0.24, 0.17, 0, 150, 10)]],  # the tail curls back left
}  # fmt: skip
SLANT = 0.3  # this writer leans well to the right: x += SLANT * (0.5 - y)


def draw(digit: int, rng: np.random.Generator, size: int = 280) -> np.ndarray:
    """One sample of `digit` in this hand: dark ink on light paper, greyscale `size` x `size`. A
    person varies smoothly (a stroke bends, the whole leans more), not point by point: each sample
    gets its own slant, turn, proportions and a gentle wave through the unit box."""
    slant, turn = SLANT + rng.normal(0, 0.06), np.radians(rng.normal(0, 4))
    wave = rng.normal(0, 0.025, 4)  # amplitudes of two low-frequency waves in x and y
    phase = rng.uniform(0, 2 * np.pi, 4)
    scale = rng.uniform(0.5, 0.75) * size
    width, height = scale * rng.uniform(0.55, 0.7), scale
    left = rng.uniform(0.15, 0.85) * (size - width)
    top = rng.uniform(0.2, 0.8) * (size - height)
    paper = np.full((size, size), int(rng.integers(225, 250)), np.uint8)
    pen = int(rng.integers(7, 13))
    for stroke in HAND[digit]:
        x, y = np.array(stroke).T
        x = x + wave[0] * np.sin(np.pi * y + phase[0]) + wave[1] * np.sin(2 * np.pi * y + phase[1])
        y = y + wave[2] * np.sin(np.pi * x + phase[2]) + wave[3] * np.sin(2 * np.pi * x + phase[3])
        x = x + slant * (0.5 - y)
        x, y = (
            0.5 + (x - 0.5) * np.cos(turn) - (y - 0.5) * np.sin(turn),
            0.5 + (x - 0.5) * np.sin(turn) + (y - 0.5) * np.cos(turn),
        )
        pixels = np.stack([left + x * width, top + y * height], axis=1) + rng.normal(0, 0.6, (len(x), 2))
        cv2.polylines(
            paper, [np.round(pixels).astype(np.int32)], False, int(rng.integers(10, 60)), pen, cv2.LINE_AA
        )
    noise = rng.normal(0, 4, paper.shape)
    return np.clip(paper + noise, 0, 255).astype(np.uint8)


def make(out: Path, count: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "labels.csv").open("w", newline="") as manifest:
        writer = csv.writer(manifest)
        writer.writerow(["file", "label"])
        for index in range(count):
            digit = index % 10
            name = f"{index:05d}.png"
            cv2.imwrite(str(out / name), draw(digit, rng))
            writer.writerow([name, digit])
    print(f"wrote {count} digits of one writer to {out}")


def labelled(folder: Path) -> list[tuple[Path, int]]:
    with (folder / "labels.csv").open() as manifest:
        return [(folder / row["file"], int(row["label"])) for row in csv.DictReader(manifest)]


def read(classifier: Classifier, path: Path) -> tuple[int, float]:
    (prediction,) = classifier.predict(prepare(path.read_bytes()).model_input[np.newaxis])
    return prediction.digit, prediction.confidence


def correct(folder: Path, database: str, corrections: int, model: Path) -> None:
    """The writer at the page: each digit the model misreads gets "Wrong? Correct it" with the
    true digit, and a reviewer confirms it through the queue; until `corrections` are made."""
    classifier = Classifier(model)
    made = seen = 0
    with ReviewStore(database) as store:
        store.migrate()
        for path, label in labelled(folder):
            if made == corrections:
                break
            seen += 1
            digit, confidence = read(classifier, path)
            if digit == label:
                continue
            item = NewItem("page", "correction", str(digit), [confidence], classifier.version,
                           image=path.read_bytes(), suggested=str(label))  # fmt: skip
            store.add(item)
            claimed = store.claim_next("writer-reviewer")
            assert claimed is not None
            store.answer(claimed.id, claimed.suggested, None, "writer-reviewer")
            made += 1
        print(f"{made} corrections from {seen} digits written; queue now {store.counts()}")


def score(folder: Path, model: Path) -> None:
    classifier = Classifier(model)
    results = [(label, read(classifier, path)[0]) for path, label in labelled(folder)]
    right = sum(label == digit for label, digit in results)
    print(f"{model}: {right}/{len(results)} = {100 * right / len(results):.1f} % of this writer's digits")
    for d in range(10):
        mine = [digit for label, digit in results if label == d]
        wrong = {w: mine.count(w) for w in sorted(set(mine)) if w != d}
        print(f"  {d}: {100 * mine.count(d) / len(mine):5.1f} %  misread as {wrong or '-'}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    actions = parser.add_subparsers(dest="action", required=True)
    making = actions.add_parser("make", help="draw COUNT digits (0-9 in turn) into OUT with labels.csv")
    making.add_argument("--out", type=Path, required=True)
    making.add_argument("--count", type=int, default=1000)
    making.add_argument("--seed", type=int, default=0)
    correcting = actions.add_parser("correct", help="queue the misread ones as corrections, and review them")
    correcting.add_argument("folder", type=Path)
    correcting.add_argument("--database", required=True)
    correcting.add_argument("--corrections", type=int, default=300)
    correcting.add_argument("--model", type=Path, default=DEFAULT_MODEL)  # the served one
    scoring = actions.add_parser("score", help="accuracy on a folder of this writer's digits")
    scoring.add_argument("folder", type=Path)
    scoring.add_argument("--model", type=Path, default=FLOAT_MODEL)
    args = parser.parse_args()
    if args.action == "make":
        make(args.out, args.count, args.seed)
    elif args.action == "correct":
        correct(args.folder, args.database, args.corrections, args.model)
    else:
        score(args.folder, args.model)


if __name__ == "__main__":
    main()
