// The page's temperature scaling against the server's: the expected values are what
// rthdr.core.inference.calibrated returns for the same float32 probabilities (float32 output, so
// agreement to 1e-7 relative is all there is to ask).
import assert from "node:assert/strict";
import { test } from "node:test";

import { calibrated } from "../../src/rthdr/api/static/calibrate.js";

const CASES = [
  {
    temperature: 0.4984,
    probabilities: [
      0.0002692964335437864, 0.5090959072113037, 0.000368886481737718, 0.0, 0.04258473217487335,
      0.05863555893301964, 0.3571062982082367, 0.014674825593829155, 3.674420212540497e-10,
      0.017264558002352715,
    ],
    expected: [
      1.76212395786024e-7, 0.6610158085823059, 3.313127763249213e-7, 0.0, 0.004551997873932123,
      0.008647850714623928, 0.3245031237602234, 0.0005368703859858215, 3.0081268250679304e-19,
      0.0007438539178110659,
    ],
  },
  {
    temperature: 2.0,
    probabilities: [
      0.3885021507740021, 0.03105955757200718, 3.322864813526394e-6, 0.0, 0.09566438943147659,
      0.0020063724368810654, 0.006750776432454586, 0.12932658195495605, 0.23982647061347961,
      0.10686041414737701,
    ],
    expected: [
      0.2582181990146637, 0.07301090657711029, 0.0007551730377599597, 4.142763500242306e-16,
      0.12813426554203033, 0.018556492403149605, 0.034038230776786804, 0.14898207783699036,
      0.20287974178791046, 0.1354249119758606,
    ],
  },
];

test("calibrated() gives the server's temperature-scaled probabilities", () => {
  for (const { temperature, probabilities, expected } of CASES) {
    const got = calibrated(Float32Array.from(probabilities), temperature);
    assert.equal(got.length, expected.length);
    got.forEach((value, i) => {
      assert.ok(
        Math.abs(value - expected[i]) <= 1e-7 * Math.max(1, expected[i]) + 1e-12,
        `T=${temperature}, class ${i}: ${value} vs ${expected[i]}`,
      );
    });
  }
});

test("a temperature of 1 leaves the probabilities as they are", () => {
  assert.deepEqual(calibrated(Float32Array.from([0.25, 0.75]), 1), [0.25, 0.75]);
});
