// Grey-level statistics of 8-bit images, as the server computes them: histograms, percentiles,
// medians, Otsu's threshold (OpenCV's arithmetic, so near-ties resolve the same way) and the 3x3
// median filter.

/** Counts of each level 0-255 among `values`, or among those where `where` is non-zero. */
export function histogram(values, where = null) {
  const counts = new Float64Array(256);
  values.forEach((v, i) => {
    if (!where || where[i]) counts[v] += 1;
  });
  return counts;
}

/** The server's _percentile: the first level whose running count reaches q % of the total. */
export function percentile(counts, q) {
  let total = 0;
  for (const c of counts) total += c;
  if (!total) return 0;
  const target = (q / 100) * total;
  let running = 0;
  for (let v = 0; v < 256; v++) {
    running += counts[v];
    if (running >= target) return v;
  }
  return 255;
}

/** np.median: the middle value, or the mean of the two middle ones. */
export function median(values) {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  return (sorted[(n - 1) >> 1] + sorted[n >> 1]) / 2;
}

/**
 * Otsu's threshold, OpenCV's getThreshVal_Otsu_8u step for step: classes of levels <= t and > t,
 * the t with the largest between-class variance (the first one, on a tie).
 */
export function otsu(counts) {
  let total = 0;
  let mu = 0;
  for (let i = 0; i < 256; i++) {
    total += counts[i];
    mu += i * counts[i];
  }
  const scale = 1 / total;
  mu *= scale;
  const epsilon = 2 ** -23; // FLT_EPSILON
  let [mu1, q1, best, bestSigma] = [0, 0, 0, 0];
  for (let i = 0; i < 256; i++) {
    const p = counts[i] * scale;
    mu1 *= q1;
    q1 += p;
    const q2 = 1 - q1;
    if (Math.min(q1, q2) < epsilon || Math.max(q1, q2) > 1 - epsilon) continue;
    mu1 = (mu1 + i * p) / q1;
    const mu2 = (mu - q1 * mu1) / q2;
    const sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
    if (sigma > bestSigma) [best, bestSigma] = [i, sigma];
  }
  return best;
}

/** cv2.medianBlur(image, 3): the median of each 3x3 neighbourhood, edges replicated. */
export function medianBlur3({ data, width, height }) {
  const out = new Uint8Array(data.length);
  const window = new Uint8Array(9);
  const clamp = (v, hi) => Math.min(hi, Math.max(0, v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const row = clamp(y + dy, height - 1) * width;
        for (let dx = -1; dx <= 1; dx++) window[k++] = data[row + clamp(x + dx, width - 1)];
      }
      out[y * width + x] = middleOf(window);
    }
  }
  return { data: out, width, height };
}

/** The median of 9 values, by insertion sort in place (a typed array's sort() costs more here). */
function middleOf(values) {
  for (let i = 1; i < 9; i++) {
    const v = values[i];
    let j = i - 1;
    for (; j >= 0 && values[j] > v; j--) values[j + 1] = values[j];
    values[j + 1] = v;
  }
  return values[4];
}
