// Marks over a picture (the drawing pad or an uploaded image): a box per recognised digit and the
// heatmaps. The API gives coordinates in the picture's own pixels; positions here are percentages
// of that size, so the marks stay in place however CSS scales the picture (phones, zoom, resizes).
// The layers are aria-hidden: the result panel says the same in words.

import { heatCanvas } from "./heatmap.js";

/** Place an element over [x, y, w, h] of a picture that is `size.width` x `size.height` pixels. */
function place(element, [x, y, w, h], size) {
  element.style.left = `${(100 * x) / size.width}%`;
  element.style.top = `${(100 * y) / size.height}%`;
  element.style.width = `${(100 * w) / size.width}%`;
  element.style.height = `${(100 * h) / size.height}%`;
}

/** The digit and its confidence, above the box. */
function digitBox(reading, size) {
  const box = document.createElement("div");
  box.className = reading.uncertain ? "digit-box is-uncertain" : "digit-box";
  box.dataset.digit = String(reading.digit);
  const label = document.createElement("span");
  label.className = "digit-box-label";
  label.textContent = `${reading.digit} · ${Math.round(100 * reading.confidence)} %`;
  box.append(label);
  place(box, reading.box, size);
  return box;
}

/** The heatmap of one model input, over the square of the picture that input shows. */
function heatmap(values, [x, y, side], size) {
  const canvas = heatCanvas(values);
  canvas.className = "heatmap";
  place(canvas, [x, y, side, side], size);
  return canvas;
}

/**
 * Replace the marks on `layer` (an element laid exactly over the picture).
 * @param {HTMLElement} layer
 * @param {{width: number, height: number}} size  the picture's pixels (the PNG's, not the screen's)
 * @param {Array<{digit?: number, confidence?: number, uncertain?: boolean, box?: number[],
 *                region?: number[], heatmap?: {values: number[][]} | null}>} readings
 */
export function showMarks(layer, size, readings) {
  // Heatmaps go on a layer of their own that clips them to the picture (a digit's square reaches
  // past the edge when the digit is near it); the boxes' labels may stick out above the picture.
  const heat = document.createElement("div");
  heat.className = "heat-layer";
  heat.append(
    ...readings.filter((r) => r.heatmap && r.region).map((r) => heatmap(r.heatmap.values, r.region, size)),
  );
  const boxes = readings.filter((r) => r.box).map((r) => digitBox(r, size));
  layer.replaceChildren(heat, ...boxes); // boxes on top: their labels stay readable
}

export function clearMarks(layer) {
  layer.replaceChildren();
}
