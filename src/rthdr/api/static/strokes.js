// The stroke model's input and the fusion of its answer with the image model's, ported from the
// server (rthdr.core.strokes.features and resample, rthdr.core.inference.fuse) so that on-device
// answers are the server's. numpy's semantics are kept where they decide a result: floor, the
// first of equal maxima for argmax, linspace's last point set to the end, interp's exact hits.
// tests/js/strokes.test.js checks it against Python (tests/fixtures/strokes/features.json).

export const STEPS = 64; // rthdr.core.strokes.STEPS: points the stroke model reads
export const CHANNELS = 5; // rthdr.core.strokes.CHANNELS: x, y, dx, dy, pen lifted before this point

const norm = (a, b) => Math.sqrt((b[0] - a[0]) ** 2 + (b[1] - a[1]) ** 2);
const sum = (values) => values.reduce((a, b) => a + b, 0);
const argmax = (values) => values.indexOf(Math.max(...values)); // the first of equal maxima

/**
 * The drawing as the stroke model reads it: `steps` points resampled evenly along its strokes (each
 * stroke at least one), centred and scaled by its larger side, with each point's step to the next
 * (0 at a stroke's end) and 1 where the pen was lifted before it.
 * @param {number[][][]} strokes  each a list of [x, y] (or [x, y, t_ms]) points, as the API takes them
 * @returns {Float32Array} CHANNELS x steps, channel by channel: the (1, CHANNELS, steps) tensor's data
 */
export function features(strokes, steps = STEPS) {
  const lengths = strokes.map((s) => sum(s.slice(1).map((p, i) => norm(s[i], p))));
  const total = sum(lengths);
  const share = lengths.map((l) => l + 1e-3 * Math.max(total, 1e-6)); // a dot still gets a point
  const shares = sum(share);
  const counts = share.map((s) => Math.max(1, Math.floor((s / shares) * steps)));
  // more strokes than a point each would leave: the longest give way
  while (sum(counts) > steps) counts[argmax(counts)] -= 1;
  counts[argmax(lengths)] += steps - sum(counts);
  const xy = [];
  const lifted = [];
  const ends = [];
  strokes.forEach((stroke, i) => {
    if (counts[i] <= 0) return;
    const resampled = resample(stroke, counts[i]);
    resampled.forEach((point, j) => {
      xy.push(point);
      lifted.push(i > 0 && j === 0 ? 1 : 0);
      ends.push(j === resampled.length - 1);
    });
  });
  const [x, y, w, h] = bounds(xy);
  const [cx, cy, half] = [x + w / 2, y + h / 2, Math.max(w, h, 1e-6) / 2];
  const centred = xy.map(([px, py]) => [(px - cx) / half, (py - cy) / half]);
  const n = centred.length;
  const out = new Float32Array(CHANNELS * n);
  centred.forEach(([px, py], i) => {
    const next = ends[i] ? [px, py] : centred[i + 1]; // no step from a stroke's end (the last is one)
    [px, py, next[0] - px, next[1] - py, lifted[i]].forEach((v, c) => (out[c * n + i] = v));
  });
  return out;
}

/** (x, y, width, height) of the points. */
function bounds(points) {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x, y] = [Math.min(...xs), Math.min(...ys)];
  return [x, y, Math.max(...xs) - x, Math.max(...ys) - y];
}

/** `count` points ([x, y]) evenly spaced along the stroke's path (its ends kept). */
export function resample(stroke, count) {
  const first = [stroke[0][0], stroke[0][1]];
  const along = [0];
  stroke.slice(1).forEach((p, i) => along.push(along[i] + norm(stroke[i], p)));
  const length = along[along.length - 1];
  if (count === 1 || stroke.length === 1 || length === 0) return Array.from({ length: count }, () => first);
  // np.linspace(0, length, count): i * step, its last point the end itself
  const div = count - 1;
  const step = length / div;
  const wanted = Array.from({ length: count }, (_, i) => (step === 0 ? (i / div) * length : i * step));
  wanted[div] = length;
  return wanted.map((t) => [0, 1].map((k) => interp(t, along, stroke, k)));
}

/** np.interp(t, along, stroke[:, k]) for `along` non-decreasing, t within it. */
function interp(t, along, stroke, k) {
  // the last j with along[j] <= t, as numpy's search finds it
  let [lo, hi] = [0, along.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t >= along[mid]) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j === along.length - 1 || along[j] === t) return stroke[j][k];
  const slope = (stroke[j + 1][k] - stroke[j][k]) / (along[j + 1] - along[j]);
  return slope * (t - along[j]) + stroke[j][k];
}

/**
 * Late fusion of one drawing's two readings: probabilities proportional to
 * image^imageWeight * strokes^(1 - imageWeight), each clipped at 1e-12 first.
 * @returns {number[]} the fused probabilities, summing to 1
 */
export function fuse(image, strokes, imageWeight) {
  const logits = Array.from(
    image,
    (p, i) =>
      imageWeight * Math.log(Math.max(p, 1e-12)) + (1 - imageWeight) * Math.log(Math.max(strokes[i], 1e-12)),
  );
  const top = Math.max(...logits);
  const weights = logits.map((v) => Math.exp(v - top));
  const total = sum(weights);
  return weights.map((v) => v / total);
}
