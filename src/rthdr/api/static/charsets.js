// The character sets the page can ask for (?charset= on /api/v1/predict), and the words the result
// panel uses for an answer in any of them. Pure functions, no DOM: results.js puts the words on the
// page, tests/js/charsets.test.js checks them.

// The server's default as well: left out of the URL, so digit requests stay what they always were.
export const DEFAULT_CHARSET = "digits";

/** What each charset reads, in the words the page uses for it. */
export const CHARSETS = {
  digits: { what: "digit", prompt: "Draw a digit", one: "One digit" },
  letters: { what: "letter", prompt: "Draw a letter", one: "One letter" },
  alphanumeric: { what: "letter or digit", prompt: "Draw a letter or digit", one: "One character" },
  // Other scripts' digits: the server's script model, trained on printed fonts only.
  devanagari: {
    what: "Devanagari digit",
    prompt: "Draw a Devanagari digit, ० to ९",
    one: "One digit",
    script: true,
  },
  "arabic-indic": {
    what: "Arabic-Indic digit",
    prompt: "Draw an Arabic-Indic digit, ٠ to ٩",
    one: "One digit",
    script: true,
  },
  persian: { what: "Persian digit", prompt: "Draw a Persian digit, ۰ to ۹", one: "One digit", script: true },
};

/** A remembered or chosen value, or the default where it is none of them (an old or garbled one). */
export const charsetOr = (value) => (Object.hasOwn(CHARSETS, value) ? value : DEFAULT_CHARSET);

export const percent = (p) => `${(100 * p).toFixed(p >= 0.995 || p < 0.0005 ? 0 : 1)} %`;

// Any script's digit (Unicode Nd): a 7, a ७, a ٧.
const isDigit = (c) => /^\p{Nd}$/u.test(c);

// "an" where the character's English name starts with a vowel sound: an A, an F, an h, an 8.
const article = (c) => (/^[aefhilmnorsx8]$/i.test(c) ? "an" : "a");

/** A character in a sentence: "a 7", "an 8", "the letter A". */
const named = (c) => (isDigit(c) ? `${article(c)} ${c}` : `the letter ${c}`);

/** The answer's character: `character`, or the digit of an answer without one (an older server). */
export const characterOf = (r) => r.character ?? String(r.digit);

/**
 * The bars to draw: the ten digit probabilities where the answer has them (charset digits, on the
 * server or on device), else its candidates. [{character, probability}], and which one is the answer.
 */
export function chartOf(r) {
  if (r.probabilities) {
    return r.probabilities.map((probability, digit) => ({ character: String(digit), probability }));
  }
  return r.candidates ?? [];
}

/** What else the model considered, for "it could also be": the best of the rest, or null. */
export function runnerUp(r) {
  const top = characterOf(r);
  const rest = chartOf(r).filter((c) => c.character !== top);
  return rest.reduce((best, c) => (best === null || c.probability > best.probability ? c : best), null);
}

/**
 * Why an uncertain answer is uncertain, in words: {label, text}, the label to stress and the
 * sentence after it; null for a sure answer. Out-of-charset answers lead with what the drawing
 * looks like, since the fix is to choose another charset, not to write more clearly.
 */
export function doubt(r) {
  if (!r.uncertain) return null;
  const lookalike = r.looks_like ? `This looks like ${named(r.looks_like)}` : null;
  switch (r.reason) {
    case "not_a_digit":
      return {
        label: lookalike ? `${lookalike}, not a digit.` : "This does not look like a digit.",
        text: lookalike ? " To read letters, choose Letters above." : " Try writing a digit, 0 to 9.",
      };
    case "not_a_letter":
      return {
        label: lookalike ? `${lookalike}, not a letter.` : "This does not look like a letter.",
        text: lookalike ? " To read digits too, choose Letters and digits above." : " Try writing a letter.",
      };
    case "not_a_character": {
      const what = CHARSETS[r.charset]?.script ? CHARSETS[r.charset].what : "letter or digit";
      return {
        label: `This does not look like ${/^[aeiou]/i.test(what) ? "an" : "a"} ${what}.`,
        text: " Try writing it more clearly.",
      };
    }
    case "models_disagree":
      // The character model reads another digit (a 1 with a flag and a foot the digit model took
      // for a 7, say): name it, as the runner-up is named below.
      return {
        label: "Uncertain:",
        text: ` it could also be ${named(r.looks_like)}. Try writing it more clearly.`,
      };
    default: {
      // low_confidence, or an answer that gives no reason (an older server)
      const other = runnerUp(r);
      const also = other
        ? ` it could also be ${named(other.character)} (${percent(other.probability)}).`
        : "";
      return { label: "Uncertain:", text: `${also} Try writing it more clearly.` };
    }
  }
}

/**
 * What each source said, where the answer fused the picture with the pen's strokes: "Picture 7
 * (98 %), strokes 7 (95 %), weighed 0.6 : 0.4". Null where only one source answered.
 */
export function sourcesText(r) {
  const s = r.sources;
  // "no stroke model reads devanagari: ..." -> "Picture only: no stroke model reads devanagari"
  if (s?.strokes_unread) return `Picture only: ${s.strokes_unread.split(":")[0]}`;
  if (!s?.strokes || !s.fused) return null;
  const one = (name, x) => `${name} ${x.character} (${percent(x.confidence)})`;
  const weight = s.image_weight;
  return `${one("Picture", s.image)}, ${one("strokes", s.strokes)}, weighed ${weight} : ${Math.round((1 - weight) * 100) / 100}`;
}

/** What the status line says for screen readers: the answer, its confidence and any doubt. */
export function announcement(r) {
  const said = `Predicted ${characterOf(r)}, ${percent(r.confidence)} confidence`;
  if (!r.uncertain) return said;
  if (!r.reason || r.reason === "low_confidence") return `${said}, uncertain`;
  if (r.reason === "models_disagree") return `${said}, uncertain: it could also be ${named(r.looks_like)}`;
  const { label } = doubt(r); // "This looks like the letter A, not a digit." -> "this looks like ..."
  return `${said}, uncertain: ${label[0].toLowerCase()}${label.slice(1, -1)}`;
}
