// OpenCV's cv2.resize, the two ways the server's preprocessing calls it, following OpenCV 5.0's
// resize.cpp down to its vector code's rounding: bit for bit on 8-bit images (the thresholds that
// follow must see the same grey levels) and for INTER_AREA on float32 ones. Float32 INTER_LINEAR
// agrees to float32 rounding only: OpenCV hands that one to Intel IPP, whose arithmetic is its own.
//
// An image here is {data, width, height}, row by row; data is a Uint8Array (OpenCV's CV_8U) or a
// Float32Array (CV_32F), and a result has the type of its source.

import { f32, roundHalfEven } from "./rounding.js";

/** An empty image of the same type as `like`. */
export function blank(like, width, height) {
  return { data: new like.data.constructor(width * height), width, height };
}

const isBytes = (image) => image.data instanceof Uint8Array;

/** OpenCV's saturate_cast<uchar>(float). */
const toByte = (v) => Math.min(255, Math.max(0, roundHalfEven(v)));

/**
 * INTER_AREA, shrinking: each output pixel is the mean of the source pixels it covers, edge
 * pixels weighted by the part covered. Whole factors take OpenCV's fast path (exact sums).
 */
export function resizeArea(src, width, height) {
  if (width === src.width && height === src.height) return { ...src, data: src.data.slice() };
  // OpenCV divides the sizes the other way round and inverts: its rounding decides the path.
  const scaleX = 1 / (width / src.width);
  const scaleY = 1 / (height / src.height);
  const [wholeX, wholeY] = [roundHalfEven(scaleX), roundHalfEven(scaleY)];
  if (Math.abs(scaleX - wholeX) < Number.EPSILON && Math.abs(scaleY - wholeY) < Number.EPSILON) {
    return areaFast(src, width, height, wholeX, wholeY);
  }
  return areaGeneric(src, width, height, scaleX, scaleY);
}

function areaFast(src, width, height, fx, fy) {
  const { data } = src;
  const out = blank(src, width, height);
  const scale = f32(1 / (fx * fy));
  const cell = []; // a cell's pixels from its corner, in OpenCV's order: row by row
  for (let dy = 0; dy < fy; dy++) for (let dx = 0; dx < fx; dx++) cell.push(dy * src.width + dx);
  // Halving, OpenCV's vector code takes over: on bytes (a + b + c + d + 2) >> 2, rounding halves
  // up; on floats ((a + b) + (c + d)) / 4, for all but the last (width mod 4) pixels of a row.
  const halving = fx === 2 && fy === 2;
  const vectorWidth = isBytes(src) ? width : width - (width % 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const corner = y * fy * src.width + x * fx;
      let value;
      if (halving && x < vectorWidth) {
        const [a, b, c, d] = [
          data[corner],
          data[corner + 1],
          data[corner + src.width],
          data[corner + src.width + 1],
        ];
        value = isBytes(src) ? (a + b + c + d + 2) >> 2 : f32(f32(a + b) + f32(c + d)) * 0.25;
      } else if (isBytes(src)) {
        let sum = 0;
        for (const k of cell) sum += data[corner + k];
        value = toByte(f32(sum * scale));
      } else {
        value = unrolledSum(data, corner, cell) * scale;
      }
      out.data[y * width + x] = value;
    }
  }
  return out;
}

/** OpenCV's float sum over a cell, unrolled: four values at a time, ((a + b) + c) + d, then added. */
function unrolledSum(data, corner, cell) {
  const at = (k) => data[corner + cell[k]];
  let sum = 0;
  let k = 0;
  for (; k <= cell.length - 4; k += 4)
    sum = f32(sum + f32(f32(f32(at(k) + at(k + 1)) + at(k + 2)) + at(k + 3)));
  for (; k < cell.length; k++) sum = f32(sum + at(k));
  return sum;
}

/** OpenCV's computeResizeAreaTab: for each output pixel, its [source index, float32 weight] pairs. */
function areaWeights(n, m, scale) {
  return Array.from({ length: m }, (_, d) => {
    const start = d * scale;
    const end = start + scale;
    const cell = Math.min(scale, n - start);
    const last = Math.min(Math.floor(end), n - 1);
    const first = Math.min(Math.ceil(start), last);
    const pairs = [];
    if (first - start > 1e-3) pairs.push([first - 1, f32((first - start) / cell)]);
    for (let s = first; s < last; s++) pairs.push([s, f32(1 / cell)]);
    if (end - last > 1e-3) pairs.push([last, f32(Math.min(end - last, 1, cell) / cell)]);
    return pairs;
  });
}

function areaGeneric(src, width, height, scaleX, scaleY) {
  const across = areaWeights(src.width, width, scaleX);
  const down = areaWeights(src.height, height, scaleY);
  const out = blank(src, width, height);
  const line = new Float32Array(width);
  const sum = new Float32Array(width);
  for (let y = 0; y < height; y++) {
    sum.fill(0);
    for (const [sy, beta] of down[y]) {
      // In float32 and in OpenCV's order: each source row's weighted sums, then across the rows.
      const row = sy * src.width;
      line.fill(0);
      for (let x = 0; x < width; x++) {
        for (const [sx, alpha] of across[x]) line[x] = f32(line[x] + f32(src.data[row + sx] * alpha));
      }
      for (let x = 0; x < width; x++) sum[x] = f32(sum[x] + f32(beta * line[x]));
    }
    for (let x = 0; x < width; x++) out.data[y * width + x] = isBytes(src) ? toByte(sum[x]) : sum[x];
  }
  return out;
}

/**
 * OpenCV's bilinear taps along one axis: for each output pixel, two source indices and the
 * float32 weight of the second. Across a row OpenCV pins the weight to 0 beyond the edges; down a
 * column it keeps the weight and reads the edge row twice (which matters to the rounding).
 */
function linearTaps(n, m, pinEdges) {
  const scale = 1 / (m / n);
  const clamp = (i) => Math.min(n - 1, Math.max(0, i));
  return Array.from({ length: m }, (_, d) => {
    let f = f32((d + 0.5) * scale - 0.5);
    let s = Math.floor(f);
    f = f32(f - s);
    if (pinEdges && s < 0) [s, f] = [0, 0];
    if (pinEdges && s >= n - 1) [s, f] = [n - 1, 0];
    return [clamp(s), clamp(s + 1), f];
  });
}

/**
 * INTER_LINEAR, pixel centres aligned. On bytes, OpenCV's fixed point: weights in 1/2048ths,
 * exact sums along the rows, then its vector code's rounding of the sum down the columns.
 */
export function resizeLinear(src, width, height) {
  if (width === src.width && height === src.height) return { ...src, data: src.data.slice() };
  const bytes = isBytes(src);
  // On bytes each weight is rounded to 1/2048ths on its own: the two need not add up to 2048.
  const weigh = (f) =>
    bytes ? [roundHalfEven(f32(1 - f) * 2048), roundHalfEven(f * 2048)] : [f32(1 - f), f];
  const across = linearTaps(src.width, width, true).map(([a, b, f]) => [a, b, ...weigh(f)]);
  const down = linearTaps(src.height, height, false).map(([a, b, f]) => [a, b, ...weigh(f)]);
  const rows = new (bytes ? Int32Array : Float32Array)(src.height * width);
  for (let y = 0; y < src.height; y++) {
    const row = src.data.subarray(y * src.width, (y + 1) * src.width);
    across.forEach(([a, b, wa, wb], x) => {
      rows[y * width + x] = bytes ? row[a] * wa + row[b] * wb : f32(row[a] * wa) + f32(row[b] * wb);
    });
  }
  const out = blank(src, width, height);
  down.forEach(([a, b, wa, wb], y) => {
    for (let x = 0; x < width; x++) {
      const [top, bottom] = [rows[a * width + x], rows[b * width + x]];
      out.data[y * width + x] = bytes
        ? ((((top >> 4) * wa) >> 16) + (((bottom >> 4) * wb) >> 16) + 2) >> 2
        : f32(top * wa) + f32(bottom * wb);
    }
  });
  return out;
}
