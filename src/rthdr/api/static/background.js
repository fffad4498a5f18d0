// The paper's brightness under the ink: the server's _background (src/rthdr/core/preprocess.py).
// A quadratic surface fitted to the paper pixels of a 32-pixel thumbnail follows shadows and
// lighting gradients; even paper (a canvas, a clean scan) is one level.

import { histogram, median, otsu } from "./levels.js";
import { resizeArea, resizeLinear } from "./resize.js";
import { roundHalfEven } from "./rounding.js";

const THUMBNAIL = 32; // the side the fit works at
const TERMS = 6; // 1, x, y, x^2, xy, y^2

/** The paper level under every pixel of `bright` (ink bright), an 8-bit image of its size. */
export function paperLevel(bright) {
  const { width, height } = bright;
  const factor = Math.max(1, Math.max(height, width) / THUMBNAIL);
  const w = Math.max(1, roundHalfEven(width / factor));
  const h = Math.max(1, roundHalfEven(height / factor));
  const small = resizeArea(bright, w, h);
  const column = (x) => Array.from({ length: h }, (_, y) => small.data[y * w + x]);
  const edges = [small.data.subarray(0, w), small.data.subarray((h - 1) * w), column(0), column(w - 1)];
  const levels = edges.map(median);
  if (Math.max(...levels) - Math.min(...levels) <= 4) {
    // The paper is even along all four borders: no shadow to follow.
    return { data: new Uint8Array(width * height).fill(Math.trunc(median(levels))), width, height };
  }
  const surface = fitSurface(small);
  // Uint8Array truncates, as numpy's astype(np.uint8) does.
  const level = { data: Uint8Array.from(surface, (v) => Math.min(255, Math.max(0, v))), width: w, height: h };
  return resizeLinear(level, width, height);
}

/** The quadratic terms at every pixel of a w x h grid spanning [-0.5, 0.5]^2, row by row. */
function quadraticTerms(w, h) {
  return Array.from({ length: w * h }, (_, i) => {
    const x = (i % w) / Math.max(w - 1, 1) - 0.5;
    const y = Math.floor(i / w) / Math.max(h - 1, 1) - 0.5;
    return [1, x, y, x * x, x * y, y * y];
  });
}

/**
 * Two rounds of least squares: the pixels well below Otsu's threshold of what sticks out above
 * the current surface count as paper, and the surface is refitted to them, then shifted to their
 * median (robust to the ink's soft edges).
 */
function fitSurface(small) {
  const terms = quadraticTerms(small.width, small.height);
  const values = Float64Array.from(small.data);
  let surface = new Float64Array(values.length).fill(median(values));
  for (let round = 0; round < 2; round++) {
    const residual = Uint8Array.from(values, (v, i) => Math.min(255, Math.max(0, v - surface[i])));
    const threshold = otsu(histogram(residual));
    const paper = [...residual.keys()].filter((i) => residual[i] <= threshold / 2);
    if (paper.length < TERMS * 2) break;
    const coefficients = leastSquares(
      paper.map((i) => terms[i]),
      paper.map((i) => values[i]),
    );
    if (!coefficients) break; // the paper pixels all on one line: keep the level so far
    surface = Float64Array.from(terms, (t) => t.reduce((sum, v, k) => sum + v * coefficients[k], 0));
    const shift = median(paper.map((i) => values[i] - surface[i]));
    surface = surface.map((v) => v + shift);
  }
  return surface;
}

/** The least-squares solution of rows . c = b, by the normal equations; null if singular. */
function leastSquares(rows, b) {
  const ata = Array.from({ length: TERMS }, (_, j) =>
    Array.from({ length: TERMS }, (_, k) => rows.reduce((sum, r) => sum + r[j] * r[k], 0)),
  );
  const atb = Array.from({ length: TERMS }, (_, j) => rows.reduce((sum, r, i) => sum + r[j] * b[i], 0));
  return solve(ata, atb);
}

/** Gaussian elimination with partial pivoting (LAPACK's gesv for a small system); null if singular. */
function solve(a, b) {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[pivot][col])) pivot = r;
    if (m[pivot][col] === 0) return null;
    [m[col], m[pivot]] = [m[pivot], m[col]];
    for (let r = col + 1; r < n; r++) {
      const f = m[r][col] / m[col][col];
      for (let k = col; k <= n; k++) m[r][k] -= f * m[col][k];
    }
  }
  const x = new Array(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let v = m[r][n];
    for (let k = r + 1; k < n; k++) v -= m[r][k] * x[k];
    x[r] = v / m[r][r];
  }
  return x;
}
