"""Does the not-a-digit check take a soft picture for a letter? MNIST's test digits, preprocessed as
served, blurred by a Gaussian of sigma 0-1.2 px (an out-of-focus photo, a thick soft pen), and the
share the character model flags "not a digit". A charnet that learnt "sharp means digit" (the corpus's
pictures are blurred when made, MNIST's never) flags many; docs/characters.md tells that story.

    .venv/bin/python scripts/blurred-not-a-digit.py [--model ONNX]   # default: the served charnet
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from rthdr.core.characters import NOT_A_DIGIT_ABOVE, not_a_digit_scores
from rthdr.core.inference import DEFAULT_CHARACTER_MODEL, Classifier
from rthdr.core.preprocess import preprocess_all
from rthdr.data.mnist import load_mnist

SIGMAS_PX = (0.0, 0.4, 0.8, 1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DEFAULT_CHARACTER_MODEL), help="a character model's .onnx")
    characters = Classifier(parser.parse_args().model)
    images, _ = load_mnist("test")
    inputs = preprocess_all(images, progress=False)
    print(f"| blur sigma (px) | MNIST test digits flagged by {characters.name} |\n|---:|---:|")
    for sigma in SIGMAS_PX:
        soft = inputs if sigma == 0 else np.stack([cv2.GaussianBlur(x, (0, 0), sigma) for x in inputs])
        scores = not_a_digit_scores(characters.predict_all(soft), characters.classes)
        print(f"| {sigma:g} | {100 * (scores > NOT_A_DIGIT_ABOVE).mean():.2f} % |")


if __name__ == "__main__":
    main()
