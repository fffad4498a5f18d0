// The server's MNIST recipe (src/rthdr/core/preprocess.py) in the browser, for the on-device mode,
// step for step and with the server's constants (constants.js, generated from the Python):
//
//   grey image -> ink (polarity detected, shadows flattened, contrast stretched)
//              -> the digit's pixels (specks dropped) -> crop to their bounding box
//              -> strokes thickened if much thinner than MNIST's -> fit into 20x20, aspect kept
//              -> centre of mass at the centre of 28x28 -> float32 in [0, 1]
//
// tests/js checks it against the server's own answers on the golden fixtures (canvases, strokes,
// photos, uploads): every model input within 1/255 of the Python one.
//
// Why a port and not OpenCV.js: the recipe needs eight OpenCV operations on images of at most
// 128 x 128 pixels, which take a few hundred lines here against a 10 MB download (on top of ONNX
// Runtime's 14 MB); and OpenCV.js is built without the server's vector code, whose rounding the
// 8-bit steps must match, so parity would still rest on these tests, not on sharing a library.

import {
  CENTRE,
  DETAIL,
  FIT,
  MIN_CONTRAST,
  MNIST_STROKE,
  SIZE,
  SPECK,
  THIN_STROKE,
  WORKING_SIDE,
} from "./constants.js";
import { paperLevel } from "./background.js";
import { histogram, medianBlur3, median, otsu, percentile } from "./levels.js";
import { components, dilateEllipse, outlineLength } from "./regions.js";
import { resizeArea, resizeLinear } from "./resize.js";
import { roundHalfEven } from "./rounding.js";

/**
 * The model input of the digit in a greyscale image, and the square of the image it shows, as the
 * server's to_model_input; null where the server says "no digit" (a blank page, or only specks).
 * @param {{data: Uint8Array, width: number, height: number}} grey
 * @param {boolean | null} darkInk  null: detect it, as the server does
 * @returns {{input: Float32Array, square: number[]} | null}  square: [x, y, side] in grey pixels
 */
export function toModelInput(grey, darkInk = null) {
  let { image, factor } = shrink(grey, WORKING_SIDE);
  const dark = darkInk ?? inkIsDark(image);
  let ink = extractInk(image, dark);
  let box = ink && digitBox(ink);
  if (!box) return null;
  let [x0, y0] = [0, 0];
  if (factor > 1 && Math.max(box[2], box[3]) < DETAIL) {
    // A small digit in a big image: its surroundings again, from the full image, finer.
    const [x, y, w, h] = box.map((v) => v * factor);
    const margin = Math.floor(Math.max(w, h) / 4) + 2;
    [x0, y0] = [Math.max(0, x - margin), Math.max(0, y - margin)];
    ({ image, factor } = shrink(crop(grey, x0, y0, x + w + margin, y + h + margin), WORKING_SIDE));
    ink = extractInk(image, dark);
    box = ink && digitBox(ink);
    if (!box) return null;
  }
  const { input, square } = cropToMnist(ink, box);
  const [sx, sy, side] = square;
  return { input, square: [x0 + sx * factor, y0 + sy * factor, side * factor] };
}

/** The part [x0, x1) x [y0, y1) of an image, clipped to it (numpy slicing). */
function crop({ data, width, height }, x0, y0, x1, y1) {
  const w = Math.min(width, x1) - x0;
  const h = Math.min(height, y1) - y0;
  const out = new data.constructor(w * h);
  for (let y = 0; y < h; y++) out.set(data.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  return { data: out, width: w, height: h };
}

/** The image shrunk by a whole factor (area averaging) to at most `side` pixels, and the factor. */
function shrink(grey, side) {
  const factor = Math.ceil(Math.max(grey.width, grey.height) / side);
  if (factor <= 1) return { image: grey, factor: 1 };
  // Whole output pixels only: the last rows and columns (fewer than `factor`) go, as on the server.
  const w = Math.max(1, Math.floor(grey.width / factor));
  const h = Math.max(1, Math.floor(grey.height / factor));
  return { image: resizeArea(crop(grey, 0, 0, w * factor, h * factor), w, h), factor };
}

/** Paper fills the border; ink is the side of its level with more pixels far from it. */
function inkIsDark(grey) {
  const { data, width, height } = grey;
  const border = Math.max(1, Math.floor(Math.min(width, height) / 20));
  const strips = [
    crop(grey, 0, 0, width, border),
    crop(grey, 0, height - border, width, height),
    crop(grey, 0, 0, border, height),
    crop(grey, width - border, 0, width, height),
  ];
  const paper = Math.trunc(median(strips.flatMap((strip) => [...strip.data])));
  const far = 2 * MIN_CONTRAST;
  let [darker, brighter] = [0, 0];
  for (const v of data) {
    if (v < paper - far) darker++;
    else if (v > paper + far) brighter++;
  }
  return darker > brighter;
}

/**
 * Bright ink on black whatever the polarity and lighting, with its levels: `floor`, up to which
 * pixels count as paper, and `level`, solid ink; the strokes' mask and their [x, y, w, h, area].
 * Null for a blank image.
 */
function extractInk(grey, darkInk) {
  let bright = darkInk ? { ...grey, data: grey.data.map((v) => 255 - v) } : grey;
  if (Math.min(bright.width, bright.height) >= 64) bright = medianBlur3(bright); // photo noise
  const paper = paperLevel(bright).data;
  const flat = { ...bright, data: bright.data.map((v, i) => Math.max(0, v - paper[i])) };
  if (Math.max(...flat.data) < MIN_CONTRAST) return null;
  const threshold = Math.max(otsu(histogram(flat.data)), MIN_CONTRAST / 2);
  const strong = flat.data.map((v) => (v > threshold ? 1 : 0));
  const level = percentile(histogram(flat.data, strong), 90);
  // Paper noise (JPEG, grain) sets the floor: the paper's 99th percentile, on every 4th pixel of
  // every 4th row.
  const sampled = (i) => (i % flat.width) % 4 === 0 && Math.floor(i / flat.width) % 4 === 0;
  const paperSample = strong.map((s, i) => (sampled(i) && !s ? 1 : 0));
  const paperNoise = percentile(histogram(flat.data, paperSample), 99);
  const floor = Math.min(Math.max(paperNoise, 4), threshold * 0.75);
  return { flat, floor, level, ...hysteresis(flat, Math.max(floor, threshold / 2), strong) };
}

/**
 * Strokes = the components of the pixels above `weak` that hold a strong pixel: faint or blurred
 * strokes stay whole, faint noise away from them stays out.
 */
function hysteresis(flat, weak, strong) {
  const mask = new Uint8Array(flat.data.length);
  const stats = [];
  const above = { ...flat, data: flat.data.map((v) => (v > weak ? 1 : 0)) };
  for (const { pixels, stats: box } of components(above)) {
    if (!pixels.some((i) => strong[i])) continue;
    for (const i of pixels) mask[i] = 1;
    stats.push(box);
  }
  return { mask: { data: mask, width: flat.width, height: flat.height }, stats };
}

/** [x, y, w, h] of all ink but specks, with MNIST's soft edges; null if only specks. */
function digitBox({ flat, floor, stats }) {
  const total = stats.reduce((sum, s) => sum + s[4], 0);
  const keep = stats.filter((s) => s[4] >= Math.max(2, SPECK * total));
  if (!keep.length) return null;
  const x0 = Math.max(0, Math.min(...keep.map((s) => s[0])) - 1);
  const y0 = Math.max(0, Math.min(...keep.map((s) => s[1])) - 1);
  const x1 = Math.min(flat.width, Math.max(...keep.map((s) => s[0] + s[2])) + 1);
  const y1 = Math.min(flat.height, Math.max(...keep.map((s) => s[1] + s[3])) + 1);
  // The box of the pixels above the paper floor in there (cv2.boundingRect).
  let [bx0, by0, bx1, by1] = [x1, y1, x0 - 1, y0 - 1];
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      if (flat.data[y * flat.width + x] <= floor) continue;
      [bx0, by0, bx1, by1] = [Math.min(bx0, x), Math.min(by0, y), Math.max(bx1, x), Math.max(by1, y)];
    }
  }
  return [bx0, by0, bx1 - bx0 + 1, by1 - by0 + 1];
}

/** The box's ink in [0, 1] (float32: paper 0, solid ink 1) and mask -> the model input. */
function cropToMnist({ flat, floor, level, mask }, [x, y, w, h]) {
  const range = Math.max(level - floor, 1);
  const part = crop(flat, x, y, x + w, y + h);
  const intensity = Float32Array.from(part.data, (v) => Math.min(1, Math.max(0, (v - floor) / range)));
  const { input, square } = toMnist({ data: intensity, width: w, height: h }, crop(mask, x, y, x + w, y + h));
  return { input, square: [square[0] + x, square[1] + y, square[2]] };
}

/**
 * A digit's crop -> the 28x28 input: strokes thickened if far thinner than MNIST's, fitted into
 * 20x20 with its aspect ratio, placed so its centre of mass lands on (14, 14), by whole pixels.
 * square: the part of the crop the input shows, [x, y, side] in crop pixels.
 */
function toMnist(crop, mask) {
  let image = crop;
  let side = Math.max(image.width, image.height);
  const widthRatio = strokeWidth(mask) / side;
  let pad = 0;
  if (widthRatio < THIN_STROKE) {
    const grow = Math.max(1, roundHalfEven((MNIST_STROKE - widthRatio) * side));
    pad = Math.floor(grow / 2) + 1;
    image = dilateEllipse(padded(image, pad), grow);
    side = Math.max(image.width, image.height);
  }
  const scale = FIT / side;
  const fw = Math.max(1, roundHalfEven(image.width * scale));
  const fh = Math.max(1, roundHalfEven(image.height * scale));
  const fitted = (side > FIT ? resizeArea : resizeLinear)(image, fw, fh);
  const [comX, comY] = centreOfMass(fitted);
  const left = Math.min(Math.max(roundHalfEven(CENTRE - comX), 0), SIZE - fw);
  const top = Math.min(Math.max(roundHalfEven(CENTRE - comY), 0), SIZE - fh);
  const input = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < fh; y++) input.set(fitted.data.subarray(y * fw, (y + 1) * fw), (top + y) * SIZE + left);
  return { input, square: [-left / scale - pad, -top / scale - pad, SIZE / scale] };
}

/** Mean stroke width in pixels: ink area over half the outline's length. */
function strokeWidth(mask) {
  const area = mask.data.reduce((sum, v) => sum + v, 0);
  return (2 * area) / Math.max(outlineLength(mask), 1);
}

/** np.pad(image, pad): zeros all round. */
function padded(image, pad) {
  const width = image.width + 2 * pad;
  const out = new Float32Array(width * (image.height + 2 * pad));
  for (let y = 0; y < image.height; y++) {
    out.set(image.data.subarray(y * image.width, (y + 1) * image.width), (y + pad) * width + pad);
  }
  return { data: out, width, height: image.height + 2 * pad };
}

/**
 * The centre of mass as cv2.moments gives it, summed as OpenCV sums it (row sums first); the
 * middle where there is no mass. (The server pads a 2-pixel-wide fit with a zero column, which
 * changes no moment, so that OpenCV does not take it for a list of points.)
 */
function centreOfMass(image) {
  const [m00, m10, m01] = imageMoments(image);
  return m00 ? [m10 / m00, m01 / m00] : [image.width / 2, image.height / 2];
}

function imageMoments({ data, width, height }) {
  let [m00, m10, m01] = [0, 0, 0];
  for (let y = 0; y < height; y++) {
    let [x0, x1] = [0, 0];
    for (let x = 0; x < width; x++) {
      x0 += data[y * width + x];
      x1 += x * data[y * width + x];
    }
    [m00, m10, m01] = [m00 + x0, m10 + x1, m01 + y * x0];
  }
  return [m00, m10, m01];
}
