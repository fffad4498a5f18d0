"""What the server makes of pen strokes, kept for the page's port (static/strokes.js, checked by
tests/js/strokes.test.js): the stroke model's input for every drawing the page sent
(page-digits.json) and for edge cases, and fused probabilities. This test holds
tests/fixtures/strokes/features.json to the Python code, so the JavaScript is never checked against
stale answers; RTHDR_WRITE_FIXTURES=1 rewrites it, when the features are meant to change."""

from __future__ import annotations

import json
import os

import numpy as np

from rthdr.core.inference import fuse
from rthdr.core.strokes import features
from tests.helpers.paths import ROOT

STROKES = ROOT / "tests" / "fixtures" / "strokes"
FIXTURE = STROKES / "features.json"
LINE = [[0, 30], [40, 30], [80, 35]]

# Each a drawing as the API takes it, for the branches of features() and resample().
EDGE_CASES: dict[str, list] = {
    "one point": [[[5, 5]]],
    "a dot and a line": [[[10, 10]], LINE],
    "40 short strokes of growing length": [[[5 * k, 0], [5 * k + 0.2 * k, 3]] for k in range(40)],
    "a line and 39 dots: the longest gives way": [LINE] + [[[2 * k, 50]] for k in range(39)],
    "a line and 69 dots, more than the API takes: the first reach 0 points": [LINE]
    + [[[2 * k, 50]] for k in range(69)],
    "three equal strokes: the first gets the spare point": [
        [[0, 0], [0, 30]],
        [[10, 0], [10, 30]],
        [[20, 0], [20, 30]],
    ],
    "a zero-length stroke of repeated points": [[[3, 4], [3, 4], [3, 4]], [[0, 0], [10, 20], [30, 5]]],
    "repeated points inside a stroke": [[[0, 0], [5, 5], [5, 5], [5, 5], [10, 0], [10, 0]]],
    "only repeated points": [[[7, 7], [7, 7]]],
    "points with times": [[[0, 0, 0], [10, 10, 16], [20, 0, 33]]],
    "negative and large coordinates": [
        [[-1e5, -3e4], [2.5e5, 9.9e5], [-7e5, 1e4]],
        [[-12.5, -0.1], [-12.5, 300.7]],
    ],
    "a flat line": [[[0, 10], [100, 10]]],
}
IMAGE_WEIGHTS = (0.0, 0.2, 0.5, 1.0)


def fusions() -> list[dict]:
    """Readings that agree, disagree and hold zeros (clipped at 1e-12), at several weights."""
    rng = np.random.default_rng(19)
    pairs = [(rng.dirichlet([0.3] * 10), rng.dirichlet([0.3] * 10)) for _ in range(4)]
    pairs.append((np.eye(10)[3], np.eye(10)[5]))
    pairs.append((np.full(10, 0.1), np.eye(10)[8]))
    return [
        {
            "image": image.tolist(),
            "strokes": strokes.tolist(),
            "image_weight": weight,
            "fused": fuse(image[None], strokes[None], weight)[0].tolist(),
        }
        for image, strokes in pairs
        for weight in IMAGE_WEIGHTS
    ]


def arrays(strokes: list) -> list[np.ndarray]:
    """The points' x and y as rthdr.core.strokes.parse_strokes reads them, without its limits (one
    case has more strokes than the API takes)."""
    return [np.array([point[:2] for point in stroke], np.float64) for stroke in strokes]


def made() -> dict:
    drawn = json.loads((STROKES / "page-digits.json").read_text())
    drawings = {f"page digit {d}": strokes for d, strokes in drawn.items()} | EDGE_CASES
    return {
        "features": {
            name: {"strokes": strokes, "features": features(arrays(strokes)).tolist()}
            for name, strokes in drawings.items()
        },
        "fuse": fusions(),
    }


def test_the_fixture_holds_what_the_python_code_makes() -> None:
    if os.environ.get("RTHDR_WRITE_FIXTURES"):
        FIXTURE.write_text(json.dumps(made()) + "\n")
    kept, now = json.loads(FIXTURE.read_text()), made()
    stale = "tests/fixtures/strokes/features.json is stale: RTHDR_WRITE_FIXTURES=1 rewrites it"
    assert kept["features"] == now["features"], stale
    # The fused probabilities to 1e-12: numpy's float64 log and exp differ in the last bits across
    # CPUs (an AMD EPYC gave 1e-17 off).
    assert [{k: v for k, v in f.items() if k != "fused"} for f in kept["fuse"]] == [
        {k: v for k, v in f.items() if k != "fused"} for f in now["fuse"]
    ], stale
    for a, b in zip(kept["fuse"], now["fuse"], strict=True):
        np.testing.assert_allclose(a["fused"], b["fused"], rtol=1e-12, atol=1e-15, err_msg=stale)
