"""The constants the page's JavaScript shares with the Python serving code, rendered as an ES module.

The browser's ports of the preprocessing (static/preprocess.js) and of the character reading
(static/characters.js) must use the server's numbers and classes, so they are generated, never
copied by hand; tests/api/test_page_constants.py fails when the committed static/constants.js
differs from what this renders. After changing one of them:

    python -m rthdr.api.page_constants --write
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from types import ModuleType

from rthdr.api.routes import predict
from rthdr.core import characters, charsets, decode, explain, inference, preprocess, strokes

CONSTANTS_JS = Path(__file__).resolve().parent / "static" / "constants.js"

# (module, name): every Python constant the page reads, in the order the page meets them.
SHARED: list[tuple[ModuleType, str]] = [
    (decode, "MAX_SIDE"),
    (preprocess, "SIZE"),
    (preprocess, "FIT"),
    (preprocess, "CENTRE"),
    (preprocess, "MIN_CONTRAST"),
    (preprocess, "MNIST_STROKE"),
    (preprocess, "THIN_STROKE"),
    (preprocess, "SPECK"),
    (preprocess, "WORKING_SIDE"),
    (preprocess, "DETAIL"),
    (inference, "UNCERTAIN_BELOW"),
    (explain, "DISPLAY"),
    (explain, "GUIDED_BLUR_SIDE"),
    (explain, "GUIDED_BLUR_SIGMA"),
    (characters, "NOT_A_DIGIT_ABOVE"),
    (characters, "CANDIDATES"),
    (characters, "CHECK_IMAGE_WEIGHT"),
    (charsets, "DIGITS"),
    (charsets, "LETTERS"),
    (charsets, "NONE"),
    (strokes, "MAX_STROKES"),
    (strokes, "MAX_POINTS"),
    (predict, "STROKES_UNREAD"),
]

HEADER = """\
// Generated from the Python constants by `python -m rthdr.api.page_constants --write`: do not edit.
// tests/api/test_page_constants.py fails when this file and the Python code disagree.
"""


def literal(value: object) -> str:
    """A Python number, string or tuple of characters as the JavaScript value it equals: a number's
    repr round-trips in both, and the characters are spread from one string (an array of them would
    be one line each, once Prettier is done)."""
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, tuple) and all(isinstance(c, str) and len(c) == 1 for c in value):
        return f"[...{json.dumps(''.join(value))}]"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"only numbers, strings and characters are shared with the page, not {value!r}")
    return repr(value)


def render() -> str:
    lines = [
        f"export const {name} = {literal(getattr(module, name))}; // {module.__name__}.{name}"
        for module, name in SHARED
    ]
    return HEADER + "\n" + "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m rthdr.api.page_constants", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--write", action="store_true", help=f"write {CONSTANTS_JS.name} in place (default: print it)"
    )
    args = parser.parse_args(argv)
    if args.write:
        CONSTANTS_JS.write_text(render())
    else:
        print(render(), end="")


if __name__ == "__main__":
    main()
