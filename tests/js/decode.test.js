// The page's decoding against the server's: every PNG input of the golden fixtures, as pngjs reads
// it (RGBA, like a canvas), must become exactly the grey image Python's decoder made of it. (JPEG,
// WebP and GIF need a browser's decoders: tests/api/test_page_ondevice.py reads those.)

import assert from "node:assert/strict";
import { test } from "node:test";

import { greyFromRGBA, limitSize } from "../../src/rthdr/api/static/decode.js";
import { DIGITS, maxDifference, readGrey, readPNG } from "./golden.js";

for (const [name, expected] of DIGITS.filter(([name]) => name.endsWith(".png"))) {
  test(`${name}: decoded to the server's grey image`, () => {
    const { data, width, height } = readPNG("inputs", name);
    const mine = limitSize(greyFromRGBA(data, width, height, true));
    const theirs = readGrey(expected.grey);
    assert.deepEqual([mine.width, mine.height], [theirs.width, theirs.height]);
    assert.equal(maxDifference(mine.data, theirs.data), 0);
  });
}
