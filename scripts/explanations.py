"""Do the heatmaps show the evidence, on the strokes? Grad-CAM alone against Guided Grad-CAM (what is
served, rthdr.core.explain) for the shipped digit model on MNIST test, printed as a Markdown table,
and a picture of both on the first test digits of each class; then the character model's share on
the ink, on MNIST test and on the held-out font families where data/corpus-validation.npz is
(`rthdr data corpus --out data/corpus-validation.npz --per-class 400 --split validation`).

    .venv/bin/python scripts/explanations.py [LIMIT] > docs/results/explanations.md

Writes docs/images/explanations.png. The measures are rthdr.evaluation.explanations'.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from rthdr.core.explain import explain
from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, DEFAULT_MODEL, Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.data.mnist import load_mnist
from rthdr.evaluation.explanations import class_overlap, deletion_drop, heat_near_ink, heatmaps

PICTURE = "docs/images/explanations.png"
HELD_OUT_FONTS = Path("data/corpus-validation.npz")


def main(limit: int) -> None:
    images, labels = load_mnist("test")
    inputs = preprocess_all(images[:limit], progress=False)
    classifier = Classifier(DEFAULT_MODEL)
    methods = {
        "Grad-CAM alone (7x7 map)": heatmaps(classifier, inputs, guided=False),
        "Guided Grad-CAM (served)": heatmaps(classifier, inputs),
        "the ink itself, blurred (a map blind to the class)": np.stack(
            [cv2.GaussianBlur(x, (9, 9), 1.5) for x in inputs]
        ),
    }
    print(f"# Heatmaps on {len(inputs):,} MNIST test digits, {classifier.name}\n")
    print(
        "| map | heat within 2 px of the ink (median) | probability lost, hottest 10 % / 20 % of the ink erased |"
    )
    print("|---|---:|---:|")
    for name, maps in methods.items():
        share = np.median([heat_near_ink(m, x) for m, x in zip(maps, inputs, strict=True)])
        drops = [deletion_drop(classifier, inputs, maps, erased) for erased in (0.1, 0.2)]
        print(f"| {name} | {100 * share:.1f} % | {drops[0]:.3f} / {drops[1]:.3f} |")
    print(
        "\nThe maps of the answer and of its runner-up correlate at "
        f"{class_overlap(classifier, inputs, guided=False):.2f} (Grad-CAM) and "
        f"{class_overlap(classifier, inputs):.2f} (Guided Grad-CAM); a map of the ink alone would correlate at 1."
    )
    print("\n![Each digit, its Grad-CAM map, its Guided Grad-CAM map](../images/explanations.png)")
    picture(classifier, [int(np.flatnonzero(labels == d)[0]) for d in range(10)], images)
    characters(inputs)


def characters(mnist_inputs: np.ndarray) -> None:
    """charnet's heat near the ink, Grad-CAM alone and served, on MNIST and held-out fonts."""
    classifier = Classifier(DEFAULT_CHARACTER_MODEL)
    sets = {"MNIST test digits": mnist_inputs}
    if HELD_OUT_FONTS.is_file():
        corpus = np.load(HELD_OUT_FONTS)
        drawn = corpus["labels"] != list(corpus["classes"]).index("none")
        sets["held-out font characters (none left out)"] = corpus["images"][drawn].astype(np.float32) / 255
    print(f"\n## {classifier.name}: heat within 2 px of the ink (median)\n")
    print("| inputs | Grad-CAM alone | Guided Grad-CAM (served) |\n|---|---:|---:|")
    for name, inputs in sets.items():
        shares = [
            np.median(
                [
                    heat_near_ink(m, x)
                    for m, x in zip(heatmaps(classifier, inputs, guided), inputs, strict=True)
                ]
            )
            for guided in (False, True)
        ]
        print(f"| {name} ({len(inputs):,}) | {100 * shares[0]:.1f} % | {100 * shares[1]:.1f} % |")


def picture(classifier: Classifier, picks: list[int], images: np.ndarray) -> None:
    """Rows of: the model input, Grad-CAM over it, Guided Grad-CAM over it."""
    rows = []
    for x in preprocess_all(images[picks], progress=False):
        (prediction,) = classifier.predict(x[None])
        overlays = [
            explain(prediction.cam, x, guided).overlay_png
            for guided in (None, classifier.guided(x, prediction.digit))
        ]
        base = cv2.resize((x * 255).astype(np.uint8), (112, 112), interpolation=cv2.INTER_NEAREST)
        cells = [
            np.stack([base] * 3, axis=-1),
            *(np.asarray(Image.open(io.BytesIO(png))) for png in overlays),
        ]
        rows.append(np.hstack(cells))
    Image.fromarray(np.vstack([np.hstack(rows[i : i + 2]) for i in range(0, len(rows), 2)])).save(PICTURE)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
