// On-device recognition: the same model, run in the browser by ONNX Runtime Web (WebAssembly), fed
// by the server's own preprocessing ported to JavaScript (preprocess.js), for drawings and uploaded
// pictures alike. Drawings are read from their strokes too and the two readings fused, as the
// server does (strokes.js), where the server has a stroke model. Everything loads lazily, on the
// first use: the runtime (a 50 kB module and a 14 MB WebAssembly file) and the model files. The
// sessions are kept in memory, so once loaded the page needs no server to recognise a digit.

import { calibrated } from "./calibrate.js";
import { SIZE, UNCERTAIN_BELOW } from "./constants.js";
import { canvasGrey, decodeFile } from "./decode.js";
import { explanationDataURL, gradCam } from "./heatmap.js";
import { toModelInput } from "./preprocess.js";
import { CHANNELS, features, fuse, STEPS } from "./strokes.js";

const ORT_DIR = "/vendor/ort/";
const ORT_MODULE = `${ORT_DIR}ort.wasm.min.mjs`; // the wasm-only build: no WebGPU/WebGL code
const RUNTIME_URL = "/api/v1/on-device"; // whether this server has the runtime to send
const MODEL_URL = "/api/v1/model/file";

/**
 * Whether this server ships ONNX Runtime Web (the page works without it, server-side only). The
 * server says so first, so a server without it is never asked for the module (a 404 the browser
 * would log as an error); then the module itself, which a proxy in between might not pass on.
 */
export async function runtimeAvailable() {
  try {
    const response = await fetch(RUNTIME_URL, { headers: { Accept: "application/json" } });
    if (!response.ok || !(await response.json()).available) return false;
    return (await fetch(ORT_MODULE, { method: "HEAD" })).ok;
  } catch {
    return false;
  }
}

let sessionPromise = null;
let modelName = "";
let modelBytes = 0;
let temperature = 1; // the model file's calibration, sent with it

/** The model file the browser runs: its name (digitnet.int8.onnx, say) and size in bytes. */
export const modelFile = () => ({ name: modelName, bytes: modelBytes });
let queue = Promise.resolve(); // one run at a time: a session cannot run twice at once

/** The runtime and the models, loaded once; a failed load may be retried. */
export function loadModel() {
  sessionPromise ??= createSession().catch((err) => {
    sessionPromise = null;
    throw err;
  });
  return sessionPromise;
}

async function createSession() {
  const ort = await import(ORT_MODULE);
  ort.env.wasm.wasmPaths = ORT_DIR;
  // Threads need SharedArrayBuffer, i.e. cross-origin isolation, which this page does not have;
  // one thread runs this small model in a few milliseconds anyway.
  ort.env.wasm.numThreads = 1;
  const response = await fetchModel(MODEL_URL, "model file");
  modelName = filename(response.headers.get("Content-Disposition")) ?? "model";
  temperature = Number(response.headers.get("X-Model-Temperature") ?? 1) || 1;
  const bytes = new Uint8Array(await response.arrayBuffer());
  modelBytes = bytes.length;
  const session = await openSession(ort, bytes, "image", [1, 1, SIZE, SIZE]);
  // Where the server fuses drawings with their strokes, it names its stroke model here.
  const strokesURL = response.headers.get("X-Stroke-Model");
  return { ort, session, strokes: strokesURL ? await loadStrokeModel(ort, strokesURL) : null };
}

/** The stroke model and the image model's weight when the two are fused (the server's). */
async function loadStrokeModel(ort, url) {
  const response = await fetchModel(url, "stroke model");
  const imageWeight = Number(response.headers.get("X-Fusion-Image-Weight"));
  const bytes = new Uint8Array(await response.arrayBuffer());
  return { session: await openSession(ort, bytes, "strokes", [1, CHANNELS, STEPS]), imageWeight };
}

async function fetchModel(url, what) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`The ${what} could not be loaded (HTTP ${response.status}).`);
  return response;
}

/** A session for a model file, already run once on zeros fed to its input `name` of shape `dims`. */
async function openSession(ort, bytes, name, dims) {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  // The first run sets up buffers and takes several times longer: do it now, not on the user's
  // first drawing, so the latency shown is the steady one.
  const zeros = new Float32Array(dims.reduce((a, b) => a * b));
  await session.run({ [name]: new ort.Tensor("float32", zeros, dims) });
  return session;
}

function filename(disposition) {
  return /filename="?([^";]+)"?/.exec(disposition ?? "")?.[1] ?? null;
}

/**
 * Recognise the drawing on a canvas in the browser. Resolves to an answer shaped like the server's
 * /predict answer (plus `source` and `timing_ms`), or null when the canvas holds no digit. With
 * `strokes` (the drawing's, as the server takes them) the answer is fused from both models, as the
 * server's, and `sources` says what each said.
 */
export async function predictCanvas(canvas, { explain = false, strokes = null } = {}) {
  await loadModel();
  const started = performance.now();
  return predict(canvasGrey(canvas), 1, started, explain, strokes);
}

/**
 * Recognise an image file in the browser, as predictCanvas; its region is in the file's pixels.
 * Rejects when the browser cannot decode the file.
 */
export async function predictFile(file, { explain = false } = {}) {
  await loadModel();
  const started = performance.now();
  const { grey, scale } = await decodeFile(file);
  return predict(grey, scale, started, explain);
}

/** The model's answer about a grey image; `scale`: picture pixels per grey pixel. */
async function predict(grey, scale, started, explain, strokes) {
  const { ort, session, strokes: strokeModel } = await loadModel();
  const read = toModelInput(grey);
  if (!read) return null;
  const feeds = { image: new ort.Tensor("float32", read.input, [1, 1, SIZE, SIZE]) };
  const reader = strokes && strokeModel; // the stroke model, where there are strokes for it
  const strokeFeeds = reader && {
    strokes: new ort.Tensor("float32", features(strokes), [1, CHANNELS, STEPS]),
  };
  const preprocessed = performance.now();
  const run = queue.then(async () => [
    await session.run(feeds),
    reader && (await reader.session.run(strokeFeeds)),
  ]);
  queue = run.catch(() => {});
  const [outputs, strokeOutputs] = await run;
  const inferred = performance.now();
  // The latency shown is the recognition's (reading the picture + preprocessing + models).
  const timing = {
    preprocess: preprocessed - started,
    inference: inferred - preprocessed,
    total: inferred - started,
  };
  const image = calibrated(outputs.probabilities.data, temperature);
  const { probabilities, sources } = strokes
    ? withStrokes(image, strokeOutputs?.probabilities.data, reader?.imageWeight)
    : { probabilities: image, sources: null };
  const { digit } = said(probabilities);
  const uncertain = probabilities[digit] < UNCERTAIN_BELOW;
  // The server's charset fields too, so the page treats both alike (the browser has no character
  // model: its answers are digits, never checked for "not a digit").
  const candidates = probabilities
    .map((probability, d) => ({ character: String(d), probability }))
    .sort((a, b) => b.probability - a.probability)
    .slice(0, 5);
  const answer = {
    charset: "digits",
    character: String(digit),
    digit,
    confidence: probabilities[digit],
    probabilities,
    candidates,
    uncertain,
    reason: uncertain ? "low_confidence" : null,
    looks_like: null,
    preprocessed: inputToDataURL(read.input),
    region: read.square.map((v) => v * scale),
    heatmap: null,
    model: { name: modelName },
    sources,
    source: "device",
    timing_ms: timing,
  };
  if (explain) {
    const [, , h, w] = outputs.cam.dims; // (1, 10, 7, 7): a map per digit
    const values = gradCam(outputs.cam.data.subarray(digit * h * w, (digit + 1) * h * w));
    answer.heatmap = { image: explanationDataURL(read.input, values), values };
  }
  return answer;
}

/**
 * The image model's calibrated probabilities fused with the stroke model's, and what each source
 * said, as the server's answer has them (rthdr.api.routes.predict.with_strokes); without a stroke
 * model, the image model's alone. Grad-CAM stays the image model's: the explanation is of the picture.
 */
function withStrokes(image, strokeProbabilities, imageWeight) {
  const sources = { image: said(image), strokes: null, fused: null, image_weight: null, image_sent: true };
  if (!strokeProbabilities) return { probabilities: image, sources };
  const probabilities = fuse(image, strokeProbabilities, imageWeight);
  Object.assign(sources, {
    strokes: said(strokeProbabilities),
    fused: said(probabilities),
    image_weight: imageWeight,
  });
  return { probabilities, sources };
}

/** The likeliest digit (the first of equal ones, as numpy's argmax) and its probability. */
function said(probabilities) {
  const digit = probabilities.indexOf(Math.max(...probabilities));
  return { character: String(digit), digit, confidence: probabilities[digit] };
}

/** The 28x28 input as a PNG data URL (white ink on black), like the server's "preprocessed". */
function inputToDataURL(input) {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIZE;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(SIZE, SIZE);
  input.forEach((v, i) => {
    const grey = Math.round(255 * v);
    image.data.set([grey, grey, grey, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
  return canvas.toDataURL("image/png");
}
