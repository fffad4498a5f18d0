// The page's character reading (static/characters.js) against the server's, on the fixture Python
// wrote (tests/core/test_characters_fixture.py keeps it current): the not-a-digit check, the digit
// reading it flags and readings in letters and alphanumeric, for every reason and the ties. The
// same numbers in, so the same answers out, exactly; only the check's share outside the digits is
// summed in another order than numpy's (1e-12).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { checkDigit, digitReading, readCharacter } from "../../src/rthdr/api/static/characters.js";

const FIXTURE = JSON.parse(
  readFileSync(new URL("../fixtures/characters/readings.json", import.meta.url), "utf8"),
);

for (const [name, expected] of Object.entries(FIXTURE.digits)) {
  test(`digits, ${name}: the server's check and reading`, () => {
    const check = expected.characters && checkDigit(expected.characters, FIXTURE.classes);
    if (expected.check) {
      const { not_a_digit: share, ...rest } = check;
      const { not_a_digit: theirs, ...theirRest } = expected.check;
      assert.ok(Math.abs(share - theirs) <= 1e-12, `not a digit: ${share} vs ${theirs}`);
      assert.deepEqual(rest, theirRest);
    } else {
      assert.equal(check, null);
    }
    assert.deepEqual(digitReading(expected.digits, check), expected.reading);
  });
}

for (const [name, expected] of Object.entries(FIXTURE.charsets)) {
  test(`${name}: the server's reading`, () => {
    const { probabilities, classes, charset } = expected;
    assert.deepEqual(readCharacter(probabilities, classes, charset), expected.reading);
  });
}
