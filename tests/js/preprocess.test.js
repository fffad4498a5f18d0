// The page's preprocessing and heatmaps against the server's, on every single-digit golden fixture
// (canvases, strokes, photos, uploads): the same grey image in, the same 28x28 model input out, to
// within one grey level (1/255) on every pixel; the same Grad-CAM to within one level, and the same
// Guided Grad-CAM from the same class map and guided gradients to within 1e-5 (float32 rounding).

import assert from "node:assert/strict";
import { test } from "node:test";

import { gradCam, guidedGradCam } from "../../src/rthdr/api/static/heatmap.js";
import { toModelInput } from "../../src/rthdr/api/static/preprocess.js";
import { DIGITS, floats, maxDifference, readGrey } from "./golden.js";

const ONE_LEVEL = 1 / 255;

for (const [name, expected] of DIGITS) {
  test(`${name}: the model input and its square match the server's`, (t) => {
    const read = toModelInput(readGrey(expected.grey));
    assert.ok(read, "the server found a digit here");
    const difference = maxDifference(read.input, floats(expected.model_input));
    t.diagnostic(`max |JS - Python| = ${difference.toExponential(2)}`);
    assert.ok(difference <= ONE_LEVEL, `max difference ${difference} is more than 1/255`);
    assert.ok(
      maxDifference(read.square, expected.grey_square) < 1e-9,
      `${read.square} != ${expected.grey_square}`,
    );
  });

  test(`${name}: Grad-CAM matches the server's`, () => {
    const difference = maxDifference(gradCam(floats(expected.cam)).flat(), floats(expected.grad_cam));
    assert.ok(difference <= ONE_LEVEL, `max difference ${difference} is more than 1/255`);
  });

  test(`${name}: Guided Grad-CAM matches the server's`, (t) => {
    const mine = guidedGradCam(floats(expected.cam), floats(expected.guided)).flat();
    const difference = maxDifference(mine, floats(expected.guided_grad_cam));
    t.diagnostic(`max |JS - Python| = ${difference.toExponential(2)}`);
    assert.ok(difference <= 1e-5, `max difference ${difference} is more than 1e-5`);
  });
}
