// The page's wiring: the drawing pad and the uploads feed one recogniser, which keeps only the
// latest request alive and hands answers to the result panel. Drawing lives in canvas.js, the API
// calls in api.js and the rendering in results.js, so later modes can reuse each part on its own.

import { ApiError, fetchModelCard, predictDataURL, predictFile } from "./api.js";
import { DrawingPad } from "./canvas.js";
import { buildBars, showBusy, showError, showIdle, showResult } from "./results.js";

const AFTER_STROKE_MS = 100; // debounce: one request shortly after the pen lifts
const DURING_STROKE_MS = 350; // throttle: a long stroke still gets an update every so often

const $ = (id) => document.getElementById(id);

// ---- the recogniser: one request at a time, stale answers dropped -------------------------------

let inFlight = null; // AbortController of the latest request
let generation = 0; // bumps on every new request or reset; an answer from an older one is ignored

/** Cancel whatever is pending: the answer would describe an input that is gone. */
function cancelRecognition() {
  inFlight?.abort();
  inFlight = null;
  generation += 1;
}

/** @param {(signal: AbortSignal) => Promise<{data: object, roundTripMs: number}>} send */
async function recognise(send, messages = {}) {
  cancelRecognition();
  const mine = generation;
  const controller = (inFlight = new AbortController());
  showBusy();
  try {
    const { data, roundTripMs } = await send(controller.signal);
    if (mine === generation) showResult(data, roundTripMs);
  } catch (err) {
    if (mine !== generation || err.name === "AbortError") return;
    const message = err instanceof ApiError ? (messages[err.code] ?? err.message) : String(err);
    if (!(err instanceof ApiError)) console.warn("recognition failed", err);
    showError(message);
  } finally {
    if (mine === generation) inFlight = null;
  }
}

// ---- drawing ------------------------------------------------------------------------------------

let debounceTimer = 0;
let lastSent = 0;

function recogniseDrawing() {
  clearTimeout(debounceTimer);
  if (pad.isEmpty) {
    // Never ask the server about a blank page: it could only say "no digit".
    cancelRecognition();
    showIdle();
    return;
  }
  lastSent = performance.now();
  // On the pad, "no ink" means the strokes were too faint or tiny to count as a digit.
  recognise((signal) => predictDataURL(pad.toDataURL(), signal), { no_digit_found: "Draw a digit" });
}

function scheduleAfterStroke() {
  clearTimeout(debounceTimer);
  // A mid-stroke request describes a drawing that has since grown: drop it, and say an answer is
  // coming, so "result" on the panel always means the answer is about what is on the pad.
  cancelRecognition();
  showBusy();
  debounceTimer = setTimeout(recogniseDrawing, AFTER_STROKE_MS);
}

function throttleDuringStroke() {
  if (performance.now() - lastSent >= DURING_STROKE_MS) recogniseDrawing();
}

const pad = new DrawingPad($("canvas"), {
  onStrokeStart: () => {
    clearUpload(); // the drawing is now what the result is about
    lastSent = performance.now(); // the first throttled update comes one period into the stroke
  },
  onStrokeMove: throttleDuringStroke,
  onStrokeEnd: scheduleAfterStroke,
});

function undo() {
  if (pad.undo()) recogniseDrawing();
}

function clearAll() {
  clearTimeout(debounceTimer);
  pad.clear();
  clearUpload();
  cancelRecognition();
  showIdle();
}

// ---- uploads: file picker, drag and drop, paste -------------------------------------------------

let previewURL = null;

function clearUpload() {
  if (previewURL) URL.revokeObjectURL(previewURL);
  previewURL = null;
  $("upload").hidden = true;
  $("upload-preview").removeAttribute("src");
  $("upload-preview").hidden = false;
  $("upload-name").textContent = "";
}

function showUpload(file) {
  clearUpload();
  previewURL = URL.createObjectURL(file);
  $("upload-preview").src = previewURL;
  $("upload-name").textContent = file.name || "Pasted image";
  $("upload").hidden = false;
}

function recogniseFile(file) {
  if (!file) return;
  clearTimeout(debounceTimer);
  pad.clear(); // one input at a time: the result below is about this file
  showUpload(file);
  recognise((signal) => predictFile(file, signal));
}

/** The first file in a DataTransfer (drop or paste), preferring images. */
function pickFile(transfer) {
  const files = Array.from(transfer?.files ?? []);
  return files.find((f) => f.type.startsWith("image/")) ?? files[0] ?? null;
}

function setUpUploads() {
  const input = $("file-input");
  const zone = $("drop-zone");
  $("choose-file").addEventListener("click", () => input.click());
  input.addEventListener("change", () => {
    recogniseFile(input.files[0]);
    input.value = ""; // choosing the same file again should still fire "change"
  });

  // The whole page accepts drops (a near miss should not open the image in the tab instead).
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  const highlight = (on) => zone.classList.toggle("is-dragging", on);
  document.addEventListener("dragenter", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    depth += 1;
    highlight(true);
  });
  document.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (depth === 0) highlight(false);
  });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    highlight(false);
    recogniseFile(pickFile(e.dataTransfer));
  });

  document.addEventListener("paste", (e) => {
    const file = pickFile(e.clipboardData);
    if (!file) return;
    e.preventDefault();
    recogniseFile(file);
  });
  // A file the browser cannot display (say, text renamed .png): no broken-image icon, just the
  // name; the API's answer explains what is wrong with it.
  $("upload-preview").addEventListener("error", () => {
    if (!previewURL) return;
    $("upload-preview").hidden = true;
    $("upload-name").textContent += " (no preview)";
  });
}

// ---- keyboard shortcuts -------------------------------------------------------------------------

function setUpShortcuts() {
  document.addEventListener("keydown", (e) => {
    if (e.defaultPrevented || e.altKey) return;
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && !e.shiftKey && key === "z") {
      e.preventDefault();
      undo();
    } else if (!e.ctrlKey && !e.metaKey && (key === "escape" || key === "delete")) {
      clearAll();
    }
  });
}

// ---- footer: the model card ---------------------------------------------------------------------

async function showModelCard() {
  const info = $("model-info");
  try {
    const card = await fetchModelCard();
    info.textContent = `Model ${card.name} · version ${card.version}`;
    const accuracy = card.accuracy ?? card.test_accuracy;
    if (typeof accuracy === "number") info.textContent += ` · ${(100 * accuracy).toFixed(2)} % on MNIST test`;
    info.title = `SHA-256 ${card.sha256 ?? "unknown"}`;
  } catch (err) {
    info.textContent = err instanceof ApiError ? `Model: unavailable (${err.message})` : "Model: unavailable";
  }
}

// ---- start --------------------------------------------------------------------------------------

buildBars();
showIdle();
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearAll);
setUpUploads();
setUpShortcuts();
showModelCard();
document.documentElement.dataset.ready = "true"; // for tests: the handlers are in place
