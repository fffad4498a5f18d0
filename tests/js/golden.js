// The golden fixtures (tests/fixtures/golden, written by make.py from the server's own code): the
// grey image Python decoded from each input, and what Python made of it.

import { readFileSync } from "node:fs";
import { PNG } from "pngjs";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url);

/** name -> the fixture's expected answers (see make.py), single digits only. */
export const DIGITS = Object.entries(
  JSON.parse(readFileSync(new URL("expected.json", GOLDEN), "utf8")),
).filter(([, expected]) => "model_input" in expected);

/** base64 of float32s (little-endian, numpy's tobytes) -> a Float32Array. */
export function floats(text) {
  const bytes = Buffer.from(text, "base64");
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
}

/** A PNG of the fixtures as pngjs decodes it: RGBA, whatever the file's colour type. */
export function readPNG(folder, name) {
  return PNG.sync.read(readFileSync(new URL(`${folder}/${name}`, GOLDEN)));
}

/** An 8-bit grey PNG -> {data, width, height}, the image type of the page's preprocessing. */
export function readGrey(name) {
  const { data, width, height } = readPNG("grey", name);
  return { data: Uint8Array.from({ length: width * height }, (_, i) => data[4 * i]), width, height };
}

/** The largest absolute difference between two arrays of numbers of the same length. */
export function maxDifference(a, b) {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} against ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}
