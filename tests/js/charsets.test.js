// The words the result panel uses for /api/v1/predict answers in each charset (and for on-device
// answers, which have the same shape with charset digits).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  sourcesText,
  announcement,
  characterOf,
  charsetOr,
  chartOf,
  doubt,
  runnerUp,
} from "../../src/rthdr/api/static/charsets.js";

const digits = (digit, confidence, extra = {}) => {
  const probabilities = Array(10).fill((1 - confidence) / 9);
  probabilities[digit] = confidence;
  return { charset: "digits", character: String(digit), digit, confidence, probabilities, ...extra };
};

const letters = (candidates, extra = {}) => ({
  charset: "letters",
  character: candidates[0][0],
  digit: null,
  confidence: candidates[0][1],
  probabilities: null,
  candidates: candidates.map(([character, probability]) => ({ character, probability })),
  uncertain: false,
  reason: null,
  looks_like: null,
  ...extra,
});

test("a remembered charset is kept only when the page knows it", () => {
  assert.equal(charsetOr("letters"), "letters");
  assert.equal(charsetOr("alphanumeric"), "alphanumeric");
  for (const value of [undefined, null, "", "emoji", "toString", "__proto__"]) {
    assert.equal(charsetOr(value), "digits");
  }
});

test("the character shown: `character`, or the digit of an answer without one", () => {
  assert.equal(characterOf(letters([["A", 0.9]])), "A");
  assert.equal(characterOf({ digit: 4, confidence: 0.9 }), "4");
});

test("the chart: ten digit bars where there are probabilities, else the candidates", () => {
  const ten = chartOf(digits(3, 0.91));
  assert.equal(ten.length, 10);
  assert.deepEqual(ten[3], { character: "3", probability: 0.91 });
  const five = chartOf(
    letters([
      ["A", 0.8],
      ["H", 0.1],
      ["R", 0.05],
      ["n", 0.03],
      ["K", 0.01],
    ]),
  );
  assert.deepEqual(
    five.map((c) => c.character),
    ["A", "H", "R", "n", "K"],
  );
});

test("a sure answer has no doubt", () => {
  assert.equal(doubt(digits(7, 0.99, { uncertain: false, reason: null })), null);
  assert.equal(announcement(digits(7, 0.998, { uncertain: false })), "Predicted 7, 100 % confidence");
  assert.equal(announcement(letters([["A", 0.934]])), "Predicted A, 93.4 % confidence");
});

test("low confidence names the runner-up, from the probabilities or the candidates", () => {
  const answer = digits(4, 0.52, { uncertain: true, reason: "low_confidence" });
  answer.probabilities[9] = 0.3;
  assert.equal(runnerUp(answer).character, "9");
  assert.deepEqual(doubt(answer), {
    label: "Uncertain:",
    text: " it could also be a 9 (30.0 %). Try writing it more clearly.",
  });
  assert.equal(announcement(answer), "Predicted 4, 52.0 % confidence, uncertain");

  const letter = letters(
    [
      ["H", 0.6],
      ["A", 0.3],
      ["n", 0.05],
    ],
    { uncertain: true, reason: "low_confidence" },
  );
  assert.equal(doubt(letter).text, " it could also be the letter A (30.0 %). Try writing it more clearly.");
  assert.match(doubt(digits(3, 0.5, { uncertain: true })).text, /could also be an? \d/); // no reason given
  const eight = digits(3, 0.5, { uncertain: true });
  eight.probabilities[8] = 0.4;
  assert.match(doubt(eight).text, /could also be an 8 /);
});

test("not a digit: what it looks like instead, or that it looks like none", () => {
  const answer = digits(4, 0.4, { uncertain: true, reason: "not_a_digit", looks_like: "A" });
  assert.equal(doubt(answer).label, "This looks like the letter A, not a digit.");
  assert.equal(
    announcement(answer),
    "Predicted 4, 40.0 % confidence, uncertain: this looks like the letter A, not a digit",
  );
  const none = digits(4, 0.4, { uncertain: true, reason: "not_a_digit", looks_like: null });
  assert.equal(doubt(none).label, "This does not look like a digit.");
});

test("not a letter, and not a character at all", () => {
  const seven = letters([["T", 0.2]], { uncertain: true, reason: "not_a_letter", looks_like: "7" });
  assert.equal(doubt(seven).label, "This looks like a 7, not a letter.");
  const eight = letters([["B", 0.2]], { uncertain: true, reason: "not_a_letter", looks_like: "8" });
  assert.equal(doubt(eight).label, "This looks like an 8, not a letter.");
  const none = letters([["T", 0.2]], { uncertain: true, reason: "not_a_letter" });
  assert.equal(doubt(none).label, "This does not look like a letter.");
  const scribble = letters([["T", 0.1]], { uncertain: true, reason: "not_a_character" });
  assert.equal(doubt(scribble).label, "This does not look like a letter or digit.");
  assert.equal(
    announcement(scribble),
    "Predicted T, 10.0 % confidence, uncertain: this does not look like a letter or digit",
  );
});

test("other scripts' digits: named as digits, and what a scribble is not", () => {
  for (const name of ["devanagari", "arabic-indic", "persian"]) assert.equal(charsetOr(name), name);
  const scribble = (charset) => ({
    charset,
    character: "७",
    confidence: 0.2,
    candidates: [{ character: "७", probability: 0.2 }],
    uncertain: true,
    reason: "not_a_character",
  });
  assert.equal(doubt(scribble("devanagari")).label, "This does not look like a Devanagari digit.");
  assert.equal(doubt(scribble("arabic-indic")).label, "This does not look like an Arabic-Indic digit.");
  const unsure = { ...scribble("devanagari"), reason: "low_confidence" };
  unsure.candidates.push({ character: "१", probability: 0.1 });
  assert.equal(doubt(unsure).text, " it could also be a १ (10.0 %). Try writing it more clearly.");
});

test("the sources of a fused answer, and none for one source", () => {
  const fused = {
    sources: {
      image: { character: "7", digit: 7, confidence: 0.98 },
      strokes: { character: "1", digit: 1, confidence: 0.6 },
      fused: { character: "7", digit: 7, confidence: 0.9 },
      image_weight: 0.6,
      image_sent: true,
    },
  };
  assert.equal(sourcesText(fused), "Picture 7 (98.0 %), strokes 1 (60.0 %), weighed 0.6 : 0.4");
  assert.equal(sourcesText({ sources: { ...fused.sources, strokes: null, fused: null } }), null);
  assert.equal(sourcesText({}), null);
});

test("letters' sources name the letters; strokes no model reads say so", () => {
  const letter = { character: "A", digit: null, confidence: 0.9 };
  const sources = { image: letter, strokes: letter, fused: letter, image_weight: 0.4, image_sent: true };
  assert.equal(sourcesText({ sources }), "Picture A (90.0 %), strokes A (90.0 %), weighed 0.4 : 0.6");
  const unread = "no stroke model reads devanagari: its digits have no pen-stroke training data here";
  const picture = { sources: { image: letter, strokes: null, fused: null, strokes_unread: unread } };
  assert.equal(sourcesText(picture), "Picture only: no stroke model reads devanagari");
});

test("the two models disagree: the character model's digit is named", () => {
  const seven = digits(7, 0.99, { uncertain: true, reason: "models_disagree", looks_like: "1" });
  assert.equal(doubt(seven).label, "Uncertain:");
  assert.equal(doubt(seven).text, " it could also be a 1. Try writing it more clearly.");
  assert.equal(announcement(seven), "Predicted 7, 99.0 % confidence, uncertain: it could also be a 1");
});
