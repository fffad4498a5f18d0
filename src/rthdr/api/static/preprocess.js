// The server's MNIST recipe (src/rthdr/preprocess.py) in the browser, for the on-device mode.
// Every step that changes the numbers on a canvas drawing follows the server: the working size, the
// median filter, the ink levels (Otsu, paper floor, contrast stretch), the crop, area averaging and
// the centre of mass, and a second, finer read of a small digit. So both sides feed the model the
// same 28x28 input, pixel for pixel (tests/test_page.py checks it). Left out, because a canvas
// never needs them: polarity detection, the shadow fit, speck removal and thin-stroke thickening.

const SIZE = 28; // the model's input side
const FIT = 20; // the digit's bounding box is fitted into 20x20 ...
const CENTRE = 14; // ... and its centre of mass moved here
const WORKING_SIDE = 128; // the server reads images at most this large
const DETAIL = 2 * FIT; // a digit smaller than this at the working size is read again, finer
const MIN_CONTRAST = 24; // below this, the page is blank

/**
 * The model input for the drawing on a canvas, or null when there is no ink.
 * @param {HTMLCanvasElement} canvas  dark ink on white, read at its bitmap size (= the PNG's)
 * @returns {{input: Float32Array, region: number[]} | null}  region: [x, y, side] in bitmap pixels
 */
export function canvasToModelInput(canvas) {
  const found = locateDigit(readInk(canvas));
  if (!found) return null;
  const { flat, stride, levels, box, factor, offset } = found;
  const { input, square } = toMnist(intensity(flat, stride, box, levels), box[2], box[3]);
  const [sx, sy, side] = square;
  const region = [offset[0] + (box[0] + sx) * factor, offset[1] + (box[1] + sy) * factor, side * factor];
  return { input, region };
}

/** The canvas as ink: 255 - grey, bright ink on black like MNIST. */
function readInk(canvas) {
  const { width, height } = canvas;
  const rgba = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) {
    data[i] = 255 - (0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  }
  return { data, width, height };
}

/**
 * The digit, as findDigit finds it; a small one on a big pad is read again from its surroundings
 * at a finer scale, as the server does.
 */
function locateDigit(image) {
  const found = findDigit(image, [0, 0]);
  if (!found || found.factor === 1 || Math.max(found.box[2], found.box[3]) >= DETAIL) return found;
  const [x, y, w, h] = found.box.map((v) => v * found.factor);
  const margin = Math.floor(Math.max(w, h) / 4) + 2;
  const [x0, y0] = [Math.max(0, x - margin), Math.max(0, y - margin)];
  return findDigit(crop(image, x0, y0, x + w + margin, y + h + margin), [x0, y0]);
}

/**
 * The digit's box in an image read at the working size (whole factors, like the server: a 280 px
 * pad is read at 93 px, a 3x phone bitmap at 120 px), with the ink levels; null if blank.
 * `offset`: where the image lies in the canvas.
 */
function findDigit(image, offset) {
  const factor = Math.ceil(Math.max(image.width, image.height) / WORKING_SIDE);
  const w = Math.max(1, Math.floor(image.width / factor));
  const h = Math.max(1, Math.floor(image.height / factor));
  const whole = crop(image, 0, 0, w * factor, h * factor); // whole output pixels only, as the server
  let flat = quantise(resize(whole.data, whole.width, whole.height, w, h));
  if (Math.min(w, h) >= 64) flat = median3(flat, w, h); // the server's noise filter, same sizes
  const levels = inkLevels(flat, w);
  const box = levels && boundingBox(flat, w, h, levels.floor);
  return box ? { flat, stride: w, factor, levels, box, offset } : null;
}

/** The part [x0, x1) x [y0, y1) of an image, clipped to it. */
function crop({ data, width, height }, x0, y0, x1, y1) {
  const w = Math.min(width, x1) - x0;
  const h = Math.min(height, y1) - y0;
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) out.set(data.subarray((y0 + y) * width + x0, (y0 + y) * width + x0 + w), y * w);
  return { data: out, width: w, height: h };
}

/** The server works on uint8 images: rounding here keeps the thresholds below identical. */
function quantise(values) {
  return values.map((v) => Math.min(255, Math.max(0, Math.round(v))));
}

/**
 * Where paper ends and solid ink begins, as the server measures it: Otsu's threshold splits the
 * strokes from the rest; `floor` is the level under which pixels count as paper (it trims the soft
 * edges a downscaled stroke gets), `level` that of solid ink. Null for a blank page.
 */
function inkLevels(flat, w) {
  let max = 0;
  for (const v of flat) max = Math.max(max, v);
  if (max < MIN_CONTRAST) return null;
  let threshold = otsu(histogram(flat));
  if (threshold < MIN_CONTRAST / 2) threshold = MIN_CONTRAST / 2;
  const strong = flat.filter((v) => v > threshold);
  const level = percentile(histogram(strong), 90);
  // The paper's noise, measured like the server: on every 4th pixel of every 4th row.
  const paper = percentile(histogram(sample(flat, w).filter((v) => v <= threshold)), 99);
  const floor = Math.min(Math.max(paper, 4), threshold * 0.75);
  return { floor, level };
}

function sample(flat, w) {
  const out = [];
  for (let y = 0; y < flat.length / w; y += 4) for (let x = 0; x < w; x += 4) out.push(flat[y * w + x]);
  return out;
}

/** 3x3 median, edges replicated (OpenCV's medianBlur). */
function median3(src, w, h) {
  const out = new Float32Array(src.length);
  const window = new Float32Array(9);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let k = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const row = clamp(y + dy, 0, h - 1) * w;
        for (let dx = -1; dx <= 1; dx++) window[k++] = src[row + clamp(x + dx, 0, w - 1)];
      }
      out[y * w + x] = window.sort()[4];
    }
  }
  return out;
}

function histogram(values) {
  const counts = new Float64Array(256);
  for (const v of values) counts[v] += 1;
  return counts;
}

/** The smallest level with at least q % of the values at or below it (the server's _percentile). */
function percentile(counts, q) {
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

/** Otsu's threshold: the level that best separates the histogram into two classes (as OpenCV). */
function otsu(counts) {
  let total = 0;
  let sum = 0;
  for (let v = 0; v < 256; v++) {
    total += counts[v];
    sum += v * counts[v];
  }
  let best = 0;
  let bestVariance = -1;
  let weight0 = 0;
  let sum0 = 0;
  for (let t = 0; t < 256; t++) {
    weight0 += counts[t];
    sum0 += t * counts[t];
    const weight1 = total - weight0;
    if (!weight0 || !weight1) continue;
    const mean0 = sum0 / weight0;
    const mean1 = (sum - sum0) / weight1;
    const variance = weight0 * weight1 * (mean0 - mean1) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}

/** [x, y, w, h] of the pixels brighter than the floor, soft edges included; null if none. */
function boundingBox(flat, w, h, floor) {
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (flat[y * w + x] <= floor) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  }
  return x1 < 0 ? null : [x0, y0, x1 - x0 + 1, y1 - y0 + 1];
}

/** The crop's ink in [0, 1]: paper 0, solid ink 1 (the server's Ink.intensity). */
function intensity(flat, stride, [bx, by, bw, bh], { floor, level }) {
  const out = new Float32Array(bw * bh);
  const range = Math.max(level - floor, 1);
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const v = (flat[(by + y) * stride + bx + x] - floor) / range;
      out[y * bw + x] = Math.min(1, Math.max(0, v));
    }
  }
  return out;
}

/**
 * A crop (w x h, values in [0, 1]) -> the 28x28 input: fitted into 20x20 with its aspect ratio,
 * then placed so its centre of mass lands on (14, 14), moved by whole pixels only.
 * square: the part of the crop the input shows, [x, y, side] in crop pixels.
 */
function toMnist(crop, w, h) {
  const side = Math.max(w, h);
  const scale = FIT / side;
  const fw = Math.max(1, Math.round(w * scale));
  const fh = Math.max(1, Math.round(h * scale));
  const fitted = resize(crop, w, h, fw, fh);
  let total = 0;
  let sumX = 0;
  let sumY = 0;
  for (let y = 0; y < fh; y++) {
    for (let x = 0; x < fw; x++) {
      const v = fitted[y * fw + x];
      total += v;
      sumX += x * v;
      sumY += y * v;
    }
  }
  const comX = total ? sumX / total : fw / 2;
  const comY = total ? sumY / total : fh / 2;
  const left = clamp(Math.round(CENTRE - comX), 0, SIZE - fw);
  const top = clamp(Math.round(CENTRE - comY), 0, SIZE - fh);
  const input = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < fh; y++) input.set(fitted.subarray(y * fw, (y + 1) * fw), (top + y) * SIZE + left);
  return { input, square: [-left / scale, -top / scale, SIZE / scale] };
}

const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

/**
 * Resize a single-channel image the way OpenCV does: area averaging when shrinking (every source
 * pixel counts, with fractional edges), bilinear with pixel centres aligned when enlarging.
 * Separable: columns first, then rows.
 */
export function resize(src, w, h, dw, dh) {
  const across = weights(w, dw);
  const down = weights(h, dh);
  const rows = new Float32Array(dw * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < dw; x++) {
      let v = 0;
      for (const [i, wt] of across[x]) v += src[y * w + i] * wt;
      rows[y * dw + x] = v;
    }
  }
  const out = new Float32Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      let v = 0;
      for (const [i, wt] of down[y]) v += rows[i * dw + x] * wt;
      out[y * dw + x] = v;
    }
  }
  return out;
}

/** For each of m output pixels, the [source index, weight] pairs that make it from n inputs. */
function weights(n, m) {
  const scale = n / m;
  return Array.from({ length: m }, (_, j) => {
    if (m < n) {
      // Area: the output pixel covers source [j * scale, (j + 1) * scale).
      const start = j * scale;
      const end = start + scale;
      const pairs = [];
      for (let i = Math.floor(start); i < Math.min(n, Math.ceil(end)); i++) {
        const overlap = Math.min(end, i + 1) - Math.max(start, i);
        if (overlap > 1e-9) pairs.push([i, overlap / scale]);
      }
      return pairs;
    }
    // Bilinear, half-pixel centres, edges clamped.
    const x = Math.min(Math.max((j + 0.5) * scale - 0.5, 0), n - 1);
    const i = Math.floor(x);
    const f = x - i;
    return f > 0 && i + 1 < n ? [[i, 1 - f], [i + 1, f]] : [[i, 1]];
  });
}

/** The 28x28 input as a PNG data URL (white ink on black), like the server's "preprocessed". */
export function inputToDataURL(input) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  input.forEach((v, i) => {
    const grey = Math.round(255 * v);
    image.data.set([grey, grey, grey, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}
