// Heatmaps ("why this digit"): the Grad-CAM values as colour, for drawing over the user's own
// drawing (transparent where the model did not look) and, for on-device answers, the same
// picture the server sends (the map in colour over the 28x28 input).

import { DISPLAY, SIZE } from "./constants.js";
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

/**
 * The explanation picture the server sends: the model input in grey, the map in colour over it,
 * DISPLAY pixels square.
 * @param {Float32Array} input  the 28x28 model input;  @param {number[][]} values  its Grad-CAM
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
