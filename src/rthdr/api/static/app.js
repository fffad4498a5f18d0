// The page's wiring: the drawing pad and the uploads feed one recogniser, which keeps only the
// latest request alive and hands answers to the result panel and to the marks over the picture.
// Drawing lives in canvas.js, the API calls in api.js, the rendering in results.js and overlay.js,
// the in-browser model in ondevice.js, the mode, character set and switches in controls.js, and
// "Wrong? Correct it" in correct.js.

import { ApiError, fetchModelCard, recogniseImage } from "./api.js";
import { DrawingPad } from "./canvas.js";
import { DEFAULT_CHARSET } from "./charsets.js";
import { MAX_POINTS, MAX_STROKES } from "./constants.js";
import { charset, prompt, settings, setUpControls, useDevice } from "./controls.js";
import { offerCorrection, setUpCorrections, withdrawCorrection } from "./correct.js";
import { predictCanvas, predictFile } from "./ondevice.js";
import { clearMarks, showMarks } from "./overlay.js";
import { showBusy, showCharset, showError, showIdle, showNumber, showResult } from "./results.js";

const AFTER_STROKE_MS = 100; // debounce: one request shortly after the pen lifts
const DURING_STROKE_MS = 350; // throttle: a long stroke still gets an update every so often

// What the in-browser models' answers say where the server would refuse the picture (its two
// "no digit" messages in one, in the words of the charset: "Draw a letter, or photograph one").
const noInkInUpload = () =>
  `No ink found: the image looks blank, or holds only specks. ${prompt()}, or photograph one.`;
const UNREADABLE_HERE = "This browser cannot read the file as an image: use a PNG, JPEG, WebP, BMP or GIF.";

const $ = (id) => document.getElementById(id);

/** The API's own words, with what they mean here: the letters, not the page, are what is missing. */
function failureMessage(err) {
  if (err.code !== "charset_unavailable") return err.message;
  return `Letters are not available on this server: ${err.message}`;
}

// ---- the recogniser: one request at a time, stale answers dropped -------------------------------

let inFlight = null; // AbortController of the latest request
let generation = 0; // bumps on every new request or reset; an answer from an older one is ignored
let lastAnswer = null; // {data, roundTripMs, picture}: redrawn when "Show why" is switched off

/** Cancel whatever is pending: the answer would describe an input that is gone. */
function cancelRecognition() {
  inFlight?.abort();
  inFlight = null;
  generation += 1;
}

/**
 * @param {(signal: AbortSignal) => Promise<{data: object, roundTripMs?: number}>} send
 * @param {"pad" | "upload"} picture  what the answer's boxes and heatmaps go over
 */
async function recognise(send, picture, messages = {}) {
  cancelRecognition();
  const mine = generation;
  const controller = (inFlight = new AbortController());
  showBusy();
  try {
    const { data, roundTripMs } = await send(controller.signal);
    if (mine === generation) present({ data, roundTripMs, picture });
  } catch (err) {
    if (mine !== generation || err.name === "AbortError") return;
    const message = err instanceof ApiError ? (messages[err.code] ?? failureMessage(err)) : String(err);
    if (!(err instanceof ApiError)) console.warn("recognition failed", err);
    fail(message);
  } finally {
    if (mine === generation) inFlight = null;
  }
}

/** An answer on the result panel, and its boxes and heatmaps over the picture it is about. */
function present(answer) {
  lastAnswer = answer;
  const { data, roundTripMs, picture } = answer;
  const readings = data.digits ?? [data]; // /recognize answers list digits; /predict is one
  if (data.digits) showNumber(data, roundTripMs);
  else showResult(data, roundTripMs);
  if (picture === "pad") showMarks($("pad-marks"), { width: pad.width, height: pad.height }, readings);
  else markUpload(readings);
  // The review queue holds digits (its corrections retrain the digit model): letters get no offer.
  if ((data.charset ?? DEFAULT_CHARSET) !== DEFAULT_CHARSET) withdrawCorrection();
  else offerCorrection(data, picture === "pad" ? () => pad.inkedPart().canvas : currentFile);
}

function idle(message = prompt()) {
  lastAnswer = null;
  withdrawCorrection();
  clearMarks($("pad-marks"));
  clearMarks($("upload-marks"));
  showIdle(message);
}

function fail(message) {
  lastAnswer = null;
  withdrawCorrection();
  clearMarks($("pad-marks"));
  clearMarks($("upload-marks"));
  showError(message);
}

/** "Show why" switched off: the same answer again, without its heatmaps (no need to ask again). */
function hideHeatmaps() {
  if (!lastAnswer) return;
  const data = structuredClone(lastAnswer.data);
  for (const reading of data.digits ?? [data]) reading.heatmap = null;
  present({ ...lastAnswer, data });
}

/** After a switch changed how to recognise: the current drawing or upload again. */
function recogniseAgain() {
  if (currentFile) recogniseUpload();
  else if (!pad.isEmpty) recogniseDrawing();
}

// ---- drawing ------------------------------------------------------------------------------------

let debounceTimer = 0;
let lastSent = 0;

/**
 * The server's answer, or the in-browser models' when "On device" is on (and applies: one character
 * of a charset they read), about the inked part of the pad, with its boxes and heatmaps moved back
 * onto the whole pad. `interim`: asked mid-stroke.
 */
async function readDrawing(signal, interim) {
  const part = pad.inkedPart();
  const strokes = readable(pad.strokesFrom(part.x, part.y)); // the pen's path, read and fused with the picture
  const { data, roundTripMs } = useDevice()
    ? { data: await predictCanvas(part.canvas, { explain: settings.explain, strokes, charset: charset() }) }
    : await recogniseImage(part.canvas.toDataURL("image/png"), { ...settings, interim }, signal, strokes);
  if (!data) throw new ApiError("no_digit_found", prompt());
  return { data: onPad(data, part), roundTripMs };
}

/**
 * The strokes, where the server takes that many (rthdr.core.strokes' limits), else null: a drawing
 * of more strokes or points than any character needs (hatching, a long scribble) is read from its
 * picture alone, rather than answered with an error.
 */
function readable(strokes) {
  const points = strokes.reduce((sum, stroke) => sum + stroke.length, 0);
  return strokes.length <= MAX_STROKES && points <= MAX_POINTS ? strokes : null;
}

/** An answer about a part of the pad, with its boxes and regions in the whole pad's pixels. */
function onPad(data, { x, y }) {
  const moved = structuredClone(data);
  for (const reading of moved.digits ?? [moved]) {
    if (reading.box) reading.box = [reading.box[0] + x, reading.box[1] + y, reading.box[2], reading.box[3]];
    if (reading.region) reading.region = [reading.region[0] + x, reading.region[1] + y, reading.region[2]];
  }
  return moved;
}

function recogniseDrawing({ interim = false } = {}) {
  clearTimeout(debounceTimer);
  if (pad.isEmpty) {
    // Never ask the server about a blank page: it could only say "no digit".
    cancelRecognition();
    idle();
    return;
  }
  lastSent = performance.now();
  // On the pad, "no ink" means the strokes were too faint or tiny to count as a digit.
  recognise((signal) => readDrawing(signal, interim), "pad", { no_digit_found: prompt() });
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
  if (performance.now() - lastSent >= DURING_STROKE_MS) recogniseDrawing({ interim: true });
}

const pad = new DrawingPad($("canvas"), {
  onStrokeStart: () => {
    clearUpload(); // the drawing is now what the result is about
    // A request still waiting for the last stroke to settle would go out mid-stroke, unmarked: the
    // stroke begun now makes its own when it ends.
    clearTimeout(debounceTimer);
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
  idle();
}

// ---- uploads: file picker, drag and drop, paste -------------------------------------------------

let previewURL = null;
let currentFile = null; // the upload the result is about, sent again when a switch changes

function clearUpload() {
  if (previewURL) URL.revokeObjectURL(previewURL);
  previewURL = null;
  currentFile = null;
  clearMarks($("upload-marks"));
  $("upload").hidden = true;
  $("upload-preview").removeAttribute("src");
  $("upload-preview").hidden = false;
  $("upload-name").textContent = "";
}

function showUpload(file) {
  clearUpload();
  currentFile = file;
  previewURL = URL.createObjectURL(file);
  $("upload-preview").src = previewURL;
  $("upload-name").textContent = file.name || "Pasted image";
  $("upload").hidden = false;
}

/** Boxes and heatmaps over the preview, once it has loaded (they are placed in its pixels). */
async function markUpload(readings) {
  const preview = $("upload-preview");
  const url = previewURL;
  await preview.decode().catch(() => {}); // a picture the browser cannot show gets no marks
  if (url !== previewURL || !preview.naturalWidth) return;
  showMarks($("upload-marks"), { width: preview.naturalWidth, height: preview.naturalHeight }, readings);
}

/** The server's answer about an upload, or the in-browser models' when "On device" is on. */
async function readUpload(file, signal) {
  if (!useDevice()) return recogniseImage(file, settings, signal);
  let data;
  try {
    data = await predictFile(file, { explain: settings.explain, charset: charset() });
  } catch (err) {
    if (err.name !== "EncodingError" && err.name !== "InvalidStateError") throw err;
    throw new ApiError("invalid_image", UNREADABLE_HERE); // what createImageBitmap says of non-images
  }
  if (!data) throw new ApiError("no_digit_found", noInkInUpload());
  return { data };
}

function recogniseUpload() {
  const file = currentFile;
  recognise((signal) => readUpload(file, signal), "upload");
}

function recogniseFile(file) {
  if (!file) return;
  clearTimeout(debounceTimer);
  pad.clear(); // one input at a time: the result below is about this file
  clearMarks($("pad-marks"));
  showUpload(file);
  recogniseUpload();
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
  // The picture's shape, for CSS: number mode shows it large, sized by its aspect ratio.
  $("upload-preview").addEventListener("load", (e) => {
    const { naturalWidth, naturalHeight } = e.target;
    e.target.parentElement.style.setProperty("--ratio", String(naturalWidth / naturalHeight));
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
    // Keys typed into a text field (the correction) are the field's: Delete must not clear the pad.
    const typing = e.target instanceof HTMLInputElement && e.target.type === "text";
    if (e.defaultPrevented || e.altKey || typing) return;
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

setUpControls({
  // A new mode needs a new pad (its size changes), so whatever was there goes; number mode reads
  // digits whatever the charset, so the panel follows that too.
  onMode: (size) => {
    showCharset(charset());
    clearAll();
    pad.setSize(...size);
  },
  // The same drawing, read in the new charset; without one, the prompt and chart of the new charset.
  onCharset: () => {
    showCharset(charset());
    if (currentFile || !pad.isEmpty) recogniseAgain();
    else idle();
  },
  onExplain: (on) => (on ? recogniseAgain() : hideHeatmaps()),
  onDevice: recogniseAgain,
});
showCharset(charset());
idle();
$("undo").addEventListener("click", undo);
$("clear").addEventListener("click", clearAll);
setUpUploads();
setUpShortcuts();
showModelCard();
setUpCorrections();
document.documentElement.dataset.ready = "true"; // for tests: the handlers are in place
