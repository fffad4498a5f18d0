// Rendering the result panel. These functions only write to the DOM: no requests, no drawing state.
// The panel's data-state ("idle" | "busy" | "result" | "error") drives the styling and lets tests wait.

const $ = (id) => document.getElementById(id);

const el = {
  panel: $("result"),
  digit: $("result-digit"),
  confidence: $("result-confidence"),
  uncertain: $("uncertain"),
  status: $("status"),
  bars: $("probabilities"),
  preprocessed: $("preprocessed"),
  explanation: $("explanation"),
  heatmap: $("heatmap-preview"),
  numberText: $("number-text"),
  numberDigits: $("number-digits"),
  latency: $("latency"),
};

const percent = (p) => `${(100 * p).toFixed(p >= 0.995 || p < 0.0005 ? 0 : 1)} %`;

/** Ten rows, one per digit, built once; results only change their widths and labels. */
export function buildBars() {
  el.bars.replaceChildren(
    ...Array.from({ length: 10 }, (_, digit) => {
      const row = document.createElement("li");
      row.className = "bar";
      row.dataset.digit = String(digit);
      row.innerHTML =
        `<span class="bar-label">${digit}</span>` +
        '<span class="bar-track"><span class="bar-fill"></span></span>' +
        '<span class="bar-value">–</span>';
      return row;
    }),
  );
}

function setBars(probabilities = null, top = -1) {
  for (const row of el.bars.children) {
    const digit = Number(row.dataset.digit);
    const p = probabilities?.[digit] ?? 0;
    // Setting style properties from JS is allowed under CSP; style="" in the HTML would not be.
    row.querySelector(".bar-fill").style.width = `${(100 * p).toFixed(2)}%`;
    row.querySelector(".bar-value").textContent = probabilities ? percent(p) : "–";
    row.classList.toggle("is-top", digit === top);
  }
}

/** The runner-up, to say what else the model considered when it is unsure. */
function runnerUp(probabilities, top) {
  let best = -1;
  probabilities.forEach((p, d) => {
    if (d !== top && (best < 0 || p > probabilities[best])) best = d;
  });
  return best;
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
 * One digit.
 * @param {object} r  the /api/v1/predict answer, or the same shape from the on-device model
 * @param {number} [roundTripMs]  measured here, for server answers
 */
export function showResult(r, roundTripMs) {
  el.digit.textContent = String(r.digit);
  el.confidence.textContent = `${percent(r.confidence)} confidence`;
  el.uncertain.hidden = !r.uncertain;
  if (r.uncertain) {
    const other = runnerUp(r.probabilities, r.digit);
    const label = document.createElement("strong");
    label.textContent = "Uncertain:";
    el.uncertain.replaceChildren(
      label,
      ` it could also be a ${other} (${percent(r.probabilities[other])}). Try writing it more clearly.`,
    );
  }
  setBars(r.probabilities, r.digit);
  el.preprocessed.src = r.preprocessed;
  el.preprocessed.hidden = false;
  el.explanation.hidden = !r.heatmap;
  if (r.heatmap) el.heatmap.src = r.heatmap.image;
  el.latency.textContent = latencyText(r, roundTripMs);
  const announcement = `Predicted ${r.digit}, ${percent(r.confidence)} confidence`;
  setState("result", r.uncertain ? `${announcement}, uncertain` : announcement);
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
