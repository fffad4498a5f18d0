// Rendering the result panel. These functions only write to the DOM: no requests, no drawing state.
// The panel's data-state ("idle" | "busy" | "result" | "error") drives the styling and lets tests wait.

import {
  announcement,
  characterOf,
  chartOf,
  DEFAULT_CHARSET,
  doubt,
  percent,
  sourcesText,
} from "./charsets.js";
import { CANDIDATES } from "./constants.js";

const $ = (id) => document.getElementById(id);

const el = {
  panel: $("result"),
  digit: $("result-digit"),
  confidence: $("result-confidence"),
  uncertain: $("uncertain"),
  sources: $("sources"),
  status: $("status"),
  bars: $("probabilities"),
  chartTitle: $("probabilities-title"),
  preprocessed: $("preprocessed"),
  explanation: $("explanation"),
  heatmap: $("heatmap-preview"),
  numberText: $("number-text"),
  numberDigits: $("number-digits"),
  latency: $("latency"),
};

// The chart: the ten digits for charset digits (fixed rows, so the bars grow smoothly from one
// answer to the next), or the five likeliest characters for letters and alphanumeric, relabelled
// for every answer.
const CHART_TITLES = { digits: "Probabilities", candidates: "Five likeliest" };
const ANSWER_LABELS = {
  digits: "Predicted digit",
  letters: "Predicted letter",
  alphanumeric: "Predicted character",
};

let rows = ""; // what the chart's rows are: "digits" or "candidates"
let idleChart = "digits"; // what the chart shows without an answer: the chosen charset's

function buildRows(kind) {
  if (kind === rows) return;
  rows = kind;
  const count = kind === "digits" ? 10 : CANDIDATES;
  el.bars.replaceChildren(
    ...Array.from({ length: count }, (_, i) => {
      const row = document.createElement("li");
      row.className = "bar";
      if (kind === "digits") row.dataset.digit = row.dataset.character = String(i);
      row.innerHTML =
        `<span class="bar-label">${kind === "digits" ? i : "–"}</span>` +
        '<span class="bar-track"><span class="bar-fill"></span></span>' +
        '<span class="bar-value">–</span>';
      return row;
    }),
  );
  el.chartTitle.textContent = CHART_TITLES[kind];
}

/**
 * The chosen charset: what the chart and the answer are called, and the chart's rows while no answer
 * is on show (an answer on show keeps its own chart until the next one replaces it).
 */
export function showCharset(charset) {
  idleChart = charset === DEFAULT_CHARSET ? "digits" : "candidates";
  el.digit.setAttribute("aria-label", ANSWER_LABELS[charset]);
  if (el.panel.dataset.state !== "result" && el.panel.dataset.state !== "busy") setBars();
}

/** The bars for `chart` ([{character, probability}], from chartOf), or empty ones without. */
function setBars(chart = null, top = null, kind = idleChart) {
  buildRows(kind);
  Array.from(el.bars.children).forEach((row, i) => {
    const entry = chart?.[i] ?? null;
    const p = entry?.probability ?? 0;
    if (kind === "candidates") {
      row.querySelector(".bar-label").textContent = entry?.character ?? "–";
      if (entry) row.dataset.character = entry.character;
      else delete row.dataset.character;
    }
    // Setting style properties from JS is allowed under CSP; style="" in the HTML would not be.
    row.querySelector(".bar-fill").style.width = `${(100 * p).toFixed(2)}%`;
    row.querySelector(".bar-value").textContent = entry ? percent(p) : "–";
    row.classList.toggle("is-top", entry !== null && entry.character === top);
  });
}

function setState(state, message) {
  el.panel.dataset.state = state;
  el.panel.setAttribute("aria-busy", String(state === "busy"));
  if (message !== undefined) el.status.textContent = message;
}

function resetAnswer() {
  el.digit.textContent = "–";
  el.confidence.textContent = "";
  el.uncertain.hidden = true;
  el.uncertain.textContent = "";
  el.sources.hidden = true;
  el.sources.textContent = "";
  el.preprocessed.hidden = true;
  el.preprocessed.removeAttribute("src");
  el.explanation.hidden = true;
  el.heatmap.removeAttribute("src");
  el.numberText.textContent = "–";
  el.numberDigits.replaceChildren();
  el.latency.textContent = "";
  setBars();
}

/** Server answers: its own time and the round trip; on-device ones: preprocessing + model, here. */
function latencyText(r, roundTripMs) {
  if (r.source === "device") {
    const { total, inference } = r.timing_ms;
    return `On device: ${total.toFixed(1)} ms (model ${inference.toFixed(1)} ms)`;
  }
  return `Server ${r.timing_ms.total.toFixed(1)} ms · round trip ${Math.round(roundTripMs)} ms`;
}

/** Nothing to recognise yet (or any more): a prompt instead of an answer. */
export function showIdle(message = "Draw a digit") {
  resetAnswer();
  setState("idle", message);
}

/** A request is under way: keep the last answer on screen (no flicker while drawing). */
export function showBusy() {
  setState("busy");
}

/**
 * One character (a digit, with charset digits): the answer, its confidence, any doubt, the chart.
 * @param {object} r  the /api/v1/predict answer, or the same shape from the on-device model
 * @param {number} [roundTripMs]  measured here, for server answers
 */
export function showResult(r, roundTripMs) {
  const character = characterOf(r);
  el.digit.textContent = character;
  // With not_a_digit the digit model's confidence says nothing about the drawing: a letter can get
  // 100 % for the digit it looks least unlike. The headline says what the check found instead.
  el.confidence.textContent =
    r.reason === "not_a_digit" ? "Not a digit" : `${percent(r.confidence)} confidence`;
  const why = doubt(r);
  el.uncertain.hidden = !why;
  if (why) {
    const label = document.createElement("strong");
    label.textContent = why.label;
    el.uncertain.replaceChildren(label, why.text);
  }
  const said = sourcesText(r);
  el.sources.hidden = !said;
  el.sources.textContent = said ?? "";
  setBars(chartOf(r), character, r.probabilities ? "digits" : "candidates");
  el.preprocessed.src = r.preprocessed;
  el.preprocessed.hidden = false;
  el.explanation.hidden = !r.heatmap;
  if (r.heatmap) el.heatmap.src = r.heatmap.image;
  el.latency.textContent = latencyText(r, roundTripMs);
  setState("result", announcement(r));
}

/** A whole number: the text, then each digit with its confidence (uncertain ones marked). */
export function showNumber(r, roundTripMs) {
  el.numberText.textContent = r.text;
  el.numberDigits.replaceChildren(...r.digits.map(digitItem));
  el.latency.textContent = latencyText(r, roundTripMs);
  const count = r.digits.length === 1 ? "1 digit" : `${r.digits.length} digits`;
  const doubts = r.digits.filter((d) => d.uncertain).map((d) => d.digit);
  const announcement = `Read ${r.text} (${count})`;
  setState("result", doubts.length ? `${announcement}, unsure of ${doubts.join(", ")}` : announcement);
}

function digitItem(d) {
  const item = document.createElement("li");
  item.className = d.uncertain ? "number-digit is-uncertain" : "number-digit";
  const digit = document.createElement("span");
  digit.className = "number-digit-value";
  digit.textContent = String(d.digit);
  const confidence = document.createElement("span");
  confidence.className = "number-digit-confidence";
  confidence.textContent = d.uncertain ? `${percent(d.confidence)} · unsure` : percent(d.confidence);
  item.append(digit, confidence);
  return item;
}

/** A failure: the message is already fit for people (ApiError.message). */
export function showError(message) {
  resetAnswer();
  setState("error", message);
}
