// Reading a character from the character model's probabilities, and the check that tells a digit
// from what only looks like one: rthdr.core.characters ported to the page, so that on-device answers
// are the server's. The other scripts' digits (the script model) are read on the server only.
// tests/js/characters.test.js checks it against Python (tests/fixtures/characters/readings.json).

import { CANDIDATES, DIGITS, LETTERS, NONE, NOT_A_DIGIT_ABOVE, UNCERTAIN_BELOW } from "./constants.js";

// The characters of the charsets the character model reads, as rthdr.core.charsets.CHARSETS has them.
const CHARACTERS = { digits: DIGITS, letters: LETTERS, alphanumeric: [...DIGITS, ...LETTERS] };
// Why an answer is uncertain when a character outside its charset fits better (outside_reason).
const OUTSIDE = { digits: "not_a_digit", letters: "not_a_letter" };

const argmax = (values) => values.indexOf(Math.max(...values)); // the first of equal maxima, as numpy's
const sum = (values) => values.reduce((a, b) => a + b, 0);

/**
 * One image's character-model probabilities in `charset` (digits, letters or alphanumeric): the
 * charset's likeliest character, its own probability as the confidence, and why it is uncertain.
 * @param {ArrayLike<number>} probabilities  calibrated, one per class
 * @param {string[]} classes  the model's class names, in output order
 */
export function readCharacter(probabilities, classes, charset) {
  const p = Array.from(probabilities);
  const wanted = CHARACTERS[charset].map((c) => classes.indexOf(c));
  const order = [...wanted].sort((a, b) => p[b] - p[a]); // stable, as Python's sorted
  const [best] = order;
  const top = argmax(p);
  let reason = null;
  let looksLike = null;
  if (classes[top] === NONE) reason = "not_a_character";
  else if (!wanted.includes(top)) [reason, looksLike] = [OUTSIDE[charset], classes[top]];
  else if (p[best] < UNCERTAIN_BELOW) reason = "low_confidence";
  return {
    character: classes[best],
    index: best,
    confidence: p[best],
    candidates: order.slice(0, CANDIDATES).map((i) => ({ character: classes[i], probability: p[i] })),
    uncertain: reason !== null,
    reason,
    looks_like: looksLike,
  };
}

/**
 * What the character model says of a drawing the digit model read (check_digit): its probability
 * outside the digits, its likeliest letter where that is likelier than `none`, and its likeliest digit.
 */
export function checkDigit(probabilities, classes) {
  const p = Array.from(probabilities);
  const letters = LETTERS.map((c) => classes.indexOf(c));
  const digits = DIGITS.map((c) => classes.indexOf(c));
  const letter = letters[argmax(letters.map((i) => p[i]))];
  const notADigit = Math.min(Math.max(1 - sum(digits.map((i) => p[i])), 0), 1);
  return {
    not_a_digit: notADigit,
    looks_like: p[letter] > p[classes.indexOf(NONE)] ? classes[letter] : null,
    digit: DIGITS[argmax(digits.map((i) => p[i]))],
    flagged: notADigit > NOT_A_DIGIT_ABOVE,
  };
}

/**
 * The digit model's ten probabilities as a reading in charset digits (digit_reading), flagged
 * `not_a_digit` where the character model's check (null: there is no character model) finds it is
 * none, and `models_disagree` (looks_like: the character model's digit) where it reads another digit.
 */
export function digitReading(probabilities, check) {
  const p = Array.from(probabilities);
  const digit = argmax(p);
  let reason = null;
  let looksLike = null;
  if (check?.flagged) [reason, looksLike] = ["not_a_digit", check.looks_like];
  else if (check && check.digit !== String(digit)) [reason, looksLike] = ["models_disagree", check.digit];
  else if (p[digit] < UNCERTAIN_BELOW) reason = "low_confidence";
  const candidates = p
    .map((probability, d) => ({ character: String(d), probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, CANDIDATES);
  return {
    character: String(digit),
    index: digit,
    confidence: p[digit],
    candidates,
    uncertain: reason !== null,
    reason,
    looks_like: looksLike,
  };
}
