// Heatmaps ("why this digit"): the server's maps, Grad-CAM or Guided Grad-CAM (rthdr.core.explain),
// computed in the browser for on-device answers; their values as colour, for drawing over the user's
// own drawing (transparent where the model did not look) and the same picture the server sends (the
// map in colour over the 28x28 input).

import { DISPLAY, GUIDED_BLUR_SIDE, GUIDED_BLUR_SIGMA, SIZE } from "./constants.js";
import { resizeLinear } from "./resize.js";

/** The jet colour map (blue -> cyan -> yellow -> red), as OpenCV's COLORMAP_JET roughly. */
function jet(v) {
  const channel = (centre) => Math.round(255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - centre))));
  return [channel(3), channel(2), channel(1)];
}

/** 0 below `lo`, 1 above `hi`, smooth in between (no visible edge where the colour starts). */
const smoothstep = (lo, hi, v) => {
  const t = Math.min(1, Math.max(0, (v - lo) / (hi - lo)));
  return t * t * (3 - 2 * t);
};

/**
 * A small canvas (one pixel per value) for laying over a drawing: CSS scales it up smoothly.
 * Only the warm end of the colour map, and opacity growing with the value: the paper stays white
 * where the model did not look, instead of a blue wash over the whole square.
 * @param {number[][]} values  rows of values in [0, 1]
 */
export function heatCanvas(values) {
  const n = values.length;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = n;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(n, n);
  values.flat().forEach((v, i) => {
    const alpha = Math.round(230 * smoothstep(0.2, 0.9, v));
    image.data.set([...jet(0.4 + 0.6 * v), alpha], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas;
}

/**
 * The server's Grad-CAM (src/rthdr/core/explain.py) from the model's `cam` output for one class:
 * ReLU, OpenCV's bilinear upsampling to 28x28, scaled to a peak of 1.
 * @param {Float32Array} cam  n x n values, row by row (7 x 7 for this model)
 * @returns {number[][]}  28 rows of 28 values in [0, 1]
 */
export function gradCam(cam) {
  const n = Math.round(Math.sqrt(cam.length));
  const positive = { data: cam.map((v) => Math.max(0, v)), width: n, height: n };
  const { data } = resizeLinear(positive, SIZE, SIZE);
  const peak = Math.max(...data);
  const values = peak > 0 ? data.map((v) => v / peak) : data;
  return Array.from({ length: SIZE }, (_, row) => Array.from(values.subarray(row * SIZE, (row + 1) * SIZE)));
}

/** OpenCV's Gaussian kernel (getGaussianKernel) of that side and sigma: exp(-x^2 / 2 sigma^2), sum 1. */
const KERNEL = (() => {
  const centre = (GUIDED_BLUR_SIDE - 1) / 2;
  const weights = Array.from({ length: GUIDED_BLUR_SIDE }, (_, i) =>
    Math.exp(-((i - centre) ** 2) / (2 * GUIDED_BLUR_SIGMA ** 2)),
  );
  const sum = weights.reduce((a, b) => a + b);
  return weights.map((w) => w / sum);
})();

/** Index i in a line of n, reflected as OpenCV's BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba). */
const reflect = (i, n) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);

/** Each row of `rows` convolved with KERNEL. */
function blurRows(rows) {
  const radius = (GUIDED_BLUR_SIDE - 1) / 2;
  return rows.map((row) =>
    row.map((_, x) => KERNEL.reduce((sum, w, k) => sum + w * row[reflect(x + k - radius, row.length)], 0)),
  );
}

const transpose = (rows) => rows[0].map((_, x) => rows.map((row) => row[x]));

/**
 * The server's Guided Grad-CAM (src/rthdr/core/explain.py) for one class: its Grad-CAM map times the
 * explainer graph's guided backpropagation, ReLU, smoothed as OpenCV's GaussianBlur (separable,
 * reflected borders), scaled to a peak of 1.
 * @param {Float32Array} cam  the class's n x n map, as gradCam takes it
 * @param {Float32Array} guided  the class's 28 x 28 guided gradients, row by row
 * @returns {number[][]}  28 rows of 28 values in [0, 1]
 */
export function guidedGradCam(cam, guided) {
  const product = gradCam(cam).map((row, y) => row.map((v, x) => Math.max(0, v * guided[y * SIZE + x])));
  const smooth = transpose(blurRows(transpose(blurRows(product))));
  const peak = Math.max(...smooth.flat());
  return peak > 0 ? smooth.map((row) => row.map((v) => v / peak)) : smooth;
}

/**
 * The explanation picture the server sends: the model input in grey, the map in colour over it,
 * DISPLAY pixels square.
 * @param {Float32Array} input  the 28x28 model input;  @param {number[][]} values  its heatmap
 */
export function explanationDataURL(input, values) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  values.flat().forEach((v, i) => {
    const grey = 255 * input[i];
    const colour = jet(v).map((c) => Math.round(0.55 * grey + 0.45 * c));
    image.data.set([...colour, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  const big = document.createElement("canvas");
  big.width = big.height = DISPLAY;
  const bigCtx = big.getContext("2d");
  bigCtx.imageSmoothingEnabled = false;
  bigCtx.drawImage(canvas, 0, 0, big.width, big.height);
  return big.toDataURL("image/png");
}
