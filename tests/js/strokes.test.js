// The page's stroke features and fusion (static/strokes.js) against the server's, on the fixture
// Python wrote (tests/core/test_strokes_fixture.py keeps it current): every drawing the page sent
// and the edge cases of resampling, to 1e-5 (the model reads float32); fused probabilities to 1e-6.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { CHANNELS, features, fuse, STEPS } from "../../src/rthdr/api/static/strokes.js";
import { maxDifference } from "./golden.js";

const FIXTURE = JSON.parse(
  readFileSync(new URL("../fixtures/strokes/features.json", import.meta.url), "utf8"),
);

for (const [name, expected] of Object.entries(FIXTURE.features)) {
  test(`${name}: the stroke model's input matches the server's`, (t) => {
    const mine = features(expected.strokes);
    assert.ok(mine instanceof Float32Array && mine.length === CHANNELS * STEPS);
    const difference = maxDifference(mine, expected.features.flat());
    t.diagnostic(`max |JS - Python| = ${difference.toExponential(2)}`);
    assert.ok(difference <= 1e-5, `max difference ${difference} is more than 1e-5`);
  });
}

test("fuse() gives the server's fused probabilities", () => {
  for (const { image, strokes, image_weight: weight, fused } of FIXTURE.fuse) {
    const difference = maxDifference(fuse(image, strokes, weight), fused);
    assert.ok(difference <= 1e-6, `image weight ${weight}: max difference ${difference} is more than 1e-6`);
  }
});
