// Image files and canvases -> the greyscale image the server's decoder (src/rthdr/core/decode.py)
// would make of them, as closely as a browser allows: the browser decodes (EXIF orientation
// applied, colour profiles ignored as Pillow ignores them), then the grey conversion is the
// server's own integer arithmetic, and big images are shrunk to MAX_SIDE by the server's resize.
// What a browser cannot match: its JPEG and WebP decoders are not Pillow's (a grey level here and
// there), Pillow's reduced-size decoding of JPEGs of 2048 pixels and more, 16-bit PNGs (rounded
// here, truncated there), and premultiplied canvases (±1 where pixels are partly transparent).

import { MAX_SIDE } from "./constants.js";
import { resizeArea } from "./resize.js";
import { roundHalfEven } from "./rounding.js";

/** OpenCV's RGB -> grey (what the server uses for plain PNGs and transparent images), 16-bit fixed point. */
const opencvGrey = (r, g, b) => (r * 19596 + g * 38470 + b * 7470 + 32768) >> 16;
/** Pillow's convert("L"), for every other opaque image. */
const pillowGrey = (r, g, b) => (r * 19595 + g * 38470 + b * 7471 + 32768) >> 16;

/**
 * RGBA pixels (not premultiplied) -> grey, as the server's decoder: transparent parts become white
 * paper; opaque PNGs take OpenCV's weights, other opaque formats Pillow's.
 * @param {Uint8ClampedArray | Uint8Array} rgba  @param {boolean} png  whether the file is a PNG
 */
export function greyFromRGBA(rgba, width, height, png) {
  let opaque = true;
  for (let i = 3; i < rgba.length; i += 4) opaque &&= rgba[i] === 255;
  const luminance = png || !opaque ? opencvGrey : pillowGrey;
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) {
    const grey = luminance(rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]);
    const alpha = rgba[4 * i + 3];
    data[i] = Math.floor((grey * alpha + 255 * (255 - alpha) + 127) / 255);
  }
  return { data, width, height };
}

/** The server's _limit_size: images over MAX_SIDE shrunk to it (area averaging), aspect kept. */
export function limitSize(grey) {
  const longest = Math.max(grey.width, grey.height);
  if (longest <= MAX_SIDE) return grey;
  const factor = MAX_SIDE / longest;
  const width = Math.max(1, roundHalfEven(grey.width * factor));
  const height = Math.max(1, roundHalfEven(grey.height * factor));
  return resizeArea(grey, width, height);
}

/** The pixels of a canvas (the drawing pad exports PNGs, so OpenCV's weights). */
export function canvasGrey(canvas) {
  const { width, height } = canvas;
  const rgba = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  return greyFromRGBA(rgba, width, height, true);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47];

/**
 * An image file -> {grey, scale}: the grey image and the file's pixels per grey pixel (> 1 when it
 * was shrunk), to map answers back onto the picture. Rejects what the browser cannot decode.
 */
export async function decodeFile(file) {
  const bitmap = await createImageBitmap(file, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  const png = PNG_SIGNATURE.every((byte, i) => head[i] === byte);
  const grey = limitSize(greyFromRGBA(context.getImageData(0, 0, width, height).data, width, height, png));
  return { grey, scale: width / grey.width };
}
