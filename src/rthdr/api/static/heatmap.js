// Heatmaps ("why this digit"): the Grad-CAM values as colour, for drawing over the user's own
// drawing (transparent where the model did not look) and, for on-device answers, the same
// picture the server sends (the map in colour over the 28x28 input).

const SIZE = 28;

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
 * The server's Grad-CAM (src/rthdr/explain.py) from the model's `cam` output for one class:
 * ReLU, bilinear upsampling of the 7x7 map to 28x28 (pixel centres aligned), scaled to a peak of 1.
 * @param {Float32Array} cam  7x7 values, row by row
 * @returns {number[][]}  28 rows of 28 values in [0, 1]
 */
export function gradCam(cam, n = 7) {
  const scale = n / SIZE;
  const at = (j) => {
    const x = Math.min(Math.max((j + 0.5) * scale - 0.5, 0), n - 1);
    const i = Math.min(Math.floor(x), n - 2);
    return [i, x - i];
  };
  const relu = (y, x) => Math.max(0, cam[y * n + x]);
  const rows = Array.from({ length: SIZE }, (_, r) => {
    const [y, fy] = at(r);
    return Array.from({ length: SIZE }, (_, c) => {
      const [x, fx] = at(c);
      const top = relu(y, x) * (1 - fx) + relu(y, x + 1) * fx;
      const bottom = relu(y + 1, x) * (1 - fx) + relu(y + 1, x + 1) * fx;
      return top * (1 - fy) + bottom * fy;
    });
  });
  const peak = Math.max(...rows.flat());
  return peak > 0 ? rows.map((row) => row.map((v) => v / peak)) : rows;
}

/**
 * The explanation picture the server sends: the model input in grey, the map in colour over it,
 * 112x112 (4 pixels per input pixel).
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
  big.width = big.height = 4 * SIZE;
  const bigCtx = big.getContext("2d");
  bigCtx.imageSmoothingEnabled = false;
  bigCtx.drawImage(canvas, 0, 0, big.width, big.height);
  return big.toDataURL("image/png");
}
