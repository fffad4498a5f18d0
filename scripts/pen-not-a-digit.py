"""How often does digits mode answer "not a digit" for letters drawn with a pen, as the page sends
them? For each pen-drawn set, the share of non-digits and of digits flagged (charnet's probability
outside the digits above NOT_A_DIGIT_ABOVE), from the picture alone (an upload) and fused with
strokenet-chars' reading of the strokes at several picture weights (rthdr.core.inference.fuse), the
served one (CHECK_IMAGE_WEIGHT, for a drawing sent with its strokes) among them.

    .venv/bin/python scripts/pen-not-a-digit.py > docs/results/pen-not-a-digit.md

The pen-drawn sets: the held-out font families (data/corpus-validation.npz, from `rthdr data corpus
--out data/corpus-validation.npz --per-class 400 --split validation`) traced into strokes and drawn
again as the page draws them; Hershey's validation fonts (their own pen paths); and MNIST's first
5,000 test digits, traced. None of them is trained on by either model. The served weight was chosen
on the second table's sets, from the training side: the held-out 1/12 of the corpus charnet was
trained on (data/corpus.npz, made by `rthdr data corpus --out data/corpus.npz --per-class 1500`:
docs/corpus.md), split as `rthdr train --corpus` splits it (strokenet-chars was trained on the same
split of an earlier corpus of the same size, so neither model has seen these), and MNIST's
validation digits, traced: the lowest weight that flags at most 1 % of the digits in both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rthdr.core.characters import CHECK_IMAGE_WEIGHT, NOT_A_DIGIT_ABOVE, not_a_digit_scores
from rthdr.core.charsets import DIGITS
from rthdr.core.inference import (
    DEFAULT_CHARACTER_MODEL,
    DEFAULT_CHARACTER_STROKE_MODEL,
    Classifier,
    StrokeClassifier,
    fuse,
)
from rthdr.data import corpus as corpora
from rthdr.data.mnist import load_mnist, train_validation_split
from rthdr.evaluation.strokes import featurize, hershey_glyphs, rendered_inputs, traced

HELD_OUT_FONTS = Path("data/corpus-validation.npz")
TRAINING_CORPUS = Path("data/corpus.npz")
MNIST_DIGITS = 5000
PICTURE_WEIGHTS = (1.0, 0.95, 0.9, 0.75, 0.5, 0.25, 0.0)  # 1: the picture alone
assert CHECK_IMAGE_WEIGHT in PICTURE_WEIGHTS


def pen_sets(classes: tuple[str, ...]) -> dict[str, tuple[list, np.ndarray]]:
    """name -> (drawings, class indices)."""
    fonts = corpora.load(HELD_OUT_FONTS)
    drawings, kept = traced(np.round(fonts.images * 255).astype(np.uint8), progress=False)
    images, labels = load_mnist("test")
    digits, digits_kept = traced(images[:MNIST_DIGITS], progress=False)
    return {
        f"held-out fonts, traced ({len(kept):,})": (drawings, fonts.labels[kept]),
        "Hershey validation fonts": hershey_glyphs(classes, validation=True),
        f"MNIST test digits, traced ({len(digits_kept):,})": (digits, labels[:MNIST_DIGITS][digits_kept]),
    }


def choice_sets() -> dict[str, tuple[list, np.ndarray]]:
    """The training side's held-out images, traced: what the served weight was chosen on."""
    corpus = corpora.load(TRAINING_CORPUS)
    _, held = corpora.split_indices(corpus, 0, 1 / 12, None)
    drawings, kept = traced(np.round(corpus.images[held] * 255).astype(np.uint8), progress=False)
    images, labels = load_mnist("train")
    _, validation = train_validation_split(len(images), 0, 1 / 12, None)
    digits, digits_kept = traced(images[validation], progress=False)
    return {
        f"the training corpus's held-out 1/12, traced ({len(kept):,})": (drawings, corpus.labels[held][kept]),
        f"MNIST validation digits, traced ({len(digits_kept):,})": (digits, labels[validation][digits_kept]),
    }


def main() -> None:
    characters = Classifier(DEFAULT_CHARACTER_MODEL)
    strokes = StrokeClassifier(DEFAULT_CHARACTER_STROKE_MODEL)
    print(f"# Not a digit, for pen-drawn input: {characters.name} and {strokes.path.stem}\n")
    print("Flagged: the character model's probability outside the digits above "
          f"{NOT_A_DIGIT_ABOVE}. Picture weight 1: the picture alone, as for an upload; "
          f"{CHECK_IMAGE_WEIGHT}: as served for a drawing sent with its strokes.\n")  # fmt: skip
    table(characters, strokes, pen_sets(characters.classes))
    print("\nWhere the served weight was chosen (training families and MNIST's validation split):\n")
    table(characters, strokes, choice_sets())


def table(
    characters: Classifier, strokes: StrokeClassifier, sets: dict[str, tuple[list, np.ndarray]]
) -> None:
    print("| pen-drawn set | picture weight | non-digits flagged | digits flagged |")
    print("|---|---:|---:|---:|")
    for name, (drawings, labels) in sets.items():
        picture = characters.predict_all(rendered_inputs(drawings))
        stroke_p = strokes(featurize(drawings))
        non_digit = np.asarray(labels) >= len(DIGITS)
        for weight in PICTURE_WEIGHTS:
            fused = picture if weight == 1 else fuse(picture, stroke_p, weight)
            flagged = not_a_digit_scores(fused, characters.classes) > NOT_A_DIGIT_ABOVE
            letters = f"{100 * flagged[non_digit].mean():.1f} %" if non_digit.any() else ""
            print(f"| {name} | {weight:g} | {letters} | {100 * flagged[~non_digit].mean():.2f} % |")


if __name__ == "__main__":
    main()
