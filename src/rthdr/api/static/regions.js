// Shapes in binary masks, as OpenCV finds them for the server: 8-connected components with their
// boxes, the outline length of cv2.findContours + cv2.arcLength, and cv2.dilate by an ellipse.
// Masks are {data: Uint8Array of 0/1, width, height}.

import { f32, roundHalfEven } from "./rounding.js";

/**
 * cv2.connectedComponentsWithStats(mask, connectivity=8), as what it means rather than how OpenCV
 * numbers them: each component's pixel indices and [x, y, w, h, area].
 */
export function components({ data, width, height }) {
  const seen = new Uint8Array(data.length);
  const found = [];
  for (let start = 0; start < data.length; start++) {
    if (!data[start] || seen[start]) continue;
    seen[start] = 1;
    const pixels = [start];
    let [x0, y0, x1, y1] = [width, height, -1, -1];
    for (let k = 0; k < pixels.length; k++) {
      const [x, y] = [pixels[k] % width, Math.floor(pixels[k] / width)];
      [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const i = ny * width + nx;
          if (data[i] && !seen[i]) {
            seen[i] = 1;
            pixels.push(i);
          }
        }
      }
    }
    found.push({ pixels, stats: [x0, y0, x1 - x0 + 1, y1 - y0 + 1, pixels.length] });
  }
  return found;
}

// Chain codes as OpenCV numbers them: 0 = right, then counter-clockwise on screen (2 = up).
const STEPS = [
  [1, 0],
  [1, -1],
  [0, -1],
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, 1],
  [1, 1],
];

/**
 * The summed cv2.arcLength of every contour cv2.findContours(mask, RETR_LIST, CHAIN_APPROX_SIMPLE)
 * finds: Suzuki and Abe's border following, outer borders and holes, each traced once. SIMPLE
 * keeps only the corners where the direction changes, and arcLength adds the float32 length of
 * each straight run between them, as here.
 */
export function outlineLength({ data, width, height }) {
  // A frame of paper around the mask, as OpenCV adds; labels: 1 = ink not yet on a border.
  const w = width + 2;
  const labels = new Int32Array(w * (height + 2));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) labels[(y + 1) * w + x + 1] = data[y * width + x] ? 1 : 0;
  }
  const offsets = STEPS.map(([dx, dy]) => dy * w + dx);
  let border = 1;
  let total = 0;
  for (let i = w; i < labels.length - w; i++) {
    // Raster order, as OpenCV scans: an outer border starting here, then (its marks now made) a hole.
    if (labels[i] === 1 && labels[i - 1] === 0) total += runsLength(follow(labels, offsets, i, 4, ++border));
    if (labels[i] >= 1 && labels[i + 1] === 0) total += runsLength(follow(labels, offsets, i, 0, ++border));
  }
  return total;
}

/**
 * Traces the border through pixel `start`, whose paper neighbour lies in direction `from`,
 * marking it as OpenCV's icvFetchContour does; returns its chain codes (none for a lone pixel).
 */
function follow(labels, offsets, start, from, border) {
  let s = from;
  do s = (s + 7) % 8;
  while (labels[start + offsets[s]] === 0 && s !== from);
  if (s === from) {
    labels[start] = -border; // a lone pixel
    return [];
  }
  const second = start + offsets[s];
  const codes = [];
  let here = start;
  for (;;) {
    // Counter-clockwise from the neighbour we came from, to the next ink pixel.
    const cameFrom = s;
    let next;
    do next = here + offsets[(s = (s + 1) % 8)];
    while (labels[next] === 0);
    // The search passed the paper on the right (direction 0 came and went): the border's right
    // edge, marked so that no hole border starts from it again.
    if (s >= 1 && s <= cameFrom) labels[here] = -border;
    else if (labels[here] === 1) labels[here] = border;
    codes.push(s);
    if (next === start && here === second) return codes;
    here = next;
    s = (s + 4) % 8;
  }
}

/**
 * cv2.arcLength of the chain's corners, closed: the float32 length of each maximal straight run
 * (cyclically: SIMPLE drops the start point too when the chain goes straight through it), added
 * up in arcLength's order, which begins with the run that closes the contour.
 */
function runsLength(codes) {
  const n = codes.length;
  let first = 0; // the first corner: a closed chain always turns somewhere
  while (first < n && codes[first] === codes[(first + n - 1) % n]) first++;
  const runs = [];
  let [dx, dy] = [0, 0];
  for (let k = 0; k < n; k++) {
    const code = codes[(first + k) % n];
    [dx, dy] = [dx + STEPS[code][0], dy + STEPS[code][1]];
    if (code !== codes[(first + k + 1) % n]) {
      runs.push(f32(Math.sqrt(dx * dx + dy * dy)));
      [dx, dy] = [0, 0];
    }
  }
  return runs.length < 2 ? 0 : runs.slice(0, -1).reduce((sum, run) => sum + run, runs.at(-1));
}

/** cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)): each row's [first, end) column. */
function ellipseRows(size) {
  const r = Math.floor(size / 2);
  const inverse = r ? 1 / (r * r) : 0;
  return Array.from({ length: size }, (_, i) => {
    const dy = i - r;
    const dx = roundHalfEven(r * Math.sqrt((r * r - dy * dy) * inverse));
    return [Math.max(r - dx, 0), Math.min(r + dx + 1, size)];
  });
}

/** cv2.dilate(image, ellipse of size x size): the largest value under the kernel, inside the image. */
export function dilateEllipse(src, size) {
  const rows = ellipseRows(size);
  const anchor = Math.floor(size / 2);
  const { width, height } = src;
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let best = -Infinity;
      rows.forEach(([j1, j2], i) => {
        const sy = y + i - anchor;
        if (sy < 0 || sy >= height) return;
        for (let sx = Math.max(0, x + j1 - anchor); sx < Math.min(width, x + j2 - anchor); sx++) {
          best = Math.max(best, src.data[sy * width + sx]);
        }
      });
      out[y * width + x] = best;
    }
  }
  return { data: out, width, height };
}
