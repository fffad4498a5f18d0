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
  el.latency.textContent = "";
  setBars();
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

/** @param {object} r  the /api/v1/predict answer;  @param {number} roundTripMs  measured here */
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
  el.latency.textContent =
    `Server ${r.timing_ms.total.toFixed(1)} ms · round trip ${Math.round(roundTripMs)} ms`;
  const announcement = `Predicted ${r.digit}, ${percent(r.confidence)} confidence`;
  setState("result", r.uncertain ? `${announcement}, uncertain` : announcement);
}

/** A failure: the message is already fit for people (ApiError.message). */
export function showError(message) {
  resetAnswer();
  setState("error", message);
}
